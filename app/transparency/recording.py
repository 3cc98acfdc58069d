"""Keep the figures up to date: a mark per changed case, folded into the rollups in batches.

Every engine step calls `mark_case_changed`, which only sets `cases.figures_changed_at` in
the step's own UPDATE of the case (no statement of its own, so a completion is not slowed
by the rollups). `fold_changes`, run by Celery beat or
`flask transparency fold`, compares each marked case with its metrics row and adds what
changed (a new case, finished steps, a completion) to the rollups with one upsert per table
for the whole batch, and clears the marks in the same transaction. The figures are thus
eventually consistent, never double-counted; `pending_since` says how far they lag.
`Rollup` is also what the benchmark uses to bulk-load the same sums.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from app.cases.models import Case, CaseStatus, CaseTask, TaskState
from app.db import db
from app.transparency.metrics import (
    CaseFacts,
    Span,
    Workdays,
    as_utc,
    case_facts,
    deadline_of,
    jalali_month,
)
from app.transparency.models import (
    ALL_DISTRICTS,
    ALL_SERVICES,
    CaseMetrics,
    DailyCounts,
    DurationCounts,
    MetricStep,
    MonthlyDurations,
)

COUNT_FIELDS = (
    "received",
    "completed",
    "with_deadline",
    "within_deadline",
    "visits_avoided",
    "rating_count",
    "rating_sum",
)


def slices(
    process_key: str, district_id: int | None, *, all_services: bool = True
) -> Iterator[tuple[str, int]]:
    """The (service, district) slices a case's figures are added to."""
    services = (process_key, ALL_SERVICES) if all_services else (process_key,)
    districts = (district_id, ALL_DISTRICTS) if district_id else (ALL_DISTRICTS,)
    for service in services:
        for district in districts:
            yield service, district


@dataclass
class Rollup:
    """Increments to the rollup tables, summed in memory and then written at once."""

    counts: dict[tuple[str, int, date], Counter[str]] = field(default_factory=dict)
    durations: Counter[tuple[str, int, str, str, date, int]] = field(default_factory=Counter)

    def count(self, process_key: str, district_id: int | None, day: date, **fields: int) -> None:
        """Add to the day's counters in every slice of the case."""
        for service, district in slices(process_key, district_id):
            self.counts.setdefault((service, district, day), Counter()).update(fields)

    def duration(
        self,
        process_key: str,
        district_id: int | None,
        measure: str,
        step: str,
        day: date,
        days: int,
        *,
        all_services: bool = True,
    ) -> None:
        """Count one case (or step) that took `days` working days, in each slice."""
        for service, district in slices(process_key, district_id, all_services=all_services):
            self.durations[(service, district, measure, step, day, days)] += 1

    def received(self, process_key: str, district_id: int | None, day: date) -> None:
        """A new case arrived."""
        self.count(process_key, district_id, day, received=1)

    def step_done(
        self, process_key: str, district_id: int | None, span: Span, workdays: Workdays
    ) -> None:
        """A person finished a step."""
        if span.end is None:
            return  # still open: it counts when it ends
        days = workdays.between(span.start, span.end)
        self.duration(
            process_key, district_id, "step", span.step, span.end, days, all_services=False
        )

    def completed(
        self,
        process_key: str,
        district_id: int | None,
        completed: date,
        facts: CaseFacts,
        spans: Sequence[Span],
        workdays: Workdays,
    ) -> None:
        """A case was completed: its counters, whole-case durations and remaining times."""
        self.count(
            process_key,
            district_id,
            completed,
            completed=1,
            with_deadline=int(facts.within_deadline is not None),
            within_deadline=int(bool(facts.within_deadline)),
            visits_avoided=int(not facts.in_person),
        )
        for measure, days in (
            ("handling", facts.handling_days),
            ("wait", facts.wait_days),
            ("total", facts.total_days),
        ):
            self.duration(process_key, district_id, measure, "", completed, days)
        # How long cases took from each step to the end: the base of expected completion dates.
        for span in spans:
            remaining = workdays.between(span.start, completed)
            self.duration(
                process_key, None, "remaining", span.step, completed, remaining, all_services=False
            )

    def rated(self, process_key: str, district_id: int | None, day: date, rating: int) -> None:
        """A citizen rated a service."""
        self.count(process_key, district_id, day, rating_count=1, rating_sum=rating)

    def count_rows(self) -> list[dict[str, Any]]:
        """The count increments as rows of metric_daily_counts."""
        return [
            {
                "process_key": service,
                "district_id": district,
                "day": day,
                "month": jalali_month(day),
                **{name: fields.get(name, 0) for name in COUNT_FIELDS},
            }
            for (service, district, day), fields in self.counts.items()
        ]

    def monthly_rows(self) -> list[dict[str, Any]]:
        """The duration increments summed per Jalali month, as rows of metric_durations_monthly."""
        months: Counter[tuple[str, int, str, str, int, int]] = Counter()
        for (service, district, measure, step, day, days), cases in self.durations.items():
            months[(service, district, measure, step, jalali_month(day), days)] += cases
        return [
            {
                "process_key": service,
                "district_id": district,
                "measure": measure,
                "step": step,
                "month": month,
                "days": days,
                "cases": cases,
            }
            for (service, district, measure, step, month, days), cases in months.items()
        ]

    def duration_rows(self) -> list[dict[str, Any]]:
        """The duration increments as rows of metric_durations."""
        return [
            {
                "process_key": service,
                "district_id": district,
                "measure": measure,
                "step": step,
                "day": day,
                "days": days,
                "month": jalali_month(day),
                "cases": cases,
            }
            for (service, district, measure, step, day, days), cases in self.durations.items()
        ]


