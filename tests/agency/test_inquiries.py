"""Organisations (notaries, banks, utilities) file inquiries, follow them and get the answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from app.accounts.models import User
from app.cases import services as cases
from app.cases.models import Case, CaseStatus, TaskState
from app.certificates.models import IssuedDocument
from app.db import db

from .conftest import open_task

FORM = {
    "plate.section": "۳",
    "plate.main": "۱۲۵",
    "plate.sub": "۴۲۱۷",
    "address": "تهران، خیابان ولیعصر، کوچه یاس، پلاک ۱۲",
    "area": "۲۴۰",
    "land_use": "residential",
}


def answer(case: Case, people: dict[str, Any]) -> None:
    task = open_task(case, "fire_inquiry")
    cases.complete_task(
        case,
        task.engine_task_id,
        {"answer": "no_objection"},
        actor=people["fire"],
        expected_version=case.version_id,
    )
    db.session.flush()


def test_a_notary_files_an_inquiry_through_its_form(
    people: dict[str, Any], client: FlaskClient, sign_in: Callable[[User], None]
) -> None:
    sign_in(people["notary"])
    page = client.get("/agency/inquiries/").get_data(as_text=True)
    assert 'value="agency_probe"' in page
    assert "استعلام آزمایشی" in page

    refused = client.post("/agency/inquiries/", data={"service": "agency_probe"})
    assert refused.status_code == 422  # the district is missing
    assert 'aria-invalid="true"' in refused.get_data(as_text=True)

    started = client.post(
        "/agency/inquiries/",
        data={"service": "agency_probe", "district": str(people["district"].id)},
    )
    assert started.status_code == 302
    case = db.session.scalar(select(Case).where(Case.applicant_id == people["notary"].id))
    assert case is not None
    assert case.district_id == people["district"].id
    task = open_task(case, "submit_request")
    assert started.headers["Location"].endswith(f"/agency/inquiries/{case.id}/tasks/{task.id}")

    form_page = client.get(started.headers["Location"])
    assert form_page.status_code == 200
    assert 'name="plate.section"' in form_page.get_data(as_text=True)

    missing = client.post(
        started.headers["Location"],
        data={**FORM, "address": "", "expected_version": str(case.version_id)},
    )
    assert missing.status_code == 422
    assert "۲۴۰" in missing.get_data(as_text=True)  # what was typed stays

    sent = client.post(
        started.headers["Location"], data={**FORM, "expected_version": str(case.version_id)}
    )
    assert sent.status_code == 302
    assert sent.headers["Location"].endswith("/agency/inquiries/")
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case is not None
    assert open_task(case, "fire_inquiry").state == TaskState.OPEN
    assert case.registry_plate in (None, "3/125/4217")


def test_the_list_shows_status_step_and_the_answer(
    people: dict[str, Any],
    filed: Callable[..., Case],
    client: FlaskClient,
    sign_in: Callable[[User], None],
) -> None:
    waiting, answered = filed(), filed()
    answer(answered, people)
    assert answered.status == CaseStatus.COMPLETED
    document = db.session.scalar(
        select(IssuedDocument).where(IssuedDocument.case_id == answered.id)
    )
    assert document is not None
    filed(requester="bank")  # someone else's

    sign_in(people["notary"])
    page = client.get("/agency/inquiries/").get_data(as_text=True)
    assert page.count('class="agency-row"') == 2
    assert "استعلام آتش‌نشانی" in page  # the waiting one's current step
    assert f"/agency/answers/{document.document_number}.pdf" in page
    assert f"/verify/{document.document_number}" in page
    assert waiting.tracking_code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")) in page

    pdf = client.get(f"/agency/answers/{document.document_number}.pdf")
    assert pdf.status_code == 200
    assert pdf.data.startswith(b"%PDF")

    sign_in(people["bank"])
    assert client.get(f"/agency/answers/{document.document_number}.pdf").status_code == 404
    page = client.get("/agency/inquiries/").get_data(as_text=True)
    assert page.count('class="agency-row"') == 1


def test_only_the_organisation_opens_its_own_inquiry(
    people: dict[str, Any], client: FlaskClient, sign_in: Callable[[User], None]
) -> None:
    sign_in(people["notary"])
    client.post(
        "/agency/inquiries/",
        data={"service": "agency_probe", "district": str(people["district"].id)},
    )
    case = db.session.scalar(select(Case).where(Case.applicant_id == people["notary"].id))
    assert case is not None
    task = open_task(case, "submit_request")
    url = f"/agency/inquiries/{case.id}/tasks/{task.id}"
    sign_in(people["bank"])
    assert client.get(url).status_code == 404
    assert client.post(url, data=FORM).status_code == 404
    sign_in(people["fire"])  # an answering agency, not an inquirer
    assert client.get(url).status_code == 403
    assert client.get("/agency/inquiries/").status_code == 403


def test_a_service_that_does_not_take_the_organisation_is_refused(
    people: dict[str, Any], client: FlaskClient, sign_in: Callable[[User], None]
) -> None:
    sign_in(people["utility"])  # agency_probe takes notaries and banks only
    page = client.get("/agency/inquiries/").get_data(as_text=True)
    assert 'value="agency_probe"' not in page
    response = client.post(
        "/agency/inquiries/",
        data={"service": "agency_probe", "district": str(people["district"].id)},
    )
    assert response.status_code == 422
    assert db.session.scalar(select(Case.id)) is None


def test_a_stale_filing_keeps_what_was_typed(
    people: dict[str, Any], client: FlaskClient, sign_in: Callable[[User], None]
) -> None:
    sign_in(people["notary"])
    started = client.post(
        "/agency/inquiries/",
        data={"service": "agency_probe", "district": str(people["district"].id)},
    )
    case = db.session.scalar(select(Case).where(Case.applicant_id == people["notary"].id))
    assert case is not None
    response = client.post(
        started.headers["Location"],
        data={**FORM, "expected_version": str(case.version_id - 1)},
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'id="conflict"' in page
    assert "خیابان ولیعصر" in page
    assert open_task(case, "submit_request").state == TaskState.OPEN
