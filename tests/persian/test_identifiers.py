"""Identifier validators against the vectors of domain.md §4 and §9, typed every way."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.persian.identifiers import (
    BillCheck,
    Check,
    calbit,
    check_bill_id,
    check_bill_payment,
    check_iban,
    check_legal_id,
    check_mobile,
    check_national_code,
    check_postal_code,
    check_tracking_code,
    format_postal_code,
    iban_bank,
    iban_check_digits,
    make_bill_id,
    make_payment_id,
    mobile_operator,
    new_tracking_code,
)
from app.persian.messages import MESSAGES, message
from tests.persian.variants import typed_variants

# The autouse database fixture of tests/conftest.py is function-scoped; these properties
# do not touch it, so reusing it across examples is harmless.
property_settings = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def assert_valid(result: Check, canonical: str) -> None:
    assert (result.ok, result.error, result.value) == (True, None, canonical)


def assert_rejected(result: Check, key: str) -> None:
    assert (result.ok, result.error) == (False, key)
    assert result.message("fa")
    assert result.message("en")
    assert result.message("fa") != result.message("en")


# --- national code -------------------------------------------------------------------------------

NATIONAL_CODES = [
    "0076229645",
    "1583250689",
    "0011537027",
    # domain.md §9 fixtures
    "1360524185",
    "1382046170",
    "0084127759",
    "1367710944",
    "1375903381",
    "1380335124",
    "1361188278",
]


@pytest.mark.parametrize("code", NATIONAL_CODES)
def test_national_code_vectors_pass_however_typed(code: str) -> None:
    for typed in typed_variants(code):
        result = check_national_code(typed)
        assert_valid(result, code)
        assert result.warnings == ()


@pytest.mark.parametrize(
    ("typed", "canonical"), [("11537027", "0011537027"), ("76229645", "0076229645")]
)
def test_legacy_short_national_codes_are_zero_padded(typed: str, canonical: str) -> None:
    for variant in typed_variants(typed):
        assert_valid(check_national_code(variant), canonical)


@pytest.mark.parametrize(
    ("code", "key"),
    [
        ("1360524186", "national_code.checksum"),
        ("1111111111", "national_code.repeated"),
        ("123456788", "national_code.checksum"),
        ("0130000000", "national_code.zeros"),
        ("0000000000", "national_code.repeated"),
        ("1234567", "national_code.length"),
        ("13605241850", "national_code.length"),
        ("13605a4185", "national_code.not_digits"),
        ("۱۳۶۰۵۲۴۱۸۵/", "national_code.not_digits"),
        ("", "national_code.empty"),
        (" \u200f ", "national_code.empty"),
    ],
)
def test_national_code_failures_have_specific_keys(code: str, key: str) -> None:
    for typed in typed_variants(code):
        assert_rejected(check_national_code(typed), key)


def test_unknown_national_code_prefix_only_warns() -> None:
    # 123456789 pads to 0123456789, passes the checksum, and 012 issues no codes (domain.md §4).
    tabriz_and_tehran = {"136", "137", "138", *(f"00{i}" for i in range(1, 9))}
    result = check_national_code("123456789", known_prefixes=tabriz_and_tehran)
    assert_valid(result, "0123456789")
    assert result.warnings == ("national_code.unknown_prefix",)
    assert check_national_code("1360524185", known_prefixes=tabriz_and_tehran).warnings == ()
    # Without a configured list there is nothing to compare against, so no warning.
    assert check_national_code("123456789").warnings == ()


def test_every_single_digit_change_of_a_national_code_is_caught() -> None:
    code = "1360524185"
    for i in range(10):
        for digit in "0123456789":
            changed = code[:i] + digit + code[i + 1 :]
            if changed != code:
                assert not check_national_code(changed).ok, changed


# --- legal-entity ID -----------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["10380284790", "10862134507"])
def test_legal_id_vectors_pass(code: str) -> None:
    for typed in typed_variants(code):
        assert_valid(check_legal_id(typed), code)


@pytest.mark.parametrize(
    ("code", "key"),
    [
        ("10862134508", "legal_id.checksum"),
        ("00000000000", "legal_id.zeros"),
        ("10300000090", "legal_id.zeros"),
        ("1038028479", "legal_id.length"),
        ("1038028479O", "legal_id.not_digits"),
        ("", "legal_id.empty"),
    ],
)
def test_legal_id_failures(code: str, key: str) -> None:
    for typed in typed_variants(code):
        assert_rejected(check_legal_id(typed), key)


# --- mobile --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    ["09140001001", "+989140001001", "9140001001", "989140001001", "00989140001001"],
)
def test_mobile_prefixes_are_accepted_and_stored_as_09(number: str) -> None:
    for typed in typed_variants(number):
        result = check_mobile(typed)
        assert_valid(result, "09140001001")
        assert result.warnings == ()


@pytest.mark.parametrize(
    ("number", "key"),
    [
        ("0914000100", "mobile.length"),
        ("091400010011", "mobile.length"),
        ("+98914000100", "mobile.length"),
        ("04133334444", "mobile.prefix"),
        ("+15551234567", "mobile.prefix"),
        ("0914000100x", "mobile.not_digits"),
        ("", "mobile.empty"),
    ],
)
def test_mobile_failures(number: str, key: str) -> None:
    for typed in typed_variants(number):
        assert_rejected(check_mobile(typed), key)


def test_unlisted_operator_prefix_only_warns() -> None:
    result = check_mobile("۰۹۴۰۰۰۰۱۰۰۱")
    assert_valid(result, "09400001001")
    assert result.warnings == ("mobile.unknown_operator",)
    assert mobile_operator("09140001001") == "MCI"
    assert mobile_operator("09350001001") == "Irancell"
    assert mobile_operator("09400001001") is None


# --- postal code ---------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["5166614776", "5153715311", "5138893611", "5197743195"])
def test_postal_code_vectors_pass_without_warning(code: str) -> None:
    for typed in typed_variants(code):
        result = check_postal_code(typed)
        assert_valid(result, code)
        assert result.warnings == ()


@pytest.mark.parametrize("code", ["1234567890", "5555511111"])
def test_unlikely_postal_codes_only_warn(code: str) -> None:
    result = check_postal_code(code)
    assert_valid(result, code)
    assert result.warnings == ("postal_code.unlikely",)
    assert message("postal_code.unlikely")


@pytest.mark.parametrize(
    ("code", "key"),
    [
        ("516661477", "postal_code.length"),
        ("51666x4776", "postal_code.not_digits"),
        ("", "postal_code.empty"),
    ],
)
def test_postal_code_failures(code: str, key: str) -> None:
    for typed in typed_variants(code):
        assert_rejected(check_postal_code(typed), key)


def test_postal_code_display_form() -> None:
    assert format_postal_code("5166614776") == "51666-14776"


# --- IBAN (شبا) ----------------------------------------------------------------------------------

IBAN = "IR380170000000110234567001"


@pytest.mark.parametrize(
    "typed",
    [
        IBAN,
        IBAN.lower(),
        "ir38 0170 0000 0011 0234 5670 01",
        IBAN[2:],
        "IR۳۸۰۱۷۰۰۰۰۰۰۰۱۱۰۲۳۴۵۶۷۰۰۱",
    ],
)
def test_iban_vector_passes_in_any_case_spacing_or_digits(typed: str) -> None:
    for variant in typed_variants(typed):
        assert_valid(check_iban(variant), IBAN)
    assert iban_bank(IBAN) == "بانک ملی ایران"
    assert iban_bank(IBAN, "en") == "Bank Melli Iran"


def test_any_digit_changed_fails_the_iban_checksum() -> None:
    for i in range(2, len(IBAN)):
        for digit in "0123456789":
            changed = IBAN[:i] + digit + IBAN[i + 1 :]
            if changed != IBAN:
                assert_rejected(check_iban(changed), "iban.checksum")


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("DE89370400440532013000", "iban.country"),
        ("IR38017000000011023456700", "iban.length"),
        ("IR38017000000011023456700X", "iban.not_digits"),
        ("38017", "iban.length"),
        ("", "iban.empty"),
    ],
)
def test_iban_failures(typed: str, key: str) -> None:
    assert_rejected(check_iban(typed), key)


@given(st.text(alphabet="0123456789", min_size=22, max_size=22))
@property_settings
def test_iban_check_digits_build_valid_ibans(bban: str) -> None:
    assert check_iban("IR" + iban_check_digits(bban) + bban).ok


# --- bill and payment IDs -----------------------------------------------------------------------

BILLS = [
    ("8600372918060", "12540040704", 125_400_000),
    ("5166004421063", "4850040333", 48_500_000),
]


@pytest.mark.parametrize(("bill", "pay", "amount"), BILLS)
def test_bill_vectors_decode_amount_and_municipal_type(bill: str, pay: str, amount: int) -> None:
    for typed_bill, typed_pay in zip(typed_variants(bill), typed_variants(pay), strict=True):
        result = check_bill_payment(typed_bill, typed_pay)
        assert isinstance(result, BillCheck)
        assert (result.ok, result.error) == (True, None)
        assert (result.bill_id, result.payment_id) == (bill, pay)
        assert result.amount_rials == amount
        assert result.bill_type == "6"
        assert result.value == bill.zfill(13) + pay.zfill(13)  # the 26-digit barcode
    assert_valid(check_bill_id(bill), bill)


@pytest.mark.parametrize(("bill", "pay", "amount"), BILLS)
def test_generators_reproduce_the_bill_vectors(bill: str, pay: str, amount: int) -> None:
    assert make_bill_id(bill[:8], bill[8:11]) == bill
    assert make_payment_id(amount, int(pay[-5]), int(pay[-4:-2]), bill) == pay


def test_bill_failures_name_the_field_at_fault() -> None:
    assert_rejected(check_bill_payment("8600372918061", "12540040704"), "bill_id.checksum")
    assert_rejected(check_bill_payment("8600372918060", "12540040705"), "payment_id.checksum")
    assert_rejected(check_bill_payment("8600372918060", "13540040704"), "payment_id.checksum")
    # Both IDs valid on their own, but from different bills.
    assert_rejected(check_bill_payment("5166004421063", "12540040704"), "payment_id.checksum")
    assert_rejected(check_bill_payment("", "12540040704"), "bill_id.empty")
    assert_rejected(check_bill_payment("86003", "12540040704"), "bill_id.length")
    assert_rejected(check_bill_payment("86003729180600", "12540040704"), "bill_id.length")
    assert_rejected(check_bill_payment("8600372918060", ""), "payment_id.empty")
    assert_rejected(check_bill_payment("8600372918060", "12345"), "payment_id.length")
    assert_rejected(check_bill_payment("8600372918060", "1254004070X"), "payment_id.not_digits")
    assert_rejected(check_bill_id("86003729180a0"), "bill_id.not_digits")


def test_bill_id_with_an_unknown_type_digit_is_rejected() -> None:
    body = "86003729180" + "7"  # 7 is no bill type of the standard
    assert_rejected(check_bill_id(body + str(calbit(body))), "bill_id.type")


def test_calbit_weights_restart_after_seven() -> None:
    # weights from the right: 2,3,4,5,6,7,2 → 1*2 = 2 for the seventh digit; 2 % 11 → 11 - 2 = 9
    assert calbit("1000000") == 9
    assert calbit("0000000") == 0
    assert calbit("1") == 9  # 2 → 11 - 2


@given(
    file_id=st.text(alphabet="0123456789", min_size=1, max_size=8),
    company=st.text(alphabet="0123456789", min_size=3, max_size=3),
    thousands=st.integers(min_value=1, max_value=99_999_999),
    year=st.integers(min_value=0, max_value=9),
    period=st.integers(min_value=0, max_value=99),
)
@property_settings
def test_generated_bills_round_trip(
    file_id: str, company: str, thousands: int, year: int, period: int
) -> None:
    bill = make_bill_id(file_id, company)
    pay = make_payment_id(thousands * 1000, year, period, bill)
    result = check_bill_payment(bill, pay)
    assert result.ok, result
    assert result.amount_rials == thousands * 1000
    assert result.bill_type == "6"
    assert len(result.value) == 26


@pytest.mark.parametrize(
    "args", [(1500, 4, 7), (0, 4, 7), (-1000, 4, 7), (1000, 10, 7), (1000, 4, 100), (10**11, 4, 7)]
)
def test_make_payment_id_refuses_what_the_standard_cannot_encode(
    args: tuple[int, int, int],
) -> None:
    with pytest.raises(ValueError, match=r"."):
        make_payment_id(*args, bill_id="8600372918060")


def test_make_bill_id_refuses_bad_parts() -> None:
    for file_id, company, kind in [
        ("", "180", "6"),
        ("123456789", "180", "6"),
        ("1", "18", "6"),
        ("1", "180", "7"),
    ]:
        with pytest.raises(ValueError, match=r"."):
            make_bill_id(file_id, company, kind)


# --- tracking code -------------------------------------------------------------------------------

TRACKING_CODES = ["094730192589", "091186403725", "096029571144", "098352014664", "092607183955"]


@pytest.mark.parametrize("code", TRACKING_CODES)
def test_tracking_code_vectors_pass(code: str) -> None:
    for typed in typed_variants(code):
        assert_valid(check_tracking_code(typed), code)


@pytest.mark.parametrize(
    ("code", "key"),
    [
        ("094730192588", "tracking_code.checksum"),
        ("09473019258", "tracking_code.length"),
        ("0947301925890", "tracking_code.length"),
        ("09473O192589", "tracking_code.not_digits"),
        ("", "tracking_code.empty"),
    ],
)
def test_tracking_code_failures(code: str, key: str) -> None:
    for typed in typed_variants(code):
        assert_rejected(check_tracking_code(typed), key)


@given(district=st.integers(min_value=0, max_value=99), rng=st.randoms(use_true_random=False))
@property_settings
def test_any_generated_tracking_code_validates(district: int, rng: random.Random) -> None:
    code = new_tracking_code(str(district), rng)
    assert check_tracking_code(code).ok
    assert code.startswith(f"{district:02d}")
    assert len(code) == 12


@given(
    rng=st.randoms(use_true_random=False),
    position=st.integers(min_value=0, max_value=11),
    digit=st.sampled_from("0123456789"),
)
@property_settings
def test_changing_one_digit_of_a_tracking_code_fails(
    rng: random.Random, position: int, digit: str
) -> None:
    code = new_tracking_code("09", rng)
    changed = code[:position] + digit + code[position + 1 :]
    if changed == code:
        return
    # calbit maps remainders 0 and 1 both to check digit 0, the one blind spot of the standard.
    blind_spot = code[-1] == "0" and position < 11
    assert check_tracking_code(changed).ok is False or blind_spot


def test_calbit_blind_spot_is_real_and_narrow() -> None:
    # Documented so nobody relies on the check digit alone: both bodies give check digit 0.
    assert calbit("00000000000") == calbit("00000000006") == 0
    assert check_tracking_code("000000000060").ok
    assert check_tracking_code("000000000000").ok


def test_tracking_code_default_rng_is_random() -> None:
    codes = {new_tracking_code("۹") for _ in range(50)}
    assert len(codes) == 50
    assert all(c.startswith("09") and check_tracking_code(c).ok for c in codes)


@pytest.mark.parametrize("district", ["", "100", "x9", "-1"])
def test_tracking_code_needs_a_one_or_two_digit_district(district: str) -> None:
    with pytest.raises(ValueError, match="district"):
        new_tracking_code(district)


# --- catalogue -----------------------------------------------------------------------------------


def test_every_message_has_persian_and_english_text() -> None:
    for key, texts in MESSAGES.items():
        assert set(texts) == {"fa", "en"}, key
        assert texts["fa"].strip(), key
        assert texts["en"].strip(), key
        assert any("\u0600" <= ch <= "\u06ff" for ch in texts["fa"]), key
        # Persian texts show Persian digits.
        assert not any(ch in "0123456789" for ch in texts["fa"]), key


def test_message_falls_back_to_persian_for_unknown_locales() -> None:
    assert message("mobile.empty", "en_US") == MESSAGES["mobile.empty"]["en"]
    assert message("mobile.empty", "de") == MESSAGES["mobile.empty"]["fa"]
    assert message("mobile.empty", None) == MESSAGES["mobile.empty"]["fa"]


def test_valid_check_has_no_message() -> None:
    assert check_mobile("09140001001").message() is None
