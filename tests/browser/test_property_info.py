"""A citizen asks for a parcel's zoning information in Persian and gets the answer at once.

The parcel's detailed-plan data is on record, so the request is answered in the same request:
the case page shows the issued answer, and its PDF opens.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.accounts.services import ensure_citizen, ensure_district
from app.cases.models import Case, CaseStatus
from app.certificates.models import IssuedDocument
from app.citizens.services import profile_of
from app.db import db
from app.extensions import limiter
from app.processes.services import deploy_all
from app.properties.zoning import put_on_record
from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.requires_commit]

PHONE = {"width": 390, "height": 844}
TO_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
TO_ASCII = str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"property-info-{name}.png"), full_page=True)


@pytest.fixture
def zoning_on_record(live_db: Flask) -> None:
    limiter.reset()
    deploy_all(["property_info"])
    district = ensure_district("09", "منطقه ۹", "District 9")
    profile_of(ensure_citizen("09140001001", "علی کریمی", "1360524185")).postal_code = "5166614776"
    put_on_record(
        "3/125/4217",
        {
            "zone": "R211",
            "land_use": "residential",
            "max_floors": 4,
            "max_density_pct": 180,
            "max_coverage_pct": 60,
            "setback_m": 1.2,
            "street_width_m": 12,
        },
        district=district,
    )
    db.session.commit()


def sign_in(context: Any, live_server: str, mobile: str) -> Any:
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("شماره تلفن همراه").fill(mobile.translate(TO_PERSIAN))
    page.get_by_role("button", name="کد را برایم بفرست").click()
    inbox = context.new_page()
    inbox.goto(f"{live_server}/dev/sms/?mobile={mobile}")
    text = inbox.locator(".sms-inbox__text").first.inner_text()
    inbox.close()
    code = re.search(r"\b([0-9]{6})\b", text.translate(TO_ASCII))
    assert code, text
    page.get_by_label("کد", exact=True).fill(code.group(1))
    page.get_by_role("button", name="ورود").click()
    return page


def test_zoning_information_is_answered_at_once(
    live_server: str, zoning_on_record: None, browser_context: Any
) -> None:
    context = browser_context(viewport=PHONE)
    page = sign_in(context, live_server, "09140001001")

    page.goto(f"{live_server}/services/property_info")
    assert page.locator("h1").inner_text() == "اطلاعات ملک، دستور نقشه و استعلام کاربری"
    assert "رایگان" in page.locator("main").inner_text()
    shot(page, "1-service")
    page.get_by_role("link", name="ثبت درخواست برخط").click()
    page.get_by_label("منطقه ۹").check()
    page.get_by_role("button", name="شروع").click()

    assert page.locator("h1").inner_text() == "درخواست"
    page.get_by_label("اطلاعات ملک (طرح تفصیلی، بر و کف)").check()
    page.get_by_label("نام و نام خانوادگی").fill("علی كريمي")  # Arabic letters: normalised
    page.get_by_role("button", name="ذخیره و ادامه").first.click()

    assert page.locator("h1").inner_text() == "مشخصات ملک"
    page.get_by_label("بخش ثبتی").fill("۳")
    page.get_by_label("پلاک اصلی").fill("۱۲۵")
    page.get_by_label("پلاک فرعی").fill("۴۲۱۷")
    page.get_by_label("نشانی ملک").fill("تبریز، منطقه ۹، خیابان نمونه")
    page.get_by_label("مساحت زمین").fill("۲۴۰٫۵")
    shot(page, "2-property")
    page.get_by_role("button", name="ذخیره و بررسی پاسخ‌ها").click()

    assert page.locator("h1").inner_text() == "پیش از فرستادن، پاسخ‌هایتان را بررسی کنید"
    page.get_by_role("button", name="فرستادن").click()
    assert page.locator("h1").inner_text() == "درخواست شما فرستاده شد"
    shown_code = page.locator(".confirmation__code").inner_text().strip().translate(TO_ASCII)
    shot(page, "3-sent")

    db.session.remove()
    case = db.session.scalars(select(Case)).one()
    assert shown_code == case.tracking_code
    assert case.status == CaseStatus.COMPLETED
    assert case.registry_plate == "3/125/4217"
    answer = db.session.scalars(
        select(IssuedDocument).where(IssuedDocument.case_id == case.id)
    ).one()
    assert answer.document_type == "property_info_answer"
    assert answer.facts["applicant_name"] == "علی کریمی"
    assert answer.facts["zone"] == "R211"

    page.get_by_role("link", name="مشاهده پرونده").click()
    assert page.locator("h1").inner_text().startswith("پرونده")
    shot(page, "4-case")
    pdf = context.request.get(f"{live_server}/certificates/{answer.document_number}.pdf")
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    verify = context.new_page()
    verify.goto(f"{live_server}/verify/{answer.document_number}")
    assert "R۲۱۱" in verify.locator("main").inner_text()
    shot(verify, "5-verify")
