"""Rial amounts: display with separators, amounts in words, parsing what people type."""

from __future__ import annotations

import re
from decimal import Decimal

from app.persian.messages import InvalidValue, language
from app.persian.text import to_ascii_digits, to_persian_digits

__all__ = [
    "MAX_RIALS",
    "format_rial",
    "format_toman",
    "number_in_words",
    "parse_rial",
    "rial_in_words",
    "rial_to_toman",
]

# Fits PostgreSQL bigint and the largest scale word below.
MAX_RIALS = 10**18 - 1

_ONES_FA = ("", "یک", "دو", "سه", "چهار", "پنج", "شش", "هفت", "هشت", "نه")
_TEENS_FA = (
    "ده", "یازده", "دوازده", "سیزده", "چهارده", "پانزده", "شانزده", "هفده", "هجده", "نوزده",
)  # fmt: skip
_TENS_FA = ("", "", "بیست", "سی", "چهل", "پنجاه", "شصت", "هفتاد", "هشتاد", "نود")
# «یکصد» rather than «صد»: the form used on cheques and official documents.
_HUNDREDS_FA = (
    "", "یکصد", "دویست", "سیصد", "چهارصد", "پانصد", "ششصد", "هفتصد", "هشتصد", "نهصد",
)  # fmt: skip
_SCALES_FA = ("", "هزار", "میلیون", "میلیارد", "تریلیون", "کوادریلیون")

_ONES_EN = ("", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_TEENS_EN = (
    "ten", "eleven", "twelve", "thirteen", "fourteen",
    "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
)  # fmt: skip
_TENS_EN = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES_EN = ("", "thousand", "million", "billion", "trillion", "quadrillion")


def _under_1000_fa(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    words = [_HUNDREDS_FA[hundreds]] if hundreds else []
    if 10 <= rest < 20:
        words.append(_TEENS_FA[rest - 10])
    elif rest:
        tens, ones = divmod(rest, 10)
        words += [w for w in (_TENS_FA[tens], _ONES_FA[ones]) if w]
    return " و ".join(words)


def _under_1000_en(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    words = [f"{_ONES_EN[hundreds]} hundred"] if hundreds else []
    if 10 <= rest < 20:
        words.append(_TEENS_EN[rest - 10])
    elif rest:
        tens, ones = divmod(rest, 10)
        words.append("-".join(w for w in (_TENS_EN[tens], _ONES_EN[ones]) if w))
    return " ".join(words)


def number_in_words(n: int, locale: object = "fa") -> str:
    """Spell out an integer: «یکصد و بیست و پنج میلیون و چهارصد هزار»."""
    fa = language(locale) == "fa"
    if abs(n) > MAX_RIALS:
        raise ValueError("number too large to spell out")
    if n == 0:
        return "صفر" if fa else "zero"
    if n < 0:
        return ("منفی " if fa else "minus ") + number_in_words(-n, locale)
    groups = []
    scale = 0
    while n:
        n, group = divmod(n, 1000)
        if group:
            words = _under_1000_fa(group) if fa else _under_1000_en(group)
            name = (_SCALES_FA if fa else _SCALES_EN)[scale]
            groups.append(f"{words} {name}" if name else words)
        scale += 1
    return (" و " if fa else " ").join(reversed(groups))


def rial_in_words(amount: int, locale: object = "fa") -> str:
    """Spell out a rial amount with its unit: «... هزار ریال», "... thousand rials"."""
    if language(locale) == "fa":
        return number_in_words(amount, locale) + " ریال"
    return number_in_words(amount, locale) + (" rial" if abs(amount) == 1 else " rials")


def _grouped(number: str, locale: object) -> str:
    """Localise an ASCII number with "," thousands and "." decimals."""
    if language(locale) == "en":
        return number
    return to_persian_digits(number.replace(",", "٬").replace(".", "٫"))


def format_rial(amount: int, locale: object = "fa", *, unit: bool = True) -> str:
    """Format rials with thousands separators: «۱۲۵٬۴۰۰٬۰۰۰ ریال» or "125,400,000 rials"."""
    text = _grouped(f"{amount:,}", locale)
    if not unit:
        return text
    if language(locale) == "fa":
        return f"{text} ریال"
    return f"{text} {'rial' if abs(amount) == 1 else 'rials'}"


def rial_to_toman(amount: int) -> Decimal:
    """Convert rials to tomans (10 rials), exactly."""
    return Decimal(amount) / 10


def format_toman(amount: int, locale: object = "fa") -> str:
    """Format a rial amount as tomans, the unit citizens think in: «۱۲٬۵۴۰٬۰۰۰ تومان»."""
    tomans, tenths = divmod(abs(amount), 10)
    number = ("-" if amount < 0 else "") + f"{tomans:,}" + (f".{tenths}" if tenths else "")
    return _grouped(number, locale) + (" تومان" if language(locale) == "fa" else " tomans")


# Thousands separators people type: Persian ٬, comma, dot, Arabic comma, apostrophe and spaces.
_SEPARATOR = re.compile("([٬,.،'\u00a0\u2009\u202f ])")
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\u061c\ufeff]")


def parse_rial(value: str) -> int:
    """Parse a typed rial amount in any digits, with or without thousands separators.

    :raises InvalidValue: with key rial.empty, .format, .decimal, .negative or .too_large.
    """
    s = _INVISIBLE.sub("", to_ascii_digits(value)).strip()
    if not s:
        raise InvalidValue("rial.empty")
    if s[0] in "-\u2212" or s[-1] in "-\u2212":
        raise InvalidValue("rial.negative")
    if "٫" in s or "/" in s:
        raise InvalidValue("rial.decimal")  # the Persian decimal points
    pieces = _SEPARATOR.split(s)
    groups, separators = pieces[::2], pieces[1::2]
    if not all(g.isascii() and g.isdigit() for g in groups):
        raise InvalidValue("rial.format")
    if len(groups) > 1:
        if len(groups[0]) > 3 or any(len(g) != 3 for g in groups[1:-1]):
            raise InvalidValue("rial.format")
        if len(groups[-1]) != 3:
            decimal_like = separators[-1] in ".," and len(groups[-1]) < 3
            raise InvalidValue("rial.decimal" if decimal_like else "rial.format")
    amount = int("".join(groups))
    if amount > MAX_RIALS:
        raise InvalidValue("rial.too_large")
    return amount
