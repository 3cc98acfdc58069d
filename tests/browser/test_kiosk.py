"""At the office terminal: assisted filing confirmed by the citizen's code, a slip, and nothing
of the citizen left on screen after "finish" or after the inactivity timeout."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.accounts.services import ensure_citizen, ensure_district, ensure_staff
from app.cases.models import Case
from app.citizens.services import profile_of
from app.db import db
from app.extensions import limiter
from app.kiosk import terminal
from app.processes.services import deploy_all
from app.sms.models import DevSmsMessage
from tests.conftest import ARTIFACTS
from tests.documents.samples import pdf

pytestmark = [pytest.mark.browser, pytest.mark.requires_commit]

TERMINAL = {"width": 1280, "height": 800}
CLERK_PASSWORD = "correct horse battery"
NAME = "علی کریمی"
TO_ASCII = str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")


@pytest.fixture
def kiosk_files(live_db: Flask, tmp_path: Path) -> Iterator[Path]:
    """Documents stored under the test's own directory; fresh rate limits."""
    live_db.config["DOCUMENT_LOCAL_DIR"] = str(tmp_path / "documents")
    live_db.extensions.pop("parvaneh.document_storage", None)
    limiter.reset()
    yield tmp_path
    live_db.extensions.pop("parvaneh.document_storage", None)


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"kiosk-{name}.png"), full_page=True)


def seed() -> None:
    district = ensure_district("09", "منطقه ۹", "District 9")
    ensure_staff("counter", "زهره اسدی", CLERK_PASSWORD, ["COUNTER"], [district])
    citizen = ensure_citizen("09140001001", NAME, "1360524185")
    profile_of(citizen).postal_code = "5166614776"
    deploy_all(["sample_permit"])
    db.session.commit()


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


def file_through_the_kiosk(page: Any, files: Path) -> str:
    """The clerk files the sample permit through the kiosk's pages; returns the tracking code."""
    page.get_by_role("link", name="ثبت درخواست تازه").click()
    page.get_by_role("link", name="صدور پروانه نمونه").click()
    page.get_by_role("link", name="ثبت درخواست برخط").click()
    page.get_by_label("منطقه ۹").check()
    page.get_by_role("button", name="شروع").click()
    assert page.locator("h1").inner_text() == "مشخصات متقاضی"
    page.get_by_label("شخص حقیقی").check()
    page.locator("#field-national_code").fill("۱۳۶۰۵۲۴۱۸۵")
    page.get_by_label("نام و نام خانوادگی").fill(NAME)
    page.get_by_label("شماره تلفن همراه").fill("۰۹۱۴۰۰۰۱۰۰۱")
    page.get_by_label("کد پستی").fill("۵۱۶۶۶۱۴۷۷۶")
    page.get_by_role("button", name="ذخیره و ادامه").first.click()
    assert page.locator("h1").inner_text() == "مشخصات ملک"
    page.get_by_label("بخش ثبتی").fill("۳")
    page.get_by_label("پلاک اصلی").fill("۱۲۵")
    page.get_by_label("پلاک فرعی").fill("۴۲۱۷")
    page.get_by_label("کد نوسازی").fill("9-2-15-37-1-0-0")
    page.get_by_label("مسکونی").check()
    page.get_by_label("مساحت زمین").fill("۲۴۰٫۵")
    page.get_by_label("تعداد طبقات درخواستی").fill("۳")
    page.get_by_label("نوع سند").select_option("single_sheet")
    page.locator("#field-deed_date").fill("۱۵")
    page.locator("#field-deed_date-month").fill("۷")
    page.locator("#field-deed_date-year").fill("۱۳۹۸")
    page.get_by_role("button", name="ذخیره و ادامه").first.click()
    assert page.locator("h1").inner_text() == "مالکان و مدارک"
    page.locator("#field-owners-0-name").fill(NAME)
    page.locator("#field-owners-0-national_code").fill("۱۳۶۰۵۲۴۱۸۵")
    page.locator("#field-owners-0-share").fill("۶")
    deed = files / "سند.pdf"
    deed.write_bytes(pdf("deed"))
    page.locator("#field-deed_scan").set_input_files(str(deed))
    page.get_by_role("button", name="ذخیره و بررسی پاسخ‌ها").click()
    shot(page, "2b-check")
    page.get_by_role("button", name="فرستادن").click()
    assert page.locator("h1").inner_text() == "درخواست شما فرستاده شد"
    shown = page.locator(".confirmation__code").inner_text().strip()
    db.session.remove()
    tracking_code = db.session.scalars(select(Case.tracking_code)).one()
    assert shown.translate(TO_ASCII) == tracking_code
    return tracking_code


