"""Signed documents: signatures that verify and fail on tampering, the public page, the PDFs."""

from __future__ import annotations

import base64
import io
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select

from app.certificates import services
from app.certificates.models import DocumentStatus, IssuedDocument
from app.certificates.pdf import render_pdf
from app.certificates.signing import (
    SigningKeyMissing,
    canonical_json,
    load_signing_key,
    signing_key,
    verify_signature,
)
from app.db import db
from app.payments.models import Payment
from tests.conftest import ARTIFACTS, MISSING_SERVICE_PREFIX
from tests.fees.support import case_awaiting_payment, signed_in


@pytest.fixture
def paid(app: Flask, people: dict[str, Any]) -> dict[str, Any]:
    """A permit case paid through the simulator: its permit and receipt are issued."""
    case, invoice = case_awaiting_payment(people["citizen"], people["expert"], people["district"])
    client = signed_in(app, people["citizen"])
    token = client.post(f"/invoices/{invoice.bill_id}/pay").headers["Location"].rsplit("/", 1)[1]
    client.post(f"/simulator/ipg/pay/{token}", data={"action": "pay"})
    client.post("/payments/callback", data={"token": token, "state": "OK"})
    db.session.expire_all()
    permit = db.session.scalar(
        select(IssuedDocument).where(IssuedDocument.document_type == "sample_permit_certificate")
    )
    payment = db.session.scalar(select(Payment))
    assert permit is not None
    assert payment is not None
    return {"case": case, "permit": permit, "payment": payment, "client": client}


def test_canonical_form_is_sorted_compact_utf8() -> None:
    assert canonical_json({"b": 1, "a": {"z": "پروانه", "y": [1, 2]}}) == (
        '{"a":{"y":[1,2],"z":"پروانه"},"b":1}'.encode()
    )


def test_the_signature_verifies_and_any_changed_field_fails(
    paid: dict[str, Any],
) -> None:
    permit: IssuedDocument = paid["permit"]
    assert permit.signature
    assert permit.key_id == signing_key().key_id
    assert services.verify_document(permit).authentic_and_current

    changes = {
        "facts": {**permit.facts, "applicant_name": "کسی دیگر"},
        "document_number": permit.document_number[:-1]
        + str((int(permit.document_number[-1]) + 1) % 10),
        "document_type": "payment_receipt",
        "issued_at": permit.issued_at + timedelta(seconds=1),
    }
    for field, value in changes.items():
        original = getattr(permit, field)
        setattr(permit, field, value)
        assert not services.verify_document(permit).signature_valid, field
        setattr(permit, field, original)
    assert services.verify_document(permit).signature_valid


def test_anyone_can_check_a_signature_with_the_published_key(
    app: Flask, paid: dict[str, Any]
) -> None:
    permit: IssuedDocument = paid["permit"]
    response = app.test_client().get("/verify/public-key.pem")
    assert response.status_code == 200
    assert response.headers["X-Key-Id"] == permit.key_id
    key = serialization.load_pem_public_key(response.data)
    assert isinstance(key, Ed25519PublicKey)
    data = services.signed_data(permit)
    key.verify(base64.b64decode(permit.signature or ""), canonical_json(data))  # no exception
    assert not verify_signature({**data, "facts": {}}, permit.signature, key)


def test_the_verification_page_confirms_a_valid_document(app: Flask, paid: dict[str, Any]) -> None:
    permit: IssuedDocument = paid["permit"]
    client = app.test_client()  # anyone, signed in or not

    page = client.get(f"/verify/{permit.document_number}").get_data(as_text=True)

    assert "معتبر و اصیل" in page
    assert permit.facts["applicant_name"] in page
    persian = permit.document_number.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert persian in page
    # Persian digits in the address are accepted and normalised.
    assert client.get(f"/verify/{persian}").headers["Location"].endswith(permit.document_number)
    assert client.get("/verify/1405090000001").status_code == 404


def test_the_page_says_so_when_the_stored_facts_were_tampered_with(
    app: Flask, paid: dict[str, Any]
) -> None:
    permit: IssuedDocument = paid["permit"]
    permit.facts = {**permit.facts, "fee_paid": 1}
    db.session.commit()

    page = app.test_client().get(f"/verify/{permit.document_number}").get_data(as_text=True)

    assert "نامعتبر: امضا با اطلاعات ثبت‌شده مطابقت ندارد" in page
    assert "معتبر و اصیل" not in page


def test_revoked_and_superseded_documents_are_shown_as_such(
    app: Flask, paid: dict[str, Any]
) -> None:
    permit: IssuedDocument = paid["permit"]
    now = datetime.now(UTC)
    successor = services.issue_document(
        document_type=permit.document_type,
        facts=dict(permit.facts),
        idempotency_key="reissue",
        case=paid["case"],
        now=now,
    )
    services.supersede_document(permit, successor, reason="اصلاح نام", now=now)
    db.session.commit()
    client = app.test_client()

    page = client.get(f"/verify/{permit.document_number}").get_data(as_text=True)
    assert "جایگزین‌شده" in page
    assert f"/verify/{successor.document_number}" in page
    assert services.verify_document(permit).signature_valid  # authentic, but not current
    assert not services.verify_document(permit).authentic_and_current

    services.revoke_document(successor, reason="ابطال به حکم کمیسیون ماده ۱۰۰", now=now)
    db.session.commit()
    page = client.get(f"/verify/{successor.document_number}").get_data(as_text=True)
    assert "باطل‌شده" in page
    assert "ابطال به حکم کمیسیون ماده ۱۰۰" in page
    assert successor.status == DocumentStatus.REVOKED
    with pytest.raises(services.DocumentStateError):
        services.revoke_document(successor, reason="again", now=now)


