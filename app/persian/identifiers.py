"""Validators and generators for Iranian identifiers, with the algorithms of domain.md §4."""

from __future__ import annotations

import random
import re
import secrets
from collections.abc import Collection
from dataclasses import dataclass

from app.persian.messages import MESSAGES, InvalidValue, language, message
from app.persian.text import normalize_identifier, to_ascii_digits

__all__ = [
    "BILL_TYPES",
    "IBAN_BANKS",
    "MESSAGES",
    "MOBILE_OPERATORS",
    "MUNICIPAL_FEES",
    "BillCheck",
    "Check",
    "InvalidValue",
    "calbit",
    "check_bill_id",
    "check_bill_payment",
    "check_iban",
    "check_legal_id",
    "check_mobile",
    "check_national_code",
    "check_postal_code",
    "check_tracking_code",
    "format_postal_code",
    "iban_bank",
    "iban_check_digits",
    "make_bill_id",
    "make_payment_id",
    "message",
    "mobile_operator",
    "new_tracking_code",
]

_DIGITS = re.compile("[0-9]+")


@dataclass(frozen=True)
class Check:
    """The outcome of validating one value: canonical form, error key and warning keys."""

    ok: bool
    value: str
    error: str | None = None
    warnings: tuple[str, ...] = ()

    def message(self, locale: object = "fa") -> str | None:
        """Return the error text in the locale's language, or None when valid."""
        return None if self.error is None else message(self.error, locale)


def _fail(value: str, key: str) -> Check:
    return Check(ok=False, value=value, error=key)


def _digits_check(raw: str, kind: str, lengths: Collection[int]) -> Check | None:
    """Return the failure for empty, non-digit or wrong-length input, or None when it is fine."""
    if not raw:
        return _fail(raw, f"{kind}.empty")
    if not _DIGITS.fullmatch(raw):
        return _fail(raw, f"{kind}.not_digits")
    if len(raw) not in lengths:
        return _fail(raw, f"{kind}.length")
    return None


# --- کد ملی -----------------------------------------------------------------------------------


def check_national_code(value: str, *, known_prefixes: Collection[str] | None = None) -> Check:
    """Validate a national code (کد ملی); 8 and 9 digits are legacy cards, zero-padded.

    An unknown issuing-office prefix is only a warning, and only checked when the deployment
    supplies its list of prefixes (the list changes; domain.md §4).
    """
    s = normalize_identifier(value)
    if failed := _digits_check(s, "national_code", (8, 9, 10)):
        return failed
    s = s.zfill(10)
    if len(set(s)) == 1:
        return _fail(s, "national_code.repeated")
    if s[3:9] == "000000":
        return _fail(s, "national_code.zeros")
    r = sum(int(s[i]) * (10 - i) for i in range(9)) % 11
    if int(s[9]) != (r if r < 2 else 11 - r):
        return _fail(s, "national_code.checksum")
    if known_prefixes is not None and s[:3] not in known_prefixes:
        return Check(ok=True, value=s, warnings=("national_code.unknown_prefix",))
    return Check(ok=True, value=s)


# --- شناسه ملی اشخاص حقوقی ------------------------------------------------------------------------


def check_legal_id(value: str) -> Check:
    """Validate a legal-entity national ID (شناسه ملی), 11 digits."""
    s = normalize_identifier(value)
    if failed := _digits_check(s, "legal_id", (11,)):
        return failed
    if int(s) == 0 or s[3:9] == "000000":
        return _fail(s, "legal_id.zeros")
    d = [int(c) for c in s]
    k = d[9] + 2
    coef = (29, 27, 23, 19, 17)
    r = sum((k + d[i]) * coef[i % 5] for i in range(10)) % 11
    if d[10] != (0 if r == 10 else r):
        return _fail(s, "legal_id.checksum")
    return Check(ok=True, value=s)


# --- تلفن همراه --------------------------------------------------------------------------------

# Operator prefixes are data that change (domain.md §4), hence a warning, never an error.
MOBILE_OPERATORS: dict[str, str] = {
    **{f"91{i}": "MCI" for i in range(10)},
    **{f"99{i}": "MCI" for i in range(7)},
    **{f"90{i}": "Irancell" for i in range(6)},
    **{p: "Irancell" for p in ("930", "933", "935", "936", "937", "938", "939", "941")},
    **{f"92{i}": "RighTel" for i in range(4)},
    "932": "Taliya",
    "998": "Shatel",
    "999": "Aptel",
}

_MOBILE = re.compile(r"(?:\+98|0098|98|0)?9[0-9]{9}")


def mobile_operator(canonical: str) -> str | None:
    """Return the operator of a canonical 09XXXXXXXXX number, or None if the prefix is unknown."""
    return MOBILE_OPERATORS.get(canonical[1:4])


