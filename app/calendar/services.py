"""Calendar use cases: seed and edit the working calendar, and compute a case's deadline.

Functions may add and flush, never commit: the admin page or CLI command commits once.
Every edit replaces the calendar's revision so each process rebuilds its timer calendar.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import holidays
import jdatetime
from flask import current_app, g
from flask_babel import gettext as _
from sqlalchemy import select

from app.audit.services import record
from app.calendar.models import CalendarDay, DayKind, MunicipalCalendar, WeekRule
from app.calendar.working import (
    CalendarSnapshot,
    DeadlineUnit,
    Pause,
    Rule,
    due_date,
    paused_days,
)
from app.db import db
from app.persian.jalali import tehran_today

DEFAULT_CODE = "default"
THURSDAY, FRIDAY = 3, 4
#: The first rule starts long before any case: 1300-01-01.
EPOCH = date(1921, 3, 21)
_ESTIMATED = re.compile(r"\s*\((estimated|تخمینی)\)")


class CalendarProblem(ValueError):
    """Input the administrator must fix; `errors` maps field names to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def jalali_year_range(year: int) -> tuple[date, date]:
    """The first and last Gregorian dates of a Jalali year."""
    first: date = jdatetime.date(year, 1, 1).togregorian()
    last: date = jdatetime.date(year + 1, 1, 1).togregorian()
    return first, date.fromordinal(last.toordinal() - 1)


# --- Reading --------------------------------------------------------------------------------


def default_calendar() -> MunicipalCalendar | None:
    """The municipality's calendar, or None before it is seeded."""
    return db.session.scalar(
        select(MunicipalCalendar).where(MunicipalCalendar.code == DEFAULT_CODE)
    )


def current_revision() -> str | None:
    """The calendar's revision (one small query), or None when there is no calendar."""
    return db.session.scalar(
        select(MunicipalCalendar.revision).where(MunicipalCalendar.code == DEFAULT_CODE)
    )


def calendar_snapshot() -> CalendarSnapshot | None:
    """The calendar as plain data, reloaded only when its revision changed (cached per process)."""
    revision = current_revision()
    if revision is None:
        return None
    cached: CalendarSnapshot | None = current_app.extensions.get("parvaneh.calendar")
    if cached is not None and cached.revision == revision:
        return cached
    calendar = default_calendar()
    assert calendar is not None  # noqa: S101 - the revision query just found it
    rules = tuple(Rule(r.starts_on, r.ends_on, r.closed) for r in calendar.rules)
    rows = db.session.execute(
        select(CalendarDay.day, CalendarDay.kind).where(CalendarDay.calendar_id == calendar.id)
    )
    snapshot = CalendarSnapshot(revision, rules, {day: kind.value for day, kind in rows})
    current_app.extensions["parvaneh.calendar"] = snapshot
    return snapshot


def days_in_year(calendar: MunicipalCalendar, jalali_year: int) -> list[CalendarDay]:
    """The holidays, closures and extra working days of a Jalali year, in date order."""
    first, last = jalali_year_range(jalali_year)
    statement = (
        select(CalendarDay)
        .where(CalendarDay.calendar_id == calendar.id, CalendarDay.day.between(first, last))
        .order_by(CalendarDay.day)
    )
    return list(db.session.scalars(statement))


# --- Editing --------------------------------------------------------------------------------


def _touch(calendar: MunicipalCalendar) -> None:
    calendar.revision = secrets.token_hex(16)
    forget_runtime()


def forget_runtime() -> None:
    """Make this app context check the calendar again (other processes see the new revision)."""
    g.pop("parvaneh_runtime", None)


def ensure_calendar(*, thursday_closed: bool = True, actor: Any = None) -> MunicipalCalendar:
    """Return the municipality's calendar, creating it with one open-ended weekly rule."""
    calendar = default_calendar()
    if calendar is not None:
        return calendar
    config = current_app.config
    calendar = MunicipalCalendar(
        code=DEFAULT_CODE,
        name_fa=config["MUNICIPALITY_NAME_FA"],
        name_en=config["MUNICIPALITY_NAME_EN"],
        revision=secrets.token_hex(16),
    )
    forget_runtime()
    closed = {FRIDAY, THURSDAY} if thursday_closed else {FRIDAY}
    calendar.rules.append(
        WeekRule(starts_on=EPOCH, ends_on=None, closed_weekdays=_weekdays(closed), note="")
    )
    db.session.add(calendar)
    db.session.flush()
    record(
        "calendar.created",
        actor=actor,
        subject="calendar",
        after={"closed_weekdays": sorted(closed)},
    )
    return calendar


