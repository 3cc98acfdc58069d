"""What an uploaded file really is: its type by magic bytes, its structure, its image size.

A file is judged by its content, never by its name or the type the browser claims. Images
are walked chunk by chunk (PNG) or segment by segment (JPEG) to their end marker, so bytes
hidden after the picture (a polyglot: an image that is also HTML, a ZIP or a script) are
found; PDFs must start with their header and end with %%EOF, without scripts or embedded files.
"""

from __future__ import annotations

import re
import struct
import unicodedata
import zlib
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from app.i18n import current_locale
from app.persian.text import normalize_text, to_persian_digits

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
#: Every type a document may have, with the extension its stored name gets.
EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png"}
TYPE_NAMES = {PDF: "PDF", JPEG: "JPEG", PNG: "PNG"}

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PROGRAM_MAGIC = (
    b"MZ",  # Windows executables
    b"\x7fELF",  # Linux executables
    b"\xca\xfe\xba\xbe",  # Mach-O / Java class
    b"\xcf\xfa\xed\xfe",
    b"#!",  # scripts
    b"PK\x03\x04",  # ZIP, JAR, APK, Office files
)
# Markup a browser or an interpreter would run if the file were ever served as something else.
_ACTIVE_MARKUP = re.compile(
    rb"<\s*(script|html|body|iframe|svg|object|embed)\b|<\?php|<!doctype\s+html|javascript:",
    re.IGNORECASE,
)
# PDF features that run code or carry other files (names may be #-escaped: /J#61vaScript).
_PDF_ACTIVE = re.compile(
    rb"/(JavaScript|JS|Launch|EmbeddedFile|EmbeddedFiles|RichMedia|XFA|SubmitForm|ImportData)\b"
)
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")

MESSAGES = {
    "no_file": _l("Choose a file to upload."),
    "empty": _l("The file %(name)s is empty. Choose the file again."),
    "too_large": _l("The file %(name)s is %(size)s; a file may be at most %(limit)s."),
    "case_full": _l(
        "The documents of this case may take at most %(limit)s together, and this file would make them %(total)s. Scan it at a lower resolution or save it smaller."
    ),
    "program": _l(
        "The file %(name)s is a program or an archive, not a document. Send a PDF, JPEG or PNG."
    ),
    "not_allowed": _l(
        "The file %(name)s is not a PDF, JPEG or PNG file. Its content was checked, not its name."
    ),
    "not_accepted_here": _l("The file %(name)s is a %(kind)s; this question accepts %(accepted)s."),
    "damaged": _l("The file %(name)s is damaged or incomplete. Save or scan it again."),
    "hidden_content": _l(
        "The file %(name)s hides other content (a script, a web page or another file) and cannot be accepted. Save or scan it again as a plain image or PDF."
    ),
    "image_too_small": _l(
        "The image %(name)s is %(width)s×%(height)s pixels; each side must be at least %(minimum)s pixels to be legible."
    ),
    "image_too_large": _l(
        "The image %(name)s has too many pixels (%(width)s×%(height)s); at most %(limit)s million are accepted."
    ),
    "infected": _l("The file %(name)s failed the virus check and was not accepted."),
    "scan_failed": _l(
        "The file %(name)s could not be checked for viruses just now. Please try again in a few minutes."
    ),
}


class UploadRefused(Exception):
    """An upload was refused; nothing was stored. `message()` says why, in the page's language."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def message(self) -> str:
        """The reason for the person who uploaded the file (numbers in Persian digits in fa)."""
        fa = current_locale() == "fa"
        params = {
            name: to_persian_digits(str(value)) if fa and isinstance(value, int) else value
            for name, value in self.params.items()
        }
        return str(MESSAGES[self.key]) % params if params else str(MESSAGES[self.key])


@dataclass(frozen=True)
class Inspection:
    """What the content proved to be."""

    content_type: str
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class ImageLimits:
    """Bounds on an image's size: legible, and no pixel flood."""

    min_side: int
    max_pixels: int


def inspect(data: bytes, name: str, limits: ImageLimits) -> Inspection:
    """Identify the file by its bytes and check its structure and size.

    :raises UploadRefused: when the file is empty, not a PDF/JPEG/PNG, damaged or hides content.
    """
    if not data:
        raise UploadRefused("empty", name=name)
    if data.startswith(_PROGRAM_MAGIC):
        raise UploadRefused("program", name=name)
    if data.startswith(b"%PDF-"):
        inspection = _inspect_pdf(data, name)
    elif data.startswith(_PNG_SIGNATURE):
        inspection = _inspect_png(data, name)
    elif data.startswith(b"\xff\xd8\xff"):
        inspection = _inspect_jpeg(data, name)
    else:
        raise UploadRefused("not_allowed", name=name)
    if _ACTIVE_MARKUP.search(data):
        raise UploadRefused("hidden_content", name=name)
    if inspection.width is not None and inspection.height is not None:
        _check_dimensions(inspection.width, inspection.height, name, limits)
    return inspection


