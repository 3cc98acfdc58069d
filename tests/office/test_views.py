"""Back-office pages: who may open them, claiming, completing, conflicts, notes, applicants."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from lxml import html
from sqlalchemy import select

from app.accounts.models import User
from app.accounts.services import ensure_citizen
from app.cases.models import Case, CaseEvent, TaskState
from app.db import db
from app.office import queries
from app.office.models import CaseNote

from .conftest import complete, open_task

SignIn = Callable[[User], None]


def _task_url(task_id: int) -> str:
    return f"/office/tasks/{task_id}"


def test_the_inbox_needs_staff(
    people: dict[str, Any], client: FlaskClient, sign_in: SignIn
) -> None:
    response = client.get("/office/")
    assert response.status_code == 302
    assert "/staff/login" in response.headers["Location"]

    sign_in(people["citizen"])
    assert client.get("/office/").status_code == 403


def test_inbox_lists_the_filed_task_with_counts(
    people: dict[str, Any], filed: Callable[..., Case], client: FlaskClient, sign_in: SignIn
) -> None:
    case = filed()
    sign_in(people["expert"])

    html = client.get("/office/").get_data(as_text=True)

    assert (
        case.tracking_code in html
        or case.tracking_code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")) in html
    )
    assert "بررسی مدارک" in html
    assert 'aria-current="page"' in html


def test_inbox_says_over_the_cap_and_pages_on_without_a_total(
    people: dict[str, Any],
    filed: Callable[..., Case],
    client: FlaskClient,
    sign_in: SignIn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(queries, "COUNT_CAP", 2)
    monkeypatch.setattr(queries, "PAGE_SIZE", 2)
    for _ in range(4):
        filed()
    sign_in(people["expert"])

    first = client.get("/office/").get_data(as_text=True)
    second = client.get("/office/?tab=unassigned&page=2").get_data(as_text=True)

    assert "بیش از ۲" in first
    assert "صفحه ۱" in first
    assert "صفحه ۱ از" not in first
    assert 'rel="next"' in first
    assert 'rel="prev"' in second
    assert 'rel="next"' not in second
    assert second.count('/claim"') == 2  # the page's two rows, each with its claim button


def test_claim_from_the_inbox_then_open_the_task_page(
    people: dict[str, Any], filed: Callable[..., Case], client: FlaskClient, sign_in: SignIn
) -> None:
    case = filed()
    review = open_task(case, "review_application")
    sign_in(people["expert"])

    response = client.post(f"{_task_url(review.id)}/claim")

    assert response.status_code == 302
    assert review.claimed_by_id == people["expert"].id
    page = client.get(_task_url(review.id)).get_data(as_text=True)
    assert 'name="expected_version"' in page
    assert f'value="{case.version_id}"' in page
    assert "ثبت درخواست" in page  # the application's answers from the earlier step
    assert "علی کریمی" in page
    assert 'aria-current="step"' in page  # the steps list marks where the case is
    assert "bpmn-navigated-viewer" in page


def test_completing_with_bad_input_keeps_what_was_typed(
    people: dict[str, Any], filed: Callable[..., Case], client: FlaskClient, sign_in: SignIn
) -> None:
    case = filed()
    review = open_task(case, "review_application")
    sign_in(people["expert"])

    response = client.post(
        _task_url(review.id),
        data={"expected_version": case.version_id, "decision": "reject", "reason": "کوتاه"[:2]},
    )

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "error-summary" in html
    assert "کو" in html  # the short reason is still in the box
    assert review.state == TaskState.OPEN


def test_completing_moves_the_case_on(
    people: dict[str, Any], filed: Callable[..., Case], client: FlaskClient, sign_in: SignIn
) -> None:
    case = filed()
    review = open_task(case, "review_application")
    sign_in(people["expert"])

    response = client.post(
        _task_url(review.id),
        data={"expected_version": case.version_id, "decision": "approve", "site_visit": "no"},
    )

    assert response.status_code == 302, (
        response.status_code,
        response.get_data(as_text=True)[-4000:],
    )
    db.session.expire_all()
    assert db.session.get(Case, case.id).current_step == "انتظار پرداخت"  # type: ignore[union-attr]


def test_a_stale_version_shows_the_conflict_and_keeps_the_answers(
    people: dict[str, Any], filed: Callable[..., Case], client: FlaskClient, sign_in: SignIn
) -> None:
    case = filed()
    review = open_task(case, "review_application")
    stale = case.version_id
    complete(case, "review_application", {"decision": "approve"}, people["expert2"])
    sign_in(people["expert"])

    response = client.post(
        _task_url(review.id),
        data={"expected_version": stale, "decision": "reject", "reason": "کاربری مجاز نیست"},
    )

    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert 'id="conflict"' in html
    assert "کاربری مجاز نیست" in html  # what they typed is still there
    assert "notice--warning" in html  # the task is no longer open


def test_a_task_held_by_someone_else_is_not_completed(
    people: dict[str, Any], filed: Callable[..., Case], client: FlaskClient, sign_in: SignIn
) -> None:
    case = filed()
    review = open_task(case, "review_application")
    review.claimed_by_id = people["expert2"].id
    db.session.flush()
    sign_in(people["expert"])

    response = client.post(
        _task_url(review.id), data={"expected_version": case.version_id, "decision": "approve"}
    )

    assert response.status_code == 409
    assert review.state == TaskState.OPEN


def test_another_districts_task_is_not_found(
    people: dict[str, Any], filed: Callable[..., Case], client: FlaskClient, sign_in: SignIn
) -> None:
    review = open_task(filed(), "review_application")
    sign_in(people["elsewhere"])

    assert client.get(_task_url(review.id)).status_code == 404
    assert client.post(f"{_task_url(review.id)}/claim").status_code == 404


def test_notes_are_saved_and_shown(
    people: dict[str, Any], filed: Callable[..., Case], client: FlaskClient, sign_in: SignIn
) -> None:
    case = filed()
    review = open_task(case, "review_application")
    sign_in(people["expert"])

    client.post(f"/office/cases/{case.id}/notes", data={"body": "  ", "task": review.id})
    client.post(f"/office/cases/{case.id}/notes", data={"body": "تماس گرفتم", "task": review.id})

    notes = db.session.scalars(select(CaseNote).where(CaseNote.case_id == case.id)).all()
    assert [n.body for n in notes] == ["تماس گرفتم"]
    assert "تماس گرفتم" in client.get(_task_url(review.id)).get_data(as_text=True)


def test_supervisor_sees_overdue_work_and_reassigns(
    people: dict[str, Any], filed: Callable[..., Case], client: FlaskClient, sign_in: SignIn
) -> None:
    from datetime import UTC, datetime, timedelta

    case = filed()
    review = open_task(case, "review_application")
    review.due_at = datetime.now(UTC) - timedelta(days=1)
    db.session.flush()

    sign_in(people["expert"])
    assert client.get("/office/overdue").status_code == 403
    assert (
        client.post(f"{_task_url(review.id)}/reassign", data={"assignee": people["expert2"].id})
    ).status_code == 403

    sign_in(people["head"])
    html = client.get("/office/overdue").get_data(as_text=True)
    assert "بررسی مدارک" in html
    assert "office-row--overdue" in html
    response = client.post(
        f"{_task_url(review.id)}/reassign",
        data={"assignee": people["expert2"].id, "back": "overdue"},
    )
    assert response.status_code == 302
    assert review.claimed_by_id == people["expert2"].id
    kinds = db.session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case.id)).all()
    assert "task_reassigned" in kinds


def test_the_old_correction_address_sends_the_citizen_to_the_portal_to_fix_it(
    people: dict[str, Any], filed: Callable[..., Case], client: FlaskClient, sign_in: SignIn
) -> None:
    case = filed()
    returned = {
        "decision": "return_for_correction",
        "fix_items": ["deed_scan", "area"],
        "reason": "تصویر سند ناخواناست.",
    }
    complete(case, "review_application", returned, people["expert"])
    correction = open_task(case, "correct_application")
    url = f"/office/applicant/tasks/{correction.id}"

    sign_in(people["expert"])
    assert client.get(url).status_code == 403  # staff are not the applicant
    sign_in(ensure_citizen("09140001009", "نفر دیگر", "0076229645"))
    assert client.get(url).status_code == 404  # nor is another citizen
    sign_in(people["citizen"])
    moved = client.get(url)
    assert moved.status_code == 301
    assert moved.headers["Location"] == f"/my/cases/{case.id}#needed-title"
    assert client.post(url).status_code == 405  # the old page took answers; the portal does now

    # The portal's case page says what to fix and leads to the correction form...
    page = client.get(f"/my/cases/{case.id}").get_data(as_text=True)
    assert "تصویر سند ناخواناست." in page
    assert "مساحت زمین" in page  # the checklist, in the form's words
    base = f"/my/cases/{case.id}/tasks/{correction.id}"
    assert f'href="{base}"' in page
    # ...whose pages take the answers, and whose check page sends them.
    assert client.get(base).headers["Location"] == f"{base}/1"
    fixed = {"correction_note": "سند تازه", "usage": "residential", "area": "238", "_action": ""}
    assert client.post(f"{base}/1", data=fixed).headers["Location"] == f"{base}/check"
    check = html.fromstring(client.get(f"{base}/check").get_data(as_text=True))
    token = check.xpath("//input[@name='submission_token']")[0].get("value")
    db.session.expire_all()
    version = db.session.get(Case, case.id).version_id  # type: ignore[union-attr]
    sent = client.post(f"{base}/send", data={"submission_token": token, "case_version": version})
    assert sent.status_code == 303, sent.get_data(as_text=True)[:500]
    db.session.expire_all()
    case = db.session.get(Case, case.id)  # type: ignore[assignment]
    assert open_task(case, "review_application").claimed_by_id == people["expert"].id
