// Kiosk terminals: warn before the inactivity timeout, then end the session; keep the
// server-side session alive while someone is using the screen. Pages work without this file
// (the server ends idle sessions and a <noscript> refresh clears the screen).
(function () {
  "use strict";
  var bar = document.querySelector("[data-kiosk-idle]");
  if (!bar) return;
  var idleMs = Number(bar.dataset.kioskIdle) * 1000;
  var warnMs = Number(bar.dataset.kioskWarning) * 1000;
  var pingUrl = bar.dataset.kioskPing;
  var dialog = document.getElementById("kiosk-warning");
  var countdown = dialog.querySelector("[data-kiosk-countdown]");
  var finishForm = document.getElementById("kiosk-finish-form");
  var lastActivity = Date.now();
  var lastPing = Date.now();
  var ending = false;
  var persian = document.documentElement.lang === "fa";

  function digits(n) {
    var s = String(n);
    return persian ? s.replace(/[0-9]/g, function (d) { return "۰۱۲۳۴۵۶۷۸۹"[d]; }) : s;
  }

  function hideWarning() {
    if (!dialog.hidden) dialog.hidden = true;
  }

  function activity() {
    if (ending) return;
    lastActivity = Date.now();
    hideWarning();
    if (Date.now() - lastPing > 15000) {
      lastPing = Date.now();
      fetch(pingUrl, { credentials: "same-origin", cache: "no-store" }).catch(function () {});
    }
  }

  function end() {
    ending = true;
    finishForm.querySelector("[name=reason]").value = "timeout";
    finishForm.submit();
  }

  ["pointerdown", "keydown", "input", "touchstart", "wheel"].forEach(function (name) {
    document.addEventListener(name, activity, { passive: true, capture: true });
  });
  dialog.querySelector("[data-kiosk-continue]").addEventListener("click", function () {
    lastPing = 0;
    activity();
  });

  setInterval(function () {
    if (ending) return;
    var left = idleMs - (Date.now() - lastActivity);
    if (left <= 0) {
      end();
    } else if (left <= warnMs) {
      countdown.textContent = digits(Math.ceil(left / 1000));
      if (dialog.hidden) {
        dialog.hidden = false;
        dialog.querySelector("[data-kiosk-continue]").focus();
      }
    }
  }, 500);

  // A page restored from the back/forward cache must ask the server again, which by then
  // shows the start screen if the session ended.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) window.location.reload();
  });
})();