def check_mobile(value: str) -> Check:
    """Validate an Iranian mobile number; canonical form is 09XXXXXXXXX."""
    s = normalize_identifier(value)
    if not s:
        return _fail(s, "mobile.empty")
    if _MOBILE.fullmatch(s):
        canonical = "0" + s[-10:]
        if mobile_operator(canonical) is None:
            return Check(ok=True, value=canonical, warnings=("mobile.unknown_operator",))
        return Check(ok=True, value=canonical)
    digits = s.removeprefix("+")
    if not _DIGITS.fullmatch(digits):
        return _fail(s, "mobile.not_digits")
    if s.startswith("+"):
        if not digits.startswith("98"):
            return _fail(s, "mobile.prefix")  # a foreign number
        national = digits[2:]
    else:
        national = re.sub("^(?:0098|98|0)", "", digits)
    return _fail(s, "mobile.length" if national.startswith("9") else "mobile.prefix")


# --- کد پستی -----------------------------------------------------------------------------------

# 0 and 2 never appear in the first five digits (they look like 5 and 3 when handwritten) [S45].
_POSTAL_LIKELY = re.compile(r"(?!([0-9])\1{3})[13-9]{4}[1346-9][013-9]{5}")


def check_postal_code(value: str) -> Check:
    """Validate a 10-digit postal code; an unusual pattern is only a warning."""
    s = normalize_identifier(value)
    if failed := _digits_check(s, "postal_code", (10,)):
        return failed
    if not _POSTAL_LIKELY.fullmatch(s):
        return Check(ok=True, value=s, warnings=("postal_code.unlikely",))
    return Check(ok=True, value=s)


def format_postal_code(canonical: str) -> str:
    """Format a canonical postal code for display as 51666-14776 (wrap it in an LTR span)."""
    return f"{canonical[:5]}-{canonical[5:]}" if len(canonical) == 10 else canonical


# --- شبا ----------------------------------------------------------------------------------------

IBAN_BANKS: dict[str, tuple[str, str]] = {
    "012": ("بانک ملت", "Bank Mellat"),
    "014": ("بانک مسکن", "Bank Maskan"),
    "015": ("بانک سپه", "Bank Sepah"),
    "016": ("بانک کشاورزی", "Bank Keshavarzi"),
    "017": ("بانک ملی ایران", "Bank Melli Iran"),
    "018": ("بانک تجارت", "Tejarat Bank"),
    "019": ("بانک صادرات ایران", "Bank Saderat Iran"),
    "021": ("پست بانک ایران", "Post Bank of Iran"),
    "054": ("بانک پارسیان", "Parsian Bank"),
    "056": ("بانک سامان", "Saman Bank"),
    "057": ("بانک پاسارگاد", "Pasargad Bank"),
    "061": ("بانک شهر", "Bank Shahr"),
    "062": ("بانک آینده", "Ayandeh Bank"),
}


def iban_check_digits(bban: str) -> str:
    """Compute the two IBAN check digits for a 22-digit Iranian BBAN (ISO 13616)."""
    if not re.fullmatch("[0-9]{22}", bban):
        raise ValueError("an Iranian BBAN has 22 digits")
    return f"{98 - int(bban + '182700') % 97:02d}"


def iban_bank(canonical: str, locale: object = "fa") -> str | None:
    """Return the bank name for a canonical IBAN, or None if the bank code is not listed."""
    names = IBAN_BANKS.get(canonical[4:7])
    if names is None:
        return None
    return names[1] if language(locale) == "en" else names[0]


def check_iban(value: str) -> Check:
    """Validate an Iranian IBAN (شبا); lower case, spaces and a missing IR are accepted."""
    s = normalize_identifier(value)
    if not s:
        return _fail(s, "iban.empty")
    if s.isascii() and s.isdigit() and len(s) == 24:
        s = "IR" + s  # people often copy the digits without the country code
    if not s.startswith("IR"):
        return _fail(s, "iban.country" if s[:2].isalpha() else "iban.length")
    if not _DIGITS.fullmatch(s[2:]):
        return _fail(s, "iban.not_digits")
    if len(s) != 26:
        return _fail(s, "iban.length")
    if int(s[4:] + "1827" + s[2:4]) % 97 != 1:
        return _fail(s, "iban.checksum")
    return Check(ok=True, value=s)


# --- شناسه قبض و شناسه پرداخت (interbank bill standard) -------------------------------------------

BILL_TYPES: dict[str, tuple[str, str]] = {
    "1": ("آب", "water"),
    "2": ("برق", "electricity"),
    "3": ("گاز", "gas"),
    "4": ("تلفن ثابت", "landline"),
    "5": ("تلفن همراه", "mobile phone"),
    "6": ("عوارض شهرداری", "municipal fees"),
    "8": ("سازمان امور مالیاتی", "tax"),
    "9": ("جرایم راهنمایی و رانندگی", "traffic fines"),
}
MUNICIPAL_FEES = "6"


