"""Rial display, amounts in words and parsing typed amounts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.persian.messages import InvalidValue, message
from app.persian.money import (
    MAX_RIALS,
    format_rial,
    format_toman,
    number_in_words,
    parse_rial,
    rial_in_words,
    rial_to_toman,
)
from tests.persian.variants import LRM, RLM

property_settings = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize(
    ("n", "fa", "en"),
    [
        (0, "صفر", "zero"),
        (1, "یک", "one"),
        (10, "ده", "ten"),
        (11, "یازده", "eleven"),
        (19, "نوزده", "nineteen"),
        (20, "بیست", "twenty"),
        (21, "بیست و یک", "twenty-one"),
        (100, "یکصد", "one hundred"),
        (101, "یکصد و یک", "one hundred one"),
        (110, "یکصد و ده", "one hundred ten"),
        (999, "نهصد و نود و نه", "nine hundred ninety-nine"),
        (1000, "یک هزار", "one thousand"),
        (1001, "یک هزار و یک", "one thousand one"),
        (2500, "دو هزار و پانصد", "two thousand five hundred"),
        (1_000_000, "یک میلیون", "one million"),
        (1_000_001, "یک میلیون و یک", "one million one"),
        (48_500_000, "چهل و هشت میلیون و پانصد هزار", "forty-eight million five hundred thousand"),
        (1_000_000_000, "یک میلیارد", "one billion"),
        (1_000_000_000_000, "یک تریلیون", "one trillion"),
        (-5, "منفی پنج", "minus five"),
    ],
)
def test_numbers_in_words(n: int, fa: str, en: str) -> None:
    assert number_in_words(n) == fa
    assert number_in_words(n, "en") == en


def test_rial_in_words_reference_amount() -> None:
    assert rial_in_words(125_400_000) == "یکصد و بیست و پنج میلیون و چهارصد هزار ریال"
    assert rial_in_words(125_400_000, "en") == (
        "one hundred twenty-five million four hundred thousand rials"
    )
    assert rial_in_words(1, "en") == "one rial"
    assert rial_in_words(0) == "صفر ریال"


def test_words_refuse_numbers_beyond_the_scale() -> None:
    assert number_in_words(MAX_RIALS)
    with pytest.raises(ValueError, match="large"):
        number_in_words(MAX_RIALS + 1)


@given(st.integers(min_value=1, max_value=MAX_RIALS))
@property_settings
def test_words_are_well_formed(n: int) -> None:
    fa, en = number_in_words(n), number_in_words(n, "en")
    assert "  " not in f"{fa}|{en}"
    assert not fa.startswith("و ")
    assert not fa.endswith(" و")
    assert "و و" not in fa
    assert "صفر" not in fa
    assert "zero" not in en


def test_format_rial() -> None:
    assert format_rial(125_400_000) == "۱۲۵٬۴۰۰٬۰۰۰ ریال"
    assert format_rial(125_400_000, "en") == "125,400,000 rials"
    assert format_rial(125_400_000, unit=False) == "۱۲۵٬۴۰۰٬۰۰۰"
    assert format_rial(999) == "۹۹۹ ریال"
    assert format_rial(0) == "۰ ریال"
    assert format_rial(1, "en") == "1 rial"


def test_toman_equivalent() -> None:
    assert rial_to_toman(125_400_005) == Decimal("12540000.5")
    assert format_toman(125_400_000) == "۱۲٬۵۴۰٬۰۰۰ تومان"
    assert format_toman(15) == "۱٫۵ تومان"
    assert format_toman(125_400_000, "en") == "12,540,000 tomans"


@pytest.mark.parametrize(
    "typed",
    [
        "125400000",
        "۱۲۵٬۴۰۰٬۰۰۰",
        "١٢٥٬٤٠٠٬٠٠٠",
        "125,400,000",
        "125.400.000",
        "125 400 000",
        "۱۲۵،۴۰۰،۰۰۰",
        "125\u00a0400\u00a0000",
        f" {RLM}۱۲۵٬۴۰۰٬۰۰۰{RLM} ",
        f"{LRM}125,400,000",
    ],
)
def test_parse_rial_accepts_any_digits_and_separators(typed: str) -> None:
    assert parse_rial(typed) == 125_400_000


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("", "rial.empty"),
        ("  ", "rial.empty"),
        ("12.5", "rial.decimal"),
        ("۱۲٫۵", "rial.decimal"),
        ("۱۲/۵", "rial.decimal"),
        ("1,000.50", "rial.decimal"),
        ("-1000", "rial.negative"),
        ("\u22121000", "rial.negative"),
        ("۱۰۰۰-", "rial.negative"),
        ("1,2345", "rial.format"),
        ("1234,567", "rial.format"),
        ("12 34", "rial.format"),
        ("1,,000", "rial.format"),
        ("abc", "rial.format"),
        ("۱۰۰۰ ریال", "rial.format"),
        ("1" * 19, "rial.too_large"),
    ],
)
def test_parse_rial_rejections(typed: str, key: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_rial(typed)
    assert caught.value.key == key
    assert message(key)


@given(st.integers(min_value=0, max_value=MAX_RIALS), st.sampled_from(["fa", "en"]))
@property_settings
def test_formatted_amounts_parse_back(amount: int, locale: str) -> None:
    assert parse_rial(format_rial(amount, locale, unit=False)) == amount
