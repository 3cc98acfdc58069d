// Draws a BPMN diagram with the self-hosted bpmn-js viewer and marks done and current steps.
// Without JavaScript the page shows the same steps as a list; this only adds the picture.
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  function loadFont() {
    // Persian labels are measured when the diagram is imported: load Vazirmatn (the page's
    // own @font-face) first, or the boxes are sized for the fallback font.
    if (!document.fonts || !document.fonts.load) { return Promise.resolve(); }
    return document.fonts.load("12px Vazirmatn", "آ").catch(function () { return null; });
  }

  function draw(container) {
    if (!window.BpmnJS) { return; }
    container.hidden = false;
    var viewer = new window.BpmnJS({ container: container });
    var words = function (name) { return (container.dataset[name] || "").split(" ").filter(Boolean); };
    loadFont()
      .then(function () { return fetch(container.dataset.bpmnUrl, { credentials: "same-origin" }); })
      .then(function (response) { return response.text(); })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        var canvas = viewer.get("canvas");
        var registry = viewer.get("elementRegistry");
        words("done").forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "done"); } });
        words("current").forEach(function (id) { if (registry.get(id)) { canvas.addMarker(id, "current"); } });
        canvas.zoom("fit-viewport");
        // On a phone the whole procedure is too small to read: show the current step legibly
        // instead (people can still drag and zoom to see the rest).
        var focus = words("current").map(function (id) { return registry.get(id); }).filter(Boolean)[0];
        if (focus && canvas.zoom() < 0.6) {
          canvas.zoom(0.8);
          canvas.scrollToElement(focus, { top: 80, bottom: 80, left: 120, right: 120 });
        }
        container.setAttribute("data-diagram-ready", "true");
        Array.prototype.forEach.call(
          container.parentNode.querySelectorAll("[data-diagram-legend]"),
          function (legend) { legend.hidden = false; }
        );
      })
      .catch(function () { container.hidden = true; });
  }

  ready(function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-bpmn-diagram]"), draw);
  });
})();
