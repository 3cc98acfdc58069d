"""processes/property_info driven through every path, restored after every single step.

Time is frozen: the case starts on Tuesday 1404-07-01 (2025-09-23) at 08:30 Tehran time, so
the expert's 5-working-day deadline (Thursday closed) is 1404-07-08 14:00 Tehran.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory

from engine import CompiledProcess, HistoryEntry, ProcessLibrary, Runtime, StepResult, Workflow

from .support import FakeConnectors, only_task, restored

START = "2025-09-23 05:00:00+00:00"  # 08:30 in Tehran, Tuesday 1404-07-01
REVIEW_DUE = datetime(2025, 9, 30, 10, 30, tzinfo=UTC)  # 1404-07-08 14:00 Tehran

CITIZEN, EXPERT, INSPECTOR, HEAD = "user:1", "user:12", "user:14", "user:3"
BANK = "gateway:bank"

PLATE = {"section": "3", "main": "125", "sub": "4217"}
REQUEST = {
    "request_kind": "zoning_info",
    "applicant_name": "علی کریمی",
    "plate": PLATE,
    "renewal_code": "9-2-15-37-1-0-0",
    "address": "تبریز، منطقه ۹، خیابان نمونه",
    "area": 240.5,
}
ZONING = {
    "zone": "R211",
    "land_use": "residential",
    "max_floors": 4,
    "max_density_pct": 180,
    "max_coverage_pct": 60,
    "setback_m": 1.2,
    "street_width_m": 12.0,
}
EXPERT_ANSWER = {
    "zoning_zone": "R122",
    "zoning_land_use": "mixed",
    "max_floors": 5,
    "max_density_pct": 240,
    "max_coverage_pct": 60,
    "setback_m": 2.5,
    "street_width_m": 16.0,
    "site_visit": False,
}


def empty_record() -> dict[str, Any]:
    return {
        "found": True,
        "zoning": {},
        "has_permit": False,
        "has_completion": False,
        "has_no_violation": False,
        "open_violations": 0,
        "unpaid_fees": 0,
        "documents": [],
    }


@dataclass
class PropertyConnectors(FakeConnectors):
    """The sample's fakes plus the property register's connectors (contract of issue #7).

    `record` is what `property_record` answers; `register_property` answers from it too.
    """

    record: dict[str, Any] = field(default_factory=empty_record)

    def __post_init__(self) -> None:
        super().__post_init__()
        self.fake("register_property", self._registered)
        self.fake("property_record", lambda inputs: dict(self.record))
        self.fake("issue_document", lambda inputs: {"document_number": f"PI-{len(self.calls):04d}"})

    def _registered(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "property_id": 7,
            "zoning_on_record": bool(self.record["zoning"]),
            "has_permit": self.record["has_permit"],
            "has_completion": self.record["has_completion"],
            "open_violations": self.record["open_violations"],
        }

    def notices(self) -> list[tuple[str, str]]:
        """(event_key, recipient_role) of every notify call, in order."""
        return [(c["event_key"], c["recipient_role"]) for c in self.called("notify")]


class Case:
    """Drives a package as the app would, restoring the state after every step."""

    def __init__(self, compiled: CompiledProcess, runtime: Runtime, **start_data: Any) -> None:
        self.runtime = runtime
        self.workflow = Workflow.start(compiled, start_data, actor=CITIZEN, runtime=runtime)
        self.history: list[HistoryEntry] = list(self.workflow.last_result.history)
        self.workflow = restored(self.workflow, runtime)

    def _record(self, result: StepResult) -> StepResult:
        self.history.extend(result.history)
        self.workflow = restored(self.workflow, self.runtime)
        return result

    def complete(self, element_id: str, data: Mapping[str, Any], actor: str) -> StepResult:
        task = only_task(self.workflow, element_id)
        return self._record(self.workflow.complete(task.id, data, actor=actor))

    def pay(self, amount: int, reference: str = "12540040704") -> StepResult:
        payment = {"amount": amount, "reference": reference}
        return self._record(self.workflow.send_message("payment_confirmed", payment, actor=BANK))

    def fire_timers(self, now: datetime | None = None) -> StepResult:
        return self._record(self.workflow.fire_due_timers(now))

    def ready(self) -> list[tuple[str, str | None, str | None]]:
        return [(t.element_id, t.lane, t.form_key) for t in self.workflow.human_tasks()]

    def elements(self, kind: str) -> list[str | None]:
        return [entry.element_id for entry in self.history if entry.kind == kind]


@pytest.fixture(scope="session")
def compiled(library: ProcessLibrary) -> CompiledProcess:
    return library.compile("property_info")


@pytest.fixture
def fakes() -> PropertyConnectors:
    return PropertyConnectors()


@pytest.fixture
def runtime(fakes: PropertyConnectors) -> Runtime:
    return Runtime(connectors=fakes.registry)


@pytest.fixture
def clock() -> Iterator[FrozenDateTimeFactory]:
    with freeze_time(START) as frozen:
        yield frozen


@pytest.fixture
def case(compiled: CompiledProcess, runtime: Runtime, clock: FrozenDateTimeFactory) -> Case:
    return Case(compiled, runtime, filed_on="2025-09-23")


def requested(case: Case, **changes: Any) -> Case:
    case.complete("submit_request", {**REQUEST, **changes}, CITIZEN)
    return case


def test_zoning_on_record_is_answered_in_the_same_request(
    case: Case, fakes: PropertyConnectors
) -> None:
    fakes.record = {**empty_record(), "zoning": dict(ZONING)}
    assert case.ready() == [("submit_request", "APPLICANT", "property_info/request")]

    requested(case)

    assert case.workflow.is_completed
    assert case.workflow.outcome == "end_answered"
    assert fakes.called("register_property") == [
        {
            "plate": PLATE,
            "renewal_code": "9-2-15-37-1-0-0",
            "postal_code": "",
            "address": "تبریز، منطقه ۹، خیابان نمونه",
            "area": 240.5,
            "land_use": "",
        }
    ]
    assert fakes.called("create_invoice") == []  # the published plan's data is free
    [issued] = fakes.called("issue_document")
    assert issued["document_type"] == "property_info_answer"
    assert issued["applicant_name"] == "علی کریمی"
    assert issued["valid_days"] == 90
    assert issued["facts"] == {
        "request_kind": "zoning_info",
        "plate_section": "3",
        "plate_main": "125",
        "plate_sub": "4217",
        "renewal_code": "9-2-15-37-1-0-0",
        "address": "تبریز، منطقه ۹، خیابان نمونه",
        "answer_source": "record",
        **ZONING,
        "fee_paid": 0,
        "payment_reference": "",
        "valid_days": 90,
    }
    assert fakes.notices() == [("submitted", "APPLICANT"), ("answer_issued", "APPLICANT")]
    assert case.elements("milestone_reached") == ["record_checked"]
    assert case.workflow.data["answer_document"] == {"document_number": "PI-0004"}


def test_the_flag_alone_does_not_answer_without_the_zoning_data(
    case: Case, fakes: PropertyConnectors
) -> None:
    requested(case)  # zoning_on_record is False and the record's zoning is {}

    assert case.ready() == [("expert_review", "URB_EXPERT", "property_info/review")]
    assert fakes.notices() == [("submitted", "APPLICANT"), ("under_review", "APPLICANT")]
    assert fakes.called("issue_document") == []


def test_reviewed_answer_is_approved_paid_and_issued(case: Case, fakes: PropertyConnectors) -> None:
    requested(case, postal_code="5166614776", land_use="residential")
    review = only_task(case.workflow, "expert_review")
    assert review.due_at == REVIEW_DUE
    assert case.workflow.next_timer_at() == REVIEW_DUE

    case.complete("expert_review", EXPERT_ANSWER, EXPERT)
    assert case.ready() == [("approve_answer", "URB_HEAD", "property_info/approval")]
    assert only_task(case.workflow, "approve_answer").outcomes == ("approve", "reject")
    assert case.workflow.next_timer_at() is None

    case.complete("approve_answer", {"decision": "approve"}, HEAD)
    assert case.workflow.waiting_messages() == ["payment_confirmed"]
    assert case.workflow.milestone is not None
    assert case.workflow.milestone.element_id == "answer_approved"
    assert fakes.called("create_invoice") == [
        {"lines": {"info_fee": 1_000_000}, "tariff_year": 1404, "event_key": "payment_requested"}
    ]
    assert case.workflow.data["info_fee_rule"] == "I1"

    case.pay(1_000_000)
    assert case.workflow.outcome == "end_answered"
    [issued] = fakes.called("issue_document")
    facts = issued["facts"]
    assert facts["answer_source"] == "review"
    assert (facts["zone"], facts["land_use"], facts["max_floors"]) == ("R122", "mixed", 5)
    assert (facts["setback_m"], facts["street_width_m"]) == (2.5, 16.0)
    assert (facts["fee_paid"], facts["payment_reference"]) == (1_000_000, "12540040704")
    assert fakes.called("register_property")[0]["postal_code"] == "5166614776"
    assert fakes.called("register_property")[0]["land_use"] == "residential"
    assert fakes.notices() == [
        ("submitted", "APPLICANT"),
        ("under_review", "APPLICANT"),
        ("answer_issued", "APPLICANT"),
    ]
    assert case.elements("milestone_reached") == ["record_checked", "answer_approved"]


def test_design_brief_preview_costs_more(case: Case, fakes: PropertyConnectors) -> None:
    requested(case, request_kind="design_brief_preview")
    case.complete("expert_review", EXPERT_ANSWER, EXPERT)
    case.complete("approve_answer", {"decision": "approve"}, HEAD)

    assert case.workflow.data["info_fee"] == 3_000_000
    assert case.workflow.data["info_fee_rule"] == "I2"


@pytest.mark.parametrize(
    ("kind", "fee"), [("land_use_inquiry", 1_200_000), ("design_brief_preview", 3_600_000)]
)
def test_the_next_tariff_book_applies_from_1405(
    compiled: CompiledProcess, runtime: Runtime, fakes: PropertyConnectors, kind: str, fee: int
) -> None:
    with freeze_time("2026-04-04 06:00:00+00:00"):  # 1405-01-15
        case = requested(Case(compiled, runtime, filed_on="2026-04-04"), request_kind=kind)
        case.complete("expert_review", EXPERT_ANSWER, EXPERT)
        case.complete("approve_answer", {"decision": "approve"}, HEAD)

    assert fakes.called("create_invoice")[0]["tariff_year"] == 1405
    assert case.workflow.data["info_fee"] == fee


def test_the_head_rejects(case: Case, fakes: PropertyConnectors) -> None:
    requested(case)
    case.complete("expert_review", EXPERT_ANSWER, EXPERT)

    case.complete("approve_answer", {"decision": "reject", "reason": "پلاک در محدوده نیست"}, HEAD)

    assert case.workflow.is_completed
    assert case.workflow.outcome == "end_rejected"
    assert fakes.called("issue_document") == fakes.called("create_invoice") == []
    assert fakes.notices()[-1] == ("rejected", "APPLICANT")


def test_a_site_visit_then_the_expert_answers(case: Case, fakes: PropertyConnectors) -> None:
    requested(case)
    case.complete("expert_review", {**EXPERT_ANSWER, "site_visit": True}, EXPERT)

    assert case.ready() == [("inspect_site", "INSPECTOR", "property_info/inspection")]
    assert case.workflow.data["site_visits"] == 1
    case.complete(
        "inspect_site",
        {"visited_on": "1404-07-02", "measured_street_width_m": 15.5, "findings": "معبر ۱۵٫۵ متر"},
        INSPECTOR,
    )
    assert case.ready() == [("expert_review", "URB_EXPERT", "property_info/review")]

    case.complete("expert_review", {**EXPERT_ANSWER, "street_width_m": 15.5}, EXPERT)
    assert case.ready() == [("approve_answer", "URB_HEAD", "property_info/approval")]
    case.complete("approve_answer", {"decision": "approve"}, HEAD)
    case.pay(1_000_000)
    assert fakes.called("issue_document")[0]["facts"]["street_width_m"] == 15.5


def test_a_second_visit_is_past_the_bound(case: Case) -> None:
    requested(case)
    case.complete("expert_review", {**EXPERT_ANSWER, "site_visit": True}, EXPERT)
    case.complete("inspect_site", {"visited_on": "1404-07-02", "findings": "بازدید شد"}, INSPECTOR)

    case.complete("expert_review", {**EXPERT_ANSWER, "site_visit": True}, EXPERT)

    assert case.ready() == [("approve_answer", "URB_HEAD", "property_info/approval")]
    assert case.workflow.data["site_visits"] == 1
    assert case.elements("task_completed").count("inspect_site") == 1


def test_the_visit_bound_comes_from_start_data(
    compiled: CompiledProcess, runtime: Runtime, clock: FrozenDateTimeFactory
) -> None:
    case = requested(Case(compiled, runtime, max_site_visits=0))
    case.complete("expert_review", {**EXPERT_ANSWER, "site_visit": True}, EXPERT)

    assert case.ready() == [("approve_answer", "URB_HEAD", "property_info/approval")]


def test_the_review_deadline_escalates_to_the_head_and_not_before(
    case: Case, fakes: PropertyConnectors, clock: FrozenDateTimeFactory
) -> None:
    requested(case)
    clock.move_to(REVIEW_DUE - timedelta(seconds=1))
    assert case.fire_timers().history == ()
    assert fakes.notices()[-1] == ("under_review", "APPLICANT")

    clock.move_to(REVIEW_DUE)
    result = case.fire_timers()

    assert next((e.kind, e.element_id) for e in result.history) == (
        "timer_fired",
        "review_deadline",
    )
    assert fakes.notices()[-1] == ("review_overdue", "URB_HEAD")
    assert sorted(case.ready()) == [
        ("escalate_review", "URB_HEAD", "property_info/escalation"),
        ("expert_review", "URB_EXPERT", "property_info/review"),
    ]
    case.complete("escalate_review", {"escalation_action": "reminded_reviewer"}, HEAD)
    assert case.ready() == [("expert_review", "URB_EXPERT", "property_info/review")]
    assert not case.workflow.is_completed

    case.complete("expert_review", EXPERT_ANSWER, EXPERT)
    case.complete("approve_answer", {"decision": "approve"}, HEAD)
    case.pay(1_000_000)
    assert case.workflow.outcome == "end_answered"