def _check_dimensions(width: int, height: int, name: str, limits: ImageLimits) -> None:
    if width * height > limits.max_pixels:
        raise UploadRefused(
            "image_too_large",
            name=name,
            width=width,
            height=height,
            limit=limits.max_pixels // 1_000_000,
        )
    if min(width, height) < limits.min_side:
        raise UploadRefused(
            "image_too_small", name=name, width=width, height=height, minimum=limits.min_side
        )


def _inspect_pdf(data: bytes, name: str) -> Inspection:
    if not re.match(rb"%PDF-[12]\.\d", data):
        raise UploadRefused("damaged", name=name)
    if b"%%EOF" not in data[-1024:]:
        raise UploadRefused("damaged", name=name)
    unescaped = _PDF_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), data)
    if _PDF_ACTIVE.search(unescaped):
        raise UploadRefused("hidden_content", name=name)
    return Inspection(PDF)


def _inspect_png(data: bytes, name: str) -> Inspection:
    offset = len(_PNG_SIGNATURE)
    width = height = None
    while True:
        if offset + 12 > len(data):
            raise UploadRefused("damaged", name=name)
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        end = offset + 12 + length
        if end > len(data):
            raise UploadRefused("damaged", name=name)
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : end])
        if zlib.crc32(kind + body) != crc:
            raise UploadRefused("damaged", name=name)
        if width is None:
            if kind != b"IHDR" or length != 13:
                raise UploadRefused("damaged", name=name)
            width, height = struct.unpack(">II", body[:8])
        offset = end
        if kind == b"IEND":
            break
    if offset != len(data):
        raise UploadRefused("hidden_content", name=name)
    return Inspection(PNG, width, height)


_SOF_MARKERS = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
)


def _jpeg_end(data: bytes, start: int, name: str) -> tuple[int, int | None, int | None]:
    """Walk one JPEG from its SOI; return the offset after its EOI and its size."""
    offset = start + 2
    width = height = None
    while True:
        if offset + 2 > len(data) or data[offset] != 0xFF:
            raise UploadRefused("damaged", name=name)
        marker = data[offset + 1]
        if marker == 0xFF:  # fill byte
            offset += 1
            continue
        if marker == 0xD9:
            return offset + 2, width, height
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            offset += 2
            continue
        if offset + 4 > len(data):
            raise UploadRefused("damaged", name=name)
        (length,) = struct.unpack(">H", data[offset + 2 : offset + 4])
        if length < 2 or offset + 2 + length > len(data):
            raise UploadRefused("damaged", name=name)
        if marker in _SOF_MARKERS and length >= 7:
            height, width = struct.unpack(">HH", data[offset + 5 : offset + 9])
        offset += 2 + length
        if marker == 0xDA:
            offset = _after_scan(data, offset, name)


def _after_scan(data: bytes, offset: int, name: str) -> int:
    """Skip entropy-coded data to the next real marker (FF00 and restart markers are data)."""
    while True:
        found = data.find(b"\xff", offset)
        if found < 0 or found + 1 >= len(data):
            raise UploadRefused("damaged", name=name)
        following = data[found + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
            offset = found + 1 if following == 0xFF else found + 2
            continue
        return found


def _inspect_jpeg(data: bytes, name: str) -> Inspection:
    end, width, height = _jpeg_end(data, 0, name)
    if width is None or height is None or width == 0 or height == 0:
        raise UploadRefused("damaged", name=name)
    # Phones append further pictures (MPF: depth maps, previews) after the first one; anything
    # else after the end marker is hidden content.
    while end < len(data):
        rest = data[end:]
        if not rest.strip(b"\x00"):
            break
        if not rest.startswith(b"\xff\xd8\xff"):
            raise UploadRefused("hidden_content", name=name)
        end += _jpeg_end(rest, 0, name)[0]
    return Inspection(JPEG, width, height)


def sanitise_name(raw: str, content_type: str) -> str:
    """A safe display name: no folders or control characters, and the content's extension."""
    base = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = normalize_text(unicodedata.normalize("NFC", base))
    stem = base.rsplit(".", 1)[0] if "." in base else base
    kept = "".join(
        ch
        for ch in stem
        if ch in " -_()" or ch == "\u200c" or unicodedata.category(ch)[0] in ("L", "N", "M")
    )
    kept = re.sub(r"\s+", " ", kept).strip(" .-_")[:80].strip()
    return (kept or "document") + EXTENSIONS[content_type]


def accepts(accept: list[str] | None, content_type: str, file_name: str) -> bool:
    """Whether a form field's x-accept list (types, image/*, .ext) admits this file."""
    if not accept:
        return True
    extension = "." + file_name.rsplit(".", 1)[-1].lower()
    for item in accept:
        item = item.strip().lower()
        if item == content_type or (item.endswith("/*") and content_type.startswith(item[:-1])):
            return True
        if item.startswith(".") and (
            item == extension or (item in (".jpeg", ".jpg") and content_type == JPEG)
        ):
            return True
    return False
