"""A staff member signs in with a password and a TOTP code, enrolling the authenticator first."""

from __future__ import annotations

import time
from typing import Any

import pyotp
import pytest
from flask import Flask

from app.accounts.services import ensure_district, ensure_staff
from app.calendar.services import ensure_calendar, seed_official_holidays
from app.db import db
from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.requires_commit]

PASSWORD = "باغ ارم در بهار"


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"staff-{name}.png"), full_page=True)


def sign_in_with_password(page: Any, live_server: str) -> None:
    page.goto(f"{live_server}/staff/login")
    page.get_by_label("نام کاربری").fill("admin")
    page.get_by_label("گذرواژه").fill(PASSWORD)
    page.get_by_role("button", name="ورود").click()
    page.wait_for_load_state()


@pytest.mark.parametrize("js", [False, True], ids=["nojs", "js"])
def test_admin_enrols_totp_then_signs_in_with_password_and_code(
    live_db: Flask, live_server: str, browser_context: Any, js: bool
) -> None:
    district = ensure_district("09", "منطقه ۹", "District 9")
    ensure_staff("admin", "مدیر سامانه", PASSWORD, ["ADMIN"], [district])
    seed_official_holidays(ensure_calendar(), [1404])
    db.session.commit()
    context = browser_context(js=js)
    page = context.pages[0] if context.pages else context.new_page()
    tag = "js" if js else "nojs"

    # First sign-in: the password is right, and an administrator must enrol TOTP first.
    sign_in_with_password(page, live_server)
    assert page.url.endswith("/staff/totp")
    page.goto(f"{live_server}/admin/staff")
    assert page.url.endswith("/staff/totp")  # nothing else opens before enrolment
    page.get_by_role("button", name="ادامه").click()
    page.wait_for_load_state()
    assert page.locator(".totp-qr svg").count() == 1
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    phone = pyotp.TOTP(secret)
    shot(page, f"{tag}-1-enrol")
    page.get_by_label("کد", exact=True).fill("000000")
    page.get_by_role("button", name="فعال کردن").click()
    assert page.locator("#error-summary").is_visible()
    assert page.locator("#field-code").get_attribute("aria-invalid") == "true"
    page.get_by_label("کد", exact=True).fill(phone.now())
    page.get_by_role("button", name="فعال کردن").click()
    page.wait_for_load_state()
    assert page.url.endswith("/account")
    assert "راه‌اندازی شد" in page.content()
    page.get_by_role("button", name="خروج").click()
    page.wait_for_load_state()

    # Second sign-in: password, then a code; a wrong code keeps what was typed and says why.
    sign_in_with_password(page, live_server)
    assert page.url.endswith("/staff/login/code")
    page.get_by_label("کد", exact=True).fill("۱۲۳۴۵۶")
    page.get_by_role("button", name="ورود").click()
    page.wait_for_load_state()
    assert page.locator("#field-code").input_value() == "۱۲۳۴۵۶"
    assert "کد درست نیست" in page.locator("#error-summary").inner_text()
    shot(page, f"{tag}-2-wrong-code")
    # The enrolment code was used once already: take the next step's code, in Persian digits.
    code = phone.at(time.time() + 30).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    page.get_by_label("کد", exact=True).fill(code)
    page.get_by_role("button", name="ورود").click()
    page.wait_for_load_state()
    assert page.url.endswith("/account")

    page.goto(f"{live_server}/admin/staff")
    assert "مدیر سامانه" in page.locator("table").inner_text()
    shot(page, f"{tag}-3-staff")
    page.goto(f"{live_server}/admin/calendar?year=1404")
    assert "عاشورای حسینی" in page.content()
    shot(page, f"{tag}-4-calendar")
