"""Steps in the page's language: the BPMN names are Persian, the service card names them in English."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from lxml import etree, html

from app.accounts.models import District, User
from app.cases.models import Case, CaseStatus
from tests.portal.conftest import review

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
#: Elements a citizen may meet by name: on the service page, the timeline, as the current step.
SEEN_BY_CITIZENS = {
    "userTask", "serviceTask", "sendTask", "receiveTask", "businessRuleTask", "manualTask",
    "callActivity", "startEvent", "endEvent", "intermediateThrowEvent",
    "intermediateCatchEvent", "boundaryEvent",
}  # fmt: skip


@pytest.fixture
def reviewer(make_staff: Callable[..., User]) -> User:
    return make_staff("reviewer", roles=["URB_EXPERT"])


def fact(page: str, label: str) -> str:
    """The value of a `dt`/`dd` pair on the page."""
    root = html.fromstring(page)
    return root.xpath(f"//dt[normalize-space()='{label}']/following-sibling::dd[1]")[
        0
    ].text_content()


def test_the_case_page_and_my_cases_name_the_steps_in_the_pages_language(
    client: FlaskClient, file_request: Callable[..., Case], citizen: User
) -> None:
    case = file_request(citizen)
    english = client.get(f"/my/cases/{case.id}?lang=en").get_data(as_text=True)
    assert fact(english, "Current step") == "Document review"
    timeline = html.fromstring(english).xpath("//ol[@class='timeline']")[0].text_content()
    assert "Application" in timeline
    assert "Document review" in timeline
    assert "بررسی مدارک" not in timeline
    row = html.fromstring(client.get("/my/cases").get_data(as_text=True)).xpath("//tbody/tr")[0]
    assert row.xpath("td")[3].text_content().strip() == "Document review"

    persian = client.get(f"/my/cases/{case.id}?lang=fa").get_data(as_text=True)
    assert fact(persian, "مرحله کنونی") == "بررسی مدارک"


def test_the_service_page_explains_the_steps_in_the_pages_language(
    client: FlaskClient, district: District
) -> None:
    def steps(lang: str) -> list[str]:
        page = client.get(f"/services/sample_permit?lang={lang}").get_data(as_text=True)
        return [
            " ".join(li.text_content().split())
            for li in html.fromstring(page).xpath("//ol[@class='steps']/li")
        ]

    english = steps("en")
    assert any(
        s.startswith("Document review") and "The urban-planning expert reviews the documents" in s
        for s in english
    )
    assert not [s for s in english if "کارشناس" in s]
    assert any("کارشناس شهرسازی مدارک را بررسی" in s for s in steps("fa"))


def test_a_step_with_no_task_is_named_in_the_pages_language_too(
    client: FlaskClient,
    file_request: Callable[..., Case],
    citizen: User,
    reviewer: User,
    sign_in: Callable[[User | None], None],
) -> None:
    case = review(file_request(citizen), reviewer, {"decision": "approve"})
    assert case.status == CaseStatus.WAITING_EVENT  # for the payment: no task is open
    assert case.current_step == "انتظار پرداخت"
    page = client.get(f"/my/cases/{case.id}?lang=en").get_data(as_text=True)
    assert fact(page, "Current step") == "Waiting for payment"
    sign_in(None)
    answer = client.post(
        "/track?lang=en", data={"tracking_code": case.tracking_code, "identifier": "1360524185"}
    ).get_data(as_text=True)
    assert fact(answer, "Current step") == "Waiting for payment"
    answer = client.post(
        "/track?lang=fa", data={"tracking_code": case.tracking_code, "identifier": "1360524185"}
    ).get_data(as_text=True)
    assert fact(answer, "مرحله کنونی") == "انتظار پرداخت"


@pytest.mark.parametrize("package", sorted(p.parent.name for p in PROCESSES.glob("*/process.bpmn")))
def test_every_step_a_citizen_can_meet_has_an_english_name(package: str) -> None:
    folder = PROCESSES / package
    card = json.loads((folder / "service.json").read_text(encoding="utf-8"))
    named = {
        element.get("id")
        for element in etree.parse(str(folder / "process.bpmn")).iter()
        if isinstance(element.tag, str)
        and element.tag.removeprefix(BPMN) in SEEN_BY_CITIZENS
        and element.get("name")
    }
    english = {key for key, texts in card.get("step_names", {}).items() if texts.get("en")}
    assert sorted(named - english) == []
    documented = {
        element.getparent().get("id")
        for element in etree.parse(str(folder / "process.bpmn")).iter(f"{BPMN}documentation")
    }
    explained = {k for k, texts in card.get("step_documentation", {}).items() if texts.get("en")}
    assert sorted(documented - explained) == []
