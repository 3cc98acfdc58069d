"""Custom JSON Schema formats for Iranian identifiers, applied after Persian normalisation.

Each format has a `check` that takes what the user typed (any digits, separators, marks) and
returns an `app.persian.Check`: the canonical value to store, or a message key. The same check
backs the jsonschema FormatChecker, so a value is valid exactly when its check passes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from jsonschema import FormatChecker

from app.persian import (
    Check,
    InvalidValue,
    check_dang,
    check_iban,
    check_legal_id,
    check_mobile,
    check_national_code,
    check_plate_numbers,
    check_plate_section,
    check_postal_code,
    check_renewal_code,
    parse_jalali_date,
    parse_rial,
)
from app.persian.money import MAX_RIALS
from app.persian.text import normalize_text, to_ascii_digits

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_JALALI = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


def _email(value: str) -> Check:
    s = normalize_text(value).replace(" ", "")
    if not s:
        return Check(False, s, "email.empty")
    if len(s) > 254 or not _EMAIL.fullmatch(s) or not s.isascii():
        return Check(False, s, "email.invalid")
    return Check(True, s)


def _rial(value: str) -> Check:
    try:
        return Check(True, str(parse_rial(value)))
    except InvalidValue as error:
        return Check(False, value, error.key)


def _jalali_parts(value: Any) -> tuple[str, str, str] | None:
    """(year, month, day) from a canonical 1404-07-01 string or a {day, month, year} object."""
    if isinstance(value, dict):
        return (str(value.get("year", "")), str(value.get("month", "")), str(value.get("day", "")))
    match = _JALALI.fullmatch(to_ascii_digits(str(value)).strip())
    return match.groups() if match else None  # type: ignore[return-value]


def check_jalali(value: Any) -> Check:
    """Check a Jalali date given as parts or as YYYY-MM-DD; canonical form is YYYY-MM-DD."""
    parts = _jalali_parts(value)
    if parts is None:
        return Check(False, str(value), "jalali.not_number")
    year, month, day = (to_ascii_digits(p).strip() for p in parts)
    if not (year or month or day):
        return Check(False, "", "jalali.empty")
    if not (year and month and day):
        return Check(False, "", "jalali.incomplete")
    try:
        parse_jalali_date(year, month, day)
    except InvalidValue as error:
        return Check(False, "", error.key)
    return Check(True, f"{int(year):04d}-{int(month):02d}-{int(day):02d}")


def _renewal(value: str) -> Check:
    # People separate the seven parts with spaces or slashes as often as with hyphens.
    spaced = re.sub(r"[\s/]+", "-", to_ascii_digits(value).strip())
    return check_renewal_code(spaced)


@dataclass(frozen=True)
class Format:
    """A custom format: how to check it and how its input should behave in a browser."""

    name: str
    check: Callable[[Any], Check]
    #: The key of the "please enter it" message, used for `required` errors.
    empty_key: str | None = None
    inputmode: str | None = None
    autocomplete: str | None = None
    ltr: bool = True
    input_type: str = "text"
    #: What the canonical string becomes in the data: str, int or a JSON number.
    kind: str = "string"
    example: str = ""


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            "national-code",
            check_national_code,
            "national_code.empty",
            "numeric",
            "off",
            example="0076229645",
        ),
        Format(
            "legal-id", check_legal_id, "legal_id.empty", "numeric", "off", example="10862134507"
        ),
        Format(
            "mobile",
            check_mobile,
            "mobile.empty",
            "tel",
            "tel-national",
            input_type="tel",
            example="09140001001",
        ),
        Format(
            "postal-code",
            check_postal_code,
            "postal_code.empty",
            "numeric",
            "postal-code",
            example="5166614776",
        ),
        Format("iban", check_iban, "iban.empty", None, "off", example="IR380170000000110234567001"),
        Format(
            "registry-plate-section",
            check_plate_section,
            None,
            "numeric",
            "off",
            example="3",
        ),
        Format(
            "registry-plate-main",
            check_plate_numbers,
            "plate.main_empty",
            "numeric",
            "off",
            example="125",
        ),
        Format(
            "registry-plate-sub",
            lambda v: check_plate_numbers(v, sub=True),
            None,
            "numeric",
            "off",
            example="4217",
        ),
        Format(
            "renewal-code", _renewal, "renewal_code.empty", None, "off", example="9-2-15-37-1-0-0"
        ),
        Format(
            "dang",
            check_dang,
            "dang.empty",
            "decimal",
            "off",
            ltr=False,
            kind="number",
            example="2.5",
        ),
        Format(
            "jalali-date",
            check_jalali,
            "jalali.empty",
            "numeric",
            "off",
            ltr=False,
            example="1404-07-01",
        ),
        Format(
            "rial",
            _rial,
            "rial.empty",
            "numeric",
            "off",
            ltr=False,
            kind="integer",
            example="125400000",
        ),
        Format(
            "email",
            _email,
            "email.empty",
            "email",
            "email",
            input_type="email",
            example="name@example.ir",
        ),
    )
}

#: Formats that JSON Schema defines and that we accept without a custom check.
STANDARD_FORMATS = frozenset({"date", "uri"})


def canonical(fmt: Format, raw: Any) -> tuple[Any, str | None]:
    """Turn typed input into the stored value: (canonical value, None) or (input as typed, key)."""
    result = fmt.check(raw if isinstance(raw, dict) else str(raw))
    if not result.ok:
        return raw, result.error
    if fmt.kind == "integer":
        return int(result.value), None
    if fmt.kind == "number":
        number = Decimal(result.value)
        return (int(number) if number == number.to_integral_value() else float(number)), None
    return result.value, None


def _format_function(fmt: Format) -> Callable[[Any], bool]:
    def check(instance: Any) -> bool:
        if fmt.kind == "integer" and isinstance(instance, int) and not isinstance(instance, bool):
            if not 0 <= instance <= MAX_RIALS:
                raise InvalidValue("rial.negative" if instance < 0 else "rial.too_large")
            return True
        if isinstance(instance, bool) or instance is None or isinstance(instance, list):
            return True  # the type keyword reports these
        if fmt.kind == "string" and isinstance(instance, (int, float)):
            return True  # likewise: JSON Schema formats of strings ignore numbers
        result = fmt.check(instance if isinstance(instance, dict) else str(instance))
        if not result.ok:
            raise InvalidValue(result.error or "format")
        return True

    return check


def format_checker() -> FormatChecker:
    """A FormatChecker with every custom format; failures raise InvalidValue with a message key."""
    checker = FormatChecker(formats=())
    for fmt in FORMATS.values():
        checker.checks(fmt.name, raises=InvalidValue)(_format_function(fmt))
    return checker
