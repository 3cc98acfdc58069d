"""PDFs of issued documents, rendered on demand from the stored, signed data.

A document's template lives beside its process package (``processes/<key>/templates/``,
versioned with the case's process version), so analysts change the layout without Python;
documents without a process (payment receipts) use ``app/certificates/documents/``.
Templates run in Jinja's sandbox with autoescaping, and get the facts, Jalali dates, a QR
code of the public verification URL and the embedded Vazirmatn font.
"""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import qrcode
import qrcode.constants
from flask import current_app, request, url_for
from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup
from weasyprint import HTML

from app.cases.models import Case
from app.certificates.models import IssuedDocument
from app.db import db
from app.persian.jalali import format_jalali_date, format_jalali_datetime
from app.persian.money import format_rial, rial_in_words
from app.persian.text import to_persian_digits

APP_DOCUMENTS = Path(__file__).resolve().parent / "documents"
FONTS = Path(__file__).resolve().parent.parent / "static" / "fonts"


class TemplateMissing(LookupError):
    """No template renders this kind of document."""


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


@lru_cache(maxsize=1)
def _environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(autoescape=True, undefined=StrictUndefined)
    env.filters.update(
        persian_digits=lambda value: to_persian_digits(str(value)),
        rial=lambda value: format_rial(int(value), "fa"),
        rial_words=lambda value: rial_in_words(int(value), "fa"),
        jalali=lambda value: format_jalali_date(_as_datetime(value).date(), "short", "fa"),
        jalali_long=lambda value: format_jalali_date(_as_datetime(value).date(), "long", "fa"),
        jalali_datetime=lambda value: format_jalali_datetime(_as_datetime(value), "short", "fa"),
    )
    return env


def _as_datetime(value: Any) -> datetime:
    return _utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


@lru_cache(maxsize=1)
def font_css() -> Markup:
    """@font-face rules embedding Vazirmatn from the app's own files."""
    rules = [
        f'@font-face {{ font-family: "Vazirmatn"; font-weight: {weight}; '
        f'src: url("{(FONTS / name).as_uri()}"); }}'
        for weight, name in ((400, "Vazirmatn-Regular.ttf"), (700, "Vazirmatn-Bold.ttf"))
    ]
    return Markup("\n".join(rules))  # noqa: S704 - built from constant file paths


@lru_cache(maxsize=1)
def house_css() -> Markup:
    """The letterhead style every document shares (app/certificates/documents/house.css)."""
    return Markup((APP_DOCUMENTS / "house.css").read_text(encoding="utf-8"))  # noqa: S704 - our file


def qr_png(text: str) -> bytes:
    """A QR code (error correction M) of `text` as PNG bytes."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=2)
    code.add_data(text)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer)
    return buffer.getvalue()


def verification_url(number: str) -> str:
    """The public URL that confirms a document, as printed in its QR code."""
    base = str(current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    path = url_for("certificates.verify", number=number)
    if base:
        return f"{base}{path}"
    return f"{request.host_url.rstrip('/')}{path}" if request else path


def template_source(document: IssuedDocument, case: Case | None) -> str:
    """The template for the document: its process package's, else the app's.

    :raises TemplateMissing: when neither has one.
    """
    if case is not None:
        short = document.document_type.removeprefix(f"{case.process_key}_")
        files = case.process_version.files
        for name in (f"templates/{document.document_type}.html", f"templates/{short}.html"):
            if name in files:
                return files[name]
    path = APP_DOCUMENTS / f"{document.document_type}.html"
    if path.is_file():
        return path.read_text(encoding="utf-8")
    raise TemplateMissing(document.document_type)


def render_html(document: IssuedDocument) -> str:
    """The document as HTML, from its template and stored facts."""
    case = db.session.get(Case, document.case_id) if document.case_id else None
    source = template_source(document, case)
    url = verification_url(document.document_number)
    qr = base64.b64encode(qr_png(url)).decode("ascii")
    context = {
        "document": {
            "number": document.document_number,
            "type": document.document_type,
            "issued_at": _utc(document.issued_at),
            "key_id": document.key_id or "",
            "signature": document.signature or "",
            "status": document.status.value,
            # ISO date (or ""), so the templates' jalali filters format it like the others.
            "valid_until": document.valid_until.isoformat() if document.valid_until else "",
        },
        "facts": dict(document.facts),
        "case": {"tracking_code": case.tracking_code if case else ""},
        "municipality": {
            "fa": current_app.config["MUNICIPALITY_NAME_FA"],
            "en": current_app.config["MUNICIPALITY_NAME_EN"],
        },
        "verification_url": url,
        "qr_data_uri": f"data:image/png;base64,{qr}",
        "font_css": font_css(),
        "house_css": house_css(),
    }
    return _environment().from_string(source).render(context)


def render_pdf(document: IssuedDocument) -> bytes:
    """The document as a PDF (Persian, right to left, fonts embedded)."""
    pdf: bytes = HTML(string=render_html(document), base_url=str(FONTS)).write_pdf()
    return pdf
