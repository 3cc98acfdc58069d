"""An outside agency in a real browser: signs in with password and TOTP, sees the question
addressed to it, answers with a PDF letter, and the case moves on."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select

from app.accounts.models import User, UserKind
from app.accounts.services import ensure_district, ensure_staff, utc_now
from app.cases import services as cases
from app.cases.models import Case, CaseStatus, TaskState
from app.certificates.models import IssuedDocument
from app.db import db
from app.documents.models import Document
from app.processes.services import deploy_all, latest_version
from tests.agency.conftest import KEY, REQUEST, use_probe_package
from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.requires_commit]

PASSWORD = "correct horse battery staple"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"agency-{name}.png"), full_page=True)


@pytest.fixture
def probe(live_db: Flask, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    use_probe_package(live_db, monkeypatch, tmp_path)
    deploy_all([KEY])
    district = ensure_district("09", "منطقه ۹", "District 9")
    fire = ensure_staff(
        "fire", "آتش‌نشانی تبریز", PASSWORD, ["AGENCY_FIRE"], [], kind=UserKind.AGENCY
    )
    fire.totp_secret = pyotp.random_base32()
    fire.totp_enabled_at = utc_now()
    notary = ensure_staff(
        "notary", "دفترخانه ۱۲", PASSWORD, ["REQUESTER_NOTARY"], [], kind=UserKind.AGENCY
    )
    version = latest_version(KEY)
    assert version is not None
    case = cases.start_case(version, applicant=notary, district=district, data={}, actor=notary)
    cases.complete_task(
        case,
        case.tasks[0].engine_task_id,
        REQUEST,
        actor=notary,
        expected_version=case.version_id,
    )
    db.session.commit()
    return {"case": case.id, "code": case.tracking_code, "secret": fire.totp_secret}


def _case(case_id: int) -> Case:
    db.session.expire_all()
    case = db.session.get(Case, case_id)
    assert case is not None
    return case


@pytest.mark.parametrize("js", [False, True], ids=["nojs", "js"])
def test_the_fire_service_answers_a_question_with_a_letter(
    probe: dict[str, Any], live_server: str, browser_context: Any, tmp_path: Path, js: bool
) -> None:
    context = browser_context(js=js)
    page = context.pages[0] if context.pages else context.new_page()
    tag = "js" if js else "nojs"

    page.goto(f"{live_server}/staff/login")
    page.locator("#field-username").fill("fire")
    page.locator("#field-password").fill(PASSWORD)
    page.locator("button[type=submit]").click()
    page.wait_for_url(f"{live_server}/staff/login/code")
    code = pyotp.TOTP(probe["secret"]).at(time.time())
    page.locator("#field-code").fill(code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")))
    page.locator("button[type=submit]").click()
    page.wait_for_url(f"{live_server}/agency/")
    shot(page, f"{tag}-1-questions")

    row = page.locator("tr.agency-row")
    assert row.count() == 1
    assert "آیا ایمنی ساختمان از نظر آتش‌نشانی مورد تأیید است؟" in row.inner_text()
    assert "استعلام آزمایشی" in row.inner_text()

    # The back office is not for outside agencies.
    response = page.goto(f"{live_server}/office/")
    assert response is not None
    assert response.status == 403
    page.go_back()

    page.locator("tr.agency-row a").first.click()
    page.wait_for_load_state()
    assert "پلاک ۴۲۱۷ فرعی از ۱۲۵ اصلی، بخش ۳" in page.content()
    assert "خیابان ولیعصر" in page.content()
    letter = tmp_path / "پاسخ-آتش‌نشانی.pdf"
    letter.write_bytes(PDF)
    page.get_by_label("با شرایط").check()
    page.get_by_label("شرایط یا دلایل").fill("نصب کپسول آتش‌نشانی در هر طبقه")
    page.locator("input[type=file][name=letter]").set_input_files(str(letter))
    shot(page, f"{tag}-2-answer")
    page.get_by_role("button", name="فرستادن پاسخ").click()
    page.wait_for_url(f"{live_server}/agency/")
    assert "به شهرداری فرستاده شد" in page.content()
    assert page.locator("tr.agency-row").count() == 0
    shot(page, f"{tag}-3-sent")

    case = _case(probe["case"])
    assert case.status == CaseStatus.COMPLETED
    fire = next(t for t in case.tasks if t.element_id == "fire_inquiry")
    assert fire.state == TaskState.COMPLETED
    assert db.session.scalar(select(User.username).where(User.id == fire.completed_by_id)) == "fire"
    stored = db.session.scalar(select(Document).where(Document.case_id == case.id))
    assert stored is not None
    assert stored.current.content_type == "application/pdf"
    assert db.session.scalar(select(IssuedDocument.id).where(IssuedDocument.case_id == case.id))
