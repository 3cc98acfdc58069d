"""A real browser opens the public dashboard, with its charts, in Persian and in English."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from app.accounts.services import ensure_district
from app.db import db
from app.processes.services import deploy_all
from app.transparency.metrics import CaseFacts, Span
from app.transparency.models import MetricStep
from app.transparency.recording import Rollup, apply, settings
from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.requires_commit]


def _history(live_db: Flask) -> None:
    """Eight months of sample-permit figures in two districts, with steps and ratings."""
    deploy_all(["sample_permit"])
    districts = [
        ensure_district("09", "منطقه ۹", "District 9"),
        ensure_district("05", "منطقه ۵", "District 5"),
    ]
    db.session.flush()
    workdays = settings().workdays
    today = workdays.local_day(datetime.now(UTC))
    rollup = Rollup()
    for n in range(400):
        received = today - timedelta(days=5 + (n * 7) % 240)
        district = districts[n % 2].id
        review = Span(
            "URB_EXPERT", "review_application", received, workdays.add(received, 1 + n % 6), True
        )
        submit = Span("APPLICANT", "submit_application", received, received, True)
        completed = workdays.add(review.end or received, n % 3)
        rollup.received("sample_permit", district, received)
        rollup.step_done("sample_permit", district, review, workdays)
        rollup.step_done("sample_permit", district, submit, workdays)
        total = workdays.between(received, completed)
        rollup.completed(
            "sample_permit",
            district,
            completed,
            CaseFacts(total, 0, total, total <= 5, n % 9 == 0),
            [submit, review],
            workdays,
        )
        if n % 3 == 0:
            rollup.rated("sample_permit", district, completed, 3 + n % 3)
    apply(rollup)
    db.session.add(
        MetricStep(
            process_key="sample_permit",
            step="review_application",
            name="بررسی مدارک",
            lane="URB_EXPERT",
        )
    )
    db.session.add(
        MetricStep(
            process_key="sample_permit",
            step="submit_application",
            name="ثبت درخواست",
            lane="APPLICANT",
        )
    )
    db.session.commit()


def test_the_dashboard_in_persian_then_english_without_javascript(
    browser_context: Any, live_server: str, live_db: Flask
) -> None:
    _history(live_db)
    context = browser_context(js=False)
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(f"{live_server}/")
    page.get_by_role("link", name="سرعت کار ما").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("dir") == "rtl"
    charts = page.get_by_role("img")
    assert charts.count() >= 4  # monthly, time, services, backlog
    assert page.locator("svg.chart title").first.text_content()
    assert page.locator("svg.chart rect.chart__bar").count() > 10
    assert "۱۴۰" in page.locator("table").first.inner_text()  # Jalali years in Persian digits
    page.screenshot(path=str(ARTIFACTS / "dashboard-fa.png"), full_page=True)

    # Choosing a service works with a plain form submission: the per-step chart appears.
    page.select_option("#field-service", "sample_permit")
    page.select_option("#field-period", "365")
    page.get_by_role("button", name="نمایش").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="به تفکیک مرحله").is_visible()
    assert "بررسی مدارک" in page.locator("#chart-steps").inner_html()
    page.screenshot(path=str(ARTIFACTS / "dashboard-fa-service.png"), full_page=True)

    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("dir") == "ltr"
    assert page.get_by_role("heading", name="How fast we work", exact=True).is_visible()
    assert page.get_by_role("img", name="Working days per step").is_visible()
    page.screenshot(path=str(ARTIFACTS / "dashboard-en.png"), full_page=True)


def test_the_dashboard_on_a_small_phone(
    browser_context: Any, live_server: str, live_db: Flask
) -> None:
    _history(live_db)
    context = browser_context(viewport={"width": 360, "height": 740})
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(f"{live_server}/transparency")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.screenshot(path=str(ARTIFACTS / "dashboard-fa-360.png"), full_page=True)
