"""Every process package's BPMN opens in a standard modeler's viewer with its whole layout.

bpmn-js (the bpmn.io toolkit behind Camunda Modeler, vendored for the case pages) imports each
`processes/<key>/process.bpmn`: no import warning, and every flow node, lane and sequence flow
of the XML is drawn (has a shape or an edge), so analysts can open and edit the file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = sorted(path.parent.name for path in (ROOT / "processes").glob("*/process.bpmn"))
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
IMPORT = """async (xml) => {
  const viewer = new window.BpmnJS({ container: document.getElementById("canvas") });
  const result = await viewer.importXML(xml);
  const registry = viewer.get("elementRegistry");
  return {
    warnings: result.warnings.map((w) => w.message),
    drawn: registry.getAll().map((e) => e.id),
  };
}"""


def _drawable_ids(xml: bytes) -> set[str]:
    """The process's flow elements (tasks, events, gateways, sequence flows) and its lanes."""
    process = etree.fromstring(xml).find(f"{BPMN}process")
    assert process is not None
    ids = {
        child.get("id")
        for child in process
        if child.get("id") and etree.QName(child).localname not in ("laneSet", "extensionElements")
    }
    ids |= {lane.get("id") for lane in process.iter(f"{BPMN}lane")}
    return {element_id for element_id in ids if element_id}


@pytest.mark.parametrize("key", PACKAGES)
def test_the_package_opens_in_bpmn_js_with_its_whole_layout(
    key: str, live_server: str, browser_context: Callable[..., Any]
) -> None:
    xml = (ROOT / "processes" / key / "process.bpmn").read_bytes()
    page = browser_context().new_page()
    vendor = f"{live_server}/static/vendor/bpmn-js"
    page.set_content(
        f'<link rel="stylesheet" href="{vendor}/diagram-js.css">'
        f'<link rel="stylesheet" href="{vendor}/bpmn-js.css">'
        '<div id="canvas" style="width:1600px;height:900px"></div>'
        f'<script src="{vendor}/bpmn-navigated-viewer.production.min.js"></script>'
    )
    page.wait_for_function("() => window.BpmnJS !== undefined")
    result = page.evaluate(IMPORT, xml.decode("utf-8"))
    assert result["warnings"] == []
    missing = _drawable_ids(xml) - set(result["drawn"])
    assert not missing, f"{key}: not drawn: {sorted(missing)}"
