"""Documents valid for a period: the date is signed, shown on /verify and on the PDF's data,
and /verify says the document has expired once the period is over (fa and en)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask import Flask
from freezegun import freeze_time

from app.certificates import pdf, services
from app.certificates.models import IssuedDocument


def _answer(valid_days: int | None = 30) -> IssuedDocument:
    with freeze_time("2026-11-29 08:00:00"):  # 8 Azar 1405
        return services.issue_document(
            document_type="property_inquiry_answer",
            facts={
                "tracking_code": "091234567890",
                "open_violations": 0,
                "zoning": {"zone": "R-2", "max_floors": 4},
            },
            idempotency_key=f"validity-test:{valid_days}",
            case=None,
            now=datetime.now(UTC),
            valid_days=valid_days,
        )


def test_the_validity_date_is_counted_in_tehran_days_and_signed(app: Flask) -> None:
    document = _answer(30)
    assert document.valid_until == date(2026, 12, 29)
    assert services.verify_document(document).signature_valid
    document.valid_until = date(2027, 12, 29)  # a forged extension breaks the signature
    assert not services.verify_document(document).signature_valid
    assert _answer(None).valid_until is None


def test_verify_shows_valid_until_then_expired(app: Flask) -> None:
    document = _answer(30)
    client = app.test_client()
    url = f"/verify/{document.document_number}"

    with freeze_time("2026-12-29 20:00:00"):  # 23:30 on the last valid day in Tehran
        page = client.get(url).get_data(as_text=True)
        assert services.verify_document(document).authentic_and_current
    assert "verify-result--ok" in page
    assert 'id="document-valid-until"' in page
    assert "۸ دی ۱۴۰۵" in page
    # A fact that is a mapping reads as its items (raw names: this document has no package).
    assert "<dt>max_floors</dt><dd><bdi>۴</bdi></dd>" in page

    with freeze_time("2026-12-29 21:00:00"):  # 00:30 the next day in Tehran
        page = client.get(url).get_data(as_text=True)
        english = client.get(url, query_string={"lang": "en"}).get_data(as_text=True)
        result = services.verify_document(document)
    assert result.expired
    assert not result.authentic_and_current
    assert "منقضی" in page
    assert "verify-result--bad" in page
    assert "Expired: this document was issued by the municipality" in english


def test_the_pdf_templates_get_the_validity_date(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = _answer(30)
    # Any document template may print it; this one prints only that.
    source = "{{ document.valid_until }}|{{ document.valid_until|jalali }}"
    monkeypatch.setattr(pdf, "template_source", lambda _document, _case: source)
    with app.test_request_context("/"):
        html = pdf.render_html(document)
    assert html == "2026-12-29|۱۴۰۵/۱۰/۰۸"
