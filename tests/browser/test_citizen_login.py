"""A citizen signs in in Persian with the code from the development SMS inbox, on a phone."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.accounts.models import User
from app.db import db
from app.extensions import limiter
from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.requires_commit]

PHONE = {"width": 360, "height": 780}


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"citizen-login-{name}.png"), full_page=True)


def code_from_inbox(context: Any, live_server: str, mobile: str) -> str:
    inbox = context.new_page()
    inbox.goto(f"{live_server}/dev/sms/?mobile={mobile}")
    text = inbox.locator(".sms-inbox__text").first.inner_text()
    inbox.close()
    match = re.search(r"\b([0-9]{6})\b", text)
    assert match, text
    return match.group(1)


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_sign_in_with_the_code_from_the_dev_inbox(
    live_server: str, live_db: Flask, browser_context: Any, js: bool
) -> None:
    limiter.reset()
    tag = "js" if js else "nojs"
    context = browser_context(js=js, viewport=PHONE)
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(f"{live_server}/")
    # The way in is in the header of every page, and reachable with the keyboard alone.
    sign_in = page.locator("header [data-nav=sign-in]")
    assert sign_in.is_visible()
    assert sign_in.inner_text() == "ورود"
    tab_to(page, "sign-in")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/login")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("h1").inner_text() == "ورود با شماره تلفن همراه"

    page.get_by_label("شماره تلفن همراه").fill("۰۹۱۴۰۰۰۱۰۰")  # one digit short
    page.get_by_role("button", name="کد را برایم بفرست").click()
    assert (
        page.locator("#error-mobile")
        .inner_text()
        .endswith("شماره تلفن همراه باید ۱۱ رقم باشد و با ۰۹ شروع شود.")
    )
    assert page.locator("#field-mobile").input_value() == "۰۹۱۴۰۰۰۱۰۰"
    shot(page, f"{tag}-1-bad-number")

    page.get_by_label("شماره تلفن همراه").fill("۰۹۱۴۰۰۰۱۰۰۵")
    page.get_by_role("button", name="کد را برایم بفرست").click()
    assert page.locator("h1").inner_text() == "کد را وارد کنید"
    code = code_from_inbox(context, live_server, "09140001005")

    page.get_by_label("کد", exact=True).fill("000000" if code != "000000" else "111111")
    page.get_by_role("button", name="ورود").click()
    assert "۴ بار دیگر" in page.locator("#error-code").inner_text()
    assert page.locator("#error-summary").is_visible()
    shot(page, f"{tag}-2-wrong-code")

    page.get_by_label("کد", exact=True).fill(
        code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    )
    page.get_by_role("button", name="ورود").click()
    assert page.locator("h1").inner_text() == "مشخصات شما"
    page.get_by_label("نام و نام خانوادگی").fill("فاطمه حسینی")
    page.get_by_label("کد ملی").fill("۱۳۶۱۱۸۸۲۷۸")
    page.get_by_label("کد پستی").fill("۵۱۹۷۷۴۳۱۹۵")
    page.get_by_role("button", name="ذخیره").click()
    assert "مشخصات شما ذخیره شد." in page.locator(".flash-list").inner_text()
    shot(page, f"{tag}-3-profile")

    db.session.remove()
    user = db.session.scalar(select(User).where(User.mobile == "09140001005"))
    assert user is not None
    assert user.national_code == "1361188278"

    # Signed in, the header offers the citizen's cases and the way out instead.
    assert page.locator("header [data-nav=sign-in]").count() == 0
    assert page.locator("header [data-nav=my-cases]").inner_text() == "پرونده‌های من"
    tab_to(page, "sign-out")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/")
    assert page.locator("header [data-nav=sign-in]").is_visible()
    assert page.locator("header [data-nav=my-cases]").count() == 0


def tab_to(page: Any, name: str, limit: int = 30) -> None:
    """Press Tab until the header item `data-nav=name` has the focus (as a keyboard user would)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.nav") == name:
            return
    raise AssertionError(f"{name} cannot be reached with the Tab key")


def test_the_header_offers_sign_in_in_english(
    live_server: str, live_db: Flask, browser_context: Any
) -> None:
    context = browser_context()
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(f"{live_server}/services?lang=en")
    link = page.locator("header [data-nav=sign-in]")
    assert link.inner_text() == "Sign in"
    link.click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.url.startswith(f"{live_server}/login")


def test_the_dev_inbox_page(live_server: str, live_db: Flask, browser_context: Any) -> None:
    limiter.reset()
    context = browser_context()
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("شماره تلفن همراه").fill("09140001006")
    page.get_by_role("button", name="کد را برایم بفرست").click()
    page.goto(f"{live_server}/dev/sms/")
    assert "کد ورود شما" in page.locator(".sms-inbox").inner_text()
    shot(page, "dev-inbox")
