"""A citizen pays an invoice through the simulator and downloads the permit; anyone verifies it.

Sign-in is the real one (code from the development SMS inbox). The permit PDF's text holds
the document number, its QR code (decoded with zbarimg from the PDF's own image) leads to
the verification page, which confirms it, and says otherwise once one signed field changes.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select

from app.accounts.services import ensure_citizen, ensure_district, ensure_staff
from app.certificates.models import IssuedDocument
from app.db import db
from app.extensions import limiter
from tests.conftest import ARTIFACTS, MISSING_SERVICE_PREFIX
from tests.fees.support import case_awaiting_payment

pytestmark = [pytest.mark.browser, pytest.mark.requires_commit]

PHONE = {"width": 390, "height": 844}
MOBILE = "09140001001"


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"payment-{name}.png"), full_page=True)


def sign_in(context: Any, page: Any, live_server: str) -> None:
    page.goto(f"{live_server}/login")
    page.get_by_label("شماره تلفن همراه").fill(MOBILE)
    page.get_by_role("button", name="کد را برایم بفرست").click()
    inbox = context.new_page()
    inbox.goto(f"{live_server}/dev/sms/?mobile={MOBILE}")
    text = inbox.locator(".sms-inbox__text").first.inner_text()
    inbox.close()
    match = re.search(r"\b([0-9]{6})\b", text)
    assert match, text
    page.get_by_label("کد", exact=True).fill(match.group(1))
    page.get_by_role("button", name="ورود").click()


def qr_payloads(pdf: bytes, folder: Path) -> list[str]:
    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        pytest.skip(f"{MISSING_SERVICE_PREFIX} zbarimg (Debian zbar-tools) is not installed")
    found: list[str] = []
    for index, image in enumerate(PdfReader(io.BytesIO(pdf)).pages[0].images):
        path = folder / f"qr-{index}.png"
        image.image.save(path)
        result = subprocess.run(
            [zbarimg, "--quiet", "--raw", str(path)], capture_output=True, text=True, check=False
        )
        found += result.stdout.split()
    return found


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_pay_download_and_verify_the_permit(
    live_server: str, live_db: Flask, browser_context: Any, tmp_path: Path, js: bool
) -> None:
    limiter.reset()
    tag = "js" if js else "nojs"
    from app.processes.services import deploy_all

    deploy_all(["sample_permit"])
    district = ensure_district("09", "منطقه ۹", "District 9")
    citizen = ensure_citizen(MOBILE, "علی کریمی", "1360524185")
    expert = ensure_staff("expert", "کارشناس", "correct horse battery", ["URB_EXPERT"], [district])
    db.session.commit()
    case, invoice = case_awaiting_payment(citizen, expert, district)
    case_id = case.id

    context = browser_context(js=js, viewport=PHONE)
    page = context.pages[0] if context.pages else context.new_page()
    sign_in(context, page, live_server)
    page.goto(f"{live_server}/invoices/{invoice.bill_id}")
    assert page.locator("h1").inner_text() == "صورت‌حساب عوارض"
    assert "ریال" in page.locator("#invoice-total").inner_text()
    shot(page, f"{tag}-1-invoice")

    page.get_by_role("button", name="پرداخت اینترنتی").click()
    assert page.locator("h1").inner_text() == "درگاه پرداخت اینترنتی"
    shot(page, f"{tag}-2-gateway")
    page.get_by_role("button", name="پرداخت", exact=True).click()
    if not js:  # without JavaScript the payer presses the button to return
        page.get_by_role("button", name="بازگشت به سایت پذیرنده").click()
    page.wait_for_url(re.compile(r"/payments/[0-9]+$"))
    assert page.locator("h1").inner_text() == "پرداخت انجام شد"
    shot(page, f"{tag}-3-paid")

    db.session.remove()
    permit = db.session.scalar(
        select(IssuedDocument).where(
            IssuedDocument.case_id == case_id,
            IssuedDocument.document_type == "sample_permit_certificate",
        )
    )
    assert permit is not None
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("دریافت پروانه")).click()
    pdf = Path(download_info.value.path()).read_bytes()
    (ARTIFACTS / f"payment-{tag}-permit.pdf").write_bytes(pdf)
    assert permit.document_number in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    [url] = qr_payloads(pdf, tmp_path)
    assert url == f"{live_server}/verify/{permit.document_number}"

    verifier = context.new_page()  # the notary, with the paper in hand
    verifier.goto(url)
    assert "معتبر و اصیل" in verifier.locator("#verification-verdict").inner_text()
    shot(verifier, f"{tag}-4-verified")

    permit.facts = {**permit.facts, "applicant_name": "کسی دیگر"}  # one signed field changed
    db.session.commit()
    verifier.reload()
    assert "نامعتبر" in verifier.locator("#verification-verdict").inner_text()
    shot(verifier, f"{tag}-5-tampered")
