"""WorkCalendar: Jalali working-day arithmetic (domain.md §7)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from engine import IRAN_TIMEZONE, WorkCalendar, add_jalali_months, from_jalali, to_jalali

# domain.md §7.4: start, working days, due with Thursday closed, due with Thursday open.
SLA_VECTORS = [
    ("1404-07-01", 15, "1404-07-22", "1404-07-19"),
    ("1403-12-25", 10, "1404-01-18", "1404-01-16"),  # spans Nowruz and Eid al-Fitr
    ("1404-04-10", 10, "1404-04-28", "1404-04-24"),  # spans Tasua/Ashura
    ("1404-01-05", 3, "1404-01-10", "1404-01-09"),
]


@pytest.mark.parametrize(("start", "days", "thursday_closed_due", "thursday_open_due"), SLA_VECTORS)
def test_domain_sla_vectors(
    start: str, days: int, thursday_closed_due: str, thursday_open_due: str
) -> None:
    closed = WorkCalendar(thursday_closed=True)
    open_thursday = WorkCalendar(thursday_closed=False)

    assert to_jalali(closed.add_working_days(from_jalali(start), days)) == thursday_closed_due
    assert to_jalali(open_thursday.add_working_days(from_jalali(start), days)) == thursday_open_due


@pytest.mark.parametrize(("start", "days", "due", "_"), SLA_VECTORS)
def test_working_days_between_inverts_add(start: str, days: int, due: str, _: str) -> None:
    calendar = WorkCalendar()

    assert calendar.working_days_between(from_jalali(start), from_jalali(due)) == days
    assert calendar.working_days_between(from_jalali(due), from_jalali(start)) == -days


def test_start_day_does_not_count() -> None:
    calendar = WorkCalendar()
    tuesday = from_jalali("1404-07-01")

    assert calendar.add_working_days(tuesday, 0) == tuesday
    assert to_jalali(calendar.add_working_days(tuesday, 1)) == "1404-07-02"


def test_friday_always_closed_thursday_configurable() -> None:
    thursday, friday = from_jalali("1404-07-03"), from_jalali("1404-07-04")

    assert not WorkCalendar(thursday_closed=True).is_working_day(thursday)
    assert WorkCalendar(thursday_closed=False).is_working_day(thursday)
    assert not WorkCalendar(thursday_closed=False).is_working_day(friday)


def test_official_holidays_from_the_holidays_package() -> None:
    nowruz_holiday = from_jalali("1404-01-02")  # Saturday 2025-03-22
    ashura = from_jalali("1404-04-15")  # Sunday 2025-07-06

    assert not WorkCalendar().is_working_day(ashura)
    assert WorkCalendar(official_holidays=False).is_working_day(ashura)
    assert not WorkCalendar().is_working_day(nowruz_holiday)
    assert WorkCalendar(official_holidays=False).is_working_day(nowruz_holiday)


def test_extra_holidays_and_extra_working_days() -> None:
    saturday = from_jalali("1404-07-05")
    thursday = from_jalali("1404-07-03")
    calendar = WorkCalendar(extra_holidays=[saturday], extra_working_days=[thursday])

    assert not calendar.is_working_day(saturday)
    assert calendar.is_working_day(thursday)
    # 07-01 Tue -> 07-02 Wed (1), 07-03 Thu opened (2), 07-05 Sat closed, 07-06 Sun (3)
    assert to_jalali(calendar.add_working_days(from_jalali("1404-07-01"), 3)) == "1404-07-06"


def test_negative_days_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        WorkCalendar().add_working_days(date(2025, 1, 1), -1)


def test_deadline_is_end_of_office_day_in_tehran() -> None:
    calendar = WorkCalendar(office_closes_at=time(14, 0))
    # 23:00 UTC on Monday 2025-09-22 is already Tuesday 1404-07-01 in Tehran.
    now = datetime(2025, 9, 22, 23, 0, tzinfo=UTC)

    due = calendar.deadline(now, 5)

    assert due == datetime(2025, 9, 30, 14, 0, tzinfo=IRAN_TIMEZONE)  # 1404-07-08
    assert to_jalali(due.date()) == "1404-07-08"


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("1404-07-15", 3, "1404-10-15"),  # domain.md §7.4
        ("1404-06-31", 1, "1404-07-30"),  # 31-day month into a 30-day month: clamp
        ("1403-06-31", 6, "1403-12-30"),  # 1403 is leap: Esfand has 30 days
        ("1404-06-31", 6, "1404-12-29"),  # 1404 is not leap
        ("1404-11-30", 2, "1405-01-30"),  # across the new year
        ("1404-05-10", -2, "1404-03-10"),
    ],
)
def test_add_jalali_months_clamps_to_month_end(start: str, months: int, expected: str) -> None:
    assert to_jalali(add_jalali_months(from_jalali(start), months)) == expected


def test_jalali_leap_year_facts() -> None:
    assert from_jalali("1403-12-30") == date(2025, 3, 20)
    assert from_jalali("1404-12-29") == date(2026, 3, 20)
    assert from_jalali("1405-01-01") == date(2026, 3, 21)
    with pytest.raises(ValueError, match="out of range"):
        from_jalali("1404-12-30")
