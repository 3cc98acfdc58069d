"""The figures follow real cases through the engine: marked in each step, folded later."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from freezegun import freeze_time
from sqlalchemy import func, select

from app.cases import services
from app.cases.models import Case, CaseStatus
from app.db import db
from app.notifications.models import Notification
from app.transparency import queries
from app.transparency.metrics import Span, Workdays, case_facts, covered_days, percentile
from app.transparency.models import (
    CaseMetrics,
    DailyCounts,
    DurationCounts,
    MetricStep,
)
from app.transparency.recording import settings
from app.transparency.services import _from_card, expected_completion
from engine import WorkCalendar
from tests.transparency.conftest import APPLICATION, fold, start, step

PAYMENT = {"amount": 48_100_000, "reference": "12540040704"}


def _finish(case: Case, people: dict[str, Any]) -> Case:
    case = step(case, "submit_application", APPLICATION, people["citizen"])
    case = step(case, "review_application", {"decision": "approve"}, people["expert"])
    waiting = services.waiting_case("payment_confirmed", case.tracking_code)
    services.deliver_message(waiting, "payment_confirmed", PAYMENT)
    db.session.commit()
    return waiting


def test_a_case_through_the_engine_is_counted_once_at_each_stage(people: dict[str, Any]) -> None:
    with freeze_time("2025-09-23 05:00:00+00:00"):  # Tuesday 1404-07-01
        case = start(people)
    assert db.session.get(CaseMetrics, case.id) is None  # not folded yet
    with freeze_time("2025-09-24 05:00:00+00:00"):  # the fold runs later: the mark keeps the time
        assert fold() == 1
    metrics = db.session.get(CaseMetrics, case.id)
    assert metrics is not None
    assert metrics.is_open
    assert metrics.waiting_citizen
    assert metrics.received_day == date(2025, 9, 23)
    with freeze_time("2025-09-25 06:00:00+00:00"):  # the citizen takes 2 days (Thursday closed)
        case = step(case, "submit_application", APPLICATION, people["citizen"])
    with freeze_time("2025-09-30 06:00:00+00:00"):  # the expert takes 4 working days (27–30)
        case = step(case, "review_application", {"decision": "approve"}, people["expert"])
    with freeze_time("2025-10-01 06:00:00+00:00"):
        waiting = services.waiting_case("payment_confirmed", case.tracking_code)
        services.deliver_message(waiting, "payment_confirmed", PAYMENT)
        db.session.commit()

    assert fold() == 1  # three steps since the last fold, one case to fold
    db.session.expire_all()
    metrics = db.session.get(CaseMetrics, case.id)
    assert metrics is not None
    assert not metrics.is_open
    assert metrics.completed_day == date(2025, 10, 1)
    # Received Tue 23 Sep; working days to Wed 1 Oct: 24, 27, 28, 29, 30 Sep, 1 Oct = 6
    # (Thu 25 and Fri 26 closed). The citizen's task covered (23, 25]: Wed 24 only.
    assert (metrics.total_days, metrics.wait_days, metrics.handling_days) == (6, 1, 5)
    assert metrics.within_deadline is True  # 15 working days on the card
    assert metrics.in_person is False

    where = queries.Slice("sample_permit", people["district"].id)
    day = date(2025, 10, 1)
    totals = queries.totals(where, date(2025, 9, 1), day)
    assert (totals["received"], totals["completed"], totals["within_deadline"]) == (1, 1, 1)
    assert totals["visits_avoided"] == 1
    assert queries.histogram(where, "handling", day, day) == {5: 1}
    steps = queries.step_histograms(where, date(2025, 9, 1), day)
    assert steps == {"submit_application": {1: 1}, "review_application": {4: 1}}
    names = {s.step: s.name for s in db.session.scalars(select(MetricStep))}
    assert names["review_application"] == "بررسی مدارک"

    # A later step of a completed case (none here) or a repeated save adds nothing twice.
    before = db.session.scalar(select(func.sum(DurationCounts.cases)))
    from app.transparency.recording import record_case_change

    record_case_change(db.session.get(Case, case.id))  # type: ignore[arg-type]
    assert db.session.scalar(select(func.sum(DurationCounts.cases))) == before


def test_a_step_that_rolls_back_leaves_the_figures_and_the_outbox_untouched(
    people: dict[str, Any],
) -> None:
    case = start(people)
    case = step(case, "submit_application", APPLICATION, people["citizen"])
    case_id = case.id
    fold()
    counts_before = db.session.scalar(select(func.count()).select_from(DailyCounts))
    durations_before = db.session.scalar(select(func.sum(DurationCounts.cases)))
    outbox_before = db.session.scalar(select(func.count()).select_from(Notification))

    returned = {"decision": "return_for_correction", "reason": "سند ناخواناست"}
    step(case, "review_application", returned, people["expert"], commit=False)
    db.session.flush()
    # Inside the transaction the step wrote its message and marked its figures…
    assert db.session.scalar(select(func.count()).select_from(Notification)) == outbox_before + 1
    assert db.session.scalar(select(func.count()).where(Case.figures_changed_at.is_not(None))) == 1
    db.session.rollback()

    # …and rolling it back removed both, while the case itself is as it was.
    assert db.session.scalar(select(func.count()).select_from(Notification)) == outbox_before
    assert db.session.scalar(select(func.count()).where(Case.figures_changed_at.is_not(None))) == 0
    assert fold() == 0
    assert db.session.scalar(select(func.sum(DurationCounts.cases))) == durations_before
    assert db.session.scalar(select(func.count()).select_from(DailyCounts)) == counts_before
    reloaded = db.session.get(Case, case_id)
    assert reloaded is not None
    assert reloaded.status == CaseStatus.ACTIVE


def test_expected_completion_comes_from_past_cases_at_the_same_step(people: dict[str, Any]) -> None:
    for _ in range(6):
        with freeze_time("2025-09-23 05:00:00+00:00"):
            case = start(people)
        with freeze_time("2025-09-24 05:00:00+00:00"):
            case = step(case, "submit_application", APPLICATION, people["citizen"])
        with freeze_time("2025-09-30 06:00:00+00:00"):
            _finish_after_review(case, people)
    fold()
    with freeze_time("2025-10-04 05:00:00+00:00"):  # Saturday
        fresh = start(people)
        fresh = step(fresh, "submit_application", APPLICATION, people["citizen"])
        estimate = expected_completion(fresh, today=date(2025, 10, 4))
    assert estimate is not None
    assert estimate.basis == "history"
    assert estimate.cases == 6
    # Past cases took 4 working days from the review's start (24 Sep) to completion (30 Sep).
    workdays = settings().workdays
    assert estimate.earliest == estimate.latest == workdays.add(date(2025, 10, 4), 4)


def _finish_after_review(case: Case, people: dict[str, Any]) -> None:
    case = step(case, "review_application", {"decision": "approve"}, people["expert"])
    waiting = services.waiting_case("payment_confirmed", case.tracking_code)
    services.deliver_message(waiting, "payment_confirmed", PAYMENT)
    db.session.commit()


def test_expected_completion_falls_back_to_the_service_card(people: dict[str, Any]) -> None:
    with freeze_time("2025-09-23 05:00:00+00:00"):
        case = start(people)
        estimate = expected_completion(case, today=date(2025, 9, 23))
    workdays = settings().workdays
    assert estimate is not None
    assert estimate.basis == "service_card"
    assert estimate.earliest == workdays.add(date(2025, 9, 23), 10)  # typical duration
    assert estimate.latest == workdays.add(date(2025, 9, 23), 15)  # legal deadline
    # Long past the legal deadline there is no honest estimate.
    assert expected_completion(case, today=date(2026, 3, 1)) is None


def test_a_card_whose_typical_duration_exceeds_the_legal_deadline_gives_an_ordered_range() -> None:
    # Permits typically take longer than the 15 working days the law allows; the range must
    # still run from the sooner date to the later one.
    workdays = Workdays(WorkCalendar(thursday_closed=True, official_holidays=False))
    card = {
        "legal_deadline": {"value": 15, "unit": "working_days"},
        "typical_duration": {"value": 30, "unit": "working_days"},
    }
    received = date(2025, 9, 20)
    estimate = _from_card(card, received, received, workdays)
    assert estimate is not None
    assert (estimate.earliest, estimate.latest) == (
        workdays.add(received, 15),
        workdays.add(received, 30),
    )


def test_working_days_and_waits_count_like_the_calendar() -> None:
    workdays = Workdays(WorkCalendar(thursday_closed=True, official_holidays=False))
    saturday = date(2025, 9, 20)
    assert workdays.between(saturday, saturday + timedelta(days=7)) == 5
    assert workdays.between(saturday + timedelta(days=7), saturday) == -5
    assert workdays.add(saturday, 5) == saturday + timedelta(days=7)
    # Overlapping waits count once; days outside (start, end] not at all.
    spans = [
        (saturday, saturday + timedelta(days=3)),
        (saturday + timedelta(days=2), saturday + timedelta(days=4)),
    ]
    assert (
        covered_days(spans, saturday + timedelta(days=1), saturday + timedelta(days=9), workdays)
        == 3
    )
    facts = case_facts(
        saturday,
        saturday + timedelta(days=9),
        [
            Span("APPLICANT", "fix", saturday, saturday + timedelta(days=2), True),
            Span("COUNTER", "in", saturday, saturday, True),
        ],
        citizen_lanes=frozenset({"APPLICANT"}),
        in_person_lanes=frozenset({"COUNTER"}),
        deadline=None,
        workdays=workdays,
    )
    assert (facts.total_days, facts.wait_days, facts.handling_days) == (7, 2, 5)
    assert facts.in_person
    assert facts.within_deadline is None


def test_percentiles_are_nearest_rank() -> None:
    assert percentile({}, 50) is None
    assert percentile({3: 1}, 90) == 3
    assert percentile({1: 1, 2: 1, 3: 1, 4: 1}, 50) == 2
    assert percentile({1: 9, 10: 1}, 90) == 1
    assert percentile({1: 8, 10: 2}, 90) == 10


def test_rebuilding_from_the_cases_gives_the_same_figures(people: dict[str, Any]) -> None:
    from app.transparency.models import MonthlyDurations
    from app.transparency.recording import rebuild

    _finish(start(people), people)
    start(people)  # and one still open
    fold()

    def snapshot() -> tuple[set[tuple[Any, ...]], ...]:
        # received_at differs by the moments between opening a case and its first save.
        return tuple(
            {
                tuple(repr(v) for v in row)
                for row in db.session.execute(
                    select(*(c for c in model.__table__.columns if c.name != "received_at"))
                )
            }
            for model in (DailyCounts, DurationCounts, MonthlyDurations, CaseMetrics)
        )

    before = snapshot()
    assert all(before)
    assert rebuild() == 2
    db.session.commit()
    assert snapshot() == before


def test_a_fold_that_dies_before_its_commit_counts_nothing_and_leaves_the_marks(
    people: dict[str, Any],
) -> None:
    from app.transparency.recording import fold_changes, pending_since

    with freeze_time("2025-09-23 05:00:00+00:00"):
        case = start(people)
        case = step(case, "submit_application", APPLICATION, people["citizen"])
    assert pending_since() is not None
    assert pending_since().isoformat() == "2025-09-23T05:00:00+00:00"  # type: ignore[union-attr]

    assert fold_changes() == 1
    assert db.session.scalar(select(func.sum(DurationCounts.cases))) > 0
    db.session.rollback()  # the worker died between the fold and its commit
    assert db.session.scalar(select(func.sum(DurationCounts.cases))) is None
    assert db.session.get(CaseMetrics, case.id) is None
    assert db.session.scalar(select(func.count()).where(Case.figures_changed_at.is_not(None))) == 1

    assert fold() == 1
    counted = db.session.scalar(select(func.sum(DurationCounts.cases)))
    assert counted > 0
    assert pending_since() is None
    # Marked again without news (a retried save), folded again: nothing counts twice.
    from app.transparency.recording import mark_case_changed

    mark_case_changed(db.session.get(Case, case.id))  # type: ignore[arg-type]
    db.session.commit()
    assert fold() == 1
    assert db.session.scalar(select(func.sum(DurationCounts.cases))) == counted
