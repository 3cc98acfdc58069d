"""A real browser opens the home page in Persian and in English."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.requires_commit]


def test_home_page_in_persian_then_english(page: Any, live_server: str) -> None:
    page.goto(f"{live_server}/")
    html = page.locator("html")
    assert html.get_attribute("lang") == "fa"
    assert html.get_attribute("dir") == "rtl"
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    assert page.evaluate("document.fonts.check('16px Vazirmatn')")
    page.screenshot(path=str(ARTIFACTS / "home-fa.png"), full_page=True)

    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert html.get_attribute("lang") == "en"
    assert html.get_attribute("dir") == "ltr"
    assert page.evaluate("getComputedStyle(document.body).direction") == "ltr"
    page.screenshot(path=str(ARTIFACTS / "home-en.png"), full_page=True)

    # The choice is remembered on the next page, and switching back works.
    page.goto(f"{live_server}/staff/login")
    assert html.get_attribute("lang") == "en"
    page.get_by_role("link", name="فارسی").click()
    page.wait_for_load_state()
    assert html.get_attribute("dir") == "rtl"


def test_home_page_on_a_small_phone(browser_context: Any, live_server: str) -> None:
    context = browser_context(viewport={"width": 320, "height": 640})
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(f"{live_server}/")
    # Nothing overflows sideways at 320 px.
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.className")
    assert focused == "skip-link"
    page.screenshot(path=str(ARTIFACTS / "home-fa-320.png"), full_page=True)
