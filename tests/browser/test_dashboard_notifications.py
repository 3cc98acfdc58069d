"""Staff follow message delivery in a real browser and send a failed message again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.accounts.services import ensure_citizen, ensure_district, ensure_staff
from app.cases import services
from app.db import db
from app.notifications.models import DeliveryState, Notification
from app.processes.services import deploy_all, latest_version
from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.requires_commit]
PASSWORD = "correct horse battery"


def test_staff_see_a_failed_message_and_send_it_again_without_javascript(
    browser_context: Any, live_server: str, live_db: Flask
) -> None:
    deploy_all(["sample_permit"])
    district = ensure_district("09", "منطقه ۹", "District 9")
    citizen = ensure_citizen("09140001001", "علی کریمی", "1360524185")
    ensure_staff("expert", "مریم احمدی", PASSWORD, ["URB_EXPERT"], [district])
    version = latest_version("sample_permit")
    assert version is not None
    case = services.start_case(
        version, applicant=citizen, district=district, data={}, actor=citizen
    )
    db.session.add(
        Notification(
            idempotency_key=f"case:{case.id}:browser",
            case_id=case.id,
            recipient_id=citizen.id,
            recipient_role="APPLICANT",
            event_key="submitted",
            text_fa=f"درخواست شما با کد رهگیری {case.tracking_code} ثبت شد.",
            text_en=f"Your application {case.tracking_code} was received.",
            state=DeliveryState.FAILED,
            attempts=6,
            last_error="SMS provider unreachable",
            created_at=datetime.now(UTC),
        )
    )
    db.session.commit()

    context = browser_context(js=False)
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(f"{live_server}/staff/login?next=/staff/notifications")
    page.locator("#field-username").fill("expert")
    page.locator("#field-password").fill(PASSWORD)
    page.locator("button[type=submit]").click()
    page.wait_for_url(f"{live_server}/staff/notifications")
    page.select_option("#field-state", "failed")
    page.get_by_role("button", name="نمایش").click()
    page.wait_for_load_state()
    row = page.locator("tbody tr").first
    assert "ناموفق" in row.inner_text()
    page.screenshot(path=str(ARTIFACTS / "notifications-staff-fa.png"), full_page=True)

    send_again = page.get_by_role("button", name="ارسال دوباره")
    send_again.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")  # the keyboard alone sends it
    assert page.get_by_role("status").first.is_visible()
    db.session.expire_all()
    note = db.session.scalar(select(Notification))
    assert note is not None
    assert note.state == DeliveryState.PENDING
