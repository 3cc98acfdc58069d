"""Jalali display and input against the facts of domain.md §7.1."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.persian.jalali import (
    format_jalali_date,
    format_jalali_datetime,
    is_leap_year,
    jalali_month_name,
    jalali_weekday_name,
    parse_jalali_date,
    to_jalali,
)
from app.persian.messages import InvalidValue, message

MEHR_1 = date(2025, 9, 23)  # 1404-07-01, a Tuesday


def test_reference_conversions() -> None:
    assert parse_jalali_date(1404, 12, 29) == date(2026, 3, 20)
    assert parse_jalali_date(1405, 1, 1) == date(2026, 3, 21)
    assert parse_jalali_date(1404, 7, 1) == MEHR_1
    assert to_jalali(date(2026, 3, 20)) == (1404, 12, 29)
    assert jalali_weekday_name(MEHR_1) == "سه‌شنبه"
    assert jalali_weekday_name(MEHR_1, "en") == "Tuesday"


def test_leap_years_follow_jdatetime() -> None:
    assert [y for y in (1399, 1400, 1403, 1404, 1408) if is_leap_year(y)] == [1399, 1403, 1408]
    assert parse_jalali_date(1403, 12, 30) == date(2025, 3, 20)
    assert parse_jalali_date(1403, 12, 30) + timedelta(days=1) == parse_jalali_date(1404, 1, 1)


def test_short_and_long_formats() -> None:
    assert format_jalali_date(MEHR_1) == "۱۴۰۴/۰۷/۰۱"
    assert format_jalali_date(MEHR_1, "long") == "سه‌شنبه ۱ مهر ۱۴۰۴"
    assert format_jalali_date(MEHR_1, "short", "en") == "1404/07/01"
    assert format_jalali_date(MEHR_1, "long", "en") == "Tuesday 1 Mehr 1404"
    assert format_jalali_date(date(2026, 3, 20), "long") == "جمعه ۲۹ اسفند ۱۴۰۴"


def test_datetimes_show_tehran_time_on_a_24_hour_clock() -> None:
    moment = datetime(2025, 9, 23, 7, 12, tzinfo=UTC)  # 10:42 in Tehran (UTC+03:30)
    assert format_jalali_datetime(moment) == "۱۴۰۴/۰۷/۰۱ ۱۰:۴۲"
    assert format_jalali_datetime(moment, "long") == "سه‌شنبه ۱ مهر ۱۴۰۴، ساعت ۱۰:۴۲"
    assert format_jalali_datetime(moment, "short", "en") == "1404/07/01 10:42"
    assert format_jalali_datetime(moment, "long", "en") == "Tuesday 1 Mehr 1404, 10:42"
    afternoon = datetime(2025, 9, 23, 12, 0, tzinfo=UTC)
    assert format_jalali_datetime(afternoon, "short", "en") == "1404/07/01 15:30"


def test_the_tehran_date_decides_around_midnight() -> None:
    # 21:00 UTC on 22 September is 00:30 on 23 September in Tehran: already 1 Mehr.
    late = datetime(2025, 9, 22, 21, 0, tzinfo=UTC)
    assert format_jalali_date(late) == "۱۴۰۴/۰۷/۰۱"
    assert format_jalali_datetime(late, "short", "en") == "1404/07/01 00:30"
    # Other zones are converted, not read as wall-clock time.
    berlin_summer = timezone(timedelta(hours=2))
    assert format_jalali_datetime(late.astimezone(berlin_summer), "short", "en") == (
        "1404/07/01 00:30"
    )


def test_naive_datetimes_are_taken_as_utc() -> None:
    # SQLite gives DateTime(timezone=True) columns back without tzinfo.
    assert format_jalali_datetime(datetime(2025, 9, 23, 7, 12), "short", "en") == "1404/07/01 10:42"


def test_month_names() -> None:
    assert [jalali_month_name(m) for m in (1, 7, 12)] == ["فروردین", "مهر", "اسفند"]
    assert [jalali_month_name(m, "en") for m in (1, 2, 12)] == [
        "Farvardin",
        "Ordibehesht",
        "Esfand",
    ]
    with pytest.raises(ValueError, match="month"):
        jalali_month_name(13)


@pytest.mark.parametrize(
    ("ymd", "expected"),
    [
        (("۱۴۰۴", "۰۷", "۰۱"), MEHR_1),
        (("١٤٠٤", "٧", "١"), MEHR_1),
        ((" 1404 ", "7", "1"), MEHR_1),
        ((1404, 6, 31), date(2025, 9, 22)),
    ],
)
def test_parse_accepts_any_digits(ymd: tuple[int | str, ...], expected: date) -> None:
    assert parse_jalali_date(*ymd) == expected


@pytest.mark.parametrize(
    ("ymd", "key"),
    [
        ((1404, 12, 30), "jalali.leap"),
        ((1404, 12, 31), "jalali.day"),
        ((1404, 7, 31), "jalali.day"),
        ((1404, 1, 32), "jalali.day"),
        ((1404, 1, 0), "jalali.day"),
        ((1404, 13, 1), "jalali.month"),
        ((1404, 0, 1), "jalali.month"),
        ((0, 1, 1), "jalali.year"),
        (("1404", "هفت", "1"), "jalali.not_number"),
        (("1404", "-7", "1"), "jalali.not_number"),
        (("", "7", "1"), "jalali.not_number"),
    ],
)
def test_parse_rejects_impossible_dates_with_a_key(ymd: tuple[int | str, ...], key: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_jalali_date(*ymd)
    assert caught.value.key == key
    assert message(key)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_jalali_round_trip(d: date) -> None:
    assert parse_jalali_date(*to_jalali(d)) == d
