"""Jalali working-day arithmetic for statutory deadlines (domain.md §7)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any

import holidays
import jdatetime

# Iran has kept UTC+03:30 all year since daylight saving time was abolished in 2022.
IRAN_TIMEZONE = timezone(timedelta(hours=3, minutes=30), "IRST")

# Python weekday numbers (Monday == 0).
THURSDAY = 3
FRIDAY = 4

# A deadline that runs past this many days means a misconfigured calendar, not a real SLA.
_MAX_SCAN_DAYS = 3660


class WorkCalendar:
    """Working days of one municipality: closed weekdays, official and extra holidays."""

    def __init__(
        self,
        *,
        thursday_closed: bool = True,
        extra_holidays: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
        official_holidays: bool = True,
        office_closes_at: time = time(14, 0),
        tz: tzinfo = IRAN_TIMEZONE,
    ) -> None:
        closed = {FRIDAY}
        if thursday_closed:
            closed.add(THURSDAY)
        self.closed_weekdays: frozenset[int] = frozenset(closed)
        self.extra_holidays: frozenset[date] = frozenset(extra_holidays)
        # Ad-hoc openings (e.g. a Thursday declared a working day) override weekday rules.
        self.extra_working_days: frozenset[date] = frozenset(extra_working_days)
        self.office_closes_at = office_closes_at
        self.tz = tz
        # The holidays object fills in each Gregorian year on first lookup.
        self._official: Any = holidays.country_holidays("IR") if official_holidays else None

    def is_working_day(self, day: date) -> bool:
        """Return True when offices are open on ``day``."""
        if day in self.extra_working_days:
            return True
        if day.weekday() in self.closed_weekdays or day in self.extra_holidays:
            return False
        return not (self._official is not None and day in self._official)

    def add_working_days(self, start: date, n: int) -> date:
        """Return the Nth working day after ``start`` (the start day itself does not count)."""
        if n < 0:
            raise ValueError("n must not be negative")
        day, counted = start, 0
        for _ in range(_MAX_SCAN_DAYS):
            if counted == n:
                return day
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        raise ValueError(f"no {n} working days within {_MAX_SCAN_DAYS} days of {start}")

    def working_days_between(self, start: date, end: date) -> int:
        """Count working days d with start < d <= end (negative when end is before start)."""
        if end < start:
            return -self.working_days_between(end, start)
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def deadline(self, now: datetime, n: int) -> datetime:
        """Return the end of office hours on the Nth working day after ``now``'s local date."""
        local_today = now.astimezone(self.tz).date()
        due_day = self.add_working_days(local_today, n)
        return datetime.combine(due_day, self.office_closes_at, tzinfo=self.tz)


def add_jalali_months(day: date, months: int) -> date:
    """Add Jalali calendar months to a Gregorian date, clamping to the month's last day."""
    jalali = jdatetime.date.fromgregorian(date=day)
    index = jalali.year * 12 + (jalali.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last_day = jalali_month_length(year, month)
    target = jdatetime.date(year, month, min(jalali.day, last_day))
    result: date = target.togregorian()
    return result


def jalali_month_length(year: int, month: int) -> int:
    """Return the number of days in a Jalali month (Esfand has 30 in leap years)."""
    if month <= 6:
        return 31
    if month <= 11:
        return 30
    return 30 if jdatetime.date(year, 1, 1).isleap() else 29


def to_jalali(day: date) -> str:
    """Format a Gregorian date as a Jalali ISO-like string, e.g. '1404-07-01'."""
    jalali = jdatetime.date.fromgregorian(date=day)
    return f"{jalali.year:04d}-{jalali.month:02d}-{jalali.day:02d}"


def from_jalali(text: str) -> date:
    """Parse a Jalali 'YYYY-MM-DD' string into a Gregorian date."""
    year, month, day = (int(part) for part in text.split("-"))
    result: date = jdatetime.date(year, month, day).togregorian()
    return result
