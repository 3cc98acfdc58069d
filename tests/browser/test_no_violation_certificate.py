"""The no-violation certificate's main path in Chromium, in Persian.

The owner files through the portal's pages and follows the case on its page; the counter, the
inspector, the expert and the head work in /office. Unlike the completion certificate's test,
the owner pays the fee through the gateway simulator's pages, reaching the invoice by the bill
ID the payment message on the case page gives. The certificate then shows on /verify with the
date its 90 days of validity end.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jdatetime
import pytest
from flask import Flask
from sqlalchemy import select

from app.accounts.services import ensure_citizen, ensure_district, ensure_staff
from app.cases.models import CaseStatus
from app.certificates.models import IssuedDocument
from app.citizens.services import profile_of
from app.db import db
from app.extensions import limiter
from app.persian.jalali import TEHRAN, format_jalali_date
from app.processes.services import deploy_all
from tests.browser.procedures import (
    PASSWORD,
    TO_ASCII,
    decide,
    sign_in_citizen,
    sign_in_staff,
    the_case,
)
from tests.conftest import ARTIFACTS
from tests.documents.samples import pdf

pytestmark = [pytest.mark.browser, pytest.mark.requires_commit]


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"no-violation-{name}.png"), full_page=True)


def case_facts(page: Any, live_server: str, case_id: int) -> dict[str, str]:
    """The owner's case page, read as they see it: the facts at its top, label to value."""
    page.goto(f"{live_server}/my/cases/{case_id}")
    facts = page.locator("dl.facts").first
    labels = facts.locator("dt").all_inner_texts()
    values = facts.locator("dd").all_inner_texts()
    return {label.strip(): value.strip() for label, value in zip(labels, values, strict=True)}


@pytest.fixture
def nvc_people(live_db: Flask, tmp_path: Path) -> Any:
    live_db.config["DOCUMENT_LOCAL_DIR"] = str(tmp_path / "documents")
    live_db.extensions.pop("parvaneh.document_storage", None)
    limiter.reset()
    deploy_all(["no_violation_certificate"])
    district = ensure_district("09", "منطقه ۹", "District 9")
    staff = {
        "counter": ["COUNTER"],
        "inspector": ["INSPECTOR"],
        "expert": ["URB_EXPERT"],
        "head": ["URB_HEAD"],
    }
    for username, roles in staff.items():
        ensure_staff(username, "کارمند آزمون", PASSWORD, roles, [district])
    owner = ensure_citizen("09140001001", "علی کریمی", "1360524185")
    profile_of(owner).postal_code = "5166614776"
    db.session.commit()
    yield {"owner": owner.id, "files": tmp_path}
    live_db.extensions.pop("parvaneh.document_storage", None)


