"""Normalise Persian text, digits and identifiers where input enters the system."""

from __future__ import annotations

import re
import unicodedata

PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
ASCII_DIGITS = "0123456789"

ZWNJ = "\u200c"
TATWEEL = "\u0640"

_TO_ASCII = str.maketrans(PERSIAN_DIGITS + ARABIC_DIGITS, ASCII_DIGITS * 2)
_TO_PERSIAN = str.maketrans(ASCII_DIGITS + ARABIC_DIGITS, PERSIAN_DIGITS * 2)

# Arabic code points that Arabic keyboards and old Windows layouts produce for Persian letters.
_LETTERS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", TATWEEL: None})

# Presentation forms come from text copied out of PDFs; NFKC folds them to base letters
# (which _LETTERS then maps to Persian); word ligatures such as ﷼ (U+FDFC) are left alone.
_PRESENTATION_FORMS = re.compile("[\ufb50-\ufdef\ufe70-\ufefc]")

# Explicit embeddings, overrides and isolates: an unbalanced one reorders everything after it
# on the page, so free text never keeps them. LRM, RLM and ALM are harmless single marks.
_BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
_BIDI_MARKS = "\u200e\u200f\u061c"

# Everything a user may paste into an identifier that is not part of it.
_IDENTIFIER_JUNK = re.compile(
    "[\\s\u200b-\u200d\ufeff" + TATWEEL + _BIDI_MARKS + _BIDI_CONTROLS + "]"
)
_HYPHENS = re.compile("[-\u2010-\u2015\u2212\ufe63\uff0d]")
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")

_SEARCH_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "ٱ": "ا", "آ": "ا", "ة": "ه", "ۀ": "ه"})
_HARAKAT = re.compile("[\u064b-\u065f\u0670]")
_INVISIBLE = re.compile("[\u200b\ufeff" + _BIDI_CONTROLS + "]")
_SPACES = re.compile(r"\s+")


def to_ascii_digits(s: str) -> str:
    """Replace Persian and Arabic-Indic digits with ASCII digits."""
    return s.translate(_TO_ASCII)


def to_persian_digits(s: str) -> str:
    """Replace ASCII and Arabic-Indic digits with Persian digits."""
    return s.translate(_TO_PERSIAN)


def normalize_letters(s: str) -> str:
    """Map Arabic ي ى ك and presentation forms to Persian letters and drop tatweel."""
    s = _PRESENTATION_FORMS.sub(lambda m: unicodedata.normalize("NFKC", m.group()), s)
    return s.translate(_LETTERS)


def _is_boundary(ch: str) -> bool:
    """Tell whether a ZWNJ next to this character joins nothing (space, punctuation, symbol)."""
    return ch.isspace() or unicodedata.category(ch)[0] in "PSZ"


def _clean_zwnj(s: str) -> str:
    """Collapse ZWNJ runs and drop ZWNJs at the ends or beside spaces and punctuation."""
    s = re.sub(ZWNJ + "+", ZWNJ, s)
    out = []
    for i, ch in enumerate(s):
        if ch == ZWNJ:
            before = s[i - 1] if i > 0 else " "
            after = s[i + 1] if i + 1 < len(s) else " "
            if _is_boundary(before) or _is_boundary(after):
                continue
        out.append(ch)
    return "".join(out)


def normalize_text(s: str, *, multiline: bool = False) -> str:
    """Normalise display text: letters, whitespace, ZWNJ; digits stay as typed."""
    s = normalize_letters(s).replace("\r\n", "\n").replace("\r", "\n")
    # NUL and other control characters: PostgreSQL rejects NUL in text, the rest is invisible.
    s = "".join(ch for ch in s if ch.isspace() or unicodedata.category(ch) != "Cc")
    s = _clean_zwnj(_INVISIBLE.sub("", s))
    if multiline:
        lines = [_SPACES.sub(" ", line).strip() for line in s.split("\n")]
        return re.sub("\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    return _SPACES.sub(" ", s).strip()


def normalize_identifier(s: str, *, keep_hyphens: bool = False) -> str:
    """Prepare an identifier for validation: ASCII digits, no spacing or marks, upper-case Latin."""
    s = to_ascii_digits(normalize_letters(s))
    s = _IDENTIFIER_JUNK.sub("", s)
    s = _HYPHENS.sub("-" if keep_hyphens else "", s)
    return s.translate(_ASCII_UPPER)


def search_key(s: str) -> str:
    """Fold text for matching: letters, alef and heh variants, harakat, digits, ZWNJ, case."""
    s = _HARAKAT.sub("", normalize_letters(s).translate(_SEARCH_LETTERS))
    # Users type ZWNJ, a space or nothing between word parts; dropping ZWNJ matches two of three.
    s = re.sub("[" + ZWNJ + "\u200d" + _BIDI_MARKS + "]", "", s)
    return to_ascii_digits(normalize_text(s)).casefold()
