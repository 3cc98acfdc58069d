"""The rollups equal a brute-force recount of randomly generated case histories.

Each example builds cases with tasks in several lanes, in two services and districts (and
none), received, stepped and completed at random moments; every change is marked with
`mark_case_changed`, as the engine's save does, and the marks are folded into the rollups at
random points — some folds rolled back as a crash would (nothing may count twice or go
missing) — and once more before comparing. Then every slice, period and Jalali month
the dashboard can ask for is recounted day by day from the raw histories, independently of
the Workdays index, the rollups and the histograms.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import jdatetime
import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from app.accounts.services import ensure_district
from app.cases.models import Case, CaseStatus, CaseTask, TaskState
from app.db import db
from app.processes.models import ProcessVersion
from app.transparency import queries
from app.transparency.metrics import percentile
from app.transparency.models import (
    ALL_DISTRICTS,
    ALL_SERVICES,
    CaseMetrics,
    DailyCounts,
    DurationCounts,
    MetricStep,
    MonthlyDurations,
)
from app.transparency.queries import Slice
from app.transparency.recording import fold_changes, mark_case_changed
from app.transparency.recording import settings as figure_settings

TEHRAN = ZoneInfo("Asia/Tehran")
BASE = datetime(2025, 9, 10, tzinfo=UTC)  # 1404-06-19: histories cross into Mehr and Aban
TODAY = date(2025, 11, 25)
LANES = ("APPLICANT", "URB_EXPERT", "URB_HEAD", "COUNTER")
DEADLINE = {"svc_a": 6, "svc_b": 12}


@dataclass
class TaskPlan:
    lane: str
    step: str
    start: int  # minutes after the case was received
    length: int  # minutes the task stayed open
    done: bool  # completed by a person (else withdrawn)


@dataclass
class CasePlan:
    service: str
    district: int  # 0, 1 or 2: none, first, second
    received: int  # minutes after BASE
    tasks: list[TaskPlan]
    completes_after: int | None  # minutes after the last task ends; None: still open


MINUTES = 24 * 60
tasks = st.builds(
    TaskPlan,
    lane=st.sampled_from(LANES),
    step=st.sampled_from(("intake", "review", "fix", "approve")),
    start=st.integers(0, 20 * MINUTES),
    length=st.integers(0, 15 * MINUTES),
    done=st.booleans(),
)
cases = st.builds(
    CasePlan,
    service=st.sampled_from(("svc_a", "svc_b")),
    district=st.integers(0, 2),
    received=st.integers(0, 70 * MINUTES),
    tasks=st.lists(tasks, max_size=4),
    completes_after=st.one_of(st.none(), st.integers(0, 10 * MINUTES)),
)


def _local(moment: datetime) -> date:
    return moment.astimezone(TEHRAN).date()


def _working_days(start: date, end: date, working) -> set[date]:  # type: ignore[no-untyped-def]
    """The working days d with start < d <= end, one by one."""
    return {
        start + timedelta(days=i)
        for i in range(1, (end - start).days + 1)
        if working(start + timedelta(days=i))
    }


@dataclass
class Truth:
    service: str
    district_id: int | None
    received: date
    completed: date | None
    handling: int | None
    wait: int | None
    within: bool | None
    in_person: bool
    steps: list[tuple[str, date, int]]  # (step, end day, working days) of completed tasks


def _brute_force(plan: CasePlan, district_ids: list[int | None], working) -> Truth:  # type: ignore[no-untyped-def]
    received_at = BASE + timedelta(minutes=plan.received)
    received = _local(received_at)
    spans = []
    steps = []
    for task in plan.tasks:
        start = _local(received_at + timedelta(minutes=task.start))
        end = _local(received_at + timedelta(minutes=task.start + task.length))
        spans.append((task.lane, start, end))
        if task.done:
            steps.append((task.step, end, len(_working_days(start, end, working))))
    completed = handling = wait = within = None
    if plan.completes_after is not None:
        last = max([t.start + t.length for t in plan.tasks], default=0)
        completed = _local(received_at + timedelta(minutes=last + plan.completes_after))
        days = _working_days(received, completed, working)
        waiting = set()
        for lane, start, end in spans:
            if lane == "APPLICANT":
                waiting |= _working_days(start, end, working) & days
        wait = len(waiting)
        handling = len(days) - wait
        within = handling <= DEADLINE[plan.service]
    return Truth(
        service=plan.service,
        district_id=district_ids[plan.district],
        received=received,
        completed=completed,
        handling=handling,
        wait=wait,
        within=within,
        in_person=any(t.lane == "COUNTER" for t in plan.tasks),
        steps=steps,
    )


#: What happens after a change: nothing, a fold that commits, or a fold that crashes.
FOLDS = ("wait", "fold", "crash")


class Changes:
    """Marks each change as the engine's save does, and folds (or crashes) as planned."""

    def __init__(self, plan: list[str]) -> None:
        self.plan = itertools.cycle(plan)

    def __call__(self, case: Case, now: datetime) -> None:
        db.session.flush()
        mark_case_changed(case, now=now)
        action = next(self.plan)
        if action == "wait":
            return
        savepoint = db.session.begin_nested()
        fold_changes(limit=3)
        if action == "crash":
            savepoint.rollback()  # died before its commit: the marks stay, nothing counted
        else:
            savepoint.commit()


