"""Transparency use cases: expected completion dates and citizens' ratings of a service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.accounts.models import User
from app.cases.models import Case, CaseStatus, TaskState
from app.db import db
from app.transparency import queries
from app.transparency.metrics import MIN_CASES, Workdays, as_utc, percentile
from app.transparency.models import ALL_DISTRICTS, CaseMetrics, ServiceRating
from app.transparency.recording import Rollup, apply, settings

#: Expected dates rest on cases completed within this many days.
HISTORY_DAYS = 365
#: The range shown: from this percentile of past cases to that one.
RANGE_PERCENTILES = (25, 75)
#: The longest comment a rating keeps.
COMMENT_MAX = 2000


@dataclass(frozen=True)
class ExpectedCompletion:
    """When an open case will probably be completed: a range of dates, and what it rests on."""

    earliest: date
    latest: date
    basis: str  # "history": past cases of the service; "service_card": its stated durations
    cases: int  # how many past cases the range rests on (0 for the service card)


def expected_range(
    process_key: str, measure: str, step: str, elapsed: int, today: date, workdays: Workdays
) -> ExpectedCompletion | None:
    """The p25–p75 range of past cases that had already taken `elapsed` working days.

    Conditioning on the time already spent keeps a long-running case from being promised a
    date in the past. None when fewer than MIN_CASES past cases qualify.
    """
    first, last = history_window(today)
    past = queries.histogram(queries.Slice(process_key, ALL_DISTRICTS), measure, first, last, step)
    return range_from(past, elapsed, today, workdays)


def history_window(today: date) -> tuple[date, date]:
    """The days whose completed cases expected dates rest on."""
    return today - timedelta(days=HISTORY_DAYS), today


def range_from(
    past: dict[int, int], elapsed: int, today: date, workdays: Workdays
) -> ExpectedCompletion | None:
    """The expected range from a histogram of past durations, given the days already spent."""
    remaining = {days - elapsed: n for days, n in past.items() if days >= elapsed}
    count = sum(remaining.values())
    if count < MIN_CASES:
        return None
    low, high = (percentile(remaining, p) or 0 for p in RANGE_PERCENTILES)
    return ExpectedCompletion(workdays.add(today, low), workdays.add(today, high), "history", count)


def expected_completion(
    case: Case, today: date | None = None, tasks: Sequence[Any] | None = None
) -> ExpectedCompletion | None:
    """The expected completion range of an open case, from the past durations of its remaining steps.

    It looks at past cases of the same service from the step the case is at now (its
    oldest open task) to their completion; failing that, from receipt to completion; and
    failing both (a new service), the typical and legal durations of its service card.
    None for a completed case, or when even the legal deadline has passed. `tasks` are the
    case's tasks when the caller has read them already (entities or rows with their columns).
    """
    if case.completed_at is not None or case.status == CaseStatus.COMPLETED:
        return None
    workdays = settings().workdays
    today = today or workdays.local_day(datetime.now(UTC))
    received = _received_day(case, workdays)
    estimate = None
    open_tasks = [
        task for task in (case.tasks if tasks is None else tasks) if task.state == TaskState.OPEN
    ]
    if open_tasks:
        task = min(open_tasks, key=lambda t: workdays.local_day(t.created_at))
        elapsed = workdays.between(workdays.local_day(task.created_at), today)
        estimate = expected_range(
            case.process_key, "remaining", task.element_id, max(elapsed, 0), today, workdays
        )
    if estimate is None:
        elapsed = max(workdays.between(received, today), 0)
        estimate = expected_range(case.process_key, "total", "", elapsed, today, workdays)
    return estimate or _from_card(case.process_version.card, received, today, workdays)


def _received_day(case: Case, workdays: Workdays) -> date:
    # The folded figures know; a case not folded yet was received at its first mark.
    metrics = db.session.get(CaseMetrics, case.id)
    if metrics is not None:
        return metrics.received_day
    moment = as_utc(case.created_at)
    marked = case.figures_changed_at
    if isinstance(marked, datetime):  # (an unflushed mark is still an SQL expression)
        moment = min(moment, as_utc(marked))
    return workdays.local_day(moment)


def _from_card(
    card: dict[str, Any], received: date, today: date, workdays: Workdays
) -> ExpectedCompletion | None:
    typical, legal = card.get("typical_duration") or {}, card.get("legal_deadline") or {}
    if typical.get("unit") != "working_days" or legal.get("unit") != "working_days":
        return None
    # Usually the typical duration is within the legal deadline, but a card may say (truthfully)
    # that the service typically takes longer: the range runs from the sooner to the later.
    typical_day = workdays.add(received, int(typical["value"]))
    legal_day = workdays.add(received, int(legal["value"]))
    earliest, latest = sorted((typical_day, legal_day))
    if latest < today:
        return None
    return ExpectedCompletion(max(earliest, today), latest, "service_card", 0)


class NotRateable(Exception):
    """Only the applicant of a completed case may rate its service."""


class AlreadyRated(Exception):
    """The case's service was rated already."""


def rateable_case(tracking_code: str, citizen: User) -> Case:
    """The citizen's own completed case with this tracking code.

    :raises NotRateable: for someone else's case, an open case or an unknown code.
    """
    case = db.session.scalar(select(Case).where(Case.tracking_code == tracking_code))
    if case is None or case.applicant_id != citizen.id or case.completed_at is None:
        raise NotRateable(tracking_code)
    return case


def rating_of(case: Case) -> ServiceRating | None:
    """The rating given to a case's service, if any."""
    return db.session.scalar(select(ServiceRating).where(ServiceRating.case_id == case.id))


def rate_service(
    case: Case, citizen: User, rating: int, comment: str, now: datetime | None = None
) -> ServiceRating:
    """Record the citizen's rating (1–5, validated by the caller) and add it to the figures.

    :raises NotRateable: when the case is not the citizen's own completed case.
    :raises AlreadyRated: when the service of this case was rated before.
    """
    if case.applicant_id != citizen.id or case.completed_at is None:
        raise NotRateable(case.tracking_code)
    if rating_of(case) is not None:
        raise AlreadyRated(case.tracking_code)
    moment = now or datetime.now(UTC)
    entry = ServiceRating(
        case_id=case.id,
        process_key=case.process_key,
        rating=rating,
        comment=comment[:COMMENT_MAX],
        created_at=moment,
    )
    db.session.add(entry)
    rollup = Rollup()
    rollup.rated(case.process_key, case.district_id, settings().workdays.local_day(moment), rating)
    apply(rollup)
    db.session.flush()
    return entry


def rating_prompts(citizen: User, limit: int = 5) -> list[Case]:
    """The citizen's completed cases whose service they have not rated yet."""
    rated = select(ServiceRating.case_id)
    return list(
        db.session.scalars(
            select(Case)
            .where(
                Case.applicant_id == citizen.id,
                Case.completed_at.is_not(None),
                Case.id.not_in(rated),
            )
            .order_by(Case.completed_at.desc())
            .limit(limit)
        )
    )


def open_cases(citizen: User, limit: int = 10) -> list[Case]:
    """The citizen's open cases, newest first."""
    return list(
        db.session.scalars(
            select(Case)
            .where(Case.applicant_id == citizen.id, Case.completed_at.is_(None))
            .order_by(Case.id.desc())
            .limit(limit)
        )
    )