def _upsert(table: Table, rows: list[dict[str, Any]], added: Sequence[str]) -> None:
    if not rows:
        return
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=[column.name for column in table.primary_key.columns],
        set_={name: table.c[name] + statement.excluded[name] for name in added},
    )
    db.session.execute(statement)


def apply(rollup: Rollup) -> None:
    """Add the increments to the rollup tables (one upsert per table; the caller commits)."""
    _upsert(DailyCounts.__table__, rollup.count_rows(), COUNT_FIELDS)  # type: ignore[arg-type]
    _upsert(DurationCounts.__table__, rollup.duration_rows(), ("cases",))  # type: ignore[arg-type]
    _upsert(MonthlyDurations.__table__, rollup.monthly_rows(), ("cases",))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Settings:
    """The calendar and lanes the figures depend on."""

    workdays: Workdays
    citizen_lanes: frozenset[str]
    in_person_lanes: frozenset[str]


def settings() -> Settings:
    """The app's figure settings: working calendar from the engine runtime, lanes from config."""
    from app.cases.workflow import citizen_lanes, runtime

    calendar = runtime().calendar
    cached = current_app.extensions.get("parvaneh.workdays")
    if cached is None or cached.calendar is not calendar:
        cached = Workdays(calendar)
        current_app.extensions["parvaneh.workdays"] = cached
    lanes = current_app.config.get("TRANSPARENCY_IN_PERSON_LANES", "COUNTER")
    return Settings(
        workdays=cached,
        citizen_lanes=citizen_lanes(),
        in_person_lanes=frozenset(lane.strip() for lane in lanes.split(",") if lane.strip()),
    )


def span_of(task: CaseTask, workdays: Workdays) -> Span:
    """A task row as the figures see it."""
    end = workdays.local_day(task.completed_at) if task.completed_at is not None else None
    return Span(
        lane=task.lane,
        step=task.element_id,
        start=workdays.local_day(task.created_at),
        end=end,
        completed=task.state == TaskState.COMPLETED,
    )


def mark_case_changed(case: Case, now: datetime | None = None) -> None:
    """Note that the case's figures need folding: part of the step's own UPDATE of the case.

    The first mark wins (COALESCE in SQL, so a stale copy of the case cannot lose it): its
    time is when the oldest unfolded change happened and, for a new case, when it was
    received. Rolling the step back removes the mark with it.
    """
    from app.cases.workflow import utc_now

    case.figures_changed_at = func.coalesce(Case.figures_changed_at, now or utc_now())


def fold_changes(limit: int = 100) -> int:
    """Fold up to `limit` marked cases into the rollups and unmark them; returns how many.

    Adds and flushes only: the caller commits once per call, so the rollups, the cases'
    metrics rows and the clearing of their marks commit together — a crash in between leaves
    the marks for the next run and nothing counted twice. Each case row is locked (FOR NO
    KEY UPDATE, skipping rows another transaction holds): every engine step locks its case
    first, so a case cannot change between reading it here and clearing its mark. The case's
    version is left alone: a form the user has open stays valid.
    """
    marked = db.session.execute(
        select(Case.id, Case.figures_changed_at)
        .where(Case.figures_changed_at.is_not(None))
        .order_by(Case.figures_changed_at, Case.id)
        .limit(limit)
        .with_for_update(skip_locked=True, key_share=True)
    ).all()
    if not marked:
        return 0
    first_at: dict[int, datetime] = {case_id: moment for case_id, moment in marked}
    config = settings()
    rollup, steps = Rollup(), StepNames()
    # Load the metrics rows in one query: `_collect` then finds them in the session.
    db.session.scalars(select(CaseMetrics).where(CaseMetrics.case_id.in_(first_at))).all()
    cases = db.session.scalars(
        select(Case)
        .where(Case.id.in_(first_at))
        .options(selectinload(Case.tasks))
        .execution_options(populate_existing=True)
    )
    for case in cases.unique():
        _collect(case, rollup, steps, config, as_utc(first_at[case.id]))
    apply(rollup)
    steps.apply()
    db.session.execute(
        update(Case.__table__)
        .where(Case.__table__.c.id.in_(first_at))
        .values(figures_changed_at=None, updated_at=Case.__table__.c.updated_at),
        execution_options={"synchronize_session": False},
    )
    db.session.flush()
    for case_id in first_at:
        # The session's copies still show the mark: forget it so nothing writes it back.
        folded = db.session.get(Case, case_id)
        if folded is not None:
            db.session.expire(folded, ["figures_changed_at"])
    return len(marked)