def calbit(num: str) -> int:
    """Return the mod-11 check digit of the interbank bill standard (weights 2..7, repeating)."""
    total, weight = 0, 2
    for ch in reversed(num):
        total += int(ch) * weight
        weight = 2 if weight == 7 else weight + 1
    r = total % 11
    return 0 if r < 2 else 11 - r


@dataclass(frozen=True)
class BillCheck(Check):
    """A bill and payment ID pair; `value` is the 26-digit barcode when valid."""

    bill_id: str = ""
    payment_id: str = ""
    amount_rials: int | None = None
    bill_type: str | None = None


def check_bill_id(value: str) -> Check:
    """Validate a bill ID (شناسه قبض): 6 to 13 digits ending in a calbit check digit."""
    s = normalize_identifier(value)
    if failed := _digits_check(s, "bill_id", range(6, 14)):
        return failed
    if calbit(s[:-1]) != int(s[-1]):
        return _fail(s, "bill_id.checksum")
    if s[-2] not in BILL_TYPES:
        return _fail(s, "bill_id.type")
    return Check(ok=True, value=s)


def check_bill_payment(bill_id: str, payment_id: str) -> BillCheck:
    """Validate a bill ID with its payment ID and decode the amount and the bill type."""
    bill = check_bill_id(bill_id)
    pay = normalize_identifier(payment_id)
    if bill.error:
        return BillCheck(ok=False, value="", error=bill.error, bill_id=bill.value, payment_id=pay)
    failed = _digits_check(pay, "payment_id", range(6, 14))
    if failed is None:
        body = pay[:-2]
        c1 = calbit(body)
        c2 = calbit(bill.value + body + str(c1))
        if pay[-2:] != f"{c1}{c2}":
            failed = _fail(pay, "payment_id.checksum")
    if failed:
        return BillCheck(ok=False, value="", error=failed.error, bill_id=bill.value, payment_id=pay)
    return BillCheck(
        ok=True,
        value=bill.value.zfill(13) + pay.zfill(13),
        bill_id=bill.value,
        payment_id=pay,
        amount_rials=int(pay[:-5]) * 1000,
        bill_type=bill.value[-2],
    )


def make_bill_id(file_id: str, company_code: str, bill_type: str = MUNICIPAL_FEES) -> str:
    """Build a bill ID: file ID (1-8 digits) + company code (3) + bill type (1) + check digit."""
    if not re.fullmatch("[0-9]{1,8}", file_id) or not re.fullmatch("[0-9]{3}", company_code):
        raise ValueError("file_id needs 1-8 digits and company_code exactly 3")
    if bill_type not in BILL_TYPES:
        raise ValueError(f"unknown bill type {bill_type!r}")
    body = file_id + company_code + bill_type
    return body + str(calbit(body))


def make_payment_id(amount_rials: int, year_digit: int, period: int, bill_id: str) -> str:
    """Build a payment ID: amount in thousands of rials + year digit + 2-digit period + c1 + c2."""
    if amount_rials <= 0 or amount_rials % 1000:
        raise ValueError("the amount must be a positive multiple of 1,000 rials")
    if not 0 <= year_digit <= 9 or not 0 <= period <= 99:
        raise ValueError("year_digit is one digit and period two")
    body = f"{amount_rials // 1000}{year_digit}{period:02d}"
    if len(body) > 11:
        raise ValueError("the amount does not fit in a 13-digit payment ID")
    c1 = calbit(body)
    return f"{body}{c1}{calbit(bill_id + body + str(c1))}"


# --- کد رهگیری ---------------------------------------------------------------------------------


def check_tracking_code(value: str) -> Check:
    """Validate a 12-digit tracking code: district (2) + random (9) + calbit check digit."""
    s = normalize_identifier(value)
    if failed := _digits_check(s, "tracking_code", (12,)):
        return failed
    if calbit(s[:-1]) != int(s[-1]):
        return _fail(s, "tracking_code.checksum")
    return Check(ok=True, value=s)


def new_tracking_code(district: str, rng: random.Random | None = None) -> str:
    """Return a fresh random tracking code for a district ("9" or "09"); rng is for tests."""
    d = to_ascii_digits(district).strip()
    if not re.fullmatch("[0-9]{1,2}", d):
        raise ValueError("district must be one or two digits")
    # Random, not sequential: hides volumes and resists enumeration (domain.md §4).
    rng = rng or secrets.SystemRandom()
    body = d.zfill(2) + f"{rng.randrange(10**9):09d}"
    return body + str(calbit(body))
