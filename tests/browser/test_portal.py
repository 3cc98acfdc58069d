"""A citizen files a building-permit request in Persian on a phone and follows it; others cannot see it.

Signs in with the code from the development SMS inbox, files the sample permit with two
documents, reads the tracking code, opens the case page with the diagram marking the current
step, finds the status on the public lookup, and a second citizen gets 404 on the case and
document URLs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.accounts.services import ensure_citizen, ensure_district
from app.cases.models import Case
from app.citizens.services import profile_of
from app.db import db
from app.documents.models import DocumentVersion
from app.extensions import limiter
from app.processes.services import deploy_all
from tests.conftest import ARTIFACTS
from tests.documents.samples import pdf, png

pytestmark = [pytest.mark.browser, pytest.mark.requires_commit]

PHONE = {"width": 390, "height": 844}
TO_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
TO_ASCII = str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"portal-{name}.png"), full_page=True)


@pytest.fixture
def portal_data(live_db: Flask, tmp_path: Path) -> Any:
    live_db.config["DOCUMENT_LOCAL_DIR"] = str(tmp_path / "documents")
    live_db.extensions.pop("parvaneh.document_storage", None)
    limiter.reset()
    deploy_all(["sample_permit"])
    ensure_district("09", "منطقه ۹", "District 9")
    for mobile, name, code in (
        ("09140001001", "علی کریمی", "1360524185"),
        ("09120000002", "مریم احمدی", "0076229645"),
    ):
        profile_of(ensure_citizen(mobile, name, code)).postal_code = "5166614776"
    db.session.commit()
    yield tmp_path
    live_db.extensions.pop("parvaneh.document_storage", None)


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


def test_file_follow_and_look_up_a_request(
    live_server: str, portal_data: Path, browser_context: Any
) -> None:
    context = browser_context(viewport=PHONE)
    page = sign_in(context, live_server, "09140001001")

    page.goto(f"{live_server}/services/sample_permit")
    assert page.locator("h1").inner_text() == "صدور پروانه نمونه"
    shot(page, "1-service")
    page.get_by_role("link", name="ثبت درخواست برخط").click()
    page.get_by_role("button", name="شروع").click()
    assert page.locator("#error-district").is_visible()
    page.get_by_label("منطقه ۹").check()
    page.get_by_role("button", name="شروع").click()

    # Page 1: the applicant.
    assert page.locator("h1").inner_text() == "مشخصات متقاضی"
    page.get_by_label("شخص حقیقی").check()
    page.locator("#field-national_code").fill("۱۳۶۰۵۲۴۱۸۵")
    page.get_by_label("نام و نام خانوادگی").fill("علی کریمی")
    page.get_by_label("شماره تلفن همراه").fill("۰۹۱۴۰۰۰۱۰۰۱")
    page.get_by_label("کد پستی").fill("۵۱۶۶۶۱۴۷۷۶")
    page.get_by_role("button", name="ذخیره و ادامه").first.click()

    # Page 2: the property.
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

    # Page 3: owners and the deed scan (first document).
    assert page.locator("h1").inner_text() == "مالکان و مدارک"
    page.locator("#field-owners-0-name").fill("علی کریمی")
    page.locator("#field-owners-0-national_code").fill("۱۳۶۰۵۲۴۱۸۵")
    page.locator("#field-owners-0-share").fill("۶")
    deed = portal_data / "سند.pdf"
    deed.write_bytes(pdf("deed"))
    page.locator("#field-deed_scan").set_input_files(str(deed))
    shot(page, "2-owners")
    page.get_by_role("button", name="ذخیره و بررسی پاسخ‌ها").click()

    # Check the answers, add a second document, send.
    assert page.locator("h1").inner_text() == "پیش از فرستادن، پاسخ‌هایتان را بررسی کنید"
    page.get_by_role("link", name="افزودن مدرک دیگر").click()
    page.get_by_label("کارت ملی مالک").check()
    card = portal_data / "card.png"
    card.write_bytes(png(640, 400))
    page.get_by_label("فایل", exact=True).set_input_files(str(card))
    page.get_by_role("button", name="بارگذاری").click()
    assert "مدرک به پرونده شما افزوده شد." in page.locator(".flash-list").inner_text()
    files = page.locator("table.portal-table a").all_inner_texts()
    assert sorted(files) == ["card.png", "سند.pdf"]
    shot(page, "3-check")
    page.get_by_role("button", name="فرستادن").click()

    assert page.locator("h1").inner_text() == "درخواست شما فرستاده شد"
    shown_code = page.locator(".confirmation__code").inner_text().strip().translate(TO_ASCII)
    db.session.remove()
    case = db.session.scalars(select(Case)).one()
    assert shown_code == case.tracking_code
    shot(page, "4-sent")

    # The case page: the diagram draws and marks the current step; the watermark shows.
    page.get_by_role("link", name="مشاهده پرونده").click()
    assert page.locator("h1").inner_text().startswith("پرونده")
    page.wait_for_selector("[data-diagram-ready=true]", timeout=15_000)
    current = page.locator(".djs-element.current")
    assert current.count() >= 1
    assert current.first.get_attribute("data-element-id") == "review_application"
    assert page.locator(".djs-element.done[data-element-id=submit_application]").count() == 1
    assert page.locator(".bjs-powered-by").is_visible()
    # Lanes are drawn with their roles' names, not the codes the file keeps for the engine.
    lane = page.locator("[data-element-id=lane_urb_expert] > .djs-visual text")
    assert "کارشناس" in (lane.first.text_content() or "")
    assert "URB_EXPERT" not in (page.locator(".diagram").text_content() or "")
    # A figure, not an image: an image's content is hidden from screen readers, yet the
    # viewer's watermark link inside it can still take the focus.
    diagram = page.get_by_role("figure", name=re.compile("مرحله کنونی"))
    assert diagram.count() == 1
    assert diagram.get_by_role("link").count() == 1  # the bpmn.io watermark, announced
    assert page.locator(".diagram").evaluate("e => getComputedStyle(e).direction") == "ltr"
    assert page.evaluate("document.fonts.check('12px Vazirmatn')")
    page.locator(".diagram").scroll_into_view_if_needed()
    shot(page, "5-case")
    case_url = page.url
    document_urls = page.locator("table.portal-table a").evaluate_all(
        "links => links.map(a => a.href)"
    )
    assert len(document_urls) == 2
    assert context.request.get(document_urls[0]).status == 200

    # The public lookup, signed out, in another browser.
    visitor = browser_context(viewport=PHONE)
    lookup = visitor.pages[0] if visitor.pages else visitor.new_page()
    lookup.goto(f"{live_server}/track")
    lookup.get_by_label("کد رهگیری").fill(shown_code.translate(TO_PERSIAN))
    lookup.get_by_label("کد ملی یا شماره همراه").fill("۰۹۱۴۰۰۰۱۰۰۱")
    lookup.get_by_role("button", name="نمایش وضعیت").click()
    result = lookup.locator("#lookup-result").inner_text()
    assert "بررسی مدارک" in result
    assert "علی کریمی" not in lookup.content()
    shot(lookup, "6-lookup")

    # A second citizen gets 404 on the first one's case and documents.
    other = browser_context(viewport=PHONE)
    sign_in(other, live_server, "09120000002")
    for url in [case_url, *document_urls]:
        assert other.request.get(url).status == 404, url
    versions = db.session.scalars(select(DocumentVersion)).all()
    assert len(versions) == 2


def test_the_case_page_works_without_javascript(
    live_server: str, portal_data: Path, browser_context: Any
) -> None:
    from app.demo import seed_portal_cases

    seed_portal_cases()
    context = browser_context(js=False, viewport=PHONE)
    page = sign_in(context, live_server, "09140001001")
    page.goto(f"{live_server}/my/cases")
    shot(page, "nojs-1-my-cases")
    rows = page.locator("tbody tr")
    assert rows.count() == 2
    page.locator("tbody tr a").last.click()
    text = page.locator("main").inner_text()
    assert "گاه‌شمار پرونده" in text
    assert page.locator(".diagram").is_hidden()
    shot(page, "nojs-2-case")


def test_my_cases_fit_a_phone_screen_as_cards(
    live_server: str, portal_data: Path, browser_context: Any
) -> None:
    from app.demo import seed_portal_cases

    seed_portal_cases()
    context = browser_context(viewport=PHONE)
    page = sign_in(context, live_server, "09140001001")
    page.goto(f"{live_server}/my/cases")
    shot(page, "my-cases-phone")
    # Every cell of a case, the holder and the due date included, is on the screen.
    for cell in page.locator("tbody tr").first.locator("td").all():
        box = cell.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE["width"]
    holder = page.locator("tbody tr").first.locator("td").nth(4)
    assert (
        holder.evaluate("cell => getComputedStyle(cell, '::before').content")
        == '"در دست چه کسی است"'
    )
    # Still a table to assistive technology, and a plain table on a wide screen.
    assert page.get_by_role("table").count() == 1
    assert page.get_by_role("columnheader").count() == 6
    assert page.get_by_role("row").count() == 1 + page.locator("tbody tr").count()
    page.set_viewport_size({"width": 1280, "height": 900})
    assert holder.evaluate("cell => getComputedStyle(cell).display") == "table-cell"
