"""Read helpers for the inbox: a constant number of statements per page, whatever the rows.

The inbox reads only the mirrored task rows (`case_tasks`) joined to their cases; it never
loads a workflow. One statement counts both tabs, one fetches the page's rows, one names the
services; the steps come from the compiled processes (cached), the districts from the user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import aliased

from app.accounts.models import User
from app.cases import workflow as bridge
from app.cases.models import Case, CaseTask, TaskState
from app.db import db
from app.i18n import localized
from app.persian.identifiers import check_national_code, check_tracking_code
from app.persian.property import check_renewal_code
from app.persian.text import normalize_identifier
from app.processes.models import ProcessVersion

PAGE_SIZE = 25
TABS = ("mine", "unassigned")
DUE_FILTERS = ("overdue", "today", "week")


@dataclass(frozen=True)
class InboxFilter:
    """What the reviewer asked the inbox for (already parsed from the query string)."""

    tab: str = "unassigned"
    service: str = ""
    step: str = ""
    district: int | None = None
    due: str = ""
    q: str = ""
    page: int = 1

    def args(self, **changes: Any) -> dict[str, Any]:
        """The query-string arguments for this filter with some changed (links, pagination)."""
        values = {
            "tab": self.tab,
            "service": self.service,
            "step": self.step,
            "district": self.district,
            "due": self.due,
            "q": self.q,
            "page": self.page,
            **changes,
        }
        return {k: v for k, v in values.items() if v not in ("", None, 1) or k == "tab"}


@dataclass(frozen=True)
class InboxRow:
    """One task in the inbox list."""

    task_id: int
    engine_task_id: str
    name: str
    element_id: str
    lane: str
    created_at: datetime
    due_at: datetime | None
    claimed_by: str | None
    claimed_by_id: int | None
    case_id: int
    tracking_code: str
    process_key: str
    district_id: int | None
    applicant: str | None

    def overdue(self, now: datetime) -> bool:
        """Whether the task's deadline has passed."""
        return self.due_at is not None and as_utc(self.due_at) < now


@dataclass
class InboxPage:
    """The rows of one page plus the counts and choices around them."""

    rows: list[InboxRow]
    counts: dict[str, int]
    page: int
    pages: int
    services: list[tuple[str, str]] = field(default_factory=list)
    steps: list[tuple[str, str]] = field(default_factory=list)


def as_utc(moment: datetime) -> datetime:
    """A stored moment as an aware UTC datetime (SQLite hands back naive ones)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def visible_tasks(user: User) -> ColumnElement[bool]:
    """Open tasks in the user's roles and districts.

    Plain equality on the indexed columns (no "or district is null") lets PostgreSQL count
    from the inbox index alone; every case the portal opens has a district.
    """
    return and_(
        CaseTask.state == TaskState.OPEN,
        CaseTask.lane.in_(sorted(user.role_codes)),
        CaseTask.district_id.in_([d.id for d in user.districts]),
    )


def _search(q: str) -> ColumnElement[bool] | None:
    raw = normalize_identifier(q, keep_hyphens=True)
    if not raw:
        return None
    options: list[ColumnElement[bool]] = [Case.registry_plate == raw]
    if (tracking := check_tracking_code(raw)).ok:
        options.append(Case.tracking_code == tracking.value)
    elif raw.isdigit() and len(raw) == 12:
        options.append(Case.tracking_code == raw)
    if (national := check_national_code(raw)).ok:
        applicants = select(User.id).where(User.national_code == national.value)
        options.append(Case.applicant_id.in_(applicants))
    if (renewal := check_renewal_code(raw)).ok:
        options.append(Case.renewal_code == renewal.value)
    return or_(*options)


def _filters(user: User, wanted: InboxFilter, now: datetime) -> list[ColumnElement[bool]]:
    conditions = [visible_tasks(user)]
    if wanted.service:
        conditions.append(Case.process_key == wanted.service)
    if wanted.step:
        conditions.append(CaseTask.element_id == wanted.step)
    if wanted.district is not None:
        conditions.append(CaseTask.district_id == wanted.district)
    if wanted.due == "overdue":
        conditions.append(CaseTask.due_at < now)
    elif wanted.due in ("today", "week"):
        days = 1 if wanted.due == "today" else 7
        conditions.append(CaseTask.due_at < now + timedelta(days=days))
    if wanted.q and (search := _search(wanted.q)) is not None:
        conditions.append(search)
    return conditions


def tab_condition(user: User, tab: str) -> ColumnElement[bool]:
    """Tasks claimed by the user (mine) or by nobody (unassigned)."""
    return CaseTask.claimed_by_id == user.id if tab == "mine" else CaseTask.claimed_by_id.is_(None)


def count_tabs(user: User, wanted: InboxFilter, now: datetime) -> dict[str, int]:
    """How many tasks each tab holds under the current filters (one statement)."""
    statement = (
        select(
            func.count().filter(CaseTask.claimed_by_id == user.id),
            func.count().filter(CaseTask.claimed_by_id.is_(None)),
        )
        .select_from(CaseTask)
        .where(*_filters(user, wanted, now))
    )
    if wanted.service or wanted.q:
        # Only these filters read the case; the rest stay on the task index.
        statement = statement.join(Case, Case.id == CaseTask.case_id)
    mine, unassigned = db.session.execute(statement).one()
    return {"mine": int(mine), "unassigned": int(unassigned)}


def rows_statement(user: User, wanted: InboxFilter, now: datetime) -> Select[Any]:
    """The page's rows: overdue first (earliest deadline first), tasks without one last."""
    applicant = aliased(User)
    claimant = aliased(User)
    return (
        select(
            CaseTask.id,
            CaseTask.engine_task_id,
            CaseTask.name,
            CaseTask.element_id,
            CaseTask.lane,
            CaseTask.created_at,
            CaseTask.due_at,
            claimant.full_name,
            CaseTask.claimed_by_id,
            Case.id,
            Case.tracking_code,
            Case.process_key,
            CaseTask.district_id,
            applicant.full_name,
        )
        .join(Case, Case.id == CaseTask.case_id)
        .outerjoin(applicant, applicant.id == Case.applicant_id)
        .outerjoin(claimant, claimant.id == CaseTask.claimed_by_id)
        .where(*_filters(user, wanted, now), tab_condition(user, wanted.tab))
        .order_by(CaseTask.due_at.asc().nulls_last(), CaseTask.id)
        .limit(PAGE_SIZE)
        .offset((wanted.page - 1) * PAGE_SIZE)
    )