def pending_since() -> datetime | None:
    """When the oldest change not yet in the figures happened; None when they are complete."""
    oldest = db.session.scalar(select(func.min(Case.figures_changed_at)))
    return as_utc(oldest) if oldest is not None else None


def record_case_change(case: Case, now: datetime | None = None) -> None:
    """Bring the case's metrics row and the rollups up to date at once (fold, rebuild, tests)."""
    rollup, steps = Rollup(), StepNames()
    _collect(case, rollup, steps, settings(), now)
    apply(rollup)
    steps.apply()


def _collect(
    case: Case, rollup: Rollup, steps: StepNames, config: Settings, now: datetime | None
) -> None:
    # Compare the case with its metrics row and add what is new to the rollup.
    workdays = config.workdays
    metrics = db.session.get(CaseMetrics, case.id)
    if metrics is None:
        from app.cases.workflow import utc_now

        moment = now or utc_now()
        if case.created_at is not None:
            # A case older than the figures (or rebuilt) counts from when it was really opened.
            moment = min(moment, as_utc(case.created_at))
        metrics = CaseMetrics(
            case_id=case.id,
            process_key=case.process_key,
            district_id=case.district_id,
            received_at=moment,
            received_day=workdays.local_day(moment),
            is_open=True,
            counted_tasks=[],
        )
        db.session.add(metrics)
        rollup.received(case.process_key, case.district_id, metrics.received_day)
    metrics.waiting_citizen = case.status == CaseStatus.WAITING_CITIZEN
    counted = set(metrics.counted_tasks or [])
    for task in case.tasks:
        if task.state == TaskState.COMPLETED and task.id is not None and task.id not in counted:
            span = span_of(task, workdays)
            rollup.step_done(case.process_key, case.district_id, span, workdays)
            steps.name(case.process_key, task)
            counted.add(task.id)
    if counted != set(metrics.counted_tasks or []):
        metrics.counted_tasks = sorted(counted)  # reassigned: in-place JSON edits go unseen
    if case.completed_at is not None and metrics.completed_day is None:
        _record_completion(case, metrics, rollup, config)


def _record_completion(case: Case, metrics: CaseMetrics, rollup: Rollup, config: Settings) -> None:
    workdays = config.workdays
    if case.completed_at is None:
        return
    completed = workdays.local_day(case.completed_at)
    spans = [span_of(task, workdays) for task in case.tasks if task.completed_at is not None]
    facts = case_facts(
        metrics.received_day,
        completed,
        spans,
        citizen_lanes=config.citizen_lanes,
        in_person_lanes=config.in_person_lanes,
        deadline=deadline_of(case.process_version.card),
        workdays=workdays,
    )
    metrics.completed_day = completed
    metrics.is_open = False
    metrics.waiting_citizen = False
    metrics.total_days = facts.total_days
    metrics.wait_days = facts.wait_days
    metrics.handling_days = facts.handling_days
    metrics.within_deadline = facts.within_deadline
    metrics.in_person = facts.in_person
    rollup.completed(case.process_key, case.district_id, completed, facts, spans, workdays)


@dataclass
class StepNames:
    """The names and lanes of the steps counted in a fold, written with one upsert."""

    rows: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)

    def name(self, process_key: str, task: CaseTask) -> None:
        self.rows[(process_key, task.element_id)] = {
            "process_key": process_key,
            "step": task.element_id,
            "name": task.name,
            "lane": task.lane,
        }

    def apply(self) -> None:
        if not self.rows:
            return
        dialect = db.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(MetricStep.__table__).values(list(self.rows.values()))
        db.session.execute(
            statement.on_conflict_do_update(
                index_elements=["process_key", "step"],
                set_={"name": statement.excluded.name, "lane": statement.excluded.lane},
            )
        )


def rebuild() -> int:
    """Recompute every figure from the cases, their tasks and the ratings; returns the cases.

    For a database that had cases before the figures existed, or to repair drift. Adds and
    flushes only: the CLI commits once, so readers see the old figures or the new, never half.
    """
    from app.transparency.models import ServiceRating

    # Everything is recounted from the cases: no mark is left to fold.
    for model in (DurationCounts, MonthlyDurations, DailyCounts, CaseMetrics):
        db.session.execute(delete(model))
    db.session.execute(
        update(Case.__table__)
        .where(Case.__table__.c.figures_changed_at.is_not(None))
        .values(figures_changed_at=None, updated_at=Case.__table__.c.updated_at)
    )
    count = 0
    for case in db.session.scalars(select(Case).order_by(Case.id)).unique():
        record_case_change(case)
        count += 1
        if count % 500 == 0:
            db.session.flush()
            db.session.expire_all()  # keep memory flat on large databases
    workdays = settings().workdays
    rollup = Rollup()
    for rating, district_id in db.session.execute(
        select(ServiceRating, Case.district_id).join(Case, Case.id == ServiceRating.case_id)
    ):
        rollup.rated(
            rating.process_key, district_id, workdays.local_day(rating.created_at), rating.rating
        )
    apply(rollup)
    db.session.flush()
    return count