def assert_nothing_of_the_citizen(page: Any, tracking_code: str) -> None:
    text = page.locator("body").inner_text()
    assert NAME not in text
    assert "۰۹۱۴۰۰۰۱۰۰۱" not in text
    assert "09140001001" not in text
    persian_code = tracking_code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert persian_code not in text
    assert tracking_code not in text


def test_assisted_filing_then_finish_leaves_nothing(
    live_server: str, kiosk_files: Path, browser_context: Any
) -> None:
    seed()
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

    tracking_code = file_through_the_kiosk(page, kiosk_files)
    page.get_by_role("link", name="رسید کد رهگیری").click()
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
    live_server: str,
    live_db: Flask,
    browser_context: Any,
    monkeypatch: pytest.MonkeyPatch,
    js: bool,
) -> None:
    """Time is moved, never waited for: the page's clock (Playwright) with JavaScript, the
    server's kiosk clock without it (what the page's <noscript> refresh then asks for)."""
    limiter.reset()
    seed()
    idle, warning = live_db.config["KIOSK_IDLE_SECONDS"], live_db.config["KIOSK_WARNING_SECONDS"]
    context = browser_context(js=js, viewport=TERMINAL)
    page = context.pages[0] if context.pages else context.new_page()
    if js:
        page.clock.install()
    page.goto(f"{live_server}/kiosk/")
    page.get_by_role("link", name="ورود با شماره تلفن همراه").click()
    page.get_by_label("شماره تلفن همراه").fill("09140001001")
    page.get_by_role("button", name="کد را برایم بفرست").click()
    page.get_by_label("کد", exact=True).fill(code_from_phone())
    page.get_by_role("button", name="ورود").click()
    assert NAME in page.locator(".kiosk-bar").inner_text()
    if js:
        # The bar is parsed before the deferred kiosk.js has set its timers: moving the
        # clock then would skip them (a flake seen once in CI).
        page.wait_for_load_state("load")
        page.clock.run_for((idle - warning + 1) * 1000)
        page.locator("#kiosk-warning").wait_for(state="visible")
        assert page.locator("[data-kiosk-countdown]").inner_text() != ""
        shot(page, "7-timeout-warning")
        page.clock.run_for(warning * 1000)  # the page ends the session itself
    else:
        refresh = page.locator("noscript").first.inner_html()
        assert f'content="{idle + 5};url=/kiosk/?ended=timeout"' in refresh.replace("&amp;", "&")
        later = terminal.now() + idle + 1
        monkeypatch.setattr(terminal, "now", lambda: later)
        page.goto(f"{live_server}/kiosk/?ended=timeout")  # what the refresh then loads
    page.wait_for_url(re.compile(r".*/kiosk/\?ended=timeout$"))
    assert "پس از مدتی بی‌کاری" in page.locator("main").inner_text()
    assert NAME not in page.locator("body").inner_text()
    shot(page, f"8-timed-out-{'js' if js else 'nojs'}")
    page.go_back()
    page.wait_for_load_state()
    assert NAME not in page.locator("body").inner_text()
    assert "/kiosk/" in page.url
