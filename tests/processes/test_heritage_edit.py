"""Issue #7 "Done when": an analyst adds a step by editing BPMN and form files only.

The building-permit package is copied to a private processes/forms folder; a heritage-office
review (a user task in the AGENCY_HERITAGE lane, before the design brief) is added by editing
the XML alone — the task, its lane reference, the re-routed sequence flow and its diagram
shape and edges — plus one new form file. The edited package validates, deploys as a new
version, new cases pass through the new step, and a case started before keeps its version
and never sees it. No Python changes.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from lxml import etree

from app.accounts.models import User
from app.accounts.services import ensure_citizen, ensure_district
from app.cases import services as cases
from app.cases.models import Case
from app.db import db
from app.processes.services import deploy_all, latest_version

ROOT = Path(__file__).resolve().parents[2]
NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}
FILE = {"name": "deed.pdf", "type": "application/pdf", "size": 2048}
APPLICATION: dict[str, Any] = {
    "applicant_role": "owner",
    "applicant_name": "علی کریمی",
    "national_code": "1360524185",
    "mobile": "09140001001",
    "owners": [{"name": "علی کریمی", "national_code": "1360524185", "share": 6}],
    "plate": {"section": "3", "main": "125", "sub": "4217"},
    "renewal_code": "9-2-15-37-1-0-0",
    "address": "تبریز، منطقه ۹، حوزه ۲، خیابان نمونه، پلاک ۱۲",
    "postal_code": "5166614776",
    "area": 240.5,
    "land_use": "residential",
    "floors": 4,
    "units": 8,
    "pilotis": True,
    "deed_type": "single_sheet",
    "deed": FILE,
    "renewal_receipt": FILE,
}
HERITAGE_FORM = {
    "title": {"fa": "نظر میراث فرهنگی درباره بافت تاریخی", "en": "Heritage office review"},
    "schema": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "heritage_opinion": {"type": "string", "enum": ["no_objection", "conditions"]},
            "heritage_notes": {"type": "string", "maxLength": 2000},
        },
        "required": ["heritage_opinion"],
        "additionalProperties": False,
    },
    "ui": {
        "ui:order": ["heritage_opinion", "heritage_notes"],
        "heritage_opinion": {
            "ui:widget": "radios",
            "ui:label": {"fa": "نظر میراث فرهنگی", "en": "Heritage opinion"},
            "ui:enumLabels": {
                "no_objection": {"fa": "بلامانع", "en": "No objection"},
                "conditions": {"fa": "با شرط", "en": "With conditions"},
            },
        },
        "heritage_notes": {
            "ui:widget": "textarea",
            "ui:label": {"fa": "توضیحات", "en": "Notes"},
        },
    },
}


def q(tag: str) -> str:
    prefix, name = tag.split(":")
    return f"{{{NS[prefix]}}}{name}"


def one(root: Any, xpath: str) -> Any:
    [element] = root.xpath(xpath, namespaces=NS)
    return element


def add_heritage_review(bpmn: Path) -> None:
    """Insert heritage_review between inquiries_answered and draft_design_brief, XML only."""
    tree = etree.parse(str(bpmn))
    root = tree.getroot()
    process = one(root, "//bpmn:process[@id='building_permit']")

    rerouted = one(process, "bpmn:sequenceFlow[@id='flow_answered_brief']")
    assert rerouted.get("targetRef") == "draft_design_brief"
    rerouted.set("targetRef", "heritage_review")
    brief = one(process, "bpmn:userTask[@id='draft_design_brief']")
    one(brief, "bpmn:incoming[text()='flow_answered_brief']").text = "flow_heritage_brief"

    task = etree.SubElement(process, q("bpmn:userTask"), id="heritage_review")
    task.set("name", "بررسی میراث فرهنگی پیش از دستور نقشه")
    documentation = etree.SubElement(task, q("bpmn:documentation"))
    documentation.text = "میراث فرهنگی طرح پیشنهادی را از نظر بافت تاریخی بررسی می‌کند."
    props = etree.SubElement(
        etree.SubElement(task, q("bpmn:extensionElements")), q("spiffworkflow:properties")
    )
    etree.SubElement(props, q("spiffworkflow:property"), name="formKey").set(
        "value", "building_permit/heritage_review"
    )
    etree.SubElement(props, q("spiffworkflow:property"), name="question").set(
        "value", "طرح پیشنهادی این ملک را از نظر بافت تاریخی بررسی کنید."
    )
    etree.SubElement(task, q("bpmn:incoming")).text = "flow_answered_brief"
    etree.SubElement(task, q("bpmn:outgoing")).text = "flow_heritage_brief"
    etree.SubElement(
        process,
        q("bpmn:sequenceFlow"),
        id="flow_heritage_brief",
        sourceRef="heritage_review",
        targetRef="draft_design_brief",
    )
    lane = one(process, "bpmn:laneSet/bpmn:lane[@name='AGENCY_HERITAGE']")
    etree.SubElement(lane, q("bpmn:flowNodeRef")).text = "heritage_review"

    # Diagram: a shape in the heritage lane between the two steps, and both edges routed to it.
    plane = one(root, "//bpmndi:BPMNPlane")

    def bounds(element_id: str) -> tuple[float, float, float, float]:
        b = one(plane, f"bpmndi:BPMNShape[@bpmnElement='{element_id}']/dc:Bounds")
        return tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))  # type: ignore[return-value]

    mx, my, mw, mh = bounds("inquiries_answered")
    bx, by, bw, bh = bounds("draft_design_brief")
    _, ly, _, lh = bounds_of_lane(plane, lane.get("id"))
    x, y = (mx + mw / 2 + bx + bw / 2) / 2 - 50, ly + lh / 2 - 40
    shape = etree.SubElement(
        plane, q("bpmndi:BPMNShape"), id="heritage_review_di", bpmnElement="heritage_review"
    )
    etree.SubElement(shape, q("dc:Bounds"), x=f"{x:g}", y=f"{y:g}", width="100", height="80")
    edge = one(plane, "bpmndi:BPMNEdge[@bpmnElement='flow_answered_brief']")
    for point in list(edge):
        edge.remove(point)
    for px, py in ((mx + mw / 2, my + mh), (mx + mw / 2, y + 40), (x, y + 40)):
        etree.SubElement(edge, q("di:waypoint"), x=f"{px:g}", y=f"{py:g}")
    new_edge = etree.SubElement(
        plane, q("bpmndi:BPMNEdge"), id="flow_heritage_brief_di", bpmnElement="flow_heritage_brief"
    )
    for px, py in ((x + 100, y + 40), (bx + bw / 2, y + 40), (bx + bw / 2, by + bh)):
        etree.SubElement(new_edge, q("di:waypoint"), x=f"{px:g}", y=f"{py:g}")
    tree.write(str(bpmn), xml_declaration=True, encoding="UTF-8")


def bounds_of_lane(plane: Any, lane_id: str) -> tuple[float, float, float, float]:
    b = one(plane, f"bpmndi:BPMNShape[@bpmnElement='{lane_id}']/dc:Bounds")
    return tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))  # type: ignore[return-value]


@pytest.fixture
def analysts_files(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of processes/ and forms/ the test edits, as an analyst would."""
    shutil.copytree(ROOT / "processes", tmp_path / "processes")
    shutil.copytree(ROOT / "forms", tmp_path / "forms")
    monkeypatch.setitem(app.config, "PROCESSES_DIR", str(tmp_path / "processes"))
    monkeypatch.setitem(app.config, "FORMS_DIR", str(tmp_path / "forms"))
    return tmp_path


