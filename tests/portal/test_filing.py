"""Filing through the pages: a case with a tracking code, a resumable draft, documents, an SMS."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from lxml import html
from sqlalchemy import func, select

from app.accounts.models import District, User
from app.cases import workflow as bridge
from app.cases.models import Case, CaseStatus, TaskState
from app.citizens.services import profile_of
from app.db import db
from app.documents.models import DocumentVersion
from app.forms.models import FormSubmission
from app.notifications.models import Notification
from app.persian.identifiers import check_tracking_code
from tests.documents.conftest import stored_files
from tests.documents.samples import HTML, pdf, png
from tests.forms.conftest import APPLICANT, OWNERS
from tests.portal.conftest import SERVICE, _hidden, only_case, open_task


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_applying_needs_a_signed_in_citizen(client: FlaskClient, district: District) -> None:
    response = client.get(f"{SERVICE}/apply")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_a_district_must_be_chosen(
    client: FlaskClient, login_as: Callable[[User], None], citizen: User, district: District
) -> None:
    login_as(citizen)
    page = client.get(f"{SERVICE}/apply")
    assert "کدام منطقه" in page.get_data(as_text=True)
    response = client.post(f"{SERVICE}/apply", data={})
    assert response.status_code == 422
    assert "منطقه‌ای را که ملک در آن است انتخاب کنید" in response.get_data(as_text=True)
    assert count(Case) == 0


def test_filing_sends_the_request_with_its_documents_and_queues_the_sms(
    client: FlaskClient, file_request: Callable[..., Case], citizen: User, documents_dir: Path
) -> None:
    case = file_request(citizen)
    assert check_tracking_code(case.tracking_code).ok
    assert case.tracking_code.startswith("09")
    assert case.status == CaseStatus.ACTIVE
    submit = next(t for t in case.tasks if t.element_id == "submit_application")
    assert submit.state == TaskState.COMPLETED
    assert submit.completed_by_id == citizen.id
    # The answers reached the process, the deed as a stored document.
    data = bridge.load_workflow(case).data
    version = db.session.scalars(select(DocumentVersion)).one()
    assert version.file_name == "سند.pdf"
    assert [p.name for p in stored_files(documents_dir)] == [version.sha256]
    assert data["deed_scan"]["document_version_id"] == version.id
    assert data["deed_scan"]["sha256"] == version.sha256
    assert data["applicant_name"] == APPLICANT["applicant_name"]
    sms = db.session.scalars(select(Notification).where(Notification.case_id == case.id)).one()
    assert sms.event_key == "submitted"
    assert sms.recipient_id == citizen.id
    assert case.tracking_code in sms.text_fa
    sent = client.get(f"/my/cases/{case.id}/sent")
    page = sent.get_data(as_text=True)
    assert sent.status_code == 200
    assert "درخواست شما فرستاده شد" in page
    assert html.fromstring(page).xpath("//bdi[@class='tracking-code']")[0].text_content() == (
        case.tracking_code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    )


def test_sending_twice_completes_once(
    client: FlaskClient, file_request: Callable[..., Case], citizen: User
) -> None:
    case = file_request(citizen, send=False)
    task = open_task(case)
    base = f"/my/cases/{case.id}/tasks/{task.id}"
    token = _hidden(client.get(f"{base}/check").get_data(as_text=True), "submission_token")
    posted = {"submission_token": token, "case_version": str(case.version_id)}
    first = client.post(f"{base}/send", data=posted)
    second = client.post(f"{base}/send", data=posted)
    assert first.status_code == second.status_code == 303
    assert second.headers["Location"] == f"/my/cases/{case.id}/sent"
    assert count(FormSubmission) == 1
    assert count(Notification) == 1


def test_a_draft_resumes_where_the_citizen_left_it(
    client: FlaskClient, login_as: Callable[[User], None], citizen: User, district: District
) -> None:
    login_as(citizen)
    client.post(f"{SERVICE}/apply", data={"district": str(district.id)})
    case = only_case(citizen)
    task = open_task(case)
    base = f"/my/cases/{case.id}/tasks/{task.id}"
    client.get(base)
    response = client.post(f"{base}/1", data={**APPLICANT, "_action": "continue"})
    assert response.headers["Location"] == f"{base}/2"
    response = client.post(f"{base}/2", data={"usage": "commercial", "_action": "draft"})
    assert response.headers["Location"] == f"{base}/2"
    # Later: applying again resumes the same request at the page left.
    again = client.get(f"{SERVICE}/apply")
    assert again.headers["Location"] == base
    assert client.get(base).headers["Location"] == f"{base}/2"
    page = client.get(f"{base}/2").get_data(as_text=True)
    assert (
        html.fromstring(page).xpath("//input[@name='usage'][@checked]")[0].get("value")
        == "commercial"
    )
    assert count(Case) == 1
    listing = client.get("/my/cases").get_data(as_text=True)
    assert "پیش‌نویس، هنوز فرستاده نشده" in listing
    assert f'href="{base}"' in listing


def test_the_application_starts_with_what_the_citizens_profile_holds(
    client: FlaskClient, login_as: Callable[[User], None], citizen: User, district: District
) -> None:
    profile_of(citizen).postal_code = "5166614776"  # and no e-mail
    login_as(citizen)
    client.post(f"{SERVICE}/apply", data={"district": str(district.id)})
    case = only_case(citizen)
    base = f"/my/cases/{case.id}/tasks/{open_task(case).id}"

    def typed() -> dict[str, str]:
        page = html.fromstring(client.get(f"{base}/1").get_data(as_text=True))
        return {
            name: page.xpath(f"//input[@name='{name}']")[0].get("value") or ""
            for name in ("applicant_name", "national_code", "mobile", "postal_code", "email")
        }

    assert typed() == {
        "applicant_name": "علی کریمی",
        "national_code": "1360524185",
        "mobile": "09140001001",
        "postal_code": "5166614776",
        "email": "",
    }
    # Only a start: what the citizen types instead is what the draft keeps.
    client.post(f"{base}/1", data={**APPLICANT, "applicant_name": "زهرا کریمی", "_action": "draft"})
    assert typed()["applicant_name"] == "زهرا کریمی"


def test_a_refused_upload_keeps_the_typed_answers_and_stores_nothing(
    client: FlaskClient, file_request: Callable[..., Case], citizen: User, documents_dir: Path
) -> None:
    case = file_request(citizen, send=False)
    task = open_task(case)
    base = f"/my/cases/{case.id}/tasks/{task.id}"
    before = count(DocumentVersion)
    for content, name, expected in (
        (HTML, "deed.pdf", "نه PDF است، نه JPEG و نه PNG"),
        (b"", "empty.pdf", None),  # an empty file input is "no new file": the saved one stays
        (png(100, 100), "small.png", "دست‌کم ۲۰۰ پیکسل"),
    ):
        typed = {**OWNERS, "owners.0.name": "حسین رضایی‌نژاد", "_action": "continue"}
        typed["deed_scan"] = (io.BytesIO(content), name)
        response = client.post(f"{base}/3", data=typed, content_type="multipart/form-data")
        body = response.get_data(as_text=True)
        if expected is None:
            continue
        assert response.status_code == 422, body[:500]
        root = html.fromstring(body)
        assert expected in root.get_element_by_id("error-deed_scan").text_content()
        assert root.get_element_by_id("field-owners-0-name").get("value") == "حسین رضایی‌نژاد"
    assert count(DocumentVersion) == before
    assert len(stored_files(documents_dir)) == before


def test_a_replaced_deed_keeps_the_earlier_version(
    client: FlaskClient, file_request: Callable[..., Case], citizen: User
) -> None:
    case = file_request(citizen, send=False)
    task = open_task(case)
    base = f"/my/cases/{case.id}/tasks/{task.id}"
    data = {**OWNERS, "_action": "continue", "deed_scan": (io.BytesIO(pdf("second")), "new.pdf")}
    client.post(f"{base}/3", data=data, content_type="multipart/form-data")
    versions = db.session.scalars(select(DocumentVersion).order_by(DocumentVersion.id)).all()
    assert [v.number for v in versions] == [1, 2]
    check = client.get(f"{base}/check").get_data(as_text=True)
    assert "new.pdf" in check
    assert "نسخه پیشین ۱" in check


def test_another_document_can_be_added_before_sending(
    client: FlaskClient, file_request: Callable[..., Case], citizen: User
) -> None:
    case = file_request(citizen, send=False)
    task = open_task(case)
    check_url = f"/my/cases/{case.id}/tasks/{task.id}/check"
    form_url = f"/my/cases/{case.id}/documents/new?next={check_url}"
    assert client.get(form_url).status_code == 200
    missing = client.post(form_url, data={"next": check_url}, content_type="multipart/form-data")
    assert missing.status_code == 422
    assert "کدام مدرک" in missing.get_data(as_text=True)
    response = client.post(
        form_url,
        data={"kind": "card:1", "next": check_url, "file": (io.BytesIO(png()), "id-card.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    assert response.headers["Location"] == check_url
    page = client.get(check_url).get_data(as_text=True)
    assert "id-card.png" in page
    assert "کارت ملی مالک" in page
