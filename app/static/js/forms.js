/* Generated forms: progressive enhancement only. Every feature also works without this file:
   conditional questions show with a note, add/remove are submit buttons, dates are three
   inputs and the server spells amounts out on the answers page. */
(function () {
  "use strict";

  var root = document.documentElement;
  root.classList.add("js-forms");
  var fa = (root.getAttribute("lang") || "fa").indexOf("fa") === 0;

  var PERSIAN = "۰۱۲۳۴۵۶۷۸۹";
  function asciiDigits(s) {
    return String(s).replace(/[۰-۹]/g, function (d) { return PERSIAN.indexOf(d); })
      .replace(/[٠-٩]/g, function (d) { return d.charCodeAt(0) - 0x0660; });
  }
  function localDigits(s) {
    return fa ? String(s).replace(/[0-9]/g, function (d) { return PERSIAN[+d]; }) : String(s);
  }

  // --- conditional questions (mirrors app/forms/conditions.py) -------------------------------
  function valuesOf(form, name) {
    var out = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.name !== name) return;
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) return;
      if (el.value.trim() !== "") out.push(el.value);
    });
    return out;
  }
  function holds(form, test) {
    if (test.any) return test.any.some(function (t) { return holds(form, t); });
    if (test.not) return !holds(form, test.not);
    return test.all.every(function (clause) {
      var values = valuesOf(form, clause.field);
      if (clause.filled) return values.length > 0;
      return values.some(function (v) { return clause["in"].indexOf(v) !== -1; });
    });
  }
  function refreshConditions(form) {
    form.querySelectorAll("[data-show-if]").forEach(function (block) {
      var show;
      try { show = holds(form, JSON.parse(block.getAttribute("data-show-if"))); } catch (e) { show = true; }
      block.classList.toggle("field--inactive", !show);
    });
  }

  // --- repeatable groups ------------------------------------------------------------------------
  var ATTRS = ["name", "id", "for", "aria-describedby", "value", "data-field", "data-index", "data-money", "data-jalali-date"];
  function esc(s) { return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }
  function renumber(repeat) {
    var path = repeat.getAttribute("data-repeat");
    var dashed = path.replace(/\./g, "-");
    var dotted = new RegExp(esc(path) + "\\.(\\d+|__INDEX__)(?=\\.|$|_)", "g");
    var idlike = new RegExp(esc(dashed) + "-(\\d+|__INDEX__)(?=-|$|\\s)", "g");
    var items = repeat.querySelectorAll(":scope > .repeat__items > [data-repeat-item]");
    var noun = repeat.getAttribute("data-item-label") || "";
    items.forEach(function (item, i) {
      [item].concat(Array.prototype.slice.call(item.querySelectorAll("*"))).forEach(function (el) {
        ATTRS.forEach(function (attr) {
          var v = el.getAttribute(attr);
          if (v === null) return;
          var nv = v.replace(dotted, path + "." + i).replace(idlike, dashed + "-" + i);
          if (attr === "data-index") nv = String(i);
          if (nv !== v) el.setAttribute(attr, nv);
        });
      });
      var legend = item.querySelector(".repeat__legend");
      if (legend) legend.textContent = noun + " " + localDigits(i + 1);
      var hidden = item.querySelector(".repeat__remove .visually-hidden");
      if (hidden && legend) hidden.textContent = legend.textContent;
    });
    var min = parseInt(repeat.getAttribute("data-min") || "1", 10);
    var max = parseInt(repeat.getAttribute("data-max") || "0", 10);
    items.forEach(function (item) {
      var remove = item.querySelector("[data-repeat-remove]");
      if (remove) remove.hidden = items.length <= Math.max(min, 1);
    });
    var add = repeat.querySelector("[data-repeat-add]");
    if (add) add.hidden = max > 0 && items.length >= max;
  }
  function addItem(repeat) {
    var template = repeat.querySelector(":scope > template[data-repeat-template]");
    var list = repeat.querySelector(":scope > .repeat__items");
    var item = template.content.firstElementChild.cloneNode(true);
    list.appendChild(item);
    renumber(repeat);
    var first = item.querySelector("input:not([type=hidden]), select, textarea");
    if (first) first.focus();
  }
  function removeItem(repeat, item) {
    var items = repeat.querySelectorAll(":scope > .repeat__items > [data-repeat-item]");
    var index = Array.prototype.indexOf.call(items, item);
    item.parentNode.removeChild(item);
    renumber(repeat);
    var rest = repeat.querySelectorAll(":scope > .repeat__items > [data-repeat-item]");
    var target = rest[Math.max(0, index - 1)];
    var focus = target ? target.querySelector("input:not([type=hidden]), select, textarea") : null;
    (focus || repeat.querySelector("[data-repeat-add]") || repeat).focus();
  }

  // --- money in words (mirrors app/persian/money.py) ----------------------------------------------
  var W = {
    fa: {
      ones: ["", "یک", "دو", "سه", "چهار", "پنج", "شش", "هفت", "هشت", "نه"],
      teens: ["ده", "یازده", "دوازده", "سیزده", "چهارده", "پانزده", "شانزده", "هفده", "هجده", "نوزده"],
      tens: ["", "", "بیست", "سی", "چهل", "پنجاه", "شصت", "هفتاد", "هشتاد", "نود"],
      hundreds: ["", "یکصد", "دویست", "سیصد", "چهارصد", "پانصد", "ششصد", "هفتصد", "هشتصد", "نهصد"],
      scales: ["", "هزار", "میلیون", "میلیارد", "تریلیون", "کوادریلیون"]
    },
    en: {
      ones: ["", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
      teens: ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"],
      tens: ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"],
      scales: ["", "thousand", "million", "billion", "trillion", "quadrillion"]
    }
  };
  function under1000(n) {
    var w = fa ? W.fa : W.en, h = Math.floor(n / 100), rest = n % 100, parts = [];
    if (h) parts.push(fa ? w.hundreds[h] : w.ones[h] + " hundred");
    if (rest >= 10 && rest < 20) parts.push(w.teens[rest - 10]);
    else if (rest) {
      var t = w.tens[Math.floor(rest / 10)], o = w.ones[rest % 10];
      if (fa) { if (t) parts.push(t); if (o) parts.push(o); }
      else parts.push([t, o].filter(Boolean).join("-"));
    }
    return parts.join(fa ? " و " : " ");
  }
  function inWords(digits) {
    digits = digits.replace(/^0+(?=\d)/, "");
    if (digits.length > 18) return "";
    if (digits === "0") return fa ? "صفر ریال" : "zero rials";
    var groups = [], scale = 0;
    while (digits.length) {
      var g = parseInt(digits.slice(-3), 10);
      digits = digits.slice(0, -3);
      if (g) {
        var name = (fa ? W.fa : W.en).scales[scale];
        groups.unshift(under1000(g) + (name ? " " + name : ""));
      }
      scale += 1;
    }
    var text = groups.join(fa ? " و " : " ");
    return fa ? text + " ریال" : text + (text === "one" ? " rial" : " rials");
  }
  function refreshMoney(input) {
    var out = document.getElementById("words-" + input.id.replace(/^field-/, ""));
    if (!out) return;
    var s = asciiDigits(input.value).replace(/[٬,'\s\u00a0]/g, "");
    out.textContent = /^\d+$/.test(s) ? inWords(s) : "";
  }

  // --- Jalali calendar (jalaali-js algorithm) -----------------------------------------------------
  var BREAKS = [-61, 9, 38, 199, 426, 686, 756, 818, 1111, 1181, 1210, 1635, 2060, 2097, 2192, 2262, 2324, 2394, 2456, 3178];
  function div(a, b) { return ~~(a / b); }
  function mod(a, b) { return a - ~~(a / b) * b; }
  function jalCal(jy) {
    var gy = jy + 621, leapJ = -14, jp = BREAKS[0], jump = 0, jm, n, leap, leapG, march;
    for (var i = 1; i < BREAKS.length; i += 1) {
      jm = BREAKS[i]; jump = jm - jp;
      if (jy < jm) break;
      leapJ = leapJ + div(jump, 33) * 8 + div(mod(jump, 33), 4);
      jp = jm;
    }
    n = jy - jp;
    leapJ = leapJ + div(n, 33) * 8 + div(mod(n, 33) + 3, 4);
    if (mod(jump, 33) === 4 && jump - n === 4) leapJ += 1;
    leapG = div(gy, 4) - div((div(gy, 100) + 1) * 3, 4) - 150;
    march = 20 + leapJ - leapG;
    if (jump - n < 6) n = n - jump + div(jump + 4, 33) * 33;
    leap = mod(mod(n + 1, 33) - 1, 4);
    if (leap === -1) leap = 4;
    return { leap: leap, gy: gy, march: march };
  }
  function g2d(gy, gm, gd) {
    var d = div((gy + div(gm - 8, 6) + 100100) * 1461, 4) + div(153 * mod(gm + 9, 12) + 2, 5) + gd - 34840408;
    return d - div(div(gy + 100100 + div(gm - 8, 6), 100) * 3, 4) + 752;
  }
  function d2g(jdn) {
    var j = 4 * jdn + 139361631;
    j = j + div(div(4 * jdn + 183187720, 146097) * 3, 4) * 4 - 3908;
    var i = div(mod(j, 1461), 4) * 5 + 308;
    var gm = mod(div(i, 153), 12) + 1;
    return { gy: div(j, 1461) - 100100 + div(8 - gm, 6), gm: gm, gd: div(mod(i, 153), 5) + 1 };
  }
  function j2d(jy, jm, jd) {
    var r = jalCal(jy);
    return g2d(r.gy, 3, r.march) + (jm - 1) * 31 - div(jm, 7) * (jm - 7) + jd - 1;
  }
  function d2j(jdn) {
    var gy = d2g(jdn).gy, jy = gy - 621, r = jalCal(jy), k = jdn - g2d(gy, 3, r.march);
    if (k >= 0) {
      if (k <= 185) return { jy: jy, jm: 1 + div(k, 31), jd: mod(k, 31) + 1 };
      k -= 186;
    } else {
      jy -= 1; k += 179;
      if (r.leap === 1) k += 1;
    }
    return { jy: jy, jm: 7 + div(k, 30), jd: mod(k, 30) + 1 };
  }
  function monthLength(jy, jm) {
    if (jm <= 6) return 31;
    if (jm <= 11) return 30;
    return jalCal(jy).leap === 0 ? 30 : 29;
  }
  var MONTHS = fa
    ? ["فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند"]
    : ["Farvardin", "Ordibehesht", "Khordad", "Tir", "Mordad", "Shahrivar", "Mehr", "Aban", "Azar", "Dey", "Bahman", "Esfand"];
  var WEEK = fa ? ["ش", "ی", "د", "س", "چ", "پ", "ج"] : ["Sa", "Su", "Mo", "Tu", "We", "Th", "Fr"];
  var T = fa
    ? { open: "انتخاب از تقویم", prev: "ماه قبل", next: "ماه بعد", close: "بستن" }
    : { open: "Choose from the calendar", prev: "Previous month", next: "Next month", close: "Close" };

  function datePicker(parts) {
    var path = parts.getAttribute("data-jalali-date");
    var inputs = {};
    ["day", "month", "year"].forEach(function (p) {
      inputs[p] = parts.querySelector("[name='" + path + "__" + p + "']");
    });
    var wrap = document.createElement("div");
    wrap.className = "date-picker";
    var toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "button button--secondary";
    toggle.textContent = T.open;
    toggle.setAttribute("aria-expanded", "false");
    var panel = document.createElement("div");
    panel.className = "date-picker__panel";
    panel.hidden = true;
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", T.open);
    wrap.appendChild(toggle);
    wrap.appendChild(panel);
    parts.parentNode.insertBefore(wrap, parts.nextSibling);
    var shown = null;

    function chosen() {
      var y = parseInt(asciiDigits(inputs.year.value), 10), m = parseInt(asciiDigits(inputs.month.value), 10),
        d = parseInt(asciiDigits(inputs.day.value), 10);
      return (y > 0 && m >= 1 && m <= 12 && d >= 1 && d <= monthLength(y, m)) ? { jy: y, jm: m, jd: d } : null;
    }
    function close(focus) {
      panel.hidden = true;
      toggle.setAttribute("aria-expanded", "false");
      if (focus) toggle.focus();
    }
    function draw() {
      panel.innerHTML = "";
      var head = document.createElement("div");
      head.className = "date-picker__head";
      var prev = document.createElement("button"), next = document.createElement("button"), title = document.createElement("span");
      prev.type = next.type = "button";
      prev.className = next.className = "link-button";
      prev.textContent = fa ? "›" : "‹";
      next.textContent = fa ? "‹" : "›";
      prev.setAttribute("aria-label", T.prev);
      next.setAttribute("aria-label", T.next);
      title.textContent = MONTHS[shown.jm - 1] + " " + localDigits(shown.jy);
      title.setAttribute("aria-live", "polite");
      prev.addEventListener("click", function () { shown = shown.jm === 1 ? { jy: shown.jy - 1, jm: 12 } : { jy: shown.jy, jm: shown.jm - 1 }; draw(); prev.focus(); });
      next.addEventListener("click", function () { shown = shown.jm === 12 ? { jy: shown.jy + 1, jm: 1 } : { jy: shown.jy, jm: shown.jm + 1 }; draw(); next.focus(); });
      head.appendChild(prev); head.appendChild(title); head.appendChild(next);
      panel.appendChild(head);
      var table = document.createElement("table"), row = document.createElement("tr");
      WEEK.forEach(function (w) { var th = document.createElement("th"); th.textContent = w; th.scope = "col"; row.appendChild(th); });
      var thead = document.createElement("thead"); thead.appendChild(row); table.appendChild(thead);
      var body = document.createElement("tbody");
      var first = j2d(shown.jy, shown.jm, 1), offset = (mod(first, 7) + 2) % 7, selected = chosen();
      row = document.createElement("tr");
      for (var i = 0; i < offset; i += 1) row.appendChild(document.createElement("td"));
      for (var d = 1; d <= monthLength(shown.jy, shown.jm); d += 1) {
        if (row.children.length === 7) { body.appendChild(row); row = document.createElement("tr"); }
        var cell = document.createElement("td"), button = document.createElement("button");
        button.type = "button";
        button.textContent = localDigits(d);
        button.setAttribute("aria-label", localDigits(d) + " " + MONTHS[shown.jm - 1] + " " + localDigits(shown.jy));
        button.setAttribute("aria-pressed", String(!!selected && selected.jy === shown.jy && selected.jm === shown.jm && selected.jd === d));
        button.addEventListener("click", (function (day) {
          return function () {
            inputs.day.value = day; inputs.month.value = shown.jm; inputs.year.value = shown.jy;
            close(false);
            inputs.day.focus();
          };
        })(d));
        cell.appendChild(button);
        row.appendChild(cell);
      }
      body.appendChild(row);
      table.appendChild(body);
      panel.appendChild(table);
      var closer = document.createElement("button");
      closer.type = "button"; closer.className = "link-button"; closer.textContent = T.close;
      closer.addEventListener("click", function () { close(true); });
      panel.appendChild(closer);
    }
    toggle.addEventListener("click", function () {
      if (!panel.hidden) { close(true); return; }
      var c = chosen();
      if (c) shown = { jy: c.jy, jm: c.jm };
      else {
        var now = new Date(), today = d2j(g2d(now.getFullYear(), now.getMonth() + 1, now.getDate()));
        shown = { jy: today.jy, jm: today.jm };
      }
      draw();
      panel.hidden = false;
      toggle.setAttribute("aria-expanded", "true");
      var focus = panel.querySelector("[aria-pressed=true]") || panel.querySelector("td button");
      if (focus) focus.focus();
    });
    panel.addEventListener("keydown", function (e) { if (e.key === "Escape") close(true); });
  }

  // --- wiring -------------------------------------------------------------------------------------
  function setUp() {
    document.querySelectorAll("form[data-generated-form]").forEach(function (form) {
      refreshConditions(form);
      form.addEventListener("change", function () { refreshConditions(form); });
      form.addEventListener("input", function (e) {
        refreshConditions(form);
        if (e.target.hasAttribute && e.target.hasAttribute("data-money")) refreshMoney(e.target);
      });
      form.querySelectorAll("[data-repeat]").forEach(function (repeat) {
        var legend = repeat.querySelector("[data-repeat-template]");
        var sample = legend && legend.content.querySelector(".repeat__legend");
        if (sample) repeat.setAttribute("data-item-label", sample.textContent.replace("__INDEX__", "").trim());
        var add = repeat.querySelector("[data-repeat-add]");
        if (add && add.hasAttribute("data-max")) repeat.setAttribute("data-max", add.getAttribute("data-max"));
        renumber(repeat);
      });
      form.addEventListener("click", function (e) {
        var button = e.target.closest ? e.target.closest("button") : null;
        if (!button) return;
        var repeat = button.closest("[data-repeat]");
        if (button.hasAttribute("data-repeat-add") && repeat) { e.preventDefault(); addItem(repeat); }
        else if (button.hasAttribute("data-repeat-remove") && repeat) {
          e.preventDefault();
          removeItem(repeat, button.closest("[data-repeat-item]"));
        }
      });
      form.querySelectorAll("[data-money]").forEach(refreshMoney);
      form.querySelectorAll("[data-jalali-date]").forEach(datePicker);
    });
    // A second click on "Send" while the first is on its way does nothing (the server is
    // idempotent anyway: this only spares a round trip).
    document.querySelectorAll("form[data-submit-once]").forEach(function (form) {
      form.addEventListener("submit", function (e) {
        if (form.getAttribute("data-submitting")) { e.preventDefault(); return; }
        form.setAttribute("data-submitting", "1");
        var button = form.querySelector("[data-submit-button]");
        if (button) button.setAttribute("aria-disabled", "true");
      });
    });
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
