"""The arithmetic of the public figures: working days, citizen waits, deadlines, percentiles.

Pure functions over plain values, shared by the per-step recording, the brute-force checks
in the tests and the benchmark's bulk loader, so all three count exactly alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Protocol

import jdatetime

#: Fewer cases than this make no published figure (open data and dashboard statistics).
MIN_CASES = 5

#: The earliest day the working-day index covers; earlier days are counted one by one.
_INDEX_START = date(2000, 1, 1)


class Calendar(Protocol):
    """What the figures need from a working calendar (engine.WorkCalendar has it)."""

    tz: tzinfo

    def is_working_day(self, day: date) -> bool: ...


class Workdays:
    """Working-day counts in constant time, from a running total over the calendar's days."""

    def __init__(self, calendar: Calendar) -> None:
        self.calendar = calendar
        self.tz = calendar.tz
        self._totals: list[int] = [0]  # _totals[i]: working days in (_INDEX_START, start + i]

    def _rank(self, day: date) -> int:
        offset = (day - _INDEX_START).days
        while len(self._totals) <= offset:
            following = _INDEX_START + timedelta(days=len(self._totals))
            self._totals.append(self._totals[-1] + self.calendar.is_working_day(following))
        return self._totals[offset]

    def between(self, start: date, end: date) -> int:
        """Working days d with start < d <= end (negative when end is before start)."""
        if start < _INDEX_START or end < _INDEX_START:
            return _count_slowly(self.calendar, start, end)
        return self._rank(end) - self._rank(start)

    def add(self, start: date, n: int) -> date:
        """The n-th working day after start (start itself when n is 0)."""
        day, counted = start, 0
        while counted < n:
            day += timedelta(days=1)
            counted += self.calendar.is_working_day(day)
        return day

    def local_day(self, moment: datetime) -> date:
        """The calendar's local date of a moment (a naive moment is UTC, as SQLite returns it)."""
        return as_utc(moment).astimezone(self.tz).date()


def _count_slowly(calendar: Calendar, start: date, end: date) -> int:
    if end < start:
        return -_count_slowly(calendar, end, start)
    return sum(
        calendar.is_working_day(start + timedelta(days=i)) for i in range(1, (end - start).days + 1)
    )


def as_utc(moment: datetime) -> datetime:
    """A timezone-aware moment; SQLite hands back naive datetimes that were stored as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def jalali_month(day: date) -> int:
    """The Jalali month of a day as one number: 1404-07 is 140407."""
    jalali = jdatetime.date.fromgregorian(date=day)
    return int(jalali.year) * 100 + int(jalali.month)


def jalali_month_days(month: int) -> tuple[date, date]:
    """The first and last Gregorian day of a Jalali month given as 140407."""
    year, number = divmod(month, 100)
    first: date = jdatetime.date(year, number, 1).togregorian()
    following = (year + 1, 1) if number == 12 else (year, number + 1)
    last: date = jdatetime.date(*following, 1).togregorian() - timedelta(days=1)
    return first, last


def previous_months(month: int, count: int) -> list[int]:
    """The `count` Jalali months ending with `month`, oldest first."""
    year, number = divmod(month, 100)
    index = year * 12 + number - 1
    return [(i // 12) * 100 + i % 12 + 1 for i in range(index - count + 1, index + 1)]


@dataclass(frozen=True)
class Span:
    """One human task of a case as the figures see it: its lane and its local days."""

    lane: str
    step: str
    start: date
    end: date | None  # None while the task is open
    completed: bool  # done by a person (not withdrawn by a timer, message or migration)


@dataclass(frozen=True)
class Deadline:
    """A legal deadline from the service card."""

    value: int
    unit: str  # working_days, calendar_days or months


@dataclass(frozen=True)
class CaseFacts:
    """What one completed case contributes to the figures."""

    total_days: int  # working days from receipt to completion
    wait_days: int  # of those, days on which the case waited for the citizen
    handling_days: int  # total_days - wait_days: the municipality's own time
    within_deadline: bool | None  # None when the service has no legal deadline
    in_person: bool  # a counter (in-person) step was part of the case


def covered_days(
    spans: Iterable[tuple[date, date]], start: date, end: date, workdays: Workdays
) -> int:
    """Working days in (start, end] covered by at least one of the (from, to] spans."""
    clipped = sorted((max(a, start), min(b, end)) for a, b in spans if min(b, end) > max(a, start))
    total, reach = 0, start
    for a, b in clipped:
        a = max(a, reach)
        if b > a:
            total += workdays.between(a, b)
            reach = b
    return total


def _calendar_days_covered(spans: Iterable[tuple[date, date]], start: date, end: date) -> int:
    days: set[date] = set()
    for a, b in spans:
        day = max(a, start)
        while day < min(b, end):
            day += timedelta(days=1)
            days.add(day)
    return len(days)


def case_facts(
    received: date,
    completed: date,
    spans: Sequence[Span],
    *,
    citizen_lanes: frozenset[str],
    in_person_lanes: frozenset[str],
    deadline: Deadline | None,
    workdays: Workdays,
) -> CaseFacts:
    """The figures of a completed case: its working days, waits, deadline and counter use."""
    waits = [(s.start, s.end or completed) for s in spans if s.lane in citizen_lanes]
    total = workdays.between(received, completed)
    wait = covered_days(waits, received, completed, workdays)
    handling = total - wait
    within: bool | None = None
    if deadline is not None:
        if deadline.unit == "working_days":
            within = handling <= deadline.value
        else:
            paused = _calendar_days_covered(waits, received, completed)
            clock_end = completed - timedelta(days=paused)
            within = clock_end <= _calendar_deadline(received, deadline)
    in_person = any(s.lane in in_person_lanes for s in spans)
    return CaseFacts(total, wait, handling, within, in_person)


def _calendar_deadline(received: date, deadline: Deadline) -> date:
    if deadline.unit != "months":
        return received + timedelta(days=deadline.value)
    # Jalali months, clamped to the target month's last day (31 Shahrivar + 1 month = 30 Mehr).
    jalali = jdatetime.date.fromgregorian(date=received)
    year, month = divmod(int(jalali.year) * 12 + int(jalali.month) - 1 + deadline.value, 12)
    first, last = jalali_month_days(year * 100 + month + 1)
    return min(first + timedelta(days=int(jalali.day) - 1), last)


def deadline_of(card: Mapping[str, object]) -> Deadline | None:
    """The legal deadline a service card states, or None."""
    raw = card.get("legal_deadline")
    if not isinstance(raw, Mapping):
        return None
    value, unit = raw.get("value"), raw.get("unit", "working_days")
    if not isinstance(value, int) or not isinstance(unit, str):
        return None
    return Deadline(value, unit)


def percentile(histogram: Mapping[int, int], p: int) -> int | None:
    """The nearest-rank p-th percentile of a {value: count} histogram (None when empty).

    The smallest value with at least ceil(p/100 * n) of the n counted values at or below it;
    p=50 is the lower median. Integer arithmetic, so merged histograms give exact results.
    """
    n = sum(histogram.values())
    if n <= 0:
        return None
    rank = max(1, (p * n + 99) // 100)
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    return max(histogram)


def merge(histograms: Iterable[Mapping[int, int]]) -> dict[int, int]:
    """The sum of several histograms."""
    merged: dict[int, int] = {}
    for histogram in histograms:
        for value, count in histogram.items():
            merged[value] = merged.get(value, 0) + count
    return merged
