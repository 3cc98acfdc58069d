"""Property identifiers: renewal code (کد نوسازی), registry plate (پلاک ثبتی), share in دانگ."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from app.persian.identifiers import Check
from app.persian.messages import InvalidValue, language
from app.persian.text import normalize_identifier, to_persian_digits

__all__ = [
    "RENEWAL_CODE_PARTS",
    "RegistryPlate",
    "check_dang",
    "check_plate_numbers",
    "check_plate_section",
    "check_renewal_code",
    "format_dang",
    "plate_in_words",
    "renewal_code_parts",
]

# District-Region-Block-House-Building-Apartment-Shop (منطقه-حوزه-بلوک-ملک-ساختمان-آپارتمان-صنف).
RENEWAL_CODE_PARTS = 7

_NUMBER = re.compile("[0-9]+")


# --- کد نوسازی -----------------------------------------------------------------------------------


def check_renewal_code(value: str) -> Check:
    """Validate a renewal code of 7 hyphen-separated numbers; canonical form drops leading zeros."""
    s = normalize_identifier(value, keep_hyphens=True)
    if not s:
        return Check(ok=False, value=s, error="renewal_code.empty")
    parts = s.split("-")
    if len(parts) != RENEWAL_CODE_PARTS:
        return Check(ok=False, value=s, error="renewal_code.parts")
    if not all(_NUMBER.fullmatch(p) for p in parts):
        return Check(ok=False, value=s, error="renewal_code.not_digits")
    return Check(ok=True, value="-".join(str(int(p)) for p in parts))


def renewal_code_parts(value: str) -> tuple[int, ...]:
    """Split a renewal code into its 7 integers (0 = not applicable).

    :raises InvalidValue: when the code is not valid.
    """
    result = check_renewal_code(value)
    if result.error:
        raise InvalidValue(result.error)
    return tuple(int(p) for p in result.value.split("-"))


# --- پلاک ثبتی -----------------------------------------------------------------------------------


def _positive_numbers(value: str) -> tuple[int, ...] | None:
    """Parse "211-253-254" into positive integers, or return None if anything else is there."""
    parts = normalize_identifier(value, keep_hyphens=True).split("-")
    if not all(_NUMBER.fullmatch(p) and int(p) > 0 for p in parts):
        return None
    return tuple(int(p) for p in parts)


def check_plate_section(value: str) -> Check:
    """Validate a registration section (بخش ثبتی): one positive whole number."""
    s = normalize_identifier(value, keep_hyphens=True)  # so "-3" fails rather than becoming 3
    if not _NUMBER.fullmatch(s) or int(s) == 0:
        return Check(ok=False, value=s, error="plate.section")
    return Check(ok=True, value=str(int(s)))


def check_plate_numbers(value: str, *, sub: bool = False) -> Check:
    """Validate a main (اصلی) or optional subsidiary (فرعی) plate: numbers joined by hyphens."""
    s = normalize_identifier(value, keep_hyphens=True)
    if not s:
        return Check(ok=sub, value="", error=None if sub else "plate.main_empty")
    numbers = _positive_numbers(s)
    if numbers is None:
        return Check(ok=False, value=s, error="plate.sub" if sub else "plate.main")
    return Check(ok=True, value="-".join(map(str, numbers)))


@dataclass(frozen=True)
class RegistryPlate:
    """A registry plate; main and sub are tuples because deeds list several numbers."""

    section: int
    main: tuple[int, ...]
    sub: tuple[int, ...] = ()
    unit: str = ""  # registry office or city, e.g. «تبریز»

    def __post_init__(self) -> None:
        if self.section <= 0:
            raise InvalidValue("plate.section")
        if not self.main:
            raise InvalidValue("plate.main_empty")
        if any(n <= 0 for n in self.main):
            raise InvalidValue("plate.main")
        if any(n <= 0 for n in self.sub):
            raise InvalidValue("plate.sub")

    @classmethod
    def parse(
        cls, section: str | int, main: str | int, sub: str | int | None = None, unit: str = ""
    ) -> RegistryPlate:
        """Build a plate from form input in any digits.

        :raises InvalidValue: naming the first field that is not valid.
        """
        checks = (
            check_plate_section(str(section)),
            check_plate_numbers(str(main)),
            check_plate_numbers("" if sub is None else str(sub), sub=True),
        )
        for check in checks:
            if check.error:
                raise InvalidValue(check.error)
        sec, mains, subs = (c.value for c in checks)
        return cls(
            section=int(sec),
            main=tuple(int(n) for n in mains.split("-")),
            sub=tuple(int(n) for n in subs.split("-")) if subs else (),
            unit=unit.strip(),
        )

    @property
    def main_text(self) -> str:
        """Return the main plate numbers as stored, e.g. 211-253-254."""
        return "-".join(map(str, self.main))

    @property
    def sub_text(self) -> str:
        """Return the subsidiary plate numbers as stored, or an empty string."""
        return "-".join(map(str, self.sub))

    @property
    def key(self) -> str:
        """The plate as one searchable string: ``section/main/sub`` (``section/main`` without sub).

        Cases and the property register store this form, so one plate is one key everywhere.
        """
        return "/".join(filter(None, (str(self.section), self.main_text, self.sub_text)))

    @classmethod
    def from_answers(cls, answers: object) -> RegistryPlate | None:
        """The plate a form's ``registry-plate`` widget answered (``{section, main, sub}``), if valid."""
        if not isinstance(answers, dict) or not answers.get("section") or not answers.get("main"):
            return None
        try:
            return cls.parse(answers["section"], answers["main"], answers.get("sub") or None)
        except InvalidValue:
            return None


