"""At the office terminal: assisted filing confirmed by the citizen's code, a slip, and nothing
of the citizen left on screen after "finish" or after the inactivity timeout."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.accounts.models import User
from app.accounts.services import ensure_citizen, ensure_district, ensure_staff
from app.cases import services as cases
from app.citizens.services import profile_of
from app.db import db
from app.extensions import limiter
from app.processes.services import deploy_all, latest_version
from app.sms.models import DevSmsMessage
from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.requires_commit]

TERMINAL = {"width": 1280, "height": 800}
CLERK_PASSWORD = "correct horse battery"
NAME = "علی کریمی"


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"kiosk-{name}.png"), full_page=True)


def seed() -> int:
    district = ensure_district("09", "منطقه ۹", "District 9")
    ensure_staff("counter", "زهره اسدی", CLERK_PASSWORD, ["COUNTER"], [district])
    citizen = ensure_citizen("09140001001", NAME, "1360524185")
    profile_of(citizen).postal_code = "5166614776"
    deploy_all(["sample_permit"])
    db.session.commit()
    return citizen.id


def code_from_phone() -> str:
    """The code the citizen reads on their phone (the development backend's stored message)."""
    db.session.remove()
    text = db.session.scalars(
        select(DevSmsMessage.text)
        .where(DevSmsMessage.mobile == "09140001001")
        .order_by(DevSmsMessage.id.desc())
        .limit(1)
    ).first()
    return re.search(r"\b([0-9]{6})\b", text or "").group(1)  # type: ignore[union-attr]


def file_for(citizen_id: int) -> str:
    """The filing step itself (the portal's forms): started as the citizen, as the portal does."""
    citizen = db.session.get(User, citizen_id)
    version = latest_version("sample_permit")
    assert citizen is not None
    assert version is not None
    case = cases.start_case(
        version,
        applicant=citizen,
        district=ensure_district("09", "منطقه ۹", "District 9"),
        data={"applicant_name": NAME},
        actor=citizen,
    )
    db.session.commit()
    return case.tracking_code


def assert_nothing_of_the_citizen(page: Any, tracking_code: str) -> None:
    text = page.locator("body").inner_text()
    assert NAME not in text
    assert "۰۹۱۴۰۰۰۱۰۰۱" not in text
    assert "09140001001" not in text
    persian_code = tracking_code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert persian_code not in text
    assert tracking_code not in text


def test_assisted_filing_then_finish_leaves_nothing(
    live_server: str, live_db: Flask, browser_context: Any
) -> None:
    limiter.reset()
    citizen_id = seed()
    context = browser_context(viewport=TERMINAL)
    page = context.pages[0] if context.pages else context.new_page()

    page.goto(f"{live_server}/kiosk/")
    assert page.locator(".kiosk-menu").is_visible()
    shot(page, "1-start")
    page.get_by_role("link", name="کارمند پیشخوان: ثبت درخواست برای شهروند").click()
    page.locator("#field-username").fill("counter")
    page.locator("#field-password").fill(CLERK_PASSWORD)
    page.locator("form button[type=submit]").click()
    assert page.locator("h1").inner_text() == "ثبت درخواست برای شهروند"

    page.get_by_label("شماره تلفن همراه شهروند").fill("۰۹۱۴۰۰۰۱۰۰۱")
    page.get_by_role("button", name="فرستادن کد برای شهروند").click()
    assert page.locator("h1").inner_text() == "تأیید شهروند"
    page.get_by_label("کد", exact=True).fill(code_from_phone())
    shot(page, "2-confirm")
    page.get_by_role("button", name="تأیید و ادامه").click()
    assert "کارمند پیشخوان از طرف علی کریمی" in page.locator("main").inner_text()

    tracking_code = file_for(citizen_id)
    page.reload()
    page.get_by_role("link", name="رسید کد رهگیری").first.click()
    slip_text = page.locator(".slip").inner_text()
    assert tracking_code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")) in slip_text
    # The print button is revealed by the page's script: wait for it rather than race it.
    page.locator("[data-print]").wait_for(state="visible", timeout=5000)
    shot(page, "3-slip")
    page.emulate_media(media="print")
    assert page.locator(".kiosk-bar").is_hidden()
    assert page.locator(".slip__actions").is_hidden()
    shot(page, "4-slip-print")
    page.emulate_media(media="screen")

    page.get_by_role("button", name="پایان و خروج").click()
    assert "نشست شما پایان یافت" in page.locator("main").inner_text()
    assert_nothing_of_the_citizen(page, tracking_code)
    shot(page, "5-finished")
    for _ in range(3):  # back through the slip, the menu and the confirmation
        page.go_back()
        page.wait_for_load_state()
        assert_nothing_of_the_citizen(page, tracking_code)
    assert page.url.startswith(f"{live_server}/kiosk/")
    shot(page, "6-after-back")


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_inactivity_clears_the_screen(
    live_server: str, live_db: Flask, browser_context: Any, js: bool
) -> None:
    limiter.reset()
    seed()
    live_db.config.update(KIOSK_IDLE_SECONDS=4, KIOSK_WARNING_SECONDS=2)
    try:
        context = browser_context(js=js, viewport=TERMINAL)
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(f"{live_server}/kiosk/")
        page.get_by_role("link", name="ورود با شماره تلفن همراه").click()
        page.get_by_label("شماره تلفن همراه").fill("09140001001")
        page.get_by_role("button", name="کد را برایم بفرست").click()
        page.get_by_label("کد", exact=True).fill(code_from_phone())
        page.get_by_role("button", name="ورود").click()
        assert NAME in page.locator(".kiosk-bar").inner_text()
        if js:
            page.locator("#kiosk-warning").wait_for(state="visible", timeout=6000)
            shot(page, "7-timeout-warning")
        page.wait_for_url(re.compile(r".*/kiosk/\?ended=timeout$"), timeout=15000)
        assert "پس از مدتی بی‌کاری" in page.locator("main").inner_text()
        assert NAME not in page.locator("body").inner_text()
        shot(page, f"8-timed-out-{'js' if js else 'nojs'}")
        page.go_back()
        page.wait_for_load_state()
        assert NAME not in page.locator("body").inner_text()
        assert "/kiosk/" in page.url
    finally:
        live_db.config.update(KIOSK_IDLE_SECONDS=120, KIOSK_WARNING_SECONDS=30)
