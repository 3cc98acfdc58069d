"""A citizen reaches only their own cases and documents: every other id answers 404."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.accounts.models import User
from app.cases.models import Case
from app.db import db
from app.documents.models import DocumentVersion
from tests.documents.samples import png
from tests.portal.conftest import open_task


def persian(digits: str) -> str:
    return digits.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))


def citizen_urls(case: Case, task_id: int, version_id: int) -> list[tuple[str, str]]:
    base = f"/my/cases/{case.id}"
    return [
        ("GET", base),
        ("GET", f"{base}/sent"),
        ("GET", f"{base}/tasks/{task_id}"),
        ("GET", f"{base}/tasks/{task_id}/1"),
        ("POST", f"{base}/tasks/{task_id}/1"),
        ("GET", f"{base}/tasks/{task_id}/check"),
        ("POST", f"{base}/tasks/{task_id}/send"),
        ("GET", f"{base}/documents/new"),
        ("POST", f"{base}/documents/new"),
        ("GET", f"{base}/documents/{version_id}"),
    ]


@pytest.fixture
def first_case(file_request: Callable[..., Case], citizen: User) -> tuple[Case, int, int]:
    case = file_request(citizen, send=False)
    version = db.session.scalars(select(DocumentVersion)).one()
    return case, open_task(case).id, version.id


def test_the_owner_reaches_every_page_and_the_document(
    client: FlaskClient, first_case: tuple[Case, int, int]
) -> None:
    case, task_id, version_id = first_case
    for method, url in citizen_urls(case, task_id, version_id):
        if method == "GET":
            assert client.get(url).status_code in (200, 302), url
    document = client.get(f"/my/cases/{case.id}/documents/{version_id}")
    assert document.status_code == 200
    assert document.mimetype == "application/pdf"
    assert document.headers["X-Content-Type-Options"] == "nosniff"
    assert document.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%D8%B3%D9%86%D8%AF.pdf" in document.headers["Content-Disposition"]
    assert document.headers["Cache-Control"] == "no-store"


def test_another_citizen_gets_404_on_every_route_and_download(
    client: FlaskClient,
    sign_in: Callable[[User | None], None],
    first_case: tuple[Case, int, int],
    other_citizen: User,
) -> None:
    case, task_id, version_id = first_case
    sign_in(other_citizen)
    for method, url in citizen_urls(case, task_id, version_id):
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(
                url,
                data={"kind": "other", "file": (io.BytesIO(png()), "x.png")},
                content_type="multipart/form-data",
            )
        assert response.status_code == 404, (method, url, response.status_code)
    assert persian(case.tracking_code) not in client.get("/my/cases").get_data(as_text=True)


def test_a_document_of_another_case_is_404_even_through_ones_own_case(
    app: Flask,
    client: FlaskClient,
    first_case: tuple[Case, int, int],
    file_request: Callable[..., Case],
    other_citizen: User,
) -> None:
    _case, _task_id, version_id = first_case
    own = file_request(other_citizen, send=False)
    response = client.get(f"/my/cases/{own.id}/documents/{version_id}")
    assert response.status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in_and_staff_are_refused(
    client: FlaskClient,
    first_case: tuple[Case, int, int],
    make_staff: Callable[..., User],
    sign_in: Callable[[User | None], None],
) -> None:
    case, task_id, version_id = first_case
    sign_in(None)
    for method, url in citizen_urls(case, task_id, version_id):
        if method == "GET":
            response = client.get(url)
            assert response.status_code == 302, url
            assert response.headers["Location"].startswith("/login")
    sign_in(make_staff("reviewer", roles=["URB_EXPERT"]))
    assert client.get(f"/my/cases/{case.id}").status_code == 403


def test_an_attorney_sees_the_cases_of_the_owner_they_represent_once_verified(
    client: FlaskClient,
    file_request: Callable[..., Case],
    citizen: User,
    other_citizen: User,
    sign_in: Callable[[User | None], None],
    make_staff: Callable[..., User],
) -> None:
    from app.citizens.models import RepresentationKind
    from app.citizens.services import decide_representation, declare_representation

    case = file_request(citizen)
    version = db.session.scalars(select(DocumentVersion)).one()
    representation = declare_representation(
        other_citizen,
        kind=RepresentationKind.ATTORNEY,
        owner=citizen,
        reference="وکالت‌نامه ۱۲۳۴",
        valid_until=None,
    )
    db.session.commit()
    sign_in(other_citizen)
    assert client.get(f"/my/cases/{case.id}").status_code == 404  # declared, not verified
    decide_representation(
        representation, approve=True, actor=make_staff("counter", roles=["COUNTER"])
    )
    db.session.commit()
    sign_in(other_citizen)
    assert client.get(f"/my/cases/{case.id}").status_code == 200
    assert client.get(f"/my/cases/{case.id}/documents/{version.id}").status_code == 200
    assert persian(case.tracking_code) in client.get("/my/cases").get_data(as_text=True)


def _represent(agent: User, owner: User, counter: User, **overrides: object) -> None:
    from app.citizens.models import RepresentationKind
    from app.citizens.services import decide_representation, declare_representation

    representation = declare_representation(
        agent,
        kind=RepresentationKind.ATTORNEY,
        owner=owner,
        reference="وکالت‌نامه ۱۲۳۴",
        valid_until=None,
    )
    decide_representation(representation, approve=True, actor=counter)
    for name, value in overrides.items():
        setattr(representation, name, value)
    db.session.commit()


def test_only_the_applicant_and_their_verified_attorney_may_work_on_citizen_tasks(
    file_request: Callable[..., Case],
    citizen: User,
    other_citizen: User,
    make_staff: Callable[..., User],
) -> None:
    from datetime import date, timedelta

    from app.accounts.services import ensure_citizen
    from app.cases.services import may_work_on
    from app.citizens.models import RepresentationStatus

    case = file_request(citizen, send=False)
    task = open_task(case)
    counter = make_staff("counter", roles=["COUNTER"])
    stranger = ensure_citizen("09120000003", "رضا موسوی", "0013542419")
    late = ensure_citizen("09120000004", "سارا نادری", "0499370899")
    revoked = ensure_citizen("09120000005", "نیما رحیمی", "1111111111")
    _represent(other_citizen, citizen, counter)
    _represent(late, citizen, counter, valid_until=date.today() - timedelta(days=1))
    _represent(revoked, citizen, counter, status=RepresentationStatus.REVOKED)

    assert may_work_on(citizen, case, task)
    assert may_work_on(other_citizen, case, task)  # the verified attorney
    assert not may_work_on(stranger, case, task)
    assert not may_work_on(late, case, task)  # the power of attorney has run out
    assert not may_work_on(revoked, case, task)
    assert not may_work_on(counter, case, task)  # staff do not fill in the citizen's steps


def test_an_attorney_completes_the_owners_correction_and_a_stranger_gets_404(
    client: FlaskClient,
    file_request: Callable[..., Case],
    citizen: User,
    other_citizen: User,
    sign_in: Callable[[User | None], None],
    make_staff: Callable[..., User],
) -> None:
    from lxml import html

    from app.accounts.services import ensure_citizen
    from app.cases.models import TaskState
    from tests.portal.conftest import review

    case = file_request(citizen)
    reviewer = make_staff("reviewer", roles=["URB_EXPERT"])
    case = review(
        case,
        reviewer,
        {"decision": "return_for_correction", "fix_items": ["area"], "reason": "مساحت نادرست است."},
    )
    task = open_task(case, "correct_application")
    base = f"/my/cases/{case.id}/tasks/{task.id}"
    stranger = ensure_citizen("09120000003", "رضا موسوی", "0013542419")
    db.session.commit()

    sign_in(other_citizen)  # not yet the owner's attorney
    assert client.get(base).status_code == 404
    _represent(other_citizen, citizen, make_staff("counter", roles=["COUNTER"]))
    sign_in(stranger)
    for method, url in (("GET", base), ("GET", f"{base}/1"), ("POST", f"{base}/send")):
        assert client.open(url, method=method).status_code == 404, url

    sign_in(other_citizen)
    assert client.get(base).status_code == 302
    answers = {"correction_note": "اصلاح شد", "area": "240.5", "usage": "residential"}
    client.post(f"{base}/1", data={**answers, "_action": "continue"})
    check = client.get(f"{base}/check").get_data(as_text=True)
    token = html.fromstring(check).xpath("//input[@name='submission_token']")[0].get("value")
    db.session.expire_all()
    fresh = db.session.get(Case, case.id)
    assert fresh is not None
    sent = client.post(
        f"{base}/send", data={"submission_token": token, "case_version": str(fresh.version_id)}
    )
    assert sent.status_code == 303, sent.get_data(as_text=True)[:500]
    db.session.expire_all()
    done = next(t for t in db.session.get(Case, case.id).tasks if t.id == task.id)
    assert done.state == TaskState.COMPLETED
    assert done.completed_by_id == other_citizen.id