def _replay(
    plan: CasePlan,
    versions: dict[str, ProcessVersion],
    district_ids: list[int | None],
    n: int,
    change: Changes,
) -> None:
    """Play one history through the recording hook, change by change, as the engine would."""
    received_at = BASE + timedelta(minutes=plan.received)
    case = Case(
        tracking_code=f"{n:012d}",
        process_key=plan.service,
        process_version=versions[plan.service],
        status=CaseStatus.ACTIVE,
        district_id=district_ids[plan.district],
        workflow_state=b"",
        serializer_version="",
        created_at=received_at,
    )
    db.session.add(case)
    change(case, received_at)
    events: list[tuple[int, str, int]] = []
    for index, task in enumerate(plan.tasks):
        events.append((task.start, "open", index))
        events.append((task.start + task.length, "close", index))
    rows: dict[int, CaseTask] = {}
    for minute, kind, index in sorted(events, key=lambda e: (e[0], e[1] == "close")):
        task = plan.tasks[index]
        at = received_at + timedelta(minutes=minute)
        if kind == "open":
            rows[index] = CaseTask(
                engine_task_id=f"{n}-{index}",
                element_id=task.step,
                name=task.step.title(),
                lane=task.lane,
                state=TaskState.OPEN,
                created_at=at,
            )
            case.tasks.append(rows[index])
        else:
            rows[index].state = TaskState.COMPLETED if task.done else TaskState.CANCELLED
            rows[index].completed_at = at
        case.status = (
            CaseStatus.WAITING_CITIZEN
            if any(r.state == TaskState.OPEN and r.lane == "APPLICANT" for r in rows.values())
            else CaseStatus.ACTIVE
        )
        change(case, at)
    if plan.completes_after is not None:
        last = max([t.start + t.length for t in plan.tasks], default=0)
        case.completed_at = received_at + timedelta(minutes=last + plan.completes_after)
        case.status = CaseStatus.COMPLETED
        change(case, case.completed_at)


@pytest.fixture
def world(app: Flask) -> tuple[dict[str, ProcessVersion], list[int | None]]:
    versions = {}
    for number, key in enumerate(("svc_a", "svc_b"), start=1):
        version = ProcessVersion(
            process_key=key,
            number=1,
            content_hash=f"{number:064d}",
            files={},
            forms={},
            card={"legal_deadline": {"value": DEADLINE[key], "unit": "working_days"}},
        )
        db.session.add(version)
        versions[key] = version
    first = ensure_district("31", "منطقه ۳۱", "District 31")
    second = ensure_district("32", "منطقه ۳۲", "District 32")
    db.session.flush()
    return versions, [None, first.id, second.id]


def _reset() -> None:
    for model in (
        DurationCounts,
        MonthlyDurations,
        DailyCounts,
        MetricStep,
        CaseMetrics,
        CaseTask,
        Case,
    ):
        db.session.execute(delete(model))


