"""The building permit's main path in Chromium, in Persian (domain.md §9 case 1).

The owner files through the portal's pages with the documents uploaded, and later uploads the
engineers' drawings and the undertakings on the portal's task pages; the counter, inspector,
expert, head and deputy work in /office; the land registry and the engineering organisation
answer at /agency. The fee is paid through the gateway simulator by the services (its own
browser tests are in test_payment.py). The case page draws the package's diagram with bpmn-js.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import jdatetime
import pytest
from flask import Flask
from sqlalchemy import select

from app.accounts.models import UserKind
from app.accounts.services import ensure_citizen, ensure_district, ensure_staff
from app.cases.models import CaseStatus, TaskState
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

NEXT, CHECK, SEND = "ذخیره و ادامه", "ذخیره و بررسی پاسخ‌ها", "فرستادن"


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"building-permit-{name}.png"), full_page=True)


@pytest.fixture
def people(live_db: Flask, tmp_path: Path) -> Any:
    live_db.config["DOCUMENT_LOCAL_DIR"] = str(tmp_path / "documents")
    live_db.extensions.pop("parvaneh.document_storage", None)
    limiter.reset()
    deploy_all(["building_permit"])
    district = ensure_district("09", "منطقه ۹", "District 9")
    staff = {
        "counter": ["COUNTER"],
        "inspector": ["INSPECTOR"],
        "expert": ["URB_EXPERT"],
        "head": ["URB_HEAD"],
        "deputy": ["DEPUTY"],
    }
    for username, roles in staff.items():
        ensure_staff(username, "کارمند آزمون", PASSWORD, roles, [district])
    for username, role in (("registry", "AGENCY_REGISTRY"), ("nezam", "AGENCY_ENGINEERING")):
        ensure_staff(username, "دستگاه آزمون", PASSWORD, [role], [], UserKind.AGENCY)
    owner = ensure_citizen("09140001001", "علی کریمی", "1360524185")
    profile_of(owner).postal_code = "5166614776"
    db.session.commit()
    yield {"owner": owner.id, "files": tmp_path}
    live_db.extensions.pop("parvaneh.document_storage", None)


def choose(page: Any, name: str, value: str) -> None:
    page.locator(f"input[name={name}][value={value}]").check()


def agency_answers(
    page: Any, live_server: str, element_id: str, fill: Callable[[Any], None]
) -> None:
    page.goto(f"{live_server}/agency/tasks/{task_id(element_id)}")
    fill(page)
    page.get_by_role("button", name="فرستادن پاسخ").click()
    page.wait_for_load_state()
    assert element_id not in [t.element_id for t in the_case().tasks if t.state == TaskState.OPEN]


def citizen_task(page: Any, live_server: str, element_id: str) -> None:
    page.goto(f"{live_server}/my/cases/{the_case().id}/tasks/{task_id(element_id)}")


def upload(page: Any, field: str, path: Path) -> None:
    page.locator(f"#field-{field}").set_input_files(str(path))


def test_owner_files_staff_and_agencies_work_permit_issued(
    live_server: str, live_db: Flask, people: dict[str, Any], browser_context: Any
) -> None:
    files: Path = people["files"]
    scan = files / "سند.pdf"
    scan.write_bytes(pdf("deed"))
    owner_ctx = browser_context()
    sign_in_citizen(owner_ctx, live_db, live_server, people["owner"])
    page = owner_ctx.new_page()

    page.goto(f"{live_server}/services/building_permit")
    assert page.locator("h1").inner_text() == "صدور پروانه ساختمانی (احداث بنا)"
    page.get_by_role("link", name="ثبت درخواست برخط").click()
    page.get_by_label("منطقه ۹").check()
    page.get_by_role("button", name="شروع").click()

    assert page.locator("h1").inner_text() == "متقاضی و مالکان"
    choose(page, "applicant_role", "owner")
    page.get_by_label("نام و نام خانوادگی متقاضی").fill("علي كريمي")
    page.get_by_label("کد ملی متقاضی").fill("۱۳۶۰۵۲۴۱۸۵")
    page.get_by_label("شماره تلفن همراه").fill("۰۹۱۴۰۰۰۱۰۰۱")
    page.locator("#field-owners-0-name").fill("علی کریمی")
    page.locator("#field-owners-0-national_code").fill("۱۳۶۰۵۲۴۱۸۵")
    page.locator("#field-owners-0-share").fill("۶")
    page.get_by_role("button", name=NEXT).first.click()

    assert page.locator("h1").inner_text() == "مشخصات ملک"
    page.get_by_label("بخش ثبتی").fill("۳")
    page.get_by_label("پلاک اصلی").fill("۱۲۵")
    page.get_by_label("پلاک فرعی").fill("۴۲۱۷")
    page.get_by_label("کد نوسازی").fill("9-2-15-37-1-0-0")
    page.get_by_label("نشانی ملک").fill("تبریز، منطقه ۹، حوزه ۲، کوچه نمونه، پلاک ۷")
    page.get_by_label("کد پستی ملک").fill("۵۱۶۶۶۱۴۷۷۶")
    page.get_by_label("مساحت زمین").fill("۲۴۰٫۵۰")
    page.locator("#field-land_use").select_option("residential")
    page.get_by_role("button", name=NEXT).first.click()

    assert page.locator("h1").inner_text() == "طرح پیشنهادی"
    page.get_by_label("تعداد طبقات (بدون پیلوت)").fill("۴")
    page.get_by_label("تعداد واحدها").fill("۸")
    choose(page, "pilotis", "yes")
    page.get_by_role("button", name=NEXT).first.click()

    assert page.locator("h1").inner_text() == "مدارک"
    choose(page, "deed_type", "single_sheet")
    upload(page, "deed", scan)
    upload(page, "renewal_receipt", scan)
    shot(page, "1-documents")
    page.get_by_role("button", name=CHECK).click()
    page.get_by_role("button", name=SEND).click()
    assert page.locator("h1").inner_text() == "درخواست شما فرستاده شد"
    code = page.locator(".confirmation__code").inner_text().strip().translate(TO_ASCII)
    case = the_case()
    assert code == case.tracking_code
    assert case.registry_plate == "3/125/4217"

    # The case page draws the package's diagram (bpmn-js) and marks the current step.
    page.goto(f"{live_server}/my/cases/{case.id}")
    page.wait_for_selector("[data-diagram-ready=true]", timeout=15_000)
    current = page.locator(".djs-element.current")
    assert current.first.get_attribute("data-element-id") == "check_documents"
    assert page.locator(".djs-element[data-element-id=heritage_inquiry]").count() == 1
    shot(page, "2-case")

    counter = sign_in_staff(browser_context(), live_server, "counter")
    decide(counter, live_server, "check_documents", lambda p: choose(p, "decision", "approve"))

    inspector = sign_in_staff(browser_context(), live_server, "inspector")
    today = jdatetime.date.fromgregorian(date=datetime.now(TEHRAN).date())

    def report(p: Any) -> None:
        p.locator("input[name=visited_on__day]").fill(str(today.day))
        p.locator("input[name=visited_on__month]").fill(str(today.month))
        p.locator("input[name=visited_on__year]").fill(str(today.year))
        choose(p, "existing_state", "old_building")
        p.locator("#field-measured_area").fill("240.5")
        p.locator("#field-setback_m").fill("1.2")
        p.locator("#field-findings").fill("ساختمان قدیمی یک‌طبقه؛ عقب‌نشینی ۱٫۲۰ متر لازم است.")

    decide(inspector, live_server, "inspect_site", report)

    expert = sign_in_staff(browser_context(), live_server, "expert")

    def review(p: Any) -> None:
        choose(p, "decision", "approve")
        choose(p, "utility_row_affected", "no")
        choose(p, "heritage_buffer", "no")

    decide(expert, live_server, "review_planning", review)

    registry = sign_in_staff(browser_context(), live_server, "registry")
    assert registry.url.endswith("/agency/")
    registry.goto(f"{live_server}/agency/tasks/{task_id('registry_inquiry')}")
    assert "مالکیت و پلاک ثبتی" in registry.locator("main").inner_text()  # the question
    shot(registry, "3-registry")
    agency_answers(
        registry,
        live_server,
        "registry_inquiry",
        lambda p: choose(p, "registry_answer", "no_objection"),
    )
    nezam = sign_in_staff(browser_context(), live_server, "nezam")
    agency_answers(
        nezam,
        live_server,
        "engineering_inquiry",
        lambda p: choose(p, "engineering_answer", "no_objection"),
    )

    def brief(p: Any) -> None:
        p.locator("#field-brief_setback_m").fill("1.2")
        p.locator("#field-brief_max_floors").fill("5")
        p.locator("#field-brief_density_pct").fill("240")
        p.locator("#field-brief_coverage_pct").fill("60")

    decide(expert, live_server, "draft_design_brief", brief)
    head = sign_in_staff(browser_context(), live_server, "head")
    decide(head, live_server, "approve_design_brief", lambda p: choose(p, "decision", "approve"))

    # The owner uploads the engineers' drawings on the portal.
    drawing = files / "نقشه.pdf"
    drawing.write_bytes(pdf("drawing"))
    citizen_task(page, live_server, "upload_drawings")
    for field in ("architecture_drawings", "structure_drawings", "installations_drawings"):
        upload(page, field, drawing)
    page.locator("#field-parking_spaces").fill("۸")
    page.get_by_role("button", name=NEXT).first.click()
    page.locator("#field-architect_name").fill("سارا احمدی")
    page.locator("#field-architect_licence").fill("1-12-34567")
    page.locator("#field-structural_engineer_name").fill("رضا محمدی")
    page.locator("#field-structural_engineer_licence").fill("1-12-45678")
    page.locator("#field-supervisor_name").fill("مهدی رحیمی")
    page.locator("#field-supervisor_licence").fill("1-12-56789")
    shot(page, "4-engineers")
    page.get_by_role("button", name=CHECK).click()
    page.get_by_role("button", name=SEND).click()
    page.wait_for_load_state()

    def verified(p: Any) -> None:
        choose(p, "decision", "approve")
        p.locator("#field-engineering_reference").fill("NM-4512")

    agency_answers(nezam, live_server, "verify_drawings", verified)
    decide(expert, live_server, "check_drawings", lambda p: choose(p, "decision", "approve"))

    case = the_case()
    assert case.current_step == "انتظار پرداخت عوارض"
    pay(case, case.applicant)
    db.session.commit()

    citizen_task(page, live_server, "upload_undertakings")
    upload(page, "notarised_undertaking", scan)
    page.locator("#field-undertaking_number").fill("145782")
    page.locator("#field-undertaking_date").fill(str(today.day))
    page.locator("#field-undertaking_date-month").fill(str(today.month))
    page.locator("#field-undertaking_date-year").fill(str(today.year))
    upload(page, "social_security_letter", scan)
    page.locator("#field-social_security_number").fill("9/1404/5512")
    page.get_by_role("button", name=CHECK).click()
    page.get_by_role("button", name=SEND).click()
    page.wait_for_load_state()

    decide(counter, live_server, "check_undertakings", lambda p: choose(p, "decision", "approve"))
    decide(head, live_server, "sign_head", lambda p: choose(p, "decision", "approve"))
    deputy = sign_in_staff(browser_context(), live_server, "deputy")
    decide(deputy, live_server, "sign_deputy", lambda p: choose(p, "decision", "approve"))

    case = the_case()
    assert case.status == CaseStatus.COMPLETED
    document = db.session.scalars(
        select(IssuedDocument).where(IssuedDocument.document_type == "building_permit")
    ).one()
    assert document.facts["applicant_name"] == "علی کریمی"  # Arabic ي and ك normalised
    assert document.facts["engineers"]["architect"] == "سارا احمدی"
    page.goto(f"{live_server}/verify/{document.document_number}")
    shot(page, "5-verify")
    assert document.document_number in page.locator("main").inner_text().translate(TO_ASCII)
