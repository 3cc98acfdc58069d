"""Renewal code, registry plate and دانگ shares."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.persian.messages import InvalidValue
from app.persian.property import (
    RegistryPlate,
    check_dang,
    check_plate_numbers,
    check_plate_section,
    check_renewal_code,
    format_dang,
    plate_in_words,
    renewal_code_parts,
)

# --- کد نوسازی ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("9-2-15-37-1-0-0", "9-2-15-37-1-0-0"),
        ("9-2-15-37-1-5-0", "9-2-15-37-1-5-0"),
        ("۹-۲-۱۵-۳۷-۱-۰-۰", "9-2-15-37-1-0-0"),
        ("٩-٢-١٥-٣٧-١-٥-٠", "9-2-15-37-1-5-0"),
        (" 09 – 02 - 15 - 37 - 1 - 0 - 0 ", "9-2-15-37-1-0-0"),
        ("\u200f9-2-15-37-1-0-0\u200f", "9-2-15-37-1-0-0"),
    ],
)
def test_renewal_code_is_canonicalised(typed: str, canonical: str) -> None:
    result = check_renewal_code(typed)
    assert (result.ok, result.value) == (True, canonical)


def test_renewal_code_parts_are_integers() -> None:
    assert renewal_code_parts("۹-۲-۱۵-۳۷-۱-۵-۰") == (9, 2, 15, 37, 1, 5, 0)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("", "renewal_code.empty"),
        ("9-2-15-37-1-0", "renewal_code.parts"),
        ("9-2-15-37-1-0-0-0", "renewal_code.parts"),
        ("9 2 15 37 1 0 0", "renewal_code.parts"),
        ("9/2/15/37/1/0/0", "renewal_code.parts"),
        ("9-2-15-37-1-0-x", "renewal_code.not_digits"),
        ("9--15-37-1-0-0", "renewal_code.not_digits"),
    ],
)
def test_renewal_code_failures(typed: str, key: str) -> None:
    result = check_renewal_code(typed)
    assert (result.ok, result.error) == (False, key)
    assert result.message()
    with pytest.raises(InvalidValue) as caught:
        renewal_code_parts(typed)
    assert caught.value.key == key


# --- پلاک ثبتی ---------------------------------------------------------------------------------


def test_plate_in_words_matches_the_reference_sentence() -> None:
    plate = RegistryPlate.parse("۳", "۷۲", "۱۶۱۷", "تبریز")
    assert plate == RegistryPlate(section=3, main=(72,), sub=(1617,), unit="تبریز")
    assert plate_in_words(plate) == "پلاک ۱۶۱۷ فرعی از ۷۲ اصلی، بخش ۳ تبریز"
    assert plate_in_words(plate, "en") == (
        "Sub-plate 1617 of main plate 72, registration section 3, تبریز"
    )


def test_plate_lists_are_read_as_lists() -> None:
    plate = RegistryPlate.parse(3, "211-253-254", "6932-6933")
    assert (plate.main, plate.sub) == ((211, 253, 254), (6932, 6933))
    assert (plate.main_text, plate.sub_text) == ("211-253-254", "6932-6933")
    assert plate_in_words(plate) == "پلاک‌های ۶۹۳۲ و ۶۹۳۳ فرعی از ۲۱۱، ۲۵۳ و ۲۵۴ اصلی، بخش ۳"
    assert plate_in_words(plate, "en") == (
        "Sub-plates 6932 and 6933 of main plates 211, 253 and 254, registration section 3"
    )


def test_plate_without_sub() -> None:
    plate = RegistryPlate.parse("5", "310", None, "تبریز")
    assert plate.sub == ()
    assert plate_in_words(plate) == "پلاک ۳۱۰ اصلی، بخش ۵ تبریز"
    assert plate_in_words(plate, "en") == "Main plate 310, registration section 5, تبریز"


def test_plate_words_never_contain_a_bare_slash() -> None:
    plate = RegistryPlate.parse(3, "125", "4217")
    assert "/" not in plate_in_words(plate) + plate_in_words(plate, "en")


@pytest.mark.parametrize(
    ("section", "main", "sub", "key"),
    [
        ("0", "72", "1617", "plate.section"),
        ("-3", "72", "1617", "plate.section"),
        ("", "72", "1617", "plate.section"),
        ("3", "", "1617", "plate.main_empty"),
        ("3", "72/1617", "", "plate.main"),
        ("3", "0", "", "plate.main"),
        ("3", "72-", "", "plate.main"),
        ("3", "72", "0", "plate.sub"),
        ("3", "72", "16a7", "plate.sub"),
    ],
)
def test_plate_failures(section: str, main: str, sub: str, key: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        RegistryPlate.parse(section, main, sub)
    assert caught.value.key == key


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"section": 0, "main": (72,)}, "plate.section"),
        ({"section": 3, "main": ()}, "plate.main_empty"),
        ({"section": 3, "main": (72, -1)}, "plate.main"),
        ({"section": 3, "main": (72,), "sub": (0,)}, "plate.sub"),
    ],
)
def test_plate_constructor_validates_too(kwargs: dict[str, object], key: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        RegistryPlate(**kwargs)  # type: ignore[arg-type]
    assert caught.value.key == key


def test_plate_field_checks_for_forms() -> None:
    assert check_plate_section("۰۳").value == "3"
    assert check_plate_numbers("۲۱۱ - ۲۵۳ - ۲۵۴").value == "211-253-254"
    assert check_plate_numbers("", sub=True).ok
    assert check_plate_numbers("").error == "plate.main_empty"


# --- دانگ --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("6", "6"),
        ("۶", "6"),
        ("4", "4"),
        ("2.5", "2.5"),
        ("۲٫۵", "2.5"),
        ("۲/۵", "2.5"),
        ("٢٫٥", "2.5"),
        ("2,5", "2.5"),
        ("2.50", "2.5"),
        ("0.25", "0.25"),
        (".5", "0.5"),
        ("6.00", "6"),
        (Decimal("1.5"), "1.5"),
        (3, "3"),
    ],
)
def test_dang_shares_accepted(typed: str | int | Decimal, canonical: str) -> None:
    result = check_dang(typed)
    assert (result.ok, result.error, result.value) == (True, None, canonical)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("", "dang.empty"),
        ("0", "dang.range"),
        ("0.00", "dang.range"),
        ("6.01", "dang.range"),
        ("7", "dang.range"),
        ("-1", "dang.format"),
        ("2..5", "dang.format"),
        ("دو", "dang.format"),
        ("2.555", "dang.precision"),
        ("0.125", "dang.precision"),
    ],
)
def test_dang_failures(typed: str, key: str) -> None:
    result = check_dang(typed)
    assert (result.ok, result.error) == (False, key)
    assert result.message()


def test_dang_display() -> None:
    assert format_dang("2.5") == "۲٫۵ دانگ"
    assert format_dang("6") == "ششدانگ"
    assert format_dang(Decimal("6.00")) == "ششدانگ"
    assert format_dang("4", "en") == "4 dang"
    assert format_dang("6", "en") == "6 dang (whole)"
