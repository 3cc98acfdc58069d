"""Every custom format: valid, invalid and edge input, after Persian normalisation."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from app.forms.formats import FORMATS, canonical, check_jalali, format_checker

ZWNJ = "\u200c"


def valid(name: str, value: object) -> bool:
    schema = {"format": name}
    return Draft202012Validator(schema, format_checker=format_checker()).is_valid(value)


@pytest.mark.parametrize(
    ("name", "typed", "stored"),
    [
        ("national-code", "۰۰۷۶۲۲۹۶۴۵", "0076229645"),  # Persian digits
        ("national-code", "٠٠٧٦٢٢٩٦٤٥", "0076229645"),  # Arabic-Indic digits
        ("national-code", f"۱۳۶{ZWNJ}۰۵۲ ۴۱۸۵", "1360524185"),  # ZWNJ and a space pasted in
        ("national-code", "11537027", "0011537027"),  # a legacy 8-digit card
        ("legal-id", "۱۰۸۶۲۱۳۴۵۰۷", "10862134507"),
        ("mobile", "+989140001001", "09140001001"),
        ("mobile", "۹۱۴۰۰۰۱۰۰۱", "09140001001"),
        ("postal-code", "51666-14776", "5166614776"),
        ("iban", "ir38 0170 0000 0011 0234 5670 01", "IR380170000000110234567001"),
        ("registry-plate-section", "۳", "3"),
        ("registry-plate-main", "211-253-254", "211-253-254"),
        ("registry-plate-sub", "۴۲۱۷", "4217"),
        ("renewal-code", "۹-۲-۱۵-۳۷-۱-۰-۰", "9-2-15-37-1-0-0"),
        ("renewal-code", "9 2 15 37 1 0 0", "9-2-15-37-1-0-0"),  # spaces instead of hyphens
        ("dang", "۲٫۵", 2.5),
        ("dang", "6", 6),
        ("jalali-date", {"day": "۳۰", "month": "۱۲", "year": "۱۴۰۳"}, "1403-12-30"),  # leap year
        ("rial", "۱۲۵٬۴۰۰٬۰۰۰", 125400000),
        ("rial", "125,400,000", 125400000),
        ("email", " name@example.ir ", "name@example.ir"),
    ],
)
def test_typed_input_becomes_the_canonical_value(name: str, typed: object, stored: object) -> None:
    value, key = canonical(FORMATS[name], typed)
    assert key is None
    assert value == stored
    assert type(value) is type(stored)
    assert valid(name, value)


@pytest.mark.parametrize(
    ("name", "typed", "key"),
    [
        ("national-code", "1360524186", "national_code.checksum"),
        ("national-code", "۱۱۱۱۱۱۱۱۱۱", "national_code.repeated"),
        ("national-code", "0130000000", "national_code.zeros"),
        ("national-code", "12345678901", "national_code.length"),  # too long
        ("national-code", "13605241ab", "national_code.not_digits"),
        ("national-code", "", "national_code.empty"),
        ("legal-id", "10862134508", "legal_id.checksum"),
        ("mobile", "0914000100", "mobile.length"),
        ("mobile", "02133334444", "mobile.prefix"),
        ("postal-code", "516661477", "postal_code.length"),
        ("iban", "IR390170000000110234567001", "iban.checksum"),
        ("iban", "DE89370400440532013000", "iban.country"),
        ("registry-plate-section", "0", "plate.section"),
        ("registry-plate-main", "72/1617", "plate.main"),
        ("registry-plate-sub", "abc", "plate.sub"),
        ("renewal-code", "9-2-15", "renewal_code.parts"),
        ("dang", "7", "dang.range"),
        ("dang", "0", "dang.range"),
        ("dang", "2.555", "dang.precision"),
        ("dang", "دو", "dang.format"),
        ("jalali-date", {"day": "30", "month": "12", "year": "1404"}, "jalali.leap"),
        ("jalali-date", {"day": "31", "month": "7", "year": "1404"}, "jalali.day"),
        ("jalali-date", {"day": "1", "month": "13", "year": "1404"}, "jalali.month"),
        ("jalali-date", {"day": "1", "month": "", "year": "1404"}, "jalali.incomplete"),
        ("jalali-date", {"day": "یک", "month": "1", "year": "1404"}, "jalali.not_number"),
        ("rial", "12.5", "rial.decimal"),
        ("rial", "-5000", "rial.negative"),
        ("rial", "1,23,4", "rial.format"),
        ("rial", "1" * 20, "rial.too_large"),
        ("email", "name@", "email.invalid"),
        ("email", "نام@example.ir", "email.invalid"),
    ],
)
def test_invalid_input_is_kept_as_typed_with_a_message_key(
    name: str, typed: object, key: str
) -> None:
    value, found = canonical(FORMATS[name], typed)
    assert found == key
    assert value == typed  # kept so the page can show it again
    assert not valid(name, typed)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_html_in_a_value_is_invalid_for_every_format(name: str) -> None:
    typed: object = "<script>alert(1)</script>"
    if name == "jalali-date":
        typed = {"day": typed, "month": "1", "year": "1404"}
    assert canonical(FORMATS[name], typed)[1] is not None


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_format_has_an_example_that_passes(name: str) -> None:
    example = FORMATS[name].example
    typed = example
    if name == "jalali-date":
        year, month, day = example.split("-")
        typed = {"day": day, "month": month, "year": year}  # type: ignore[assignment]
    assert canonical(FORMATS[name], typed)[1] is None


def test_wrong_types_are_reported_by_the_checker_not_crashed_on() -> None:
    # A number is the type keyword's business (it would lose leading zeros): refused there.
    assert valid("national-code", 1360524185)
    typed = {"type": "string", "format": "national-code"}
    assert not Draft202012Validator(typed, format_checker=format_checker()).is_valid(1360524185)
    assert valid("rial", 125_400_000)
    assert not valid("rial", -1)
    assert not valid("rial", 10**19)
    assert valid("dang", 2.5)
    assert not valid("dang", 6.5)
    assert valid("national-code", None)  # null is the type keyword's business


def test_jalali_check_accepts_the_canonical_string() -> None:
    assert check_jalali("1404-07-01").value == "1404-07-01"
    assert check_jalali("1404-7-1").error == "jalali.not_number"