@pytest.fixture
def people(app: Flask, make_staff: Callable[..., User]) -> dict[str, User]:
    return {
        "owner": ensure_citizen("09140001001", "علی کریمی", "1360524185"),
        "counter": make_staff("counter", roles=["COUNTER"]),
        "inspector": make_staff("inspector", roles=["INSPECTOR"]),
        "expert": make_staff("expert", roles=["URB_EXPERT"]),
        "registry": make_staff("registry", roles=["AGENCY_REGISTRY"]),
        "engineering": make_staff("engineering", roles=["AGENCY_ENGINEERING"]),
        "heritage": make_staff("heritage", roles=["AGENCY_HERITAGE"]),
    }


def start(people: dict[str, User]) -> Case:
    version = latest_version("building_permit")
    assert version is not None
    return cases.start_case(
        version,
        applicant=people["owner"],
        district=ensure_district("09", "منطقه ۹", "District 9"),
        data={},
        actor=people["owner"],
    )


def do(
    case: Case, people: dict[str, User], element_id: str, who: str, answers: dict[str, Any]
) -> None:
    [task] = [t for t in case.tasks if t.element_id == element_id and t.state.value == "open"]
    result = cases.complete_task(
        case, task.engine_task_id, answers, actor=people[who], expected_version=case.version_id
    )
    assert result.incident is None, result.incident
    db.session.flush()