def _qr_payloads(pdf: bytes, tmp_path: Path) -> list[str]:
    """Decode every QR code in the PDF's embedded images with zbarimg."""
    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        pytest.skip(f"{MISSING_SERVICE_PREFIX} zbarimg (Debian zbar-tools) is not installed")
    found = []
    for index, image in enumerate(PdfReader(io.BytesIO(pdf)).pages[0].images):
        path = tmp_path / f"image-{index}.png"
        image.image.save(path)
        result = subprocess.run(
            [zbarimg, "--quiet", "--raw", str(path)], capture_output=True, text=True, check=False
        )
        found += result.stdout.split()
    return found


def test_the_permit_pdf_carries_the_number_and_a_qr_code_to_its_verification(
    app: Flask, paid: dict[str, Any], tmp_path: Path
) -> None:
    permit: IssuedDocument = paid["permit"]
    response = paid["client"].get(f"/certificates/{permit.document_number}.pdf")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "permit.pdf").write_bytes(response.data)  # look at it: pdftoppm -png
    text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert permit.document_number in text
    fonts = PdfReader(io.BytesIO(response.data)).pages[0]["/Resources"]["/Font"]
    names = [str(font.get_object()["/BaseFont"]) for font in fonts.values()]
    assert names
    assert all("Vazirmatn" in name for name in names)  # embedded, nothing substituted
    assert _qr_payloads(response.data, tmp_path) == [
        f"http://localhost/verify/{permit.document_number}"
    ]


def test_the_receipt_pdf_and_public_base_url(
    app: Flask, paid: dict[str, Any], tmp_path: Path
) -> None:
    payment: Payment = paid["payment"]
    receipt = db.session.get(IssuedDocument, payment.receipt_document_id)
    assert receipt is not None
    app.config["PUBLIC_BASE_URL"] = "https://parvaneh.example.ir"
    try:
        response = paid["client"].get(f"/payments/{payment.reference}/receipt.pdf")
    finally:
        app.config["PUBLIC_BASE_URL"] = ""

    assert response.status_code == 200
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "receipt.pdf").write_bytes(response.data)
    text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert receipt.document_number in text
    assert _qr_payloads(response.data, tmp_path) == [
        f"https://parvaneh.example.ir/verify/{receipt.document_number}"
    ]


def test_only_the_applicant_downloads_the_permit(
    app: Flask, people: dict[str, Any], paid: dict[str, Any]
) -> None:
    number = paid["permit"].document_number
    assert signed_in(app, people["stranger"]).get(f"/certificates/{number}.pdf").status_code == 404
    reference = paid["payment"].reference
    stranger = signed_in(app, people["stranger"])
    assert stranger.get(f"/payments/{reference}").status_code == 404
    assert stranger.get(f"/payments/{reference}/receipt.pdf").status_code == 404


def test_signing_key_from_configuration(app: Flask, tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "key.pem").write_bytes(pem)
    expected = load_signing_key(_with(app, DOCUMENT_SIGNING_KEY=base64.b64encode(raw).decode()))

    for config in (
        {"DOCUMENT_SIGNING_KEY": base64.b64encode(pem).decode()},
        {"DOCUMENT_SIGNING_KEY_PATH": str(tmp_path / "key.pem")},
    ):
        assert load_signing_key(_with(app, **config)).key_id == expected.key_id
    with pytest.raises(SigningKeyMissing):
        load_signing_key(_with(app, PARVANEH_ENV="production"))
    # Development without a key: one is generated once in instance/ and kept (owner-only).
    dev = Flask("dev", instance_path=str(tmp_path / "instance"))
    Path(dev.instance_path).mkdir()
    dev.config.update(PARVANEH_ENV="development")
    first, second = load_signing_key(dev), load_signing_key(dev)
    assert first.key_id == second.key_id
    assert (Path(dev.instance_path) / "document-signing-key.pem").stat().st_mode & 0o077 == 0


def _with(app: Flask, **config: Any) -> Flask:
    copy = Flask("copy", instance_path=app.instance_path)
    copy.config.update(
        PARVANEH_ENV="development", DOCUMENT_SIGNING_KEY="", DOCUMENT_SIGNING_KEY_PATH=""
    )
    copy.config.update(config)
    return copy


def test_rendering_uses_the_template_of_the_cases_process_version(
    app: Flask, paid: dict[str, Any]
) -> None:
    permit: IssuedDocument = paid["permit"]
    version = paid["case"].process_version
    files = dict(version.files)
    version.files = {
        **files,
        "templates/certificate.html": "<p>TEMPLATE-V2 {{ document.number }}</p>",
    }
    db.session.flush()
    try:
        with app.test_request_context():
            text = PdfReader(io.BytesIO(render_pdf(permit))).pages[0].extract_text()
    finally:
        version.files = files
    assert f"TEMPLATE-V2 {permit.document_number}" in text
