"""The completion certificate's main path in Chromium, in Persian.

The owner files through the portal's pages; the counter, the inspector, the expert and the two
signatories work in /office; the fire service answers at /agency. The fee is paid through the
gateway simulator by the services (its own browser tests are in test_payment.py).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import jdatetime
import pytest
from flask import Flask
from sqlalchemy import select

from app.accounts.models import UserKind
from app.accounts.services import ensure_citizen, ensure_district, ensure_staff
from app.cases.models import CaseStatus
from app.certificates.models import IssuedDocument
from app.citizens.services import profile_of
from app.db import db
from app.demo_procedures.no_violation_certificate import pay
from app.extensions import limiter
from app.persian.jalali import TEHRAN
from app.processes.services import deploy_all
from tests.browser.procedures import (
    PASSWORD,
    TO_ASCII,
    decide,
    sign_in_citizen,
    sign_in_staff,
    task_id,
    the_case,
)
from tests.conftest import ARTIFACTS
from tests.documents.samples import pdf

pytestmark = [pytest.mark.browser, pytest.mark.requires_commit]


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"completion-{name}.png"), full_page=True)


@pytest.fixture
def people(live_db: Flask, tmp_path: Path) -> Any:
    live_db.config["DOCUMENT_LOCAL_DIR"] = str(tmp_path / "documents")
    live_db.extensions.pop("parvaneh.document_storage", None)
    limiter.reset()
    deploy_all(["completion_certificate"])
    district = ensure_district("09", "منطقه ۹", "District 9")
    staff = {
        "counter": ["COUNTER"],
        "inspector": ["INSPECTOR"],
        "expert": ["URB_EXPERT"],
        "head": ["URB_HEAD"],
        "mayor": ["DISTRICT_MAYOR"],
    }
    for username, roles in staff.items():
        ensure_staff(username, "کارمند آزمون", PASSWORD, roles, [district])
    ensure_staff("fire", "آتش‌نشانی تبریز", PASSWORD, ["AGENCY_FIRE"], [], UserKind.AGENCY)
    owner = ensure_citizen("09140001001", "علی کریمی", "1360524185")
    profile_of(owner).postal_code = "5166614776"
    db.session.commit()
    yield {"owner": owner.id, "files": tmp_path}
    live_db.extensions.pop("parvaneh.document_storage", None)


def test_owner_files_staff_and_fire_service_complete_certificate_issued(
    live_server: str, live_db: Flask, people: dict[str, Any], browser_context: Any
) -> None:
    owner_ctx = browser_context()
    sign_in_citizen(owner_ctx, live_db, live_server, people["owner"])
    page = owner_ctx.new_page()

    page.goto(f"{live_server}/services/completion_certificate")
    assert page.locator("h1").inner_text() == "گواهی پایان کار"
    page.get_by_role("link", name="ثبت درخواست برخط").click()
    page.get_by_label("منطقه ۹").check()
    page.get_by_role("button", name="شروع").click()

    assert page.locator("h1").inner_text() == "مشخصات مالک و متقاضی"
    page.get_by_label("شخص حقیقی").check()
    page.locator("#field-national_code").fill("۱۳۶۰۵۲۴۱۸۵")
    page.get_by_label("مالک یا نماینده قانونی شرکت").check()
    page.get_by_label("نام و نام خانوادگی شما").fill("علی کریمی")
    page.get_by_label("شماره تلفن همراه").fill("۰۹۱۴۰۰۰۱۰۰۱")
    page.get_by_role("button", name="ذخیره و ادامه").first.click()

    assert page.locator("h1").inner_text() == "مشخصات ملک و ساختمان"
    page.get_by_label("بخش ثبتی").fill("۳")
    page.get_by_label("پلاک اصلی").fill("۱۲۵")
    page.get_by_label("پلاک فرعی").fill("۴۲۱۷")
    page.get_by_label("کد نوسازی").fill("9-2-15-37-1-0-0")
    page.get_by_label("کد پستی ملک").fill("۵۱۶۶۶۱۴۷۷۶")
    page.get_by_label("نشانی ملک").fill("تبریز، منطقه ۹، کوچه نمونه، پلاک ۷")
    page.get_by_label("مساحت زمین").fill("۲۴۰٫۵")
    page.locator("#field-land_use").select_option("residential")
    page.get_by_label("شماره پروانه ساختمانی").fill("1404-09-0412")
    page.get_by_label("شماره فرم اتمام عملیات ساختمانی").fill("PK-3391")
    page.get_by_label("تعداد طبقات").fill("۵")
    page.get_by_label("تعداد واحدها").fill("۸")
    page.get_by_label("زیربنای کل").fill("۸۲۰٫۵")
    page.get_by_role("button", name="ذخیره و ادامه").first.click()

    assert page.locator("h1").inner_text() == "مدارک"
    deed = people["files"] / "سند.pdf"
    deed.write_bytes(pdf("deed"))
    drawing = people["files"] / "ازبیلت.pdf"
    drawing.write_bytes(pdf("as built"))
    page.locator("#field-deed_scan").set_input_files(str(deed))
    page.locator("#field-as_built_drawings").set_input_files(str(drawing))
    shot(page, "1-documents")
    page.get_by_role("button", name="ذخیره و بررسی پاسخ‌ها").click()
    page.get_by_role("button", name="فرستادن").click()
    assert page.locator("h1").inner_text() == "درخواست شما فرستاده شد"
    code = page.locator(".confirmation__code").inner_text().strip().translate(TO_ASCII)
    assert code == the_case().tracking_code
    assert the_case().registry_plate == "3/125/4217"

    staff_ctx = browser_context()
    counter = sign_in_staff(staff_ctx, live_server, "counter")
    decide(
        counter,
        live_server,
        "check_documents",
        lambda p: p.get_by_label("کامل است؛ پرونده تشکیل شود").check(),
    )

    inspector = sign_in_staff(browser_context(), live_server, "inspector")
    today = jdatetime.date.fromgregorian(date=datetime.now(TEHRAN).date())

    def report(p: Any) -> None:
        p.get_by_label("مطابق پروانه؛ تخلفی دیده نشد").check()
        p.locator("input[name=visited_on__day]").fill(str(today.day))
        p.locator("input[name=visited_on__month]").fill(str(today.month))
        p.locator("input[name=visited_on__year]").fill(str(today.year))
        p.locator("#field-findings").fill("ساختمان مطابق پروانه و نقشه چون‌ساخت است.")

    decide(inspector, live_server, "inspect_site", report)
    expert = sign_in_staff(browser_context(), live_server, "expert")
    decide(
        expert,
        live_server,
        "review_case",
        lambda p: p.get_by_label("تأیید و ادامه (با تخلف: ارجاع به کمیسیون ماده ۱۰۰)").check(),
    )

    fire = sign_in_staff(browser_context(), live_server, "fire")
    assert fire.url.endswith("/agency/")
    fire.goto(f"{live_server}/agency/tasks/{task_id('fire_inquiry')}")
    assert "راه فرار" in fire.locator("main").inner_text()  # the question asked
    fire.get_by_label("بلامانع است", exact=True).check()
    shot(fire, "2-fire")
    fire.get_by_role("button", name="فرستادن پاسخ").click()
    fire.wait_for_load_state()

    case = the_case()
    assert case.current_step == "انتظار پرداخت"
    pay(case, case.applicant)
    db.session.commit()

    head = sign_in_staff(browser_context(), live_server, "head")
    decide(
        head,
        live_server,
        "sign_head",
        lambda p: p.locator("#field-confirm").check(),
    )
    mayor = sign_in_staff(browser_context(), live_server, "mayor")
    decide(
        mayor,
        live_server,
        "sign_mayor",
        lambda p: p.locator("#field-confirm").check(),
    )

    case = the_case()
    assert case.status == CaseStatus.COMPLETED
    document = db.session.scalars(
        select(IssuedDocument).where(IssuedDocument.document_type == "completion_certificate")
    ).one()
    assert document.facts["fire_clearance"] == "no_objection"
    page.goto(f"{live_server}/verify/{document.document_number}")
    shot(page, "3-verify")
    assert document.document_number in page.locator("main").inner_text().translate(TO_ASCII)
