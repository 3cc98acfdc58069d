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
        == f"/services/sample_permit/v{case.process_version.number}/process.bpmn?labels=fa"
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
    case = file_request(citizen)
    # Seen before the review: the page keeps this version's steps, which must not outlive it.
    before = parse(client.get(f"/my/cases/{case.id}")).xpath("//*[@data-bpmn-diagram]")[0]
    assert before.get("data-current").split() == ["review_application"]
    case = review(case, reviewer, RETURN)
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
    app.extensions.pop("portal_expected", None)  # count the expected completion's reads too
    app.extensions.pop("portal_history", None)  # and the steps and events of this version
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
    app.extensions.pop("portal_expected", None)
    app.extensions.pop("portal_history", None)
    with counted_queries() as many:
        assert client.get(f"/my/cases/{case.id}").status_code == 200
    assert len(many) == len(few), (few, many)
    # The page's own reads (user, case, tasks, events, messages, documents and their versions,
    # property, open invoices); the transparency domain's expected completion adds its own (the metric
    # tables, and the service card for a service without history).
    estimate = [s for s in few if "metric" in s or "process_versions.card" in s]
    own = [s for s in few if s not in estimate]
    assert len(own) <= 9, own
    # Seen again while the case has not moved, the page reuses its expected completion and
    # the version's steps and events.
    db.session.expunge_all()
    g.pop("_login_user", None)
    with counted_queries() as again:
        assert client.get(f"/my/cases/{case.id}").status_code == 200
    assert not [s for s in again if "metric" in s], again
    history = [s for s in own if "FROM case_tasks" in s or "FROM case_events" in s]
    assert len(history) == 2, history
    assert len(again) == len(own) - len(history), again


def test_an_open_case_shows_its_expected_completion_as_a_range(
    client: FlaskClient, file_request: Callable[..., Case], citizen: User
) -> None:
    from app.transparency.services import expected_completion

    case = file_request(citizen)
    expected = expected_completion(case)
    assert expected is not None  # the service card's typical and legal durations
    root = parse(client.get(f"/my/cases/{case.id}"))
    shown = root.xpath("//*[@data-expected-completion]")[0].text_content()
    assert "میان" in shown
    assert "زمان معمول و مهلت قانونی" in shown
    english = parse(client.get(f"/my/cases/{case.id}?lang=en"))
    text = english.xpath("//*[@data-expected-completion]")[0].text_content()
    assert text.startswith("between ")
    assert str(expected.latest.year) not in text  # Jalali dates, not Gregorian


def test_a_completed_case_invites_the_applicant_to_rate_the_service(
    client: FlaskClient,
    file_request: Callable[..., Case],
    citizen: User,
    other_citizen: User,
    sign_in: Callable[[User | None], None],
) -> None:
    from datetime import UTC, datetime

    from app.transparency.services import rate_service

    case = file_request(citizen)
    case.status = CaseStatus.COMPLETED
    case.completed_at = datetime.now(UTC)
    db.session.commit()
    root = parse(client.get(f"/my/cases/{case.id}"))
    assert not root.xpath("//*[@data-expected-completion]")
    link = root.xpath("//*[@data-rating]//a")[0]
    assert link.get("href") == f"/satisfaction/{case.tracking_code}"
    assert client.get(link.get("href")).status_code == 200  # the transparency domain's form
    rate_service(case, citizen, 4, "")
    db.session.commit()
    rated = parse(client.get(f"/my/cases/{case.id}")).xpath("//*[@data-rating]")[0]
    assert "۴ از ۵" in rated.text_content()
    assert not rated.xpath(".//a")


def test_the_case_page_shows_the_property_the_register_links_to_it(
    client: FlaskClient, file_request: Callable[..., Case], citizen: User
) -> None:
    from datetime import UTC, datetime

    from app.properties.models import Property, PropertyCase

    case = file_request(citizen)
    assert not parse(client.get(f"/my/cases/{case.id}")).xpath("//*[@data-property]")
    parcel = Property(
        registry_section=11,
        main_plate="4527",
        sub_plate="12",
        key="11/4527/12",
        renewal_code="1-2-3-4-5-6-7",
        address="تهران، خیابان آزادی، پلاک ۱۲",
    )
    db.session.add(parcel)
    db.session.flush()
    db.session.add(
        PropertyCase(property_id=parcel.id, case_id=case.id, linked_at=datetime.now(UTC))
    )
    db.session.commit()
    section = parse(client.get(f"/my/cases/{case.id}")).xpath("//*[@data-property]")[0]
    text = section.text_content()
    assert "خیابان آزادی" in text
    assert "۱-۲-۳-۴-۵-۶-۷" in text
    assert "اصلی" in text  # the plate in words
    assert "فرعی" in text


def test_messages_on_the_case_page_show_persian_digits(
    client: FlaskClient, file_request: Callable[..., Case], citizen: User
) -> None:
    case = file_request(citizen)  # the portal texts the tracking code on filing
    root = parse(client.get(f"/my/cases/{case.id}"))
    messages = root.xpath("//section[@aria-labelledby='messages-title']")[0].text_content()
    persian = case.tracking_code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert persian in messages
    assert case.tracking_code not in messages


def test_a_milestone_on_the_timeline_is_its_name_alone(
    client: FlaskClient, file_request: Callable[..., Case], citizen: User, reviewer: User
) -> None:
    case = review(file_request(citizen), reviewer, {"decision": "approve"})
    root = parse(client.get(f"/my/cases/{case.id}"))
    lines = [" ".join(li.text_content().split()) for li in root.xpath("//ol[@class='timeline']/li")]
    milestone = [line for line in lines if "درخواست تأیید شد" in line]
    assert len(milestone) == 1
    assert milestone[0].endswith("درخواست تأیید شد")  # no dangling separator after it
    assert not [line for line in lines if line.endswith("·")]


def test_a_fee_to_pay_links_to_its_bill_from_what_is_needed_now(
    client: FlaskClient, file_request: Callable[..., Case], citizen: User, reviewer: User
) -> None:
    case = review(file_request(citizen), reviewer, {"decision": "approve"})
    assert case.status == CaseStatus.WAITING_EVENT  # for the payment
    root = parse(client.get(f"/my/cases/{case.id}"))
    needed = root.xpath("//section[contains(@class, 'needed')]")[0]
    fee = needed.xpath(".//*[@data-invoice]")[0]
    assert "ریال" in fee.text_content()
    link = fee.xpath(".//a")[0].get("href")
    assert link == f"/invoices/{fee.get('data-invoice')}"
    assert client.get(link).status_code == 200