def to_the_design_brief(case: Case, people: dict[str, User]) -> None:
    do(case, people, "check_documents", "counter", {"decision": "approve"})
    do(
        case,
        people,
        "inspect_site",
        "inspector",
        {
            "visited_on": "1404-07-01",
            "existing_state": "vacant_land",
            "measured_area": 240.5,
            "findings": "زمین خالی است.",
        },
    )
    do(
        case,
        people,
        "review_planning",
        "expert",
        {"decision": "approve", "utility_row_affected": False, "heritage_buffer": False},
    )
    do(case, people, "registry_inquiry", "registry", {"registry_answer": "no_objection"})
    do(case, people, "engineering_inquiry", "engineering", {"engineering_answer": "no_objection"})


def open_steps(case: Case) -> list[str]:
    return sorted(t.element_id for t in case.tasks if t.state.value == "open")


def test_a_heritage_review_added_by_editing_bpmn_and_a_form_only(
    app: Flask, analysts_files: Path, people: dict[str, User]
) -> None:
    [first] = deploy_all(["building_permit"])
    running = start(people)
    do(running, people, "submit_application", "owner", APPLICATION)
    assert open_steps(running) == ["check_documents"]

    add_heritage_review(analysts_files / "processes/building_permit/process.bpmn")
    (analysts_files / "forms/building_permit/heritage_review.json").write_text(
        json.dumps(HERITAGE_FORM, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    result = app.test_cli_runner().invoke(args=["processes", "validate", "building_permit"])
    assert result.exit_code == 0, result.output
    assert "building_permit: ok" in result.output

    [second] = deploy_all(["building_permit"])
    assert second.created
    assert second.version.number == first.version.number + 1
    assert latest_version("building_permit") == second.version

    # The running case keeps its version and goes straight to the design brief.
    to_the_design_brief(running, people)
    assert running.process_version == first.version
    assert open_steps(running) == ["draft_design_brief"]
    assert not [t for t in running.tasks if t.element_id == "heritage_review"]

    # A new case passes through the heritage office before the design brief.
    new = start(people)
    assert new.process_version == second.version
    do(new, people, "submit_application", "owner", APPLICATION)
    to_the_design_brief(new, people)
    [review] = [t for t in new.tasks if t.element_id == "heritage_review"]
    assert (review.lane, review.form_key) == ("AGENCY_HERITAGE", "building_permit/heritage_review")
    assert open_steps(new) == ["heritage_review"]
    do(new, people, "heritage_review", "heritage", {"heritage_opinion": "no_objection"})
    assert open_steps(new) == ["draft_design_brief"]
