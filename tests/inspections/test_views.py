"""Inspection pages: opening visit times, booking from the task page, the applicant's page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jdatetime
from flask.testing import FlaskClient
from sqlalchemy import select

from app.accounts.models import User
from app.cases.models import Case
from app.db import db
from app.inspections import services
from app.inspections.models import InspectionSlot
from tests.office.conftest import complete, open_task

SignIn = Callable[[User], None]
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def _at_visit(people: dict[str, Any], filed: Callable[..., Case]) -> Case:
    case = filed()
    complete(
        case, "review_application", {"decision": "approve", "site_visit": True}, people["expert"]
    )
    return case


def test_an_inspector_opens_a_visit_time_typed_in_persian_digits(
    people: dict[str, Any], client: FlaskClient, sign_in: SignIn
) -> None:
    sign_in(people["inspector"])
    day = jdatetime.date.fromgregorian(date=(datetime.now(UTC) + timedelta(days=3)).date())
    form = {
        "district": str(people["district"].id),
        "inspector": str(people["inspector"].id),
        "day": str(day.day).translate(PERSIAN),
        "month": str(day.month).translate(PERSIAN),
        "year": str(day.year).translate(PERSIAN),
        "time": "۰۹:۳۰",
        "minutes": "60",
    }

    assert client.get("/inspections/slots").status_code == 200
    response = client.post("/inspections/slots", data=form)

    assert response.status_code == 302
    slot = db.session.scalars(select(InspectionSlot)).one()
    assert slot.starts_at.astimezone(UTC).strftime("%H:%M") == "06:00"  # 09:30 in Tehran


def test_bad_slot_input_is_refused_with_the_typed_values_kept(
    people: dict[str, Any], client: FlaskClient, sign_in: SignIn
) -> None:
    sign_in(people["inspector"])

    response = client.post(
        "/inspections/slots",
        data={
            "district": str(people["district"].id),
            "day": "۳۲",
            "month": "۷",
            "year": "۱۴۰۹",
            "time": "۲۵:۰۰",
            "minutes": "60",
        },
    )

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "error-summary" in html
    assert 'value="۳۲"' in html
    assert 'value="۲۵:۰۰"' in html
    assert db.session.scalars(select(InspectionSlot)).all() == []


def test_reviewers_may_not_open_visit_times(
    people: dict[str, Any], client: FlaskClient, sign_in: SignIn
) -> None:
    sign_in(people["expert"])
    assert client.get("/inspections/slots").status_code == 403


def test_the_inspector_books_from_the_task_page_and_the_applicant_confirms(
    people: dict[str, Any], filed: Callable[..., Case], client: FlaskClient, sign_in: SignIn
) -> None:
    case = _at_visit(people, filed)
    visit = open_task(case, "inspect_site")
    now = datetime.now(UTC)
    slot = services.open_slot(
        people["district"], people["inspector"], now + timedelta(days=1), 60, now=now
    )
    sign_in(people["inspector"])

    page = client.get(f"/office/tasks/{visit.id}").get_data(as_text=True)
    assert 'id="visit"' in page
    assert 'capture="environment"' in page  # photos straight from the phone's camera
    response = client.post(
        f"/inspections/cases/{case.id}/book", data={"slot": slot.id, "task": visit.id}
    )
    assert response.status_code == 302
    assert slot.case_id == case.id

    sign_in(people["citizen"])
    url = f"/inspections/visit/{case.tracking_code}"
    assert "Confirm this time" in client.get(url).get_data(as_text=True) or "تأیید" in client.get(
        url
    ).get_data(as_text=True)
    assert client.post(url, data={"action": "confirm"}).status_code == 302
    assert slot.confirmed_at is not None


def test_the_applicant_picks_a_free_time(
    people: dict[str, Any], filed: Callable[..., Case], client: FlaskClient, sign_in: SignIn
) -> None:
    case = _at_visit(people, filed)
    now = datetime.now(UTC)
    slot = services.open_slot(
        people["district"], people["inspector"], now + timedelta(days=2), 60, now=now
    )
    sign_in(people["citizen"])
    url = f"/inspections/visit/{case.tracking_code}"

    assert client.post(url, data={"action": "pick"}).status_code == 422
    assert client.post(url, data={"action": "pick", "slot": slot.id}).status_code == 302
    assert (slot.case_id, slot.confirmed_at is not None) == (case.id, True)

    sign_in(people["expert"])
    assert client.get(url).status_code == 403  # staff use the task page


def test_the_report_keeps_the_photos_as_documents_staff_can_preview(
    people: dict[str, Any], filed: Callable[..., Case], client: FlaskClient, sign_in: SignIn
) -> None:
    import io

    from app.documents.models import Document
    from tests.browser.test_office import png

    case = _at_visit(people, filed)
    visit = open_task(case, "inspect_site")
    today = jdatetime.date.fromgregorian(date=datetime.now(UTC).date())
    sign_in(people["inspector"])

    response = client.post(
        f"/office/tasks/{visit.id}",
        data={
            "expected_version": case.version_id,
            "inspection_outcome": "compliant",
            "visited_on__day": str(today.day),
            "visited_on__month": str(today.month),
            "visited_on__year": str(today.year),
            "findings": "ملک با سند مطابق است.",
            "photos": [(io.BytesIO(png()), "front.png"), (io.BytesIO(png(800, 600)), "side.png")],
        },
        content_type="multipart/form-data",
    )

    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    photos = db.session.scalars(select(Document).where(Document.case_id == case.id)).all()
    assert len(photos) == 2
    version = photos[0].current
    preview = client.get(f"/office/cases/{case.id}/documents/{version.id}")
    assert preview.status_code == 200
    assert preview.mimetype == "image/png"
    assert preview.headers["X-Content-Type-Options"] == "nosniff"
    sign_in(people["elsewhere"])
    assert client.get(f"/office/cases/{case.id}/documents/{version.id}").status_code == 404


def test_a_file_that_is_not_a_photo_is_refused_and_nothing_moves(
    people: dict[str, Any], filed: Callable[..., Case], client: FlaskClient, sign_in: SignIn
) -> None:
    import io

    case = _at_visit(people, filed)
    visit = open_task(case, "inspect_site")
    today = jdatetime.date.fromgregorian(date=datetime.now(UTC).date())
    sign_in(people["inspector"])

    response = client.post(
        f"/office/tasks/{visit.id}",
        data={
            "expected_version": case.version_id,
            "inspection_outcome": "compliant",
            "visited_on__day": str(today.day),
            "visited_on__month": str(today.month),
            "visited_on__year": str(today.year),
            "findings": "ملک با سند مطابق است.",
            "photos": [(io.BytesIO(b"%PDF-1.4 not a photo"), "notes.pdf")],
        },
        content_type="multipart/form-data",
    )

    assert response.status_code == 422
    assert "ملک با سند مطابق است." in response.get_data(as_text=True)
    assert open_task(case, "inspect_site").id == visit.id
