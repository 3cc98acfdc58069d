"""The back office in a real browser: review, return, correction, approval, site visit, conflict.

Staff sign in with their password and a TOTP code from their enrolled authenticator. The
citizen files the case through the use cases (the portal has its own browser tests), signs in
with a session cookie the app itself signs (the SMS sign-in has its own tests), and fixes the
returned case through the portal's pages.
"""

from __future__ import annotations

import struct
import time
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import jdatetime
import pyotp
import pytest
from flask import Flask
from sqlalchemy import select

from app.accounts.services import (
    begin_totp_enrolment,
    confirm_totp_enrolment,
    ensure_citizen,
    ensure_district,
    ensure_staff,
)
from app.accounts.services import utc_now as accounts_now
from app.cases import services as cases
from app.cases.models import Case, CaseStatus, TaskState
from app.db import db
from app.documents.models import Document
from app.notifications.models import Notification
from app.persian.jalali import TEHRAN
from app.processes.services import deploy_all, latest_version
from tests.browser.procedures import sign_in_citizen
from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.requires_commit]

PASSWORD = "correct horse battery staple"
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
#: Each staff member's authenticator, enrolled in _setup (username -> TOTP secret).
PHONES: dict[str, pyotp.TOTP] = {}
APPLICATION = {
    "applicant_type": "natural",
    "applicant_name": "علی کریمی",
    "national_code": "1360524185",
    "usage": "residential",
    "area": 240.5,
}


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"office-{name}.png"), full_page=True)


def png(width: int = 640, height: int = 480) -> bytes:
    """A small valid photo (a grey PNG) for the inspector's upload."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x80\x80\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _setup() -> dict[str, Any]:
    deploy_all(["sample_permit"])
    district = ensure_district("09", "منطقه ۹", "District 9")
    people = {
        "reviewer": ensure_staff("reviewer", "مریم احمدی", PASSWORD, ["URB_EXPERT"], [district]),
        "second": ensure_staff("second", "نادر صالحی", PASSWORD, ["URB_EXPERT"], [district]),
        "inspector": ensure_staff("inspector", "رضا قاسمی", PASSWORD, ["INSPECTOR"], [district]),
        "citizen": ensure_citizen("09140001001", "علی کریمی", "1360524185"),
    }
    for name in ("reviewer", "second", "inspector"):
        secret = begin_totp_enrolment(people[name])
        PHONES[name] = pyotp.TOTP(secret)
        assert confirm_totp_enrolment(people[name], PHONES[name].now(), now=accounts_now())
    version = latest_version("sample_permit")
    assert version is not None
    case = cases.start_case(
        version, applicant=people["citizen"], district=district, data={}, actor=people["citizen"]
    )
    submit = case.tasks[0]
    cases.complete_task(
        case,
        submit.engine_task_id,
        APPLICATION,
        actor=people["citizen"],
        expected_version=case.version_id,
    )
    db.session.commit()
    return {**{k: v.id for k, v in people.items()}, "case": case.id, "code": case.tracking_code}


def sign_in_staff(page: Any, live_server: str, username: str) -> None:
    """Password first, then the authenticator's code (the enrolment used the current one)."""
    page.goto(f"{live_server}/staff/login?next=/office/")
    page.locator("#field-username").fill(username)
    page.locator("#field-password").fill(PASSWORD)
    page.locator("button[type=submit]").click()
    page.wait_for_url(f"{live_server}/staff/login/code")
    page.get_by_label("کد", exact=True).fill(PHONES[username].at(time.time() + 30))
    page.get_by_role("button", name="ورود").click()
    page.wait_for_url(f"{live_server}/office/")


def _case(case_id: int) -> Case:
    db.session.expire_all()
    case = db.session.get(Case, case_id)
    assert case is not None
    return case


def _open_task_id(case_id: int, element_id: str) -> int:
    case = _case(case_id)
    return next(
        t.id for t in case.tasks if t.state == TaskState.OPEN and t.element_id == element_id
    )


