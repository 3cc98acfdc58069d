"""My cases and the case page: timeline, diagram marks, what is needed now, messages, documents."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from lxml import html
from sqlalchemy import event

from app.accounts.models import User
from app.cases.models import Case, CaseStatus
from app.db import db
from tests.portal.conftest import open_task, review

RETURN = {
    "decision": "return_for_correction",
    "fix_items": ["area"],
    "reason": "مساحت با سند مالکیت نمی‌خواند.",
}


@pytest.fixture
def reviewer(make_staff: Callable[..., User]) -> User:
    return make_staff("reviewer", roles=["URB_EXPERT"])


def parse(response: Any) -> Any:
    return html.fromstring(response.get_data(as_text=True))


def test_my_cases_lists_status_holder_and_due_date(
    client: FlaskClient, file_request: Callable[..., Case], citizen: User
) -> None:
    case = file_request(citizen)
    root = parse(client.get("/my/cases"))
    row = root.xpath("//tbody/tr")[0]
    cells = [c.text_content().strip() for c in row.xpath("td")]
    assert cells[1] == "صدور پروانه نمونه"
    assert cells[2] == "در دست شهرداری"
    assert cells[3] == case.current_step
    assert cells[4] == "کارشناس شهرسازی"
    assert cells[5] != "—"  # the review step has a deadline


def test_the_case_page_marks_the_current_step_and_shows_the_timeline(
    client: FlaskClient, file_request: Callable[..., Case], citizen: User
) -> None:
    case = file_request(citizen)
    response = client.get(f"/my/cases/{case.id}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    root = parse(response)
    diagram = root.xpath("//*[@data-bpmn-diagram]")[0]
    assert diagram.get("data-current").split() == ["review_application"]
    assert "submit_application" in diagram.get("data-done").split()
    assert (
        diagram.get("data-bpmn-url")
        == f"/services/sample_permit/v{case.process_version.number}/process.bpmn"
    )
    steps = [li.text_content() for li in root.xpath("//ol[@class='timeline']/li")]
    assert any("ثبت درخواست" in s and "طول کشید" in s and "زمان شما" in s for s in steps)
    assert any("بررسی مدارک" in s and "در جریان" in s for s in steps)
    totals = root.xpath("//p[@class='timeline__totals']")[0].text_content()
    assert "زمان رسیدگی در شهرداری" in totals
    assert "زمان انتظار برای شما" in totals
    needed = root.xpath("//section[contains(@class, 'needed')]")[0].text_content()
    assert "فعلاً هیچ" in needed
    messages = root.xpath("//ul[@class='messages']/li")
    assert len(messages) == 1
    assert "ثبت شد" in messages[0].text_content()
    documents = root.xpath("//table[@class='portal-table']//a")
    assert [a.text_content() for a in documents] == ["سند.pdf"]
    # The viewer and its licence are self-hosted, and so is the font it waits for.
    scripts = [s.get("src") for s in root.xpath("//script[@src]")]
    assert "/static/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js" in scripts
    assert all(src.startswith("/") for src in scripts)


def test_a_correction_shows_the_reviewers_reasons_and_the_task(
    client: FlaskClient, file_request: Callable[..., Case], citizen: User, reviewer: User
) -> None:
    case = review(file_request(citizen), reviewer, RETURN)
    assert case.status == CaseStatus.WAITING_CITIZEN
    root = parse(client.get(f"/my/cases/{case.id}"))
    needed = root.xpath("//section[contains(@class, 'needed')]")[0]
    text = needed.text_content()
    assert RETURN["reason"] in text
    task = open_task(case, "correct_application")
    assert needed.xpath(f".//a[@href='/my/cases/{case.id}/tasks/{task.id}']")
    diagram = root.xpath("//*[@data-bpmn-diagram]")[0]
    assert diagram.get("data-current").split() == ["correct_application"]
    assert "review_application" in diagram.get("data-done").split()
    # The correction form starts from the case's answers.
    client.get(f"/my/cases/{case.id}/tasks/{task.id}")
    page = parse(client.get(f"/my/cases/{case.id}/tasks/{task.id}/1"))
    assert page.xpath("//input[@name='area']")[0].get("value") in ("240.5", "۲۴۰٫۵", "240٫5")


@contextmanager
def counted_queries() -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = db.engines[None]
    target = engine.engine if hasattr(engine, "engine") else engine
    event.listen(target, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(target, "before_cursor_execute", record)


def test_queries_per_case_page_do_not_grow_with_the_steps(
    app: Flask,
    client: FlaskClient,
    file_request: Callable[..., Case],
    citizen: User,
    reviewer: User,
) -> None:
    case = file_request(citizen)
    reviewer_id = reviewer.id
    client.get(f"/my/cases/{case.id}")  # warm caches (compiled process, forms)
    db.session.expunge_all()  # every request starts from an empty identity map, as in production
    g.pop("_login_user", None)
    with counted_queries() as few:
        assert client.get(f"/my/cases/{case.id}").status_code == 200
    # Two correction rounds: many more tasks, events, messages.
    for _round in range(2):
        case = review(db.session.get(Case, case.id), db.session.get(User, reviewer_id), RETURN)
        task = open_task(case, "correct_application")
        base = f"/my/cases/{case.id}/tasks/{task.id}"
        client.get(base)
        client.post(
            f"{base}/1",
            data={
                "correction_note": "اصلاح شد",
                "area": "240.5",
                "usage": "residential",
                "_action": "continue",
            },
        )
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
        case = db.session.get(Case, case.id)
    assert len(case.tasks) >= 5
    db.session.expunge_all()
    g.pop("_login_user", None)
    with counted_queries() as many:
        assert client.get(f"/my/cases/{case.id}").status_code == 200
    assert len(many) == len(few), (few, many)
    assert len(few) <= 12
