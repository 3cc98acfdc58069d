"""A person fills the three-page sample application in Persian, with JavaScript and without."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.db import db
from app.forms.models import FormSubmission
from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.requires_commit]

START = "/forms/sample_permit/application"


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"forms-{name}.png"), full_page=True)


def summary_links(page: Any) -> list[str]:
    return page.locator("#error-summary a").all_inner_texts()


def continue_(page: Any) -> None:
    page.locator(".actions button[value=continue]").click()
    page.wait_for_load_state()


def fill_the_application(page: Any, live_server: str, js: bool) -> None:
    tag = "js" if js else "nojs"
    page.goto(f"{live_server}{START}")
    assert page.locator("html").get_attribute("dir") == "rtl"

    # Page 1: the applicant. A national code typed in Persian digits with a wrong check digit.
    page.get_by_label("شخص حقیقی").check()
    legal_id = page.locator("[data-field=legal_id]")
    if js:
        assert legal_id.is_hidden()  # revealed only for a legal person
        page.get_by_label("شخص حقوقی (شرکت یا سازمان)").check()
        assert legal_id.is_visible()
        page.get_by_label("شخص حقیقی").check()
        assert legal_id.is_hidden()
    else:
        assert legal_id.is_visible()
        assert "فقط اگر" in legal_id.inner_text()
    page.get_by_label("کد ملی").fill("۱۳۶۰۵۲۴۱۸۶")
    page.get_by_label("نام و نام خانوادگی").fill("علي كريمي")
    page.get_by_label("شماره تلفن همراه").fill("۰۹۱۴۰۰۰۱۰۰۱")
    page.get_by_label("کد پستی").fill("۵۱۶۶۶۱۴۷۷۶")
    continue_(page)
    assert summary_links(page) == ["کد ملی معتبر نیست؛ رقم‌ها را دوباره بررسی کنید."]
    assert page.locator("#field-national_code").input_value() == "۱۳۶۰۵۲۴۱۸۶"  # as typed
    assert page.locator("#field-mobile").input_value() == "۰۹۱۴۰۰۰۱۰۰۱"
    if js:
        assert page.evaluate("document.activeElement.id") == "error-summary"
    shot(page, f"{tag}-1-error")
    page.locator("#error-summary a").first.click()
    assert page.evaluate("location.hash") == "#field-national_code"
    page.locator("#field-national_code").fill("۱۳۶۰۵۲۴۱۸۵")
    continue_(page)

    # Page 2: the property.
    assert page.locator("h1").inner_text() == "مشخصات ملک"
    page.get_by_label("بخش ثبتی").fill("۳")
    page.get_by_label("پلاک اصلی").fill("۱۲۵")
    page.get_by_label("پلاک فرعی").fill("۴۲۱۷")
    page.get_by_label("کد نوسازی").fill("9-2-15-37-1-0-0")
    page.get_by_label("مسکونی").check()
    page.get_by_label("مساحت زمین").fill("۲۴۰٫۵")
    page.get_by_label("تعداد طبقات درخواستی").fill("۵")
    page.get_by_label("نوع سند").select_option("single_sheet")
    if js:
        page.get_by_role("button", name="انتخاب از تقویم").click()
        page.locator(".date-picker__panel td button").first.click()  # the 1st of this month
        assert page.locator("#field-deed_date").input_value() == "1"
        assert page.locator("#field-deed_date-year").input_value() != ""
    else:
        page.locator("#field-deed_date").fill("۱۵")
        page.locator("#field-deed_date-month").fill("۷")
        page.locator("#field-deed_date-year").fill("۱۳۹۸")
    page.get_by_label("برآورد هزینه ساخت").fill("۱۲۵۴۰۰۰۰۰")
    if js:
        assert (
            page.locator("#words-estimated_cost").inner_text()
            == "یکصد و بیست و پنج میلیون و چهارصد هزار ریال"
        )
    shot(page, f"{tag}-2-property")
    continue_(page)

    # Page 3: the owners; the shares first add up to 5 dang.
    assert page.locator("h1").inner_text() == "مالکان و مدارک"
    page.locator("#field-owners-0-name").fill("حسین رضایی")
    page.locator("#field-owners-0-national_code").fill("1375903381")
    page.locator("#field-owners-0-share").fill("۴")
    page.get_by_role("button", name="افزودن مالک دیگر").click()
    page.wait_for_load_state()
    assert page.locator("#field-owners-0-name").input_value() == "حسین رضایی"  # kept either way
    page.locator("#field-owners-1-name").fill("زهرا رضایی")
    page.locator("#field-owners-1-national_code").fill("۱۳۸۰۳۳۵۱۲۴")
    page.locator("#field-owners-1-share").fill("۱")
    page.locator("#field-deed_scan").set_input_files(
        files=[{"name": "سند.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 sample"}]
    )
    continue_(page)
    assert summary_links(page) == ["جمع سهم مالکان ۵ دانگ است؛ باید روی هم ۶ دانگ (ششدانگ) باشد."]
    shot(page, f"{tag}-3-shares")
    page.locator("#field-owners-1-share").fill("۲")
    continue_(page)

    # Check your answers, then send with a double click.
    assert page.locator("h1").inner_text() == "پیش از فرستادن، پاسخ‌هایتان را بررسی کنید"
    answers = page.locator("main").inner_text()
    for shown in (
        "علی کریمی",
        "پلاک ۴۲۱۷ فرعی از ۱۲۵ اصلی، بخش ۳",
        "۲۴۰٫۵ متر مربع",
        "یکصد و بیست و پنج میلیون و چهارصد هزار ریال",
        "سند.pdf",
    ):
        assert shown in answers, shown
    shot(page, f"{tag}-4-check")
    assert page.get_by_role("link", name="تغییر سهم (دانگ) (مالک ۲)").count() == 1
    page.get_by_role("link", name="تغییر نام و نام خانوادگی", exact=True).click()
    page.wait_for_load_state()
    assert page.locator("#field-applicant_name").input_value() == "علی کریمی"
    page.goto(page.url.rsplit("/", 1)[0] + "/check")
    page.get_by_role("button", name="فرستادن").dblclick()
    page.wait_for_load_state()
    page.locator(".confirmation").wait_for()
    assert page.locator("h1").inner_text() == "پاسخ‌هایتان فرستاده شد"
    reference = page.locator(".confirmation__reference bdi").inner_text()
    shot(page, f"{tag}-5-sent")
    page.reload()
    assert page.locator(".confirmation__reference bdi").inner_text() == reference


def test_fill_the_three_pages_with_javascript(
    browser_context: Any, live_server: str, live_db: Flask
) -> None:
    context = browser_context(js=True)
    page = context.pages[0] if context.pages else context.new_page()
    fill_the_application(page, live_server, js=True)
    assert db.session.scalar(select(func.count()).select_from(FormSubmission)) == 1


def test_fill_the_three_pages_without_javascript(
    browser_context: Any, live_server: str, live_db: Flask
) -> None:
    context = browser_context(js=False)
    page = context.pages[0] if context.pages else context.new_page()
    fill_the_application(page, live_server, js=False)
    assert db.session.scalar(select(func.count()).select_from(FormSubmission)) == 1
    # Going back to the answers page and sending again shows the same confirmation.
    page.go_back()
    page.go_back()
    page.wait_for_load_state()
    if page.get_by_role("button", name="فرستادن").count():
        page.get_by_role("button", name="فرستادن").click()
        page.wait_for_load_state()
    assert db.session.scalar(select(func.count()).select_from(FormSubmission)) == 1


def test_keyboard_only_on_a_small_phone(
    browser_context: Any, live_server: str, live_db: Flask
) -> None:
    context = browser_context(viewport={"width": 320, "height": 640})
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(f"{live_server}{START}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.keyboard.press("Tab")  # skip link
    focused = []
    for _ in range(12):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.id || document.activeElement.name"))
    assert "field-applicant_type" in focused
    page.locator("#field-applicant_name").focus()
    page.keyboard.type("مریم نیک‌پور")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # submits "continue", not another submit button
    assert page.locator("#error-summary").is_visible()
    assert page.locator("#field-applicant_name").input_value() == "مریم نیک‌پور"
    shot(page, "keyboard-320")