def test_owner_files_staff_decide_owner_pays_certificate_verified(
    live_server: str, live_db: Flask, nvc_people: dict[str, Any], browser_context: Any
) -> None:
    owner_ctx = browser_context()
    sign_in_citizen(owner_ctx, live_db, live_server, nvc_people["owner"])
    page = owner_ctx.new_page()

    page.goto(f"{live_server}/services/no_violation_certificate")
    assert page.locator("h1").inner_text() == "گواهی عدم خلاف"
    page.get_by_role("link", name="ثبت درخواست برخط").click()
    page.get_by_label("منطقه ۹").check()
    page.get_by_role("button", name="شروع").click()

    assert page.locator("h1").inner_text() == "مشخصات مالک و متقاضی"
    page.get_by_label("شخص حقیقی", exact=True).check()
    page.locator("#field-national_code").fill("۱۳۶۰۵۲۴۱۸۵")
    page.get_by_label("مالک یا نماینده قانونی شرکت").check()
    page.get_by_label("نام و نام خانوادگی شما").fill("علی کریمی")
    page.get_by_label("شماره تلفن همراه").fill("۰۹۱۴۰۰۰۱۰۰۱")
    page.get_by_role("button", name="ذخیره و ادامه").first.click()

    assert page.locator("h1").inner_text() == "مشخصات ملک و پروانه"
    page.get_by_label("بخش ثبتی").fill("۳")
    page.get_by_label("پلاک اصلی").fill("۱۲۵")
    page.get_by_label("پلاک فرعی").fill("۴۲۱۷")
    page.get_by_label("کد نوسازی").fill("9-2-15-37-1-0-0")
    page.get_by_label("کد پستی ملک").fill("۵۱۶۶۶۱۴۷۷۶")
    page.get_by_label("نشانی ملک").fill("تبریز، منطقه ۹، کوچه نمونه، پلاک ۷")
    page.get_by_label("مساحت زمین").fill("۲۴۰٫۵")
    page.locator("#field-land_use").select_option("residential")
    page.get_by_label("شماره پروانه ساختمانی").fill("1404-09-0412")
    page.get_by_label("سقف و سفت‌کاری").check()
    page.locator("#field-stage_report_number").fill("NZ-5521")
    page.get_by_label("وام بانکی").check()
    page.get_by_role("button", name="ذخیره و ادامه").first.click()

    assert page.locator("h1").inner_text() == "مدارک"
    deed = nvc_people["files"] / "صفحه-آخر-سند.pdf"
    deed.write_bytes(pdf("deed last page"))
    receipt = nvc_people["files"] / "قبض-نوسازی.pdf"
    receipt.write_bytes(pdf("renewal levy receipt"))
    page.locator("#field-deed_last_page").set_input_files(str(deed))
    page.locator("#field-renewal_receipt").set_input_files(str(receipt))
    shot(page, "1-documents")
    page.get_by_role("button", name="ذخیره و بررسی پاسخ‌ها").click()
    check = page.locator("main").inner_text()
    assert "1404-09-0412" in check.translate(TO_ASCII)
    assert "NZ-5521" in check
    page.get_by_role("button", name="فرستادن").click()
    assert page.locator("h1").inner_text() == "درخواست شما فرستاده شد"
    code = page.locator(".confirmation__code").inner_text().strip().translate(TO_ASCII)
    case = the_case()
    assert code == case.tracking_code
    assert case.registry_plate == "3/125/4217"
    case_id = case.id

    facts = case_facts(page, live_server, case_id)
    assert page.locator("h1").inner_text().translate(TO_ASCII) == f"پرونده {code}"
    assert facts["مرحله کنونی"] == "بررسی مدارک و تشکیل پرونده"
    documents = page.locator("#documents-title + *").inner_text()
    assert "صفحه-آخر-سند.pdf" in documents
    assert "قبض-نوسازی.pdf" in documents

    counter = sign_in_staff(browser_context(), live_server, "counter")
    decide(
        counter,
        live_server,
        "check_documents",
        lambda p: p.get_by_label("کامل است؛ پرونده تشکیل شود").check(),
    )
    assert case_facts(page, live_server, case_id)["مرحله کنونی"] == "بازدید میدانی"

    inspector = sign_in_staff(browser_context(), live_server, "inspector")
    today = jdatetime.date.fromgregorian(date=datetime.now(TEHRAN).date())

    def report(p: Any) -> None:
        p.get_by_label("مطابق پروانه؛ تخلفی دیده نشد").check()
        p.locator("input[name=visited_on__day]").fill(str(today.day))
        p.locator("input[name=visited_on__month]").fill(str(today.month))
        p.locator("input[name=visited_on__year]").fill(str(today.year))
        p.locator("#field-findings").fill("ساختمان تا مرحله سقف مطابق پروانه ساخته شده است.")

    decide(inspector, live_server, "inspect_site", report)
    assert case_facts(page, live_server, case_id)["مرحله کنونی"] == "بررسی شهرسازی"

    expert = sign_in_staff(browser_context(), live_server, "expert")
    decide(
        expert,
        live_server,
        "review_case",
        lambda p: p.get_by_label("تأیید و ادامه (با تخلف: ارجاع به کمیسیون ماده ۱۰۰)").check(),
    )

    # The owner sees the fee and its bill ID on the case page, and pays it at the gateway.
    facts = case_facts(page, live_server, case_id)
    assert facts["مرحله کنونی"] == "انتظار پرداخت"
    assert facts["وضعیت"] == "در انتظار پرداخت یا پاسخ"
    needed = page.locator(".needed").inner_text().translate(TO_ASCII)
    assert "هزینه صدور گواهی پرونده" in needed, needed
    bill = re.search(r"شناسه قبض ([0-9]+)", needed)
    assert bill, needed
    shot(page, "2-payable")
    page.goto(f"{live_server}/invoices/{bill.group(1)}")
    assert page.locator("h1").inner_text() == "صورت‌حساب عوارض"
    assert "هزینه صدور گواهی عدم خلاف" in page.locator("main").inner_text()
    page.get_by_role("button", name="پرداخت اینترنتی").click()
    assert page.locator("h1").inner_text() == "درگاه پرداخت اینترنتی"
    page.get_by_role("button", name="پرداخت", exact=True).click()
    page.wait_for_url(re.compile(r"/payments/[0-9]+$"))
    assert page.locator("h1").inner_text() == "پرداخت انجام شد"
    shot(page, "3-paid")
    assert case_facts(page, live_server, case_id)["مرحله کنونی"] == "امضای گواهی"

    head = sign_in_staff(browser_context(), live_server, "head")
    decide(
        head,
        live_server,
        "sign_certificate",
        lambda p: (
            p.get_by_role("group", name="گواهی را بررسی کرده‌اید و امضا می‌کنید؟")
            .get_by_label("بله")
            .check()
        ),
    )

    assert the_case().status == CaseStatus.COMPLETED
    facts = case_facts(page, live_server, case_id)
    assert facts["وضعیت"] == "پایان‌یافته"
    assert "هیچ: این پرونده به پایان رسیده است." in page.locator(".needed").inner_text()
    assert "گواهی عدم خلاف پرونده" in page.locator(".messages").inner_text()

    document = db.session.scalars(
        select(IssuedDocument).where(IssuedDocument.document_type == "no_violation_certificate")
    ).one()
    issued_on = datetime.now(TEHRAN).date()
    assert document.valid_until == issued_on + timedelta(days=90)
    page.goto(f"{live_server}/verify/{document.document_number}")
    shot(page, "4-verify")
    assert "معتبر و اصیل" in page.locator("#verification-verdict").inner_text()
    number = page.locator("#document-number").inner_text().translate(TO_ASCII)
    assert number == document.document_number
    assert page.locator("#document-valid-until").inner_text() == format_jalali_date(
        document.valid_until, "long", "fa"
    )
    assert "گواهی عدم خلاف" in page.locator("main").inner_text()
    assert page.locator("[data-fact=stage]").inner_text() == "سقف"
    assert "1404-09-0412" in page.locator("[data-fact=permit_number]").inner_text().translate(
        TO_ASCII
    )
