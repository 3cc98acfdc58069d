"""Jinja filters over the pure persian modules; the only module here that knows Flask."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from flask import Flask
from flask_babel import get_locale
from markupsafe import Markup, escape

from app.persian.jalali import format_jalali_date, format_jalali_datetime
from app.persian.messages import language
from app.persian.money import format_rial, rial_in_words
from app.persian.property import RegistryPlate, plate_in_words
from app.persian.text import normalize_identifier, to_persian_digits

LocaleGetter = Callable[[], object]

# In markup, only text between tags is converted: digits in attributes and &#...; references
# are syntax, and changing them would break links and characters.
_MARKUP_DIGITS = re.compile(r"(<[^>]*>|&#?[0-9A-Za-z]+;)|([0-9٠-٩]+)")


def babel_locale() -> object:
    """Return Flask-Babel's locale, or "fa" outside a request or without Flask-Babel set up."""
    try:
        return get_locale() or "fa"
    except (KeyError, RuntimeError):  # KeyError: the app has no Babel extension
        return "fa"


def persian_digits(value: object) -> str:
    """Convert digits to Persian, leaving HTML tags and character references in markup alone."""
    if isinstance(value, Markup):
        # Safe: the input is already markup and only digit characters change.
        converted = _MARKUP_DIGITS.sub(lambda m: m.group(1) or to_persian_digits(m.group(2)), value)
        return Markup(converted)  # noqa: S704
    return to_persian_digits(str(value))


def mask_national_code(value: object) -> str:
    """Hide the middle of a national code: 136****185."""
    s = normalize_identifier(str(value))
    return s[:3] + "*" * (len(s) - 6) + s[-3:] if len(s) > 6 else "*" * len(s)


def ltr(value: object) -> Markup:
    """Isolate a left-to-right token (IBAN, mobile, code) so RTL text cannot reorder it."""
    return Markup('<bdi dir="ltr">{}</bdi>').format(escape(value))


def _plate(value: RegistryPlate | Mapping[str, Any]) -> RegistryPlate:
    """Accept a RegistryPlate or the {section, main, sub, unit} object that forms store."""
    if isinstance(value, RegistryPlate):
        return value
    return RegistryPlate.parse(
        value["section"], value["main"], value.get("sub"), value.get("unit") or ""
    )


def register_template_filters(app: Flask, locale: LocaleGetter | None = None) -> None:
    """Register the Persian display filters on an app; locale defaults to Flask-Babel's."""
    current = locale or babel_locale

    def _when_fa(value: object) -> object:
        if value is None:
            return ""
        return persian_digits(value) if language(current()) == "fa" else value

    def _jalali(value: date | None) -> str:
        return "" if value is None else format_jalali_date(value, "short", current())

    def _jalali_long(value: date | None) -> str:
        return "" if value is None else format_jalali_date(value, "long", current())

    def _jalali_datetime(value: datetime | None) -> str:
        return "" if value is None else format_jalali_datetime(value, "short", current())

    def _rial(value: int | None) -> str:
        return "" if value is None else format_rial(int(value), current())

    def _rial_words(value: int | None) -> str:
        return "" if value is None else rial_in_words(int(value), current())

    def _plate_words(value: RegistryPlate | Mapping[str, Any] | None) -> str:
        return "" if value is None else plate_in_words(_plate(value), current())

    app.add_template_filter(_when_fa, "persian_digits")
    app.add_template_filter(_jalali, "jalali")
    app.add_template_filter(_jalali_long, "jalali_long")
    app.add_template_filter(_jalali_datetime, "jalali_datetime")
    app.add_template_filter(_rial, "rial")
    app.add_template_filter(_rial_words, "rial_words")
    app.add_template_filter(_plate_words, "plate")
    app.add_template_filter(mask_national_code, "mask_national_code")
    app.add_template_filter(ltr, "ltr")
