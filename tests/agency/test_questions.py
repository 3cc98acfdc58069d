"""The questions addressed to an outside agency: who sees them, answering, conflicts, deadlines."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, select

from app.accounts.models import User
from app.audit.models import AuditEntry
from app.cases import services as cases
from app.cases.models import Case, CaseStatus, TaskState
from app.certificates.models import IssuedDocument
from app.db import db
from app.documents.models import Document

from .conftest import PASSWORD, open_task

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@contextmanager
def counted() -> Iterator[list[str]]:
    """Record every SQL statement run inside the block."""
    statements: list[str] = []

    def note(*args: Any) -> None:
        statements.append(args[2])

    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", note)


def actions(case: Case) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.case_id == case.id).order_by(AuditEntry.seq)
        )
    )


# --- Signing in and who may open what ---------------------------------------------------------


def test_an_agency_user_signing_in_lands_on_the_agency_pages(
    people: dict[str, Any], client: FlaskClient
) -> None:
    response = client.post("/staff/login", data={"username": "fire", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/agency/")
    # A staff member still lands on their account page as before.
    staff = client.application.test_client()
    response = staff.post("/staff/login", data={"username": "expert", "password": PASSWORD})
    assert response.headers["Location"].endswith("/account")


def test_a_requester_with_no_agency_lane_is_sent_to_the_inquiries(
    people: dict[str, Any], client: FlaskClient, sign_in: Callable[[User], None]
) -> None:
    sign_in(people["notary"])
    response = client.get("/agency/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/agency/inquiries/")


@pytest.mark.parametrize(
    "path", ["/office/", "/staff/notifications", "/notifications", "/my/cases"]
)
def test_agency_users_cannot_open_office_or_citizens_pages(
    people: dict[str, Any], client: FlaskClient, sign_in: Callable[[User], None], path: str
) -> None:
    sign_in(people["fire"])
    assert client.get(path).status_code == 403


def test_the_agency_pages_refuse_everyone_else(
    people: dict[str, Any],
    filed: Callable[..., Case],
    client: FlaskClient,
    sign_in: Callable[[User], None],
) -> None:
    case = filed()
    task = open_task(case, "fire_inquiry")
    paths = [
        "/agency/",
        f"/agency/tasks/{task.id}",
        "/agency/inquiries/",
        f"/agency/inquiries/{case.id}/tasks/{task.id}",
    ]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 302
        assert "/staff/login" in response.headers["Location"]
    for who in ("citizen", "staff"):
        sign_in(people[who])
        for path in paths:
            assert client.get(path).status_code == 403, (who, path)
        assert client.post(f"/agency/tasks/{task.id}", data={}).status_code == 403


def test_a_task_of_another_agency_or_district_is_missing(
    people: dict[str, Any],
    filed: Callable[..., Case],
    client: FlaskClient,
    sign_in: Callable[[User], None],
) -> None:
    case = filed()
    task = open_task(case, "fire_inquiry")
    for who in ("registry", "fire_d5", "notary"):
        sign_in(people[who])
        assert client.get(f"/agency/tasks/{task.id}").status_code in (403, 404), who
        response = client.post(
            f"/agency/tasks/{task.id}",
            data={"answer": "no_objection", "expected_version": str(case.version_id)},
        )
        assert response.status_code in (403, 404), who
        version = db.session.scalar(select(Document.id).where(Document.case_id == case.id))
        assert version is None
    sign_in(people["registry"])
    assert client.get(f"/agency/tasks/{task.id}").status_code == 404
    assert client.get(f"/agency/tasks/{task.id}/documents/1").status_code == 404
    assert open_task(case, "fire_inquiry").state == TaskState.OPEN


# --- The list of questions ----------------------------------------------------------------------


def test_the_list_shows_my_agencys_questions_with_their_deadline(
    people: dict[str, Any],
    filed: Callable[..., Case],
    client: FlaskClient,
    sign_in: Callable[[User], None],
) -> None:
    mine = filed()
    elsewhere = filed(district="other_district")
    sign_in(people["fire"])
    page = client.get("/agency/").get_data(as_text=True)
    assert "آیا ایمنی ساختمان از نظر آتش‌نشانی مورد تأیید است؟" in page
    assert "استعلام آزمایشی" in page
    assert page.count('class="agency-row') == 2
    task = open_task(mine, "fire_inquiry")
    assert task.due_at is not None  # the silence-as-consent timer's deadline
    assert f"/agency/tasks/{task.id}" in page
    assert "۱۴۰" in page  # Jalali dates in Persian digits

    # An office serving district 5 sees only that district's question.
    sign_in(people["fire_d5"])
    page = client.get("/agency/").get_data(as_text=True)
    assert page.count('class="agency-row') == 1
    assert f"/agency/tasks/{open_task(elsewhere, 'fire_inquiry').id}" in page

    # Another agency sees none of them.
    sign_in(people["registry"])
    page = client.get("/agency/").get_data(as_text=True)
    assert 'class="agency-row' not in page


def test_search_by_tracking_code_in_any_digits(
    people: dict[str, Any],
    filed: Callable[..., Case],
    client: FlaskClient,
    sign_in: Callable[[User], None],
) -> None:
    wanted, _other = filed(), filed()
    sign_in(people["fire"])
    persian = wanted.tracking_code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    page = client.get("/agency/", query_string={"q": persian}).get_data(as_text=True)
    assert page.count('class="agency-row') == 1
    assert f"/agency/tasks/{open_task(wanted, 'fire_inquiry').id}" in page
    page = client.get("/agency/", query_string={"q": "123"}).get_data(as_text=True)
    assert 'class="agency-row' not in page


def test_overdue_questions_come_first_and_are_counted(
    people: dict[str, Any],
    filed: Callable[..., Case],
    client: FlaskClient,
    sign_in: Callable[[User], None],
) -> None:
    fresh, late = filed(), filed()
    open_task(late, "fire_inquiry").due_at = datetime.now(UTC) - timedelta(days=1)
    db.session.flush()
    sign_in(people["fire"])
    page = client.get("/agency/").get_data(as_text=True)
    late_at = page.index(f"/agency/tasks/{open_task(late, 'fire_inquiry').id}")
    fresh_at = page.index(f"/agency/tasks/{open_task(fresh, 'fire_inquiry').id}")
    assert late_at < fresh_at
    assert page.count("office-row--overdue") == 1
    assert page.count("office-badge--overdue") == 1


def test_the_list_runs_the_same_statements_whatever_the_rows(
    people: dict[str, Any],
    filed: Callable[..., Case],
    client: FlaskClient,
    sign_in: Callable[[User], None],
) -> None:
    sign_in(people["fire"])
    filed()
    client.get("/agency/")  # warm the session and caches
    with counted() as few:
        assert client.get("/agency/").status_code == 200
    for _ in range(8):
        filed()
    with counted() as many:
        response = client.get("/agency/")
    assert response.get_data(as_text=True).count('class="agency-row') == 9
    assert len(many) == len(few), (few, many)
    assert len(few) <= 8


def test_pages_of_questions(
    people: dict[str, Any],
    filed: Callable[..., Case],
    client: FlaskClient,
    sign_in: Callable[[User], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.agency import services

    monkeypatch.setattr(services, "PAGE_SIZE", 2)
    for _ in range(3):
        filed()
    sign_in(people["fire"])
    first = client.get("/agency/").get_data(as_text=True)
    second = client.get("/agency/?page=2").get_data(as_text=True)
    assert first.count('class="agency-row') == 2
    assert second.count('class="agency-row') == 1
    assert 'rel="next"' in first
    assert 'rel="prev"' in second


# --- Answering ------------------------------------------------------------------------------


def test_the_answer_page_shows_what_the_agency_needs_and_records_the_view(
    people: dict[str, Any],
    filed: Callable[..., Case],
    client: FlaskClient,
    sign_in: Callable[[User], None],
) -> None:
    case = filed()
    task = open_task(case, "fire_inquiry")
    sign_in(people["fire"])
    response = client.get(f"/agency/tasks/{task.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "آیا ایمنی ساختمان از نظر آتش‌نشانی مورد تأیید است؟" in page
    assert "پلاک ۴۲۱۷ فرعی از ۱۲۵ اصلی، بخش ۳" in page
    assert "خیابان ولیعصر" in page
    assert "مسکونی" in page
    assert "۲۴۰.۵" in page or "۲۴۰٫۵" in page
    assert "علی کریمی" not in page  # the applicant's identity is none of the agency's business
    assert 'name="answer"' in page
    assert 'type="file"' in page
    assert "personal_data.viewed" in actions(case)


def test_answering_with_a_letter_moves_the_case_on(
    people: dict[str, Any],
    filed: Callable[..., Case],
    client: FlaskClient,
    sign_in: Callable[[User], None],
) -> None:
    case = filed()
    task = open_task(case, "fire_inquiry")
    sign_in(people["fire"])
    response = client.post(
        f"/agency/tasks/{task.id}",
        data={
            "answer": "conditions",
            "conditions": "نصب کپسول آتش‌نشانی در هر طبقه",
            "expected_version": str(case.version_id),
            "letter": (io.BytesIO(PDF), "پاسخ.pdf", "application/pdf"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/agency/")
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case is not None
    assert case.status == CaseStatus.COMPLETED
    row = next(t for t in case.tasks if t.element_id == "fire_inquiry")
    assert row.state == TaskState.COMPLETED
    assert row.completed_by_id == people["fire"].id
    letter = db.session.scalar(select(Document).where(Document.case_id == case.id))
    assert letter is not None
    assert letter.current.content_type == "application/pdf"
    assert db.session.scalar(select(IssuedDocument).where(IssuedDocument.case_id == case.id))
    assert {"task.completed", "agency.answered"} <= set(actions(case))
    # The answered question leaves the list; its page says it is closed.
    assert f"/agency/tasks/{row.id}" not in client.get("/agency/").get_data(as_text=True)
    page = client.get(f"/agency/tasks/{row.id}").get_data(as_text=True)
    assert "بسته شده" in page
    # The letter is downloadable from the question's page.
    download = client.get(f"/agency/tasks/{row.id}/documents/{letter.current.id}")
    assert download.status_code == 200
    assert download.data == PDF


def test_a_missing_answer_is_shown_beside_the_field_and_keeps_the_text(
    people: dict[str, Any],
    filed: Callable[..., Case],
    client: FlaskClient,
    sign_in: Callable[[User], None],
) -> None:
    case = filed()
    task = open_task(case, "fire_inquiry")
    sign_in(people["fire"])
    response = client.post(
        f"/agency/tasks/{task.id}",
        data={"answer": "objection", "expected_version": str(case.version_id)},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in page
    assert page.count("checked") == 1  # the chosen answer stays chosen
    assert open_task(case, "fire_inquiry").state == TaskState.OPEN


def test_a_stale_answer_shows_the_conflict_and_keeps_what_was_typed(
    people: dict[str, Any],
    filed: Callable[..., Case],
    client: FlaskClient,
    sign_in: Callable[[User], None],
) -> None:
    case = filed()
    task = open_task(case, "fire_inquiry")
    stale = case.version_id - 1
    sign_in(people["fire"])
    response = client.post(
        f"/agency/tasks/{task.id}",
        data={
            "answer": "conditions",
            "conditions": "شرط نوشته‌شده پیش از تغییر پرونده",
            "expected_version": str(stale),
        },
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'id="conflict"' in page
    assert "شرط نوشته‌شده پیش از تغییر پرونده" in page
    assert f'name="expected_version" value="{case.version_id}"' in page
    assert open_task(case, "fire_inquiry").state == TaskState.OPEN


def test_an_answer_after_the_silence_deadline_is_a_conflict(
    people: dict[str, Any],
    filed: Callable[..., Case],
    client: FlaskClient,
    sign_in: Callable[[User], None],
) -> None:
    case = filed()
    task = open_task(case, "fire_inquiry")
    typed = case.version_id
    assert task.due_at is not None
    deadline = task.due_at if task.due_at.tzinfo else task.due_at.replace(tzinfo=UTC)
    locked = cases.lock_case(case.id)
    assert locked is not None
    cases.fire_due_timers(locked, deadline + timedelta(minutes=1))
    db.session.flush()
    assert task.state == TaskState.CANCELLED
    data = db.session.get(Case, case.id)
    assert data is not None
    assert data.status == CaseStatus.COMPLETED
    sign_in(people["fire"])
    response = client.post(
        f"/agency/tasks/{task.id}",
        data={"answer": "no_objection", "expected_version": str(typed)},
    )
    assert response.status_code == 409
    assert "بسته شده" in response.get_data(as_text=True)