def _weekdays(days: Iterable[int]) -> str:
    return ",".join(str(d) for d in sorted(set(days)))


def seed_official_holidays(
    calendar: MunicipalCalendar, jalali_years: Iterable[int], *, actor: Any = None
) -> int:
    """Add Iran's official holidays of these Jalali years from the `holidays` package.

    Days already in the calendar are left alone, so an administrator's corrections survive a
    second seeding. Returns how many days were added.
    """
    existing = {
        row.day
        for row in db.session.scalars(
            select(CalendarDay).where(CalendarDay.calendar_id == calendar.id)
        )
    }
    added = 0
    for year in sorted(set(jalali_years)):
        first, last = jalali_year_range(year)
        years = range(first.year, last.year + 1)
        names_fa = holidays.country_holidays("IR", years=years, language="fa_IR")
        names_en = holidays.country_holidays("IR", years=years, language="en_US")
        for day in sorted(names_fa):
            if not first <= day <= last or day in existing:
                continue
            name_fa, name_en = str(names_fa.get(day)), str(names_en.get(day) or "")
            db.session.add(
                CalendarDay(
                    calendar_id=calendar.id,
                    day=day,
                    kind=DayKind.HOLIDAY,
                    name_fa=_ESTIMATED.sub("", name_fa)[:200],
                    name_en=_ESTIMATED.sub("", name_en)[:200],
                    estimated=bool(_ESTIMATED.search(name_fa)),
                    source="holidays",
                )
            )
            existing.add(day)
            added += 1
    if added:
        _touch(calendar)
        db.session.flush()
        record(
            "calendar.seeded",
            actor=actor,
            subject="calendar",
            after={"years": sorted(set(jalali_years)), "added": added},
        )
    return added


def save_day(
    calendar: MunicipalCalendar,
    day: date,
    kind: DayKind | str,
    name_fa: str,
    name_en: str,
    *,
    estimated: bool = False,
    actor: Any = None,
) -> CalendarDay:
    """Add or change a holiday, closure or extra working day.

    :raises CalendarProblem: when a holiday or closure has no Persian name.
    """
    kind = DayKind(kind)
    if kind is not DayKind.WORKING and not name_fa.strip():
        raise CalendarProblem({"name_fa": _("Enter the occasion's Persian name.")})
    row = db.session.scalar(
        select(CalendarDay).where(CalendarDay.calendar_id == calendar.id, CalendarDay.day == day)
    )
    before = _day_record(row) if row is not None else None
    if row is None:
        row = CalendarDay(calendar_id=calendar.id, day=day)
        db.session.add(row)
    row.kind, row.name_fa, row.name_en = kind, name_fa.strip()[:200], name_en.strip()[:200]
    row.estimated, row.source = estimated, "admin"
    _touch(calendar)
    db.session.flush()
    record(
        "calendar.day_saved",
        actor=actor,
        subject=f"calendar_day:{day.isoformat()}",
        before=before,
        after=_day_record(row),
    )
    return row


def _day_record(row: CalendarDay) -> dict[str, Any]:
    return {
        "day": row.day.isoformat(),
        "kind": row.kind.value,
        "name_fa": row.name_fa,
        "name_en": row.name_en,
    }


def delete_day(calendar: MunicipalCalendar, day: date, *, actor: Any = None) -> bool:
    """Remove a special day, so the weekday rule applies again. Returns whether one was removed."""
    row = db.session.scalar(
        select(CalendarDay).where(CalendarDay.calendar_id == calendar.id, CalendarDay.day == day)
    )
    if row is None:
        return False
    before = _day_record(row)
    db.session.delete(row)
    _touch(calendar)
    db.session.flush()
    record(
        "calendar.day_deleted",
        actor=actor,
        subject=f"calendar_day:{day.isoformat()}",
        before=before,
    )
    return True