def test_review_return_correct_approve_visit_and_a_conflict(
    live_server: str, live_db: Flask, browser_context: Callable[..., Any]
) -> None:
    ids = _setup()
    reviewer_ctx = browser_context()
    reviewer = reviewer_ctx.new_page()

    # 1. The reviewer signs in and claims the task the citizen filed.
    sign_in_staff(reviewer, live_server, "reviewer")
    row = reviewer.locator("tbody tr").filter(has_text=ids["code"].translate(PERSIAN))
    assert row.count() == 1
    assert "بررسی مدارک" in row.inner_text()
    shot(reviewer, "1-inbox")
    row.get_by_role("button", name="برداشتن").click()
    reviewer.wait_for_load_state()
    assert "مریم احمدی" in reviewer.locator("#summary-title + dl").inner_text()
    assert (
        reviewer.locator(".office-steps [aria-current=step]").inner_text().startswith("بررسی مدارک")
    )
    shot(reviewer, "2-task")

    # 2. ...and returns it for correction with a reason and a checklist.
    reviewer.get_by_label("بازگشت برای اصلاح").check()
    reviewer.get_by_label("تصویر سند").check()
    reviewer.get_by_label("مساحت زمین").check()
    reviewer.get_by_label("توضیح برای متقاضی").fill(
        "تصویر سند ناخواناست؛ مساحت را با سند تطبیق دهید."
    )
    reviewer.get_by_role("button", name="ثبت و ارسال تصمیم").click()
    reviewer.wait_for_load_state()
    assert "انجام شد" in reviewer.locator(".flash-list").inner_text()
    assert _case(ids["case"]).status == CaseStatus.WAITING_CITIZEN
    sms = db.session.scalars(
        select(Notification).where(
            Notification.case_id == ids["case"], Notification.event_key == "returned_for_correction"
        )
    ).one()
    assert sms.recipient_id == ids["citizen"]

    # 3. The citizen sees what to fix on their case page and sends the correction there.
    citizen_ctx = browser_context()
    sign_in_citizen(citizen_ctx, live_db, live_server, ids["citizen"])
    citizen = citizen_ctx.new_page()
    correction_id = _open_task_id(ids["case"], "correct_application")
    citizen.goto(f"{live_server}/office/applicant/tasks/{correction_id}")  # the old SMS link
    assert citizen.url == f"{live_server}/my/cases/{ids['case']}#needed-title"
    asked = citizen.locator("section").filter(has_text="یادداشت کارشناس")
    assert "تصویر سند ناخواناست" in asked.inner_text()
    assert "مساحت زمین" in asked.inner_text()
    shot(citizen, "3-correction")
    asked.get_by_role("link", name="همین حالا انجام دهید").click()
    citizen.wait_for_load_state()
    assert citizen.locator("#field-area").input_value() in ("240.5", "۲۴۰٫۵", "۲۴۰.۵")  # kept
    citizen.locator("#field-area").fill("۲۳۸")
    citizen.get_by_label("شرح اصلاحات").fill("سند خوانا بارگذاری شد و مساحت ۲۳۸ متر است.")
    citizen.get_by_role("button", name="ذخیره و بررسی پاسخ‌ها").click()
    citizen.wait_for_load_state()
    shot(citizen, "3b-check")
    citizen.get_by_role("button", name="فرستادن").click()
    citizen.wait_for_load_state()
    assert citizen.locator(".confirmation").is_visible()
    assert _case(ids["case"]).status == CaseStatus.ACTIVE

    # 4. The answer comes back to the same reviewer; a second reviewer opens it too.
    reviewer.goto(f"{live_server}/office/?tab=mine")
    assert reviewer.locator("tbody tr").count() == 1
    second_ctx = browser_context()
    second = second_ctx.new_page()
    sign_in_staff(second, live_server, "second")
    review_id = _open_task_id(ids["case"], "review_application")
    second.goto(f"{live_server}/office/tasks/{review_id}")
    reviewer.locator("tbody tr a").first.click()
    reviewer.wait_for_load_state()
    assert "اصلاح درخواست" in reviewer.locator("#earlier-title + details").inner_text()

    second.get_by_label("رد", exact=True).check()
    typed = "کاربری درخواستی با طرح تفصیلی نمی‌خواند."
    second.get_by_label("توضیح برای متقاضی").fill(typed)

    # 5. The first reviewer approves with a site visit, a moment before the second sends.
    reviewer.get_by_label("تأیید", exact=True).check()
    reviewer.locator("#field-site_visit").check()  # «بله»
    reviewer.get_by_role("button", name="ثبت و ارسال تصمیم").click()
    reviewer.wait_for_load_state()
    assert "انجام شد" in reviewer.locator(".flash-list").inner_text()

    second.get_by_role("button", name="ثبت و ارسال تصمیم").click()
    second.wait_for_load_state()
    conflict = second.locator("#conflict")
    assert conflict.is_visible()
    assert "کس دیگری آن را تغییر داد" in conflict.inner_text()
    assert second.get_by_label("توضیح برای متقاضی").input_value() == typed  # nothing lost
    assert second.get_by_label("رد", exact=True).is_checked()
    shot(second, "4-conflict")
    assert _case(ids["case"]).current_step == "بازدید میدانی"

    # 6. The inspector opens a visit time, books it for the case and files the report.
    inspector_ctx = browser_context(viewport={"width": 390, "height": 844})  # on a phone
    inspector = inspector_ctx.new_page()
    sign_in_staff(inspector, live_server, "inspector")
    tomorrow = jdatetime.date.fromgregorian(date=(datetime.now(TEHRAN) + timedelta(days=1)).date())
    inspector.goto(f"{live_server}/inspections/slots")
    inspector.locator("input[name=day]").fill(str(tomorrow.day).translate(PERSIAN))
    inspector.locator("input[name=month]").fill(str(tomorrow.month).translate(PERSIAN))
    inspector.locator("input[name=year]").fill(str(tomorrow.year).translate(PERSIAN))
    shot(inspector, "5a-slots")
    inspector.locator("#field-time").fill("۱۰:۰۰")
    inspector.get_by_role("button", name="گشودن این زمان").click()
    inspector.wait_for_load_state()
    assert "باز شد" in inspector.locator(".flash-list").inner_text()

    inspector.goto(f"{live_server}/office/")
    inspector.locator("tbody tr").filter(has_text="بازدید میدانی").get_by_role(
        "button", name="برداشتن"
    ).click()
    inspector.wait_for_load_state()
    inspector.get_by_role("button", name="رزرو این زمان").click()
    inspector.wait_for_load_state()
    assert "بازدید رزرو شد" in inspector.locator(".flash-list").inner_text()
    assert "۱۰:۰۰" in inspector.locator("#visit").inner_text()
    booked = db.session.scalars(
        select(Notification).where(
            Notification.case_id == ids["case"], Notification.event_key == "site_visit_booked"
        )
    ).one()
    assert "۱۰:۰۰" in booked.text_fa

    today = jdatetime.date.fromgregorian(date=datetime.now(TEHRAN).date())
    inspector.get_by_label("وضع موجود با مدارک مطابق است").check()
    inspector.locator("input[name=visited_on__day]").fill(str(today.day))
    inspector.locator("input[name=visited_on__month]").fill(str(today.month))
    inspector.locator("input[name=visited_on__year]").fill(str(today.year))
    inspector.get_by_label("شرح مشاهدات").fill("ساختمان و حدود ملک با سند و نقشه مطابق است.")
    photos = inspector.locator("input[name=photos]")
    assert photos.get_attribute("capture") == "environment"
    photos.set_input_files([{"name": "front.png", "mimeType": "image/png", "buffer": png()}])
    shot(inspector, "5-report")
    inspector.get_by_role("button", name="ثبت و ارسال تصمیم").click()
    inspector.wait_for_load_state()
    shot(inspector, "5b-after-report")
    assert "انجام شد" in inspector.locator(".flash-list").inner_text()

    # 7. The case moved on to the fee, with the photo kept as a case document.
    case = _case(ids["case"])
    assert case.status == CaseStatus.WAITING_EVENT
    assert case.current_step == "انتظار پرداخت"
    events = [
        n.event_key
        for n in db.session.scalars(select(Notification).where(Notification.case_id == case.id))
    ]
    assert "payment_requested" in events
    photo = db.session.scalars(select(Document).where(Document.case_id == case.id)).one()
    assert photo.current.content_type == "image/png"
    assert photo.current.uploaded_by_id == ids["inspector"]

    reviewer.goto(f"{live_server}/office/tasks/{review_id}")
    shot(reviewer, "6-done-task")
    assert "انتظار پرداخت" in reviewer.locator("#summary-title + dl").inner_text()
