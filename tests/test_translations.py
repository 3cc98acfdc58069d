"""Every user-facing English text in the app has its Persian translation."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "_l": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2)}


def persian_catalogues() -> dict[str, str]:
    translations: dict[str, str] = {}
    for po in sorted(ROOT.glob("app/**/translations/fa/LC_MESSAGES/messages.po")):
        with po.open("rb") as handle:
            for message in read_po(handle, locale="fa"):
                if message.id and message.string and not message.fuzzy:
                    key = message.id if isinstance(message.id, str) else message.id[0]
                    translations[key] = str(message.string)
    return translations


def test_every_text_in_the_app_is_translated_into_persian() -> None:
    translated = persian_catalogues()
    missing = set()
    seen = 0
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT / "app"),
        METHODS,
        keywords=KEYWORDS,
        options_map={"**/templates/**.html": {"extensions": "jinja2.ext.do"}},
    ):
        key = message if isinstance(message, str) else message[0]
        seen += 1
        if key and key not in translated:
            missing.add(f"{filename}: {key}")
    assert seen > 100, "the extractor found too few texts: is the babel mapping right?"
    assert not missing, "untranslated (run `make messages` and translate):\n" + "\n".join(
        sorted(missing)
    )


def test_no_text_is_translated_two_ways() -> None:
    # Every domain's catalogue is merged into one at run time: when two domains translate the
    # same English text differently, one of them silently loses.
    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for po in sorted(ROOT.glob("app/**/translations/fa/LC_MESSAGES/messages.po")):
        with po.open("rb") as handle:
            for message in read_po(handle, locale="fa"):
                if not message.id or not message.string or message.fuzzy:
                    continue
                key = message.id if isinstance(message.id, str) else message.id[0]
                text = str(message.string)
                domain = po.relative_to(ROOT).parts[1]
                if key in seen and seen[key][1] != text:
                    clashes.append(f"{key!r}: {seen[key][0]} «{seen[key][1]}» / {domain} «{text}»")
                seen.setdefault(key, (domain, text))
    assert not clashes, "translated differently by two catalogues:\n" + "\n".join(clashes)