def _join(numbers: tuple[int, ...], lang: str) -> str:
    """List numbers in words' style: «۲۱۱، ۲۵۳ و ۲۵۴» or "211, 253 and 254"."""
    items = [to_persian_digits(str(n)) if lang == "fa" else str(n) for n in numbers]
    if len(items) == 1:
        return items[0]
    comma, conj = ("، ", " و ") if lang == "fa" else (", ", " and ")
    return comma.join(items[:-1]) + conj + items[-1]


def plate_in_words(plate: RegistryPlate, locale: object = "fa") -> str:
    """Render a plate in words, never as a bare a/b that bidi reordering can flip."""
    lang = language(locale)
    section = to_persian_digits(str(plate.section)) if lang == "fa" else str(plate.section)
    lead = plate.sub or plate.main
    if lang == "fa":
        noun = "پلاک‌های" if len(lead) > 1 else "پلاک"
        if plate.sub:
            text = f"{noun} {_join(plate.sub, lang)} فرعی از {_join(plate.main, lang)} اصلی"
        else:
            text = f"{noun} {_join(plate.main, lang)} اصلی"
        return f"{text}، بخش {section}" + (f" {plate.unit}" if plate.unit else "")
    s = "s" if len(lead) > 1 else ""
    if plate.sub:
        main_s = "s" if len(plate.main) > 1 else ""
        text = (
            f"Sub-plate{s} {_join(plate.sub, lang)} of main plate{main_s} {_join(plate.main, lang)}"
        )
    else:
        text = f"Main plate{s} {_join(plate.main, lang)}"
    return f"{text}, registration section {section}" + (f", {plate.unit}" if plate.unit else "")


# --- سهم مالکیت (دانگ) -------------------------------------------------------------------------

# Persian writers use ٫ or / as the decimal point («۲٫۵», «۲/۵»); "," only as a typo for it.
_DECIMAL_POINTS = re.compile("[٫/,.]")
_DECIMAL = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
WHOLE = Decimal(6)


def check_dang(value: str | int | Decimal) -> Check:
    """Validate an ownership share in دانگ: more than 0, at most 6, at most two decimals."""
    s = _DECIMAL_POINTS.sub(".", normalize_identifier(str(value), keep_hyphens=True))
    if not s:
        return Check(ok=False, value=s, error="dang.empty")
    if not _DECIMAL.fullmatch(s):
        return Check(ok=False, value=s, error="dang.format")
    try:
        share = Decimal(s).normalize()
    except InvalidOperation:  # pragma: no cover - the regex admits only valid decimals
        return Check(ok=False, value=s, error="dang.format")
    if not 0 < share <= WHOLE:
        return Check(ok=False, value=s, error="dang.range")
    exponent = share.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        return Check(ok=False, value=s, error="dang.precision")
    return Check(ok=True, value=format(share, "f"))


def format_dang(share: str | Decimal, locale: object = "fa") -> str:
    """Show a share: «۲٫۵ دانگ», «ششدانگ» for the whole; "2.5 dang" in English."""
    number = format(Decimal(share).normalize(), "f")
    if language(locale) == "en":
        return f"{number} dang" + (" (whole)" if Decimal(share) == WHOLE else "")
    if Decimal(share) == WHOLE:
        return "ششدانگ"
    return to_persian_digits(number.replace(".", "٫")) + " دانگ"