def _in(truth: Truth, where: Slice) -> bool:
    service_ok = where.process_key in (ALL_SERVICES, truth.service)
    district_ok = where.district_id == ALL_DISTRICTS or where.district_id == truth.district_id
    return service_ok and district_ok


def _jalali_month(day: date) -> int:
    j = jdatetime.date.fromgregorian(date=day)
    return j.year * 100 + j.month


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    plans=st.lists(cases, min_size=1, max_size=12),
    window=st.tuples(st.integers(0, 90), st.integers(0, 90)),
    folds=st.lists(st.sampled_from(FOLDS), min_size=1, max_size=6),
)
def test_rollups_equal_a_brute_force_recount(
    world: tuple[dict[str, ProcessVersion], list[int | None]],
    plans: list[CasePlan],
    window: tuple[int, int],
    folds: list[str],
) -> None:
    versions, district_ids = world
    _reset()
    change = Changes(folds)
    for n, plan in enumerate(plans):
        _replay(plan, versions, district_ids, n, change)
    while fold_changes():  # the background fold catches up before anyone reads
        pass
    db.session.flush()
    figures = figure_settings()
    working = figures.workdays.calendar.is_working_day
    truths = [_brute_force(plan, district_ids, working) for plan in plans]
    first = BASE.date() + timedelta(days=min(window))
    last = BASE.date() + timedelta(days=max(window))
    months = sorted({_jalali_month(BASE.date() + timedelta(days=i)) for i in range(100)})

    everything = (BASE.date() - timedelta(days=1), BASE.date() + timedelta(days=130))
    slices = [
        Slice(s, d)
        for s in (ALL_SERVICES, "svc_a", "svc_b")
        for d in (ALL_DISTRICTS, *district_ids[1:])
    ]
    for where, (start, end) in [(w, p) for w in slices for p in ((first, last), everything)]:
        mine = [t for t in truths if _in(t, where)]
        done = [t for t in mine if t.completed is not None and start <= t.completed <= end]
        totals = queries.totals(where, start, end)
        assert totals["received"] == sum(start <= t.received <= end for t in mine)
        assert totals["completed"] == len(done)
        assert totals["within_deadline"] == sum(bool(t.within) for t in done)
        assert totals["visits_avoided"] == sum(not t.in_person for t in done)
        handling = queries.histogram(where, "handling", start, end)
        assert handling == dict(Counter(t.handling for t in done))
        assert queries.histogram(where, "wait", start, end) == dict(Counter(t.wait for t in done))
        expected = sorted(t.handling for t in done)  # type: ignore[type-var]
        if expected:
            # Nearest rank: the ceil(n/2)-th and ceil(0.9 n)-th smallest.
            assert percentile(handling, 50) == expected[(len(expected) + 1) // 2 - 1]
            assert percentile(handling, 90) == expected[-(-9 * len(expected) // 10) - 1]

        monthly = queries.monthly_totals(where, months)
        for month in months:
            received = sum(_jalali_month(t.received) == month for t in mine)
            completed = sum(
                t.completed is not None and _jalali_month(t.completed) == month for t in mine
            )
            got = monthly.get(month, {"received": 0, "completed": 0})
            assert (got["received"], got["completed"]) == (received, completed)

        backlog = queries.backlog(where, TODAY, figures.workdays)
        open_cases = [t for t in mine if t.completed is None]
        assert backlog.open == len(open_cases)
        ages = [len(_working_days(t.received, TODAY, working)) for t in open_cases]
        edges = [0, *queries.BACKLOG_EDGES, 10**6]
        assert list(backlog.bands) == [
            sum(low <= age < high for age in ages) for low, high in itertools.pairwise(edges)
        ]

        if where.process_key != ALL_SERVICES:
            steps: dict[str, Counter[int]] = {}
            for truth in mine:
                for step, finished, days in truth.steps:
                    if start <= finished <= end:
                        steps.setdefault(step, Counter())[days] += 1
            assert queries.step_histograms(where, start, end) == {
                k: dict(v) for k, v in steps.items()
            }
