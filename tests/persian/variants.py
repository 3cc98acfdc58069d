"""Ways people type the same identifier: other digit sets, spacing, invisible marks."""

from __future__ import annotations

# Built independently of app.persian.text so the tests do not trust the code under test.
_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")

ZWNJ, RLM, LRM, TATWEEL = "\u200c", "\u200f", "\u200e", "\u0640"


def _spread(s: str, sep: str, every: int = 3) -> str:
    return sep.join(s[i : i + every] for i in range(0, len(s), every))


def typed_variants(s: str) -> list[str]:
    """Return s as ASCII, Persian and Arabic-Indic digits, spaced, hyphenated, with marks."""
    persian, arabic = s.translate(_PERSIAN), s.translate(_ARABIC)
    return [
        s,
        persian,
        arabic,
        f"  {s}\t",
        _spread(persian, " "),
        _spread(s, "-"),
        _spread(arabic, "\u2013"),  # en dash, as word processors replace hyphens
        _spread(persian, ZWNJ),
        _spread(s, TATWEEL),
        RLM + s + RLM,
        LRM + persian + LRM,
        "\u202a" + s + "\u202c",  # LRE ... PDF, as pasted from a bidi-aware editor
        "\u2066" + arabic + "\u2069",  # LRI ... PDI
        _spread(s, "\u00a0"),
    ]
