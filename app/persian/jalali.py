"""Jalali (Solar Hijri) dates for display and input; jdatetime converts, our tables name."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

import jdatetime

from app.persian.messages import InvalidValue, language
from app.persian.text import to_ascii_digits, to_persian_digits

__all__ = [
    "TEHRAN",
    "format_jalali_date",
    "format_jalali_datetime",
    "is_leap_year",
    "jalali_month_name",
    "jalali_weekday_name",
    "parse_jalali_date",
    "tehran_today",
    "to_jalali",
]

TEHRAN = ZoneInfo("Asia/Tehran")

# Own tables: jdatetime prints English names unless its process-wide locale is switched (§7.1).
MONTHS_FA = (
    "فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
    "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند",
)  # fmt: skip
MONTHS_EN = (
    "Farvardin", "Ordibehesht", "Khordad", "Tir", "Mordad", "Shahrivar",
    "Mehr", "Aban", "Azar", "Dey", "Bahman", "Esfand",
)  # fmt: skip
# Indexed by date.weekday(): Monday is 0.
WEEKDAYS_FA = ("دوشنبه", "سه‌شنبه", "چهارشنبه", "پنجشنبه", "جمعه", "شنبه", "یکشنبه")
WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

Style = Literal["short", "long"]


def _local_date(d: date) -> date:
    """Return the Tehran calendar date of a date or datetime (naive datetimes are UTC)."""
    if isinstance(d, datetime):
        return _tehran(d).date()
    return d


def tehran_today(now: datetime | None = None) -> date:
    """Today's calendar day in Tehran (the day of `now`, a naive one taken as UTC, if given).

    The municipality's days are Tehran's: from 20:30 UTC it is already tomorrow there, so a
    server's own date (UTC on most machines) would keep an ended power of attorney alive, or a
    document dated a day early, for three and a half hours every night.
    """
    return _tehran(now or datetime.now(UTC)).date()


def _tehran(moment: datetime) -> datetime:
    """Convert to Tehran time; a naive datetime is taken as UTC, as SQLite hands them back."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(TEHRAN)


def to_jalali(d: date) -> tuple[int, int, int]:
    """Return (year, month, day) of the Jalali date for a Gregorian date or datetime."""
    j = jdatetime.date.fromgregorian(date=_local_date(d))
    return int(j.year), int(j.month), int(j.day)


def jalali_month_name(month: int, locale: object = "fa") -> str:
    """Return the month's name: «مهر» in Persian, "Mehr" in English."""
    if not 1 <= month <= 12:
        raise ValueError("month must be 1..12")
    return (MONTHS_EN if language(locale) == "en" else MONTHS_FA)[month - 1]


def jalali_weekday_name(d: date, locale: object = "fa") -> str:
    """Return the weekday name of a date or datetime, in Tehran."""
    return (WEEKDAYS_EN if language(locale) == "en" else WEEKDAYS_FA)[_local_date(d).weekday()]


def _digits(s: str, locale: object) -> str:
    return s if language(locale) == "en" else to_persian_digits(s)


def format_jalali_date(d: date, style: Style = "short", locale: object = "fa") -> str:
    """Format as ۱۴۰۴/۰۷/۰۱ (short) or «سه‌شنبه ۱ مهر ۱۴۰۴» (long); English keeps Latin digits."""
    year, month, day = to_jalali(d)
    if style == "short":
        return _digits(f"{year:04d}/{month:02d}/{day:02d}", locale)
    weekday = jalali_weekday_name(d, locale)
    return _digits(f"{weekday} {day} {jalali_month_name(month, locale)} {year}", locale)


def format_jalali_datetime(moment: datetime, style: Style = "short", locale: object = "fa") -> str:
    """Format a moment in Tehran time with a 24-hour clock: ۱۴۰۴/۰۷/۰۱ ۱۰:۴۲."""
    local = _tehran(moment)
    separator = "، ساعت " if style == "long" and language(locale) == "fa" else " "
    if style == "long" and language(locale) == "en":
        separator = ", "
    clock = _digits(f"{local.hour:02d}:{local.minute:02d}", locale)
    return format_jalali_date(local.date(), style, locale) + separator + clock


def is_leap_year(year: int) -> bool:
    """Tell whether a Jalali year has 30 days in Esfand (jdatetime's 33-year rule)."""
    return bool(jdatetime.date(year, 1, 1).isleap())


def _number(value: int | str) -> int:
    if isinstance(value, int):
        return value
    s = to_ascii_digits(value).strip()
    if not s.isascii() or not s.isdigit():
        raise InvalidValue("jalali.not_number")
    return int(s)


def parse_jalali_date(year: int | str, month: int | str, day: int | str) -> date:
    """Turn a Jalali day, month and year (any digits) into a Gregorian date.

    :raises InvalidValue: with key jalali.not_number, .year, .month, .day or .leap.
    """
    y, m, d = _number(year), _number(month), _number(day)
    if not jdatetime.MINYEAR <= y <= jdatetime.MAXYEAR:
        raise InvalidValue("jalali.year")
    if not 1 <= m <= 12:
        raise InvalidValue("jalali.month")
    if m == 12 and d == 30 and not is_leap_year(y):
        raise InvalidValue("jalali.leap")
    if not 1 <= d <= (31 if m <= 6 else 30):
        raise InvalidValue("jalali.day")
    gregorian: date = jdatetime.date(y, m, d).togregorian()
    return gregorian
