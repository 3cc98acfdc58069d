"""Read helpers for the inbox: a constant number of statements per page, whatever the rows.

The inbox reads only the mirrored task rows (`case_tasks`) joined to their cases; it never
loads a workflow. One statement counts both tabs (up to COUNT_CAP), one fetches the page's
rows, one finds the latest process versions; their names and steps are cached per version
(versions never change), the districts come with the user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, literal, or_, select
from sqlalchemy.orm import aliased

from app.accounts.models import User
from app.cases import workflow as bridge
from app.cases.models import Case, CaseTask, TaskState
from app.db import db
from app.i18n import localized
from app.persian.identifiers import check_national_code, check_tracking_code
from app.persian.property import check_plate_numbers, check_plate_section, check_renewal_code
from app.persian.text import normalize_identifier
from app.processes.models import ProcessVersion

PAGE_SIZE = 25
#: Tabs count at most this many tasks and then say "1,000+": counting every one of 100,000
#: open tasks on each page view costs more than the rest of the page, and nobody pages that far.
COUNT_CAP = 1000
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
    #: Tasks per tab, counted up to COUNT_CAP + 1 (see `capped`).
    counts: dict[str, int]
    page: int
    #: How many pages the tab has, or None when its count passed the cap.
    pages: int | None
    #: Whether another page follows this one (known even past the cap).
    more: bool = False
    services: list[tuple[str, str]] = field(default_factory=list)
    steps: list[tuple[str, str]] = field(default_factory=list)

    def capped(self, tab: str) -> bool:
        """Whether the tab holds more tasks than the inbox counts."""
        return self.counts[tab] > COUNT_CAP


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


#: Slashes people type between the parts of a plate key (section/main/sub).
_PLATE_SLASHES = str.maketrans({"／": "/", "⁄": "/", "\\": "/"})


def plate_keys(typed: str) -> tuple[str | None, str | None]:
    """What a typed plate may be in the cases' key form (`RegistryPlate.key`):
    (the whole key, the main/sub end of a key), either None when the text cannot be one.

    ``3/125/4217`` is section/main/sub. ``125/4217`` is a key (section/main) or, as deeds
    write it, main/sub of any section. Any digits, spaces and leading zeros are accepted;
    main and sub may list numbers joined by hyphens (``211-253``).
    """
    parts = [
        normalize_identifier(p, keep_hyphens=True)
        for p in typed.translate(_PLATE_SLASHES).split("/")
    ]
    if len(parts) not in (2, 3):
        return None, None
    numbers = [check_plate_numbers(part) for part in parts]
    if not all(check.ok for check in numbers):
        return None, None
    values = [check.value for check in numbers]
    section = check_plate_section(parts[0])
    whole = "/".join([section.value, *values[1:]]) if section.ok else None
    return whole, "/".join(values) if len(parts) == 2 else None


def _search(q: str) -> ColumnElement[bool] | None:
    raw = normalize_identifier(q, keep_hyphens=True)
    if not raw:
        return None
    options: list[ColumnElement[bool]] = []
    whole, main_sub = plate_keys(q)
    if whole is not None:
        options.append(Case.registry_plate == whole)
    if main_sub is not None:
        # Plate 125 sub 4217 of section 3 is stored 3/125/4217: match it in any section.
        options.append(Case.registry_plate.like(f"%/{main_sub}"))
    if (tracking := check_tracking_code(raw)).ok:
        options.append(Case.tracking_code == tracking.value)
    elif raw.isdigit() and len(raw) == 12:
        options.append(Case.tracking_code == raw)
    if (national := check_national_code(raw)).ok:
        applicants = select(User.id).where(User.national_code == national.value)
        options.append(Case.applicant_id.in_(applicants))
    if (renewal := check_renewal_code(raw)).ok:
        options.append(Case.renewal_code == renewal.value)
    # Nothing the text could be: no task matches (rather than every task).
    return or_(*options) if options else false()


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


def _reads_cases(wanted: InboxFilter) -> bool:
    # Only these filters read the case; the rest stay on the task indexes.
    return bool(wanted.service or wanted.q)


def count_tabs(user: User, wanted: InboxFilter, now: datetime) -> dict[str, int]:
    """How many tasks each tab holds under the current filters, up to COUNT_CAP + 1.

    One statement; each tab stops counting one past the cap, so a page costs the same
    with a thousand open tasks or a hundred thousand.
    """

    def capped(tab: str) -> Any:
        matching = (
            select(literal(1))
            .select_from(CaseTask)
            .where(*_filters(user, wanted, now), tab_condition(user, tab))
            .limit(COUNT_CAP + 1)
        )
        if _reads_cases(wanted):
            matching = matching.join(Case, Case.id == CaseTask.case_id)
        return select(func.count()).select_from(matching.subquery()).scalar_subquery()

    mine, unassigned = db.session.execute(select(capped("mine"), capped("unassigned"))).one()
    return {"mine": int(mine), "unassigned": int(unassigned)}


def rows_statement(user: User, wanted: InboxFilter, now: datetime) -> Select[Any]:
    """The page's rows (one more than a page, to know whether another follows): overdue first
    (earliest deadline first), tasks without one last.

    The page is chosen on the task rows alone (the deadline index gives the order); only the
    chosen rows are then joined to their cases and people, so a far page does not join the
    thousand rows it skips.
    """
    chosen = (
        select(CaseTask.id.label("id"), CaseTask.due_at.label("due_at"))
        .where(*_filters(user, wanted, now), tab_condition(user, wanted.tab))
        .order_by(CaseTask.due_at.asc().nulls_last(), CaseTask.id)
        .limit(PAGE_SIZE + 1)
        .offset((wanted.page - 1) * PAGE_SIZE)
    )
    if _reads_cases(wanted):
        chosen = chosen.join(Case, Case.id == CaseTask.case_id)
    page = chosen.subquery("page")
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
        .select_from(page)
        .join(CaseTask, CaseTask.id == page.c.id)
        .join(Case, Case.id == CaseTask.case_id)
        .outerjoin(applicant, applicant.id == Case.applicant_id)
        .outerjoin(claimant, claimant.id == CaseTask.claimed_by_id)
        .order_by(page.c.due_at.asc().nulls_last(), page.c.id)
    )


@dataclass(frozen=True)
class _VersionFacts:
    """What the inbox needs from a deployed process version: its name and human steps."""

    process_key: str
    name: dict[str, str] | str | None
    steps: list[tuple[str, str, str | None]]


#: Facts per process version, keyed by id and content hash: a version never changes, and the
#: hash tells apart a version whose id was reused after a rolled-back deploy (SQLite reuses ids).
_FACTS: dict[tuple[int, str], _VersionFacts] = {}


def _latest_facts() -> list[_VersionFacts]:
    """The latest version of every deployed process (one statement; more only on first sight)."""
    newest = select(func.max(ProcessVersion.id)).group_by(ProcessVersion.process_key)
    latest = [
        (version_id, content_hash)
        for version_id, content_hash in db.session.execute(
            select(ProcessVersion.id, ProcessVersion.content_hash).where(
                ProcessVersion.id.in_(newest.scalar_subquery())
            )
        )
    ]
    missing = [key for key in latest if key not in _FACTS]
    if missing:
        for version in db.session.scalars(
            select(ProcessVersion).where(ProcessVersion.id.in_([key[0] for key in missing]))
        ):
            _FACTS[(version.id, version.content_hash)] = _VersionFacts(
                process_key=version.process_key,
                name=(version.card or {}).get("name"),
                steps=[
                    (step.id, step.name, step.lane)
                    for step in bridge.compiled(version).steps()
                    if step.type in ("userTask", "manualTask")
                ],
            )
    return [_FACTS[key] for key in latest if key in _FACTS]


def _names_of(facts: list[_VersionFacts]) -> dict[str, str]:
    return {f.process_key: localized(f.name) or f.process_key for f in facts}


def _steps_of(facts: list[_VersionFacts], user: User) -> list[tuple[str, str]]:
    roles = user.role_codes
    seen: dict[str, str] = {}
    for f in facts:
        for step_id, name, lane in f.steps:
            if lane in roles:
                seen.setdefault(step_id, name)
    return sorted(seen.items(), key=lambda item: item[1])


def service_names() -> dict[str, str]:
    """Each deployed process's name in the current locale, from its latest card."""
    return _names_of(_latest_facts())


def step_choices(user: User) -> list[tuple[str, str]]:
    """The human steps of the latest deployed processes that fall in the user's roles."""
    return _steps_of(_latest_facts(), user)


def inbox(user: User, wanted: InboxFilter, now: datetime) -> InboxPage:
    """One inbox page: the counts of both tabs, the rows of the chosen tab, and the choices."""
    counts = count_tabs(user, wanted, now)
    found = [InboxRow(*row) for row in db.session.execute(rows_statement(user, wanted, now))]
    shown = counts[wanted.tab]
    facts = _latest_facts()
    return InboxPage(
        rows=found[:PAGE_SIZE],
        counts=counts,
        page=wanted.page,
        pages=None if shown > COUNT_CAP else max(1, -(-shown // PAGE_SIZE)),
        more=len(found) > PAGE_SIZE,
        services=sorted(_names_of(facts).items(), key=lambda item: item[1]),
        steps=_steps_of(facts, user),
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