def add_week_rule(
    calendar: MunicipalCalendar,
    starts_on: date,
    ends_on: date | None,
    closed_weekdays: Iterable[int],
    note: str = "",
    *,
    actor: Any = None,
) -> WeekRule:
    """Add a weekly rule for a date range (it wins over rules that started earlier).

    :raises CalendarProblem: for an end before the start, or a week with no working day.
    """
    closed = frozenset(int(d) for d in closed_weekdays)
    errors: dict[str, str] = {}
    if ends_on is not None and ends_on < starts_on:
        errors["ends_on"] = _("The end date must not be before the start date.")
    if len(closed) >= 7 or not closed <= set(range(7)):
        errors["closed"] = _("At least one weekday must be a working day.")
    if errors:
        raise CalendarProblem(errors)
    rule = WeekRule(
        starts_on=starts_on,
        ends_on=ends_on,
        closed_weekdays=_weekdays(closed),
        note=note.strip()[:200],
    )
    calendar.rules.append(rule)
    _touch(calendar)
    db.session.flush()
    record(
        "calendar.rule_added",
        actor=actor,
        subject=f"calendar_rule:{rule.id}",
        after={
            "starts_on": starts_on.isoformat(),
            "ends_on": ends_on.isoformat() if ends_on else None,
            "closed_weekdays": sorted(closed),
            "note": rule.note,
        },
    )
    return rule


def delete_week_rule(calendar: MunicipalCalendar, rule_id: int, *, actor: Any = None) -> bool:
    """Remove a weekly rule (the last one stays: a calendar always has a rule)."""
    rule = next((r for r in calendar.rules if r.id == rule_id), None)
    if rule is None or len(calendar.rules) <= 1:
        return False
    before = {
        "starts_on": rule.starts_on.isoformat(),
        "ends_on": rule.ends_on.isoformat() if rule.ends_on else None,
        "closed_weekdays": sorted(rule.closed),
    }
    calendar.rules.remove(rule)
    _touch(calendar)
    db.session.flush()
    record("calendar.rule_deleted", actor=actor, subject=f"calendar_rule:{rule_id}", before=before)
    return True


# --- Case deadlines -------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseDeadline:
    """A case's statutory due date after pauses, and whether its clock stands still now."""

    due: date
    amount: int
    unit: DeadlineUnit
    paused_days: int
    paused_now: bool


def pause_intervals(case: Any, *, include_agency: bool = False) -> list[Pause]:
    """When the case waited for the citizen (and, if asked, for an agency), from its task rows."""
    from app.cases.workflow import role_catalogue

    roles = role_catalogue()
    lanes = {code for code, role in roles.items() if role.get("citizen")}
    if include_agency:
        lanes |= {code for code, role in roles.items() if role.get("agency")}
    return [
        Pause(
            tehran_today(task.created_at),
            tehran_today(task.completed_at) if task.completed_at else None,
        )
        for task in case.tasks
        if task.lane in lanes
    ]


def effective_due_date(
    case: Any,
    *,
    amount: int | None = None,
    unit: DeadlineUnit | str | None = None,
    include_agency: bool = False,
    today: date | None = None,
) -> CaseDeadline | None:
    """The case's due date: its service's legal deadline from filing, not counting pauses.

    None when the service card has no deadline or no calendar is seeded.
    """
    calendar = calendar_snapshot()
    if amount is None or unit is None:
        legal = (case.process_version.card or {}).get("legal_deadline") or {}
        amount, unit = legal.get("value"), legal.get("unit")
    if calendar is None or amount is None or unit is None:
        return None
    today = today or tehran_today()
    pauses = pause_intervals(case, include_agency=include_agency)
    paused = paused_days(pauses, today)
    due = due_date(calendar, tehran_today(case.created_at), int(amount), unit, paused)
    return CaseDeadline(
        due=due,
        amount=int(amount),
        unit=DeadlineUnit(unit),
        paused_days=len(paused),
        paused_now=any(p.ends is None for p in pauses),
    )
