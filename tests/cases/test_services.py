"""The sample permit run through the app's use cases, on the suite's database (SQLite or PostgreSQL).

Each step goes through the same path as a route: lock the case, call the use case, commit.
After every step the stored state is reloaded from the database and must restore exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from freezegun import freeze_time
from sqlalchemy import select

from app.accounts.models import User
from app.accounts.services import ensure_citizen, ensure_district
from app.cases import services
from app.cases import workflow as bridge
from app.cases.jobs import sweep_due_timers
from app.cases.models import Case, CaseEvent, CaseStatus, CaseTask, MessageWait, TaskState
from app.certificates.models import IssuedDocument
from app.db import db
from app.notifications.models import Notification
from app.processes.services import deploy_all, latest_version
from engine import NotWaitingForMessage, TaskNotReady

START = "2025-09-23 05:00:00+00:00"  # Tuesday 1404-07-01, 08:30 in Tehran
APPLICATION = {
    "applicant_type": "natural",
    "applicant_name": "علی کریمی",
    "national_code": "1360524185",
    "usage": "residential",
    "area": 240.5,
}
PAYMENT = {"amount": 48_100_000, "reference": "12540040704"}


@pytest.fixture
def people(app: Flask, make_staff: Callable[..., User]) -> dict[str, User]:
    deploy_all(["sample_permit"])
    district = ensure_district("09", "منطقه ۹", "District 9")
    citizen = ensure_citizen("09140001001", "علی کریمی", "1360524185")
    return {
        "citizen": citizen,
        "expert": make_staff("expert", roles=["URB_EXPERT"]),
        "head": make_staff("head", roles=["URB_HEAD"]),
        "other_district": _staff_elsewhere(make_staff),
        "district": district,  # type: ignore[dict-item]
    }


def _staff_elsewhere(make_staff: Callable[..., User]) -> User:
    user = make_staff("elsewhere", roles=["URB_EXPERT"])
    user.districts.clear()
    user.districts.append(ensure_district("05", "منطقه ۵", "District 5"))
    return user


def _start(people: dict[str, Any]) -> Case:
    version = latest_version("sample_permit")
    assert version is not None
    case = services.start_case(
        version,
        applicant=people["citizen"],
        district=people["district"],
        data={},
        actor=people["citizen"],
    )
    db.session.commit()
    return _reloaded(case)


def _reloaded(case: Case) -> Case:
    """Read the case back from the database and check its state restores exactly."""
    db.session.expire_all()
    fresh = services.lock_case(case.id)
    assert fresh is not None
    workflow = bridge.load_workflow(fresh)
    assert workflow.dump() == fresh.workflow_state
    return fresh


def _open(case: Case, element_id: str) -> CaseTask:
    rows = [t for t in case.tasks if t.state == TaskState.OPEN and t.element_id == element_id]
    assert len(rows) == 1, [(t.element_id, t.state) for t in case.tasks]
    return rows[0]


def _complete(case: Case, element_id: str, answers: dict[str, Any], actor: User) -> Case:
    task = _open(case, element_id)
    services.complete_task(
        case, task.engine_task_id, answers, actor=actor, expected_version=case.version_id
    )
    db.session.commit()
    return _reloaded(case)


def _events(case: Case) -> list[str]:
    return list(
        db.session.scalars(
            select(CaseEvent.kind).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        )
    )


def test_start_opens_a_case_with_a_tracking_code_and_the_citizens_task(
    people: dict[str, Any],
) -> None:
    case = _start(people)
    assert len(case.tracking_code) == 12
    assert case.tracking_code.startswith("09")
    assert case.status == CaseStatus.WAITING_CITIZEN
    assert [(t.element_id, t.lane, t.form_key) for t in case.tasks] == [
        ("submit_application", "APPLICANT", "sample_permit/application")
    ]
    assert case.current_step == "ثبت درخواست"
    assert _events(case)[0] == "process_started"


def test_permit_end_to_end_with_a_correction_round(people: dict[str, Any]) -> None:
    with freeze_time(START):
        case = _start(people)
        case = _complete(case, "submit_application", APPLICATION, people["citizen"])
        assert case.status == CaseStatus.ACTIVE
        assert _open(case, "review_application").lane == "URB_EXPERT"
        assert case.due_at is not None  # the 5-working-day review deadline

        returned = {"decision": "return_for_correction", "reason": "سند ناخواناست"}
        case = _complete(case, "review_application", returned, people["expert"])
        assert case.status == CaseStatus.WAITING_CITIZEN
        case = _complete(case, "correct_application", {"note": "سند جدید"}, people["citizen"])
        case = _complete(case, "review_application", {"decision": "approve"}, people["expert"])

        # The fee came from the DMN table; the case now waits for the payment message.
        assert case.status == CaseStatus.WAITING_EVENT
        waits = db.session.scalars(select(MessageWait).where(MessageWait.case_id == case.id))
        assert [(w.message_name, w.correlation_key) for w in waits] == [
            ("payment_confirmed", case.tracking_code)
        ]
        notice = db.session.scalar(
            select(Notification).where(
                Notification.case_id == case.id, Notification.event_key == "payment_requested"
            )
        )
        assert notice is not None
        assert notice.recipient_id == people["citizen"].id
        assert case.tracking_code in notice.text_en

        waiting = services.waiting_case("payment_confirmed", case.tracking_code)
        services.deliver_message(waiting, "payment_confirmed", PAYMENT)
        db.session.commit()
        case = _reloaded(case)

    assert case.status == CaseStatus.COMPLETED
    assert case.outcome == "end_approved"
    assert case.completed_at is not None
    assert case.next_timer_at is None
    document = db.session.scalar(select(IssuedDocument).where(IssuedDocument.case_id == case.id))
    assert document is not None
    assert document.facts["payment_reference"] == PAYMENT["reference"]
    assert len(document.document_number) == 13
    assert [t.state for t in case.tasks] == [TaskState.COMPLETED] * 4
    events = _events(case)
    assert events.count("task_completed") == 4
    assert "message_received" in events
    assert events[-1] == "process_completed"
    completions = db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "task_completed")
    ).all()
    assert completions[1].actor_id == people["expert"].id
    assert completions[1].data["decision"] == "return_for_correction"


def test_a_stale_completion_is_refused_and_changes_nothing(people: dict[str, Any]) -> None:
    case = _start(people)
    stale_version = case.version_id
    case = _complete(case, "submit_application", APPLICATION, people["citizen"])
    task = _open(case, "review_application")
    with pytest.raises(services.CaseConflict):
        services.complete_task(
            case,
            task.engine_task_id,
            {"decision": "approve"},
            actor=people["expert"],
            expected_version=stale_version,
        )
    assert _open(case, "review_application") is task


def test_a_completed_task_cannot_be_completed_again(people: dict[str, Any]) -> None:
    case = _start(people)
    first = _open(case, "submit_application")
    case = _complete(case, "submit_application", APPLICATION, people["citizen"])
    with pytest.raises(TaskNotReady):
        services.complete_task(
            case,
            first.engine_task_id,
            APPLICATION,
            actor=people["citizen"],
            expected_version=case.version_id,
        )


def test_only_the_lanes_role_in_the_cases_district_may_complete(people: dict[str, Any]) -> None:
    case = _start(people)
    submit = _open(case, "submit_application")
    with pytest.raises(services.NotAllowed):  # staff cannot act in the applicant's lane
        services.complete_task(
            case,
            submit.engine_task_id,
            APPLICATION,
            actor=people["expert"],
            expected_version=case.version_id,
        )
    case = _complete(case, "submit_application", APPLICATION, people["citizen"])
    review = _open(case, "review_application")
    for outsider in (people["head"], people["other_district"], people["citizen"]):
        with pytest.raises(services.NotAllowed):
            services.complete_task(
                case,
                review.engine_task_id,
                {"decision": "approve"},
                actor=outsider,
                expected_version=case.version_id,
            )


def test_the_review_deadline_escalates_after_five_working_days(people: dict[str, Any]) -> None:
    with freeze_time(START) as clock:
        case = _start(people)
        case = _complete(case, "submit_application", APPLICATION, people["citizen"])
        due = case.next_timer_at
        assert due is not None
        # 1404-07-08 14:00 Tehran: Thursday and Friday are closed.
        assert services._as_utc(due) == datetime(2025, 9, 30, 10, 30, tzinfo=UTC)

        clock.move_to(services._as_utc(due) - timedelta(minutes=1))
        assert sweep_due_timers() == (0, 0)
        clock.move_to(services._as_utc(due) + timedelta(minutes=1))
        assert sweep_due_timers() == (1, 0)
        assert sweep_due_timers() == (0, 0)  # a second sweep finds nothing to fire

    case = _reloaded(case)
    assert _open(case, "escalate_review").lane == "URB_HEAD"
    assert _open(case, "review_application")  # the non-interrupting timer leaves the review open
    assert "timer_fired" in _events(case)


def test_a_message_nobody_waits_for_is_refused(people: dict[str, Any]) -> None:
    case = _start(people)
    with pytest.raises(services.NoWaitingCase):
        services.waiting_case("payment_confirmed", case.tracking_code)
    with pytest.raises(NotWaitingForMessage):
        services.deliver_message(case, "payment_confirmed", PAYMENT)


def test_a_failing_connector_opens_an_incident_and_retry_completes_the_case(
    people: dict[str, Any], app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = bridge.runtime().connectors
    healthy = registry.get("issue_document")

    def broken(inputs: Any, context: Any) -> Any:
        raise ConnectionError("the document service is down")

    registry.register(
        "issue_document",
        broken,
        inputs=healthy.inputs,
        outputs=healthy.outputs,
        optional=healthy.optional_inputs,
    )
    try:
        case = _start(people)
        case = _complete(case, "submit_application", APPLICATION, people["citizen"])
        case = _complete(case, "review_application", {"decision": "approve"}, people["expert"])
        services.deliver_message(case, "payment_confirmed", PAYMENT)
        db.session.commit()
        case = _reloaded(case)
        assert case.status == CaseStatus.INCIDENT
        assert case.incident is not None
        assert case.incident["element_id"] == "issue_certificate"
        assert "the document service is down" in case.incident["message"]
        assert "incident_opened" in _events(case)
    finally:
        registry.register(
            "issue_document",
            healthy.handler,
            inputs=healthy.inputs,
            outputs=healthy.outputs,
            optional=healthy.optional_inputs,
        )

    services.retry_incident(case, actor=people["head"])
    db.session.commit()
    case = _reloaded(case)
    assert case.status == CaseStatus.COMPLETED
    assert case.incident is None
    documents = db.session.scalars(select(IssuedDocument).where(IssuedDocument.case_id == case.id))
    assert len(documents.all()) == 1
