"""Working-day and deadline arithmetic over a calendar snapshot (pure: no database, no Flask).

Counting follows domain.md §7.4: the start day does not count; the due date is the Nth
working (or calendar) day after it; months are Jalali months, clamped to the month's end.
Days on which the case waited for the citizen (or an agency) do not count either.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import jdatetime

FRIDAY = 4
#: When no rule covers a date, only Friday is closed.
DEFAULT_CLOSED = frozenset({FRIDAY})
# A deadline that runs past this many days means a misconfigured calendar, not a real SLA.
MAX_SCAN_DAYS = 3660


class DeadlineUnit(enum.StrEnum):
    CALENDAR_DAYS = "calendar_days"
    WORKING_DAYS = "working_days"
    MONTHS = "months"


@dataclass(frozen=True)
class Rule:
    """Closed weekdays (Python numbers) from starts_on to ends_on (None: open-ended)."""

    starts_on: date
    ends_on: date | None
    closed: frozenset[int]

    def covers(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


@dataclass(frozen=True)
class CalendarSnapshot:
    """The calendar as loaded from the database at one revision."""

    revision: str
    rules: tuple[Rule, ...]
    #: date -> "holiday" | "closure" | "working"
    days: Mapping[date, str] = field(default_factory=dict)

    def closed_weekdays(self, day: date) -> frozenset[int]:
        """The weekdays closed under the rule in force on ``day`` (the latest-starting one wins)."""
        chosen: Rule | None = None
        for rule in self.rules:
            if rule.covers(day) and (chosen is None or rule.starts_on >= chosen.starts_on):
                chosen = rule
        return chosen.closed if chosen is not None else DEFAULT_CLOSED

    def is_working_day(self, day: date) -> bool:
        """Whether offices are open on ``day``."""
        kind = self.days.get(day)
        if kind == "working":
            return True
        if kind is not None:
            return False
        return day.weekday() not in self.closed_weekdays(day)

    def add_working_days(self, start: date, n: int, paused: frozenset[date] = frozenset()) -> date:
        """The Nth working day after ``start`` that is not paused (the start day does not count)."""
        return _nth_day_after(start, n, lambda d: self.is_working_day(d) and d not in paused)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days d with start < d <= end."""
        return sum(
            1
            for offset in range(1, (end - start).days + 1)
            if self.is_working_day(start + timedelta(days=offset))
        )


def _nth_day_after(start: date, n: int, counts: Callable[[date], bool]) -> date:
    if n < 0:
        raise ValueError("n must not be negative")
    day, counted = start, 0
    for _ in range(MAX_SCAN_DAYS):
        if counted == n:
            return day
        day += timedelta(days=1)
        if counts(day):
            counted += 1
    raise ValueError(f"no {n} counted days within {MAX_SCAN_DAYS} days of {start}")


@dataclass(frozen=True)
class Pause:
    """The case waited (for the citizen or an agency) from ``starts`` until ``ends`` (None: still).

    Like a start day, the day the wait began still counts; the days after it, up to and
    including the day the case came back, do not.
    """

    starts: date
    ends: date | None


def paused_days(pauses: Iterable[Pause], today: date) -> frozenset[date]:
    """Every day the clock stood still; an open pause runs up to today."""
    days: set[date] = set()
    for pause in pauses:
        end = pause.ends or today
        days.update(
            pause.starts + timedelta(days=i) for i in range(1, (end - pause.starts).days + 1)
        )
    return frozenset(days)


def add_jalali_months(day: date, months: int) -> date:
    """Add Jalali months to a Gregorian date, clamping to the target month's last day."""
    jalali = jdatetime.date.fromgregorian(date=day)
    year, month = divmod(jalali.year * 12 + jalali.month - 1 + months, 12)
    month += 1
    length = (
        31
        if month <= 6
        else 30
        if month <= 11
        else (30 if jdatetime.date(year, 1, 1).isleap() else 29)
    )
    result: date = jdatetime.date(year, month, min(jalali.day, length)).togregorian()
    return result


def due_date(
    calendar: CalendarSnapshot,
    start: date,
    amount: int,
    unit: DeadlineUnit | str,
    paused: frozenset[date] = frozenset(),
) -> date:
    """The due date of a deadline of ``amount`` ``unit`` starting on ``start``, skipping paused days."""
    unit = DeadlineUnit(unit)
    if unit is DeadlineUnit.WORKING_DAYS:
        return calendar.add_working_days(start, amount, paused)
    if unit is DeadlineUnit.CALENDAR_DAYS:
        return _nth_day_after(start, amount, lambda d: d not in paused)
    base = add_jalali_months(start, amount)
    due = base
    while True:  # each paused day before the due date pushes it one day on
        moved = base + timedelta(days=sum(1 for d in paused if start < d <= due))
        if moved == due:
            return due
        due = moved
