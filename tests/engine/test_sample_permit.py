"""processes/sample_permit driven through every path, restored after every single step.

Time is frozen: the case starts on Tuesday 1404-07-01 (2025-09-23) at 08:30 Tehran time, so
the review's 5-working-day deadline (Thursday closed) is 1404-07-08 14:00 Tehran.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory
from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.specs.event_definitions import (
    MessageEventDefinition as BaseMessageEventDefinition,
)
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState

from engine import (
    CompiledProcess,
    HistoryEntry,
    NotWaitingForMessage,
    Runtime,
    StepResult,
    TaskNotFound,
    TaskNotReady,
    WorkCalendar,
    Workflow,
)

from .support import FakeConnectors, only_task, restored

START = "2025-09-23 05:00:00+00:00"  # 08:30 in Tehran, Tuesday 1404-07-01
REVIEW_DUE = datetime(2025, 9, 30, 10, 30, tzinfo=UTC)  # 1404-07-08 14:00 Tehran

APPLICATION = {
    "applicant_name": "علی کریمی",
    "national_code": "1360524185",
    "usage": "residential",
    "area": 240.5,
    "address": "تبریز، منطقه ۹",
}
CITIZEN, EXPERT, HEAD = "citizen:1360524185", "expert:12", "head:3"
BANK = "gateway:bank"
PAYMENT = {"amount": 48_100_000, "reference": "12540040704"}


class Case:
    """Drives the sample process as the app would, restoring the state after every step."""

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

    def pay(self, payment: Mapping[str, Any] = PAYMENT) -> StepResult:
        return self._record(
            self.workflow.send_message("payment_confirmed", dict(payment), actor=BANK)
        )

    def fire_timers(self, now: datetime | None = None) -> StepResult:
        return self._record(self.workflow.fire_due_timers(now))

    def ready(self) -> list[tuple[str, str | None, str | None]]:
        return [(t.element_id, t.lane, t.form_key) for t in self.workflow.human_tasks()]

    def kinds(self) -> list[tuple[str, str | None, str]]:
        return [(entry.kind, entry.element_id, entry.actor) for entry in self.history]


@pytest.fixture
def clock() -> Iterator[FrozenDateTimeFactory]:
    with freeze_time(START) as frozen:
        yield frozen


@pytest.fixture
def case(sample: CompiledProcess, runtime: Runtime, clock: FrozenDateTimeFactory) -> Case:
    return Case(sample, runtime)


def submitted(case: Case, **changes: Any) -> Case:
    case.complete("submit_application", {**APPLICATION, **changes}, CITIZEN)
    return case


def test_approve_path_end_to_end(case: Case, connectors: FakeConnectors) -> None:
    assert case.ready() == [("submit_application", "APPLICANT", "sample_permit/application")]
    assert case.workflow.current_steps() == ["ثبت درخواست"]

    submitted(case)
    review = only_task(case.workflow, "review_application")
    assert case.ready() == [("review_application", "URB_EXPERT", "sample_permit/review")]
    assert review.outcomes == ("approve", "return_for_correction", "reject")
    assert review.due_at == REVIEW_DUE
    assert review.data["applicant_name"] == "علی کریمی"
    assert case.workflow.next_timer_at() == REVIEW_DUE

    case.complete("review_application", {"decision": "approve"}, EXPERT)
    assert case.ready() == []
    assert case.workflow.waiting_messages() == ["payment_confirmed"]
    assert case.workflow.current_steps() == ["انتظار پرداخت"]
    assert case.workflow.next_timer_at() is None  # the review's deadline went with the review
    assert case.workflow.data["fee"] == 48_100_000
    milestone = case.workflow.milestone
    assert milestone is not None
    assert milestone.element_id == "application_approved"
    assert connectors.called("create_invoice") == [
        {
            "lines": {
                "permit_fee": 48_100_000,
                "renewal_levy": 4_810_000,
                "education_levy": 2_405_000,
            },
            "tariff_year": 1404,
            "event_key": "payment_requested",
        }
    ]
    assert case.workflow.data["invoice"]["amount"] == 55_315_000

    case.pay()
    assert case.workflow.is_completed
    assert case.workflow.outcome == "end_approved"
    assert case.workflow.data["payment"] == PAYMENT
    assert case.workflow.data["certificate"] == {"document_number": "SP-0002"}
    assert connectors.called("issue_document") == [
        {
            "document_type": "sample_permit_certificate",
            "applicant_name": "علی کریمی",
            "fee_paid": 48_100_000,
            "payment_reference": "12540040704",
        }
    ]
    context = connectors.calls[-1][2]
    assert (context.process_key, context.element_id, context.idempotency_key) == (
        "sample_permit",
        "issue_certificate",
        "issue_certificate#1",
    )


def test_full_history_of_an_approved_case(case: Case) -> None:
    submitted(case)
    case.complete("review_application", {"decision": "approve"}, EXPERT)
    case.pay()

    assert case.kinds() == [
        ("process_started", None, CITIZEN),
        ("task_completed", "submit_application", CITIZEN),
        ("task_completed", "review_application", EXPERT),
        ("milestone_reached", "application_approved", "system"),
        ("decision_made", "compute_fee", "system"),
        ("connector_called", "request_payment", "system"),
        ("message_received", "wait_payment", BANK),
        ("connector_called", "issue_certificate", "system"),
        ("end_reached", "end_approved", "system"),
        ("process_completed", "end_approved", "system"),
    ]
    by_kind = {(e.kind, e.element_id): e for e in case.history}
    assert by_kind["task_completed", "submit_application"].data == APPLICATION
    assert by_kind["task_completed", "review_application"].element_name == "بررسی مدارک"
    assert by_kind["decision_made", "compute_fee"].data == {
        "fee": 48_100_000,
        "fee_rule": "R2",
        "renewal_levy": 4_810_000,
        "education_levy": 2_405_000,
    }
    assert by_kind["message_received", "wait_payment"].data == {"payment": PAYMENT}
    assert all(entry.at == datetime(2025, 9, 23, 5, 0, tzinfo=UTC) for entry in case.history)


def test_reject_path(case: Case, connectors: FakeConnectors) -> None:
    submitted(case)

    case.complete(
        "review_application", {"decision": "reject", "reason": "کاربری مجاز نیست"}, EXPERT
    )

    assert case.workflow.is_completed
    assert case.workflow.outcome == "end_rejected"
    assert case.workflow.human_tasks() == []
    assert case.workflow.pending_timers() == []
    assert connectors.calls == []
    assert case.kinds()[-2:] == [
        ("end_reached", "end_rejected", "system"),
        ("process_completed", "end_rejected", "system"),
    ]


@pytest.mark.parametrize("rounds", [0, 1, 2, 3])
def test_each_correction_round_up_to_the_bound(
    case: Case, clock: FrozenDateTimeFactory, rounds: int
) -> None:
    submitted(case)
    for round_number in range(1, rounds + 1):
        old_review = only_task(case.workflow, "review_application")
        case.complete("review_application", {"decision": "return_for_correction"}, EXPERT)

        correction = only_task(case.workflow, "correct_application")
        assert correction.lane == "APPLICANT"
        assert correction.form_key == "sample_permit/correction"
        assert correction.data["correction_round"] == round_number
        assert case.workflow.pending_timers() == []

        clock.tick(timedelta(days=1))
        case.complete(
            "correct_application", {"correction_note": "نقشه اصلاح شد", "area": 200}, CITIZEN
        )
        new_review = only_task(case.workflow, "review_application")
        assert new_review.id != old_review.id
        assert new_review.due_at is not None
        assert new_review.due_at > REVIEW_DUE  # each review round gets its own deadline

    case.complete("review_application", {"decision": "approve"}, EXPERT)

    assert case.workflow.waiting_messages() == ["payment_confirmed"]
    assert case.workflow.data["correction_round"] == rounds
    assert case.workflow.data["fee"] == (30_000_000 if rounds else 48_100_000)


def test_returning_past_the_bound_rejects_the_application(case: Case) -> None:
    submitted(case)
    for _ in range(3):
        case.complete("review_application", {"decision": "return_for_correction"}, EXPERT)
        case.complete("correct_application", {"correction_note": "اصلاح شد"}, CITIZEN)

    case.complete("review_application", {"decision": "return_for_correction"}, EXPERT)

    assert case.workflow.is_completed
    assert case.workflow.outcome == "end_rejected"
    assert case.workflow.data["rejection_reason"] == "too_many_corrections"
    assert case.workflow.data["correction_round"] == 4
    corrections = [e for e in case.history if e.element_id == "correct_application"]
    assert len(corrections) == 3


def test_the_bound_comes_from_start_data(sample: CompiledProcess, runtime: Runtime) -> None:
    with freeze_time(START):
        case = submitted(Case(sample, runtime, max_correction_rounds=1))
        case.complete("review_application", {"decision": "return_for_correction"}, EXPERT)
        case.complete("correct_application", {"correction_note": "اصلاح شد"}, CITIZEN)
        case.complete("review_application", {"decision": "return_for_correction"}, EXPERT)

    assert case.workflow.outcome == "end_rejected"


@pytest.mark.parametrize(
    ("usage", "area", "fee", "rule"),
    [
        ("residential", 200, 30_000_000, "R1"),
        ("residential", 200.5, 40_100_000, "R2"),
        ("residential", 240.5, 48_100_000, "R2"),
        ("residential", 100.0000034, 15_000_001, "R1"),  # rials() rounds half up
        ("commercial", 50, 25_000_000, "C"),
        ("other", 10.25, 3_075_000, "X"),
    ],
)
def test_fee_table(case: Case, usage: str, area: float, fee: int, rule: str) -> None:
    submitted(case, usage=usage, area=area)

    case.complete("review_application", {"decision": "approve"}, EXPERT)

    assert case.workflow.data["fee"] == fee
    assert isinstance(case.workflow.data["fee"], int)
    assert case.workflow.data["fee_rule"] == rule


@pytest.mark.parametrize(
    ("filed_on", "usage", "area", "lines", "rule"),
    [
        # Tariff book 1404 (filed 1404-12-29, the last day of the year).
        ("2026-03-20", "residential", 200, (30_000_000, 4_000_000, 1_500_000), "R1"),
        ("2026-03-20", "residential", 240.5, (48_100_000, 4_810_000, 2_405_000), "R2"),
        ("2026-03-20", "commercial", 50, (25_000_000, 2_000_000, 1_250_000), "C"),
        ("2026-03-20", "other", 10, (3_000_000, 200_000, 150_000), "X"),
        # Tariff book 1405 (filed 1405-01-01): new bands and rates.
        ("2026-03-21", "residential", 150, (22_500_000, 3_750_000, 1_125_000), "R1"),
        ("2026-03-21", "residential", 240.5, (57_720_000, 6_012_500, 2_886_000), "R2"),
        ("2026-03-21", "residential", 300.5, (90_150_000, 7_512_500, 4_507_500), "R3"),
        ("2026-03-21", "commercial", 50, (30_000_000, 2_500_000, 1_500_000), "C"),
        ("2026-03-21", "other", 10, (3_600_000, 250_000, 180_000), "X"),
        # 1406 has no book of its own yet: the 1405 book stays in force.
        ("2027-06-01", "residential", 240.5, (57_720_000, 6_012_500, 2_886_000), "R2"),
    ],
)
def test_fee_lines_per_tariff_year(
    sample: CompiledProcess,
    runtime: Runtime,
    connectors: FakeConnectors,
    filed_on: str,
    usage: str,
    area: float,
    lines: tuple[int, int, int],
    rule: str,
) -> None:
    with freeze_time(START):  # approval date: the filing date alone picks the book
        case = submitted(Case(sample, runtime, filed_on=filed_on), usage=usage, area=area)
        case.complete("review_application", {"decision": "approve"}, EXPERT)

    [call] = connectors.called("create_invoice")
    assert call["lines"] == dict(
        zip(("permit_fee", "renewal_levy", "education_levy"), lines, strict=True)
    )
    assert call["tariff_year"] == {"2026-03-20": 1404, "2026-03-21": 1405}.get(filed_on, 1406)
    assert case.workflow.data["fee_rule"] == rule
    assert case.workflow.data["invoice"]["amount"] == sum(lines)


def test_no_tariff_book_before_1404_is_an_incident(
    sample: CompiledProcess, runtime: Runtime, connectors: FakeConnectors
) -> None:
    with freeze_time(START):
        case = submitted(Case(sample, runtime, filed_on="2025-03-20"))  # 1403-12-30
        result = case.workflow.complete(
            only_task(case.workflow, "review_application").id, {"decision": "approve"}, actor=EXPERT
        )

    assert result.incident is not None
    assert result.incident.element_id == "request_payment"
    assert connectors.called("create_invoice") == []


def test_payment_message(case: Case) -> None:
    submitted(case)
    with pytest.raises(NotWaitingForMessage):
        case.workflow.send_message("payment_confirmed", PAYMENT)
    assert only_task(case.workflow, "review_application")

    case.complete("review_application", {"decision": "approve"}, EXPERT)
    with pytest.raises(NotWaitingForMessage):
        case.workflow.send_message("agency_answered", {})
    case.pay()

    assert case.workflow.is_completed
    assert case.workflow.data["payment"] == PAYMENT


def test_message_needs_the_spiff_event_class(case: Case) -> None:
    """Control (spiffworkflow.md §1.7): the generic BPMN message class does not match."""
    submitted(case)
    case.complete("review_application", {"decision": "approve"}, EXPERT)

    with pytest.raises(WorkflowException, match="not waiting for payment_confirmed"):
        case.workflow._wf.send_event(
            BpmnEvent(BaseMessageEventDefinition("payment_confirmed"), PAYMENT)
        )


def test_review_timer_fires_after_five_working_days_and_not_before(
    case: Case, clock: FrozenDateTimeFactory
) -> None:
    submitted(case)
    review_id = only_task(case.workflow, "review_application").id

    clock.move_to(REVIEW_DUE - timedelta(minutes=1))
    assert case.fire_timers().history == ()
    assert case.ready() == [("review_application", "URB_EXPERT", "sample_permit/review")]

    clock.move_to(REVIEW_DUE + timedelta(minutes=1))
    result = case.fire_timers()

    assert [(e.kind, e.element_id) for e in result.history] == [("timer_fired", "review_deadline")]
    assert sorted(case.ready()) == [
        ("escalate_review", "URB_HEAD", "sample_permit/escalation"),
        ("review_application", "URB_EXPERT", "sample_permit/review"),
    ]
    assert only_task(case.workflow, "review_application").id == review_id  # non-interrupting
    assert case.workflow.next_timer_at() is None

    case.complete("escalate_review", {"escalation_action": "reminded_reviewer"}, HEAD)
    assert case.ready() == [("review_application", "URB_EXPERT", "sample_permit/review")]
    case.complete("review_application", {"decision": "approve"}, EXPERT)
    case.pay()
    assert case.workflow.outcome == "end_approved"


def test_deadline_counts_working_days_not_calendar_days(
    case: Case, clock: FrozenDateTimeFactory
) -> None:
    submitted(case)

    clock.move_to(datetime(2025, 9, 28, 10, 30, tzinfo=UTC))  # 5 calendar days later
    case.fire_timers()

    assert [t.element_id for t in case.workflow.human_tasks()] == ["review_application"]


def test_fire_due_timers_honours_the_callers_clock(case: Case) -> None:
    submitted(case)

    case.fire_timers(now=REVIEW_DUE + timedelta(seconds=1))

    assert "escalate_review" in [t.element_id for t in case.workflow.human_tasks()]


def test_engine_steps_alone_would_leave_the_escalation_waiting(
    case: Case, clock: FrozenDateTimeFactory
) -> None:
    """Control (spiffworkflow.md §1.6): do_engine_steps() refreshes timers only at its end."""
    submitted(case)
    clock.move_to(REVIEW_DUE + timedelta(minutes=1))
    raw = Workflow.load(case.workflow.compiled, case.workflow.dump(), runtime=case.runtime)

    raw._wf.do_engine_steps()

    ready = [t.task_spec.bpmn_id for t in raw._wf.get_tasks(state=TaskState.READY, manual=True)]
    assert ready == ["review_application"]


def test_approval_before_the_deadline_means_no_escalation(
    case: Case, clock: FrozenDateTimeFactory
) -> None:
    submitted(case)
    case.complete("review_application", {"decision": "approve"}, EXPERT)

    clock.move_to(REVIEW_DUE + timedelta(days=3))
    result = case.fire_timers()

    assert result.history == ()
    assert case.workflow.human_tasks() == []
    assert case.workflow.waiting_messages() == ["payment_confirmed"]


def test_thursday_open_calendar_gives_an_earlier_deadline(
    sample: CompiledProcess, connectors: FakeConnectors
) -> None:
    runtime = Runtime(calendar=WorkCalendar(thursday_closed=False), connectors=connectors.registry)
    with freeze_time(START):
        case = submitted(Case(sample, runtime))

    review = only_task(case.workflow, "review_application")
    assert review.due_at == datetime(2025, 9, 29, 10, 30, tzinfo=UTC)  # 1404-07-07


def test_stale_or_unknown_completions_are_refused(case: Case) -> None:
    submitted(case)
    review = only_task(case.workflow, "review_application")
    stale = Workflow.load(case.workflow.compiled, case.workflow.dump(), runtime=case.runtime)
    case.complete("review_application", {"decision": "return_for_correction"}, EXPERT)

    with pytest.raises(TaskNotReady, match="review_application"):
        case.workflow.complete(review.id, {"decision": "approve"}, actor=EXPERT)
    with pytest.raises(TaskNotFound):
        case.workflow.complete(str(uuid.uuid4()), {}, actor=EXPERT)
    with pytest.raises(TaskNotFound):
        case.workflow.complete("not-a-task-id", {}, actor=EXPERT)
    # A second worker holding the older state can still complete it: the app's version column
    # is what refuses that save (optimistic locking); the engine refuses only non-READY tasks.
    assert stale.complete(review.id, {"decision": "approve"}, actor=EXPERT).incident is None


def test_automatic_tasks_cannot_be_completed_by_hand(case: Case) -> None:
    submitted(case)
    timer = case.workflow.pending_timers()[0]

    with pytest.raises(TaskNotFound, match="no human task"):
        case.workflow.complete(timer.task_id, {}, actor=EXPERT)


def test_steps_for_the_public_page(sample: CompiledProcess) -> None:
    steps = [(s.id, s.lane, s.type) for s in sample.steps()]

    assert steps[:3] == [
        ("init_case", "SYSTEM", "scriptTask"),
        ("submit_application", "APPLICANT", "userTask"),
        ("review_application", "URB_EXPERT", "userTask"),
    ]
    assert {s.id for s in sample.steps()} == {
        "init_case",
        "submit_application",
        "review_application",
        "count_correction",
        "escalate_review",
        "compute_fee",
        "request_payment",
        "reject_after_corrections",
        "correct_application",
        "notify_correction",
        "check_site_visit",
        "inspect_site",
        "issue_certificate",
    }
    assert sample.steps()[1].name == "ثبت درخواست"
    assert 'id="sample_permit"' in sample.bpmn_xml


INSPECTION = {
    "inspection_outcome": "compliant",
    "visited_on": "1404-07-03",
    "findings": "وضع موجود با نقشه و سند مطابق است.",
}


def test_each_return_for_correction_texts_the_applicant(
    case: Case, connectors: FakeConnectors
) -> None:
    submitted(case)
    for _ in range(2):
        case.complete("review_application", {"decision": "return_for_correction"}, EXPERT)
        case.complete("correct_application", {"correction_note": "اصلاح شد"}, CITIZEN)

    assert (
        connectors.called("notify")
        == [{"event_key": "returned_for_correction", "recipient_role": "APPLICANT"}] * 2
    )
    keys = [c.idempotency_key for name, _, c in connectors.calls if name == "notify"]
    assert len(set(keys)) == 2  # each round is its own message, not a retry of the first


def test_review_task_asks_for_the_previous_performer(case: Case) -> None:
    submitted(case)
    review = only_task(case.workflow, "review_application")
    assert review.properties["assignment"] == "previous_performer"


def test_site_visit_then_compliant_report_goes_on_to_the_fee(
    case: Case, connectors: FakeConnectors
) -> None:
    submitted(case)
    case.complete("review_application", {"decision": "approve", "site_visit": True}, EXPERT)

    visit = only_task(case.workflow, "inspect_site")
    assert case.ready() == [("inspect_site", "INSPECTOR", "sample_permit/inspection")]
    assert visit.outcomes == ("compliant", "non_compliant")
    assert visit.properties["appointment"] == "site_visit"
    assert case.workflow.waiting_messages() == []
    assert connectors.called("notify") == []  # no fee before the inspector's report

    case.complete("inspect_site", INSPECTION, "inspector:5")

    assert case.workflow.waiting_messages() == ["payment_confirmed"]
    assert case.workflow.data["fee"] == 48_100_000
    case.pay()
    assert case.workflow.outcome == "end_approved"


def test_non_compliant_site_rejects_the_application(case: Case, connectors: FakeConnectors) -> None:
    submitted(case)
    case.complete("review_application", {"decision": "approve", "site_visit": True}, EXPERT)

    case.complete("inspect_site", {**INSPECTION, "inspection_outcome": "non_compliant"}, "i:5")

    assert case.workflow.is_completed
    assert case.workflow.outcome == "end_rejected"
    assert connectors.calls == []


@pytest.mark.parametrize("answer", [{}, {"site_visit": False}, {"site_visit": "yes"}])
def test_no_site_visit_unless_the_reviewer_asks_for_one(case: Case, answer: dict[str, Any]) -> None:
    submitted(case)

    case.complete("review_application", {"decision": "approve", **answer}, EXPERT)

    assert case.ready() == []
    assert case.workflow.data["site_visit"] is False
    assert case.workflow.waiting_messages() == ["payment_confirmed"]
