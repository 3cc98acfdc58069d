/* Enhances the task page: draws the BPMN diagram (bpmn-js) and marks the current step.
   Without JavaScript the ordered list of steps beside it says the same. */
(function () {
  "use strict";
  var holder = document.getElementById("office-diagram");
  if (!holder || !window.BpmnJS || !window.fetch) { return; }
  var current = (holder.getAttribute("data-current") || "").split(" ").filter(Boolean);
  holder.hidden = false;
  var viewer = new window.BpmnJS({ container: holder });
  fetch(holder.getAttribute("data-src"), { credentials: "same-origin" })
    .then(function (response) { return response.text(); })
    .then(function (xml) { return viewer.importXML(xml); })
    .then(function () {
      var canvas = viewer.get("canvas");
      canvas.zoom("fit-viewport");
      current.forEach(function (id) {
        try { canvas.addMarker(id, "office-current"); } catch (e) { /* not in this diagram */ }
      });
    })
    .catch(function () { holder.hidden = true; });
}());