def service_names() -> dict[str, str]:
    """Each deployed process's name in the current locale, from its latest card (one statement)."""
    latest = (
        select(ProcessVersion.process_key, func.max(ProcessVersion.number).label("number"))
        .group_by(ProcessVersion.process_key)
        .subquery()
    )
    statement = select(ProcessVersion.process_key, ProcessVersion.card).join(
        latest,
        and_(
            latest.c.process_key == ProcessVersion.process_key,
            latest.c.number == ProcessVersion.number,
        ),
    )
    return {
        key: localized((card or {}).get("name")) or key
        for key, card in db.session.execute(statement)
    }


#: Human steps per process version id: versions never change, so this never goes stale.
_STEPS: dict[int, list[tuple[str, str, str | None]]] = {}


def step_choices(user: User) -> list[tuple[str, str]]:
    """The human steps of the latest deployed processes that fall in the user's roles."""
    latest = db.session.scalars(
        select(func.max(ProcessVersion.id)).group_by(ProcessVersion.process_key)
    ).all()
    missing = [version_id for version_id in latest if version_id not in _STEPS]
    if missing:
        for version in db.session.scalars(
            select(ProcessVersion).where(ProcessVersion.id.in_(missing))
        ):
            _STEPS[version.id] = [
                (step.id, step.name, step.lane)
                for step in bridge.compiled(version).steps()
                if step.type in ("userTask", "manualTask")
            ]
    seen: dict[str, str] = {}
    for version_id in latest:
        for step_id, name, lane in _STEPS.get(version_id, []):
            if lane in user.role_codes:
                seen.setdefault(step_id, name)
    return sorted(seen.items(), key=lambda item: item[1])


def inbox(user: User, wanted: InboxFilter, now: datetime) -> InboxPage:
    """One inbox page: the counts of both tabs, the rows of the chosen tab, and the choices."""
    counts = count_tabs(user, wanted, now)
    pages = max(1, -(-counts[wanted.tab] // PAGE_SIZE))
    rows = [InboxRow(*row) for row in db.session.execute(rows_statement(user, wanted, now))]
    services = service_names()
    return InboxPage(
        rows=rows,
        counts=counts,
        page=wanted.page,
        pages=pages,
        services=sorted(services.items(), key=lambda item: item[1]),
        steps=step_choices(user),
    )


def overdue_by_step(user: User, now: datetime) -> list[tuple[str, str, str, int, int]]:
    """Open and overdue work per step in the supervisor's districts: (service, step id, name,
    open, overdue), most overdue first."""
    district_ids = [d.id for d in user.districts]
    statement = (
        select(
            Case.process_key,
            CaseTask.element_id,
            func.min(CaseTask.name),
            func.count(CaseTask.id),
            func.count(CaseTask.id).filter(CaseTask.due_at < now),
        )
        .join(Case, Case.id == CaseTask.case_id)
        .where(
            CaseTask.state == TaskState.OPEN,
            CaseTask.lane.not_in(sorted(bridge.citizen_lanes())),
            or_(CaseTask.district_id.in_(district_ids), CaseTask.district_id.is_(None)),
        )
        .group_by(Case.process_key, CaseTask.element_id)
        .order_by(func.count(CaseTask.id).filter(CaseTask.due_at < now).desc())
    )
    return [(k, e, n, int(o), int(d)) for k, e, n, o, d in db.session.execute(statement)]
