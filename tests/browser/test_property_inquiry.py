"""A notary office files an inquiry about an apartment on /agency/inquiries/ and gets «بلامانع».

Domain §9 case 3: the unit's file already holds a completion certificate, so no expert looks
at it; the notary pays the levies online from its list, through the built-in gateway simulator,
comes back to the list, and the answer, valid for six months, appears there.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.accounts.models import UserKind
from app.accounts.services import ensure_district, ensure_staff
from app.cases import services as cases
from app.cases.models import Case, CaseStatus
from app.certificates import services as certificates
from app.certificates.models import IssuedDocument
from app.db import db
from app.fees.models import Invoice, InvoiceStatus
from app.processes.services import deploy_all, latest_version
from app.properties import services as register
from app.properties.zoning import parse_plate_key
from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.requires_commit]

PASSWORD = "correct horse battery staple"
TO_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"property-inquiry-{name}.png"), full_page=True)


@pytest.fixture
def completed_unit(live_db: Flask) -> str:
    deploy_all(["property_inquiry", "sample_permit"])
    district = ensure_district("09", "منطقه ۹", "District 9")
    ensure_staff(
        "notary12",
        "دفتر اسناد رسمی شماره ۱۲ تبریز",
        PASSWORD,
        ["REQUESTER_NOTARY"],
        [],
        kind=UserKind.AGENCY,
    )
    owner = ensure_staff("counter", "پیشخوان", PASSWORD, ["COUNTER"], [district])
    version = latest_version("sample_permit")
    assert version is not None
    earlier = cases.start_case(version, applicant=owner, district=district, data={}, actor=owner)
    register.link_case(
        register.get_or_create(parse_plate_key("3/125/4217-5")), earlier, datetime.now(UTC)
    )
    completion = certificates.issue_document(
        document_type="completion_certificate",
        facts={"tracking_code": earlier.tracking_code},
        idempotency_key=f"test:{earlier.id}:completion",
        case=earlier,
        now=datetime.now(UTC) - timedelta(days=30),
    )
    db.session.commit()
    return completion.document_number


def test_a_notary_files_an_inquiry_and_reads_the_answer(
    completed_unit: str, live_server: str, browser_context: Any
) -> None:
    context = browser_context()
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(f"{live_server}/staff/login")
    page.locator("#field-username").fill("notary12")
    page.locator("#field-password").fill(PASSWORD)
    page.locator("button[type=submit]").click()
    page.wait_for_load_state()

    page.goto(f"{live_server}/agency/inquiries/")
    page.locator("#inquiry-service").select_option("property_inquiry")
    page.locator("#inquiry-district").select_option(label="منطقه ۹")
    page.get_by_role("button", name="آغاز استعلام").click()
    page.wait_for_load_state()

    page.locator("input[name=requester_kind][value=notary]").check()
    page.locator("#field-requester_name").fill("دفتر اسناد رسمی شماره ۱۲ تبریز")
    page.locator("#field-letter_number").fill("۱۲/۴۴۰۸")
    page.locator("#field-letter_date").fill("۱")
    page.locator("#field-letter_date-month").fill("۷")
    page.locator("#field-letter_date-year").fill("۱۴۰۴")
    page.get_by_label("بخش ثبتی").fill("۳")
    page.get_by_label("پلاک اصلی").fill("۱۲۵")
    page.get_by_label("پلاک فرعی").fill("۴۲۱۷-۵")
    page.locator("#field-area").fill("۸۵٫۵")
    page.locator("#field-land_use").select_option("residential")
    page.locator("input[name=purpose][value=transfer]").check()
    page.locator("#field-seller_national_code").fill("۰۰۸۴۱۲۷۷۵۹")
    page.locator("#field-buyer_national_code").fill("1367710945")  # a wrong check digit
    page.get_by_role("button", name="فرستادن").click()

    # The wrong national code is refused next to its field, and what was typed stays.
    error = page.locator("#field-buyer_national_code").locator(
        "xpath=ancestor::*[contains(@class,'field')][1]"
    )
    assert "کد ملی" in error.inner_text()
    assert page.locator("#field-letter_number").input_value() == "۱۲/۴۴۰۸"
    shot(page, "1-error")
    page.locator("#field-buyer_national_code").fill("۱۳۶۷۷۱۰۹۴۴")
    page.get_by_role("button", name="فرستادن").click()
    page.wait_for_url(f"{live_server}/agency/inquiries/")
    assert "فرستاده شد" in page.content()
    shot(page, "2-sent")

    db.session.remove()
    case = db.session.scalars(select(Case).where(Case.process_key == "property_inquiry")).one()
    assert case.status == CaseStatus.WAITING_EVENT  # the levies, then the answer
    invoice = db.session.scalars(select(Invoice).where(Invoice.case_id == case.id)).one()
    invoice_id = invoice.id

    # The levies are on the inquiry's row: amount in Persian digits, bill and payment IDs.
    row = page.locator("tr.agency-row")
    assert row.count() == 1
    text = row.inner_text()
    assert f"{invoice.total_rials:,}".replace(",", "٬").translate(TO_PERSIAN) in text
    assert invoice.bill_id.translate(TO_PERSIAN) in text
    assert invoice.payment_id.translate(TO_PERSIAN) in text
    shot(page, "3-invoice")

    # Paid online through the built-in gateway simulator, exactly as citizens pay.
    row.get_by_role("button", name=re.compile("پرداخت اینترنتی")).click()
    assert page.locator("h1").inner_text() == "درگاه پرداخت اینترنتی"
    page.get_by_role("button", name="پرداخت", exact=True).click()
    page.wait_for_url(re.compile(r"/agency/inquiries/\?payment=[0-9]+"))
    assert "پرداخت انجام شد" in page.locator("#payment-outcome").inner_text()
    shot(page, "4-paid")
    reference = page.url.split("payment=")[1].split("#")[0]
    receipt = context.request.get(f"{live_server}/payments/{reference}/receipt.pdf")
    assert receipt.status == 200
    assert receipt.headers["content-type"] == "application/pdf"

    db.session.remove()
    invoice = db.session.get(Invoice, invoice_id)
    assert invoice is not None
    assert invoice.status == InvoiceStatus.PAID
    row = page.locator("tr.agency-row")
    answer = db.session.scalars(
        select(IssuedDocument).where(
            IssuedDocument.case_id == case.id,
            IssuedDocument.document_type == "property_inquiry_answer",
        )
    ).one()
    assert answer.facts["answer"] == "بلامانع"
    assert answer.facts["documents"] == completed_unit
    assert answer.facts["fee_paid"] == invoice.total_rials
    text = row.inner_text()
    assert answer.document_number.translate(TO_PERSIAN) in text
    assert "معتبر تا" in text
    shot(page, "5-answered")
    pdf = context.request.get(f"{live_server}/agency/answers/{answer.document_number}.pdf")
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
