"""Normalisation of Persian text, digits and identifiers (domain.md §8)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.persian.text import (
    normalize_identifier,
    normalize_letters,
    normalize_text,
    search_key,
    to_ascii_digits,
    to_persian_digits,
)

ZWNJ = "\u200c"
property_settings = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def test_digits_both_ways() -> None:
    assert to_ascii_digits("۰۱۲۳۴۵۶۷۸۹ ٠١٢٣٤٥٦٧٨٩ 0123456789") == (
        "0123456789 0123456789 0123456789"
    )
    assert to_persian_digits("0123456789 ٠١٢٣٤٥٦٧٨٩") == "۰۱۲۳۴۵۶۷۸۹ ۰۱۲۳۴۵۶۷۸۹"
    assert to_ascii_digits("پلاک ۱۲") == "پلاک 12"


def test_arabic_letters_become_persian() -> None:
    assert normalize_letters("علي كريمي") == "علی کریمی"
    assert normalize_letters("مصطفى") == "مصطفی"
    assert normalize_letters("کـــریمـی") == "کریمی"
    # Presentation forms, as copied out of old PDFs: ﻋﻠﻲ (isolated/final forms).
    assert normalize_letters("\ufecb\ufee0\ufef2") == "علی"
    assert normalize_letters("\ufefb") == "لا"
    # The rial sign ligature is a symbol, not text to decompose.
    assert normalize_letters("\ufdfc") == "\ufdfc"


@pytest.mark.parametrize("word", ["خانه‌ها", "تن‌ماهی", "نیک‌پور", "پایان‌کار", "مریم نیک‌پور"])
def test_meaningful_zwnj_is_kept(word: str) -> None:
    assert ZWNJ in word
    assert normalize_text(word) == word


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (f"خانه{ZWNJ}{ZWNJ}{ZWNJ}ها", "خانه‌ها"),
        (f"خانه{ZWNJ} ها", "خانه ها"),
        (f"خانه {ZWNJ}ها", "خانه ها"),
        (f"خانه {ZWNJ} ها", "خانه ها"),
        (f"{ZWNJ}خانه{ZWNJ}", "خانه"),
        (f"خانه{ZWNJ}، ها", "خانه، ها"),
        (f"خانه{ZWNJ}.", "خانه."),
        (f"({ZWNJ}خانه)", "(خانه)"),
    ],
)
def test_stray_zwnj_is_dropped(typed: str, expected: str) -> None:
    assert normalize_text(typed) == expected


def test_display_text_normalisation() -> None:
    assert normalize_text("  علي   كريمي \t\n") == "علی کریمی"
    assert normalize_text("علی\u00a0\u00a0کریمی") == "علی کریمی"
    # Digits stay as typed in free text; only identifiers are converted.
    assert normalize_text("پلاک 12 و ۱۳ و ١٤") == "پلاک 12 و ۱۳ و ١٤"
    # A NUL breaks PostgreSQL; other control characters are invisible junk.
    assert normalize_text("علی\x00کریمی\x07") == "علیکریمی"
    # An unbalanced override would reverse the rest of the page.
    assert normalize_text("abc\u202edef\u2067") == "abcdef"
    assert normalize_text("\ufeffعلی\u200b") == "علی"


def test_html_is_left_for_the_template_to_escape() -> None:
    for value in ["<script>alert('x')</script>", '&lt;b&gt; & "q"', "<b>علي</b>"]:
        assert normalize_text(value) == value.replace("ي", "ی")


def test_multiline_text_keeps_paragraphs() -> None:
    typed = "خط اول  \r\n  خط دوم\n\n\n\nبند دوم\n"
    assert normalize_text(typed, multiline=True) == "خط اول\nخط دوم\n\nبند دوم"
    assert normalize_text(typed) == "خط اول خط دوم بند دوم"


def test_identifier_normalisation() -> None:
    assert normalize_identifier(" ۰۰۷۶ ۲۲۹ ۶۴۵ ") == "0076229645"
    assert normalize_identifier("\u200f٠٠٧٦-٢٢٩\u2013٦٤٥\u200e") == "0076229645"
    assert normalize_identifier("\u202a0076\u200c229\u0640645\u202c") == "0076229645"
    assert normalize_identifier("\u20660076229645\u2069") == "0076229645"
    assert normalize_identifier("ir38 0170") == "IR380170"
    assert normalize_identifier("+98 914") == "+98914"
    assert normalize_identifier("9 - ۲ – 15", keep_hyphens=True) == "9-2-15"


def test_search_keys_fold_spelling_variants() -> None:
    assert search_key("أحمد") == search_key("احمد") == search_key("إحمد")
    assert search_key("آذر") == search_key("اذر")
    assert search_key("مدرسة") == search_key("مدرسه")
    assert search_key("مُحَمَّد") == search_key("محمد")
    assert search_key("علي كريمي") == search_key("علی کریمی")
    assert search_key("نیک‌پور") == search_key("نیکپور") == "نیکپور"
    assert search_key("پلاک ۱۲") == "پلاک 12"
    assert search_key("Tabriz  Nine") == "tabriz nine"
    assert search_key("علی") != search_key("عالی")


_PERSIANISH = st.text(
    alphabet=st.sampled_from(
        [
            *"ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهیيكىةأآ۰۱۲٠١٢012،.()!؟ \t\n",
            *(ZWNJ, "\u200d", "\u200f", "\u202e", "\u0640", "\u064e", "\ufef2", "\x00", "\u00a0"),
        ]
    ),
    max_size=40,
)


@given(_PERSIANISH)
@property_settings
def test_normalisers_are_idempotent(s: str) -> None:
    for normalise in (normalize_text, normalize_identifier, search_key, normalize_letters):
        once = normalise(s)
        assert normalise(once) == once
    assert normalize_text(s, multiline=True) == normalize_text(
        normalize_text(s, multiline=True), multiline=True
    )


@given(_PERSIANISH)
@property_settings
def test_normalised_text_has_no_stray_zwnj_or_arabic_letters(s: str) -> None:
    out = normalize_text(s)
    assert not set(out) & set("يكى\u0640\u202e\x00")
    assert ZWNJ * 2 not in out
    assert not out.startswith(ZWNJ)
    assert not out.endswith(ZWNJ)
    assert f" {ZWNJ}" not in out
    assert f"{ZWNJ} " not in out
    assert out == out.strip()
    assert "  " not in out


def test_only_filters_module_imports_flask() -> None:
    package = Path(__file__).resolve().parents[2] / "app" / "persian"
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        modules |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        uses_flask = any(m.split(".")[0] in {"flask", "flask_babel"} for m in modules)
        assert uses_flask == (path.name == "filters.py"), path.name
