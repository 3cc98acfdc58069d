"""Background jobs: the Celery tasks are registered, run in-process without a broker, and the
timer sweep goes on past a broken case. Runs on the suite's database (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from freezegun import freeze_time
from sqlalchemy import func, select

from app.accounts.models import User
from app.accounts.services import ensure_citizen, ensure_district
from app.cases import services
from app.cases.jobs import deliver_message_task, sweep_due_timers, sweep_due_timers_task
from app.cases.models import Case, CaseEvent, CaseStatus, TaskState
from app.db import db
from app.jobs import TIMER_SWEEP_SECONDS
from app.processes.services import deploy_all, latest_version

START = "2025-09-23 05:00:00+00:00"  # Tuesday 1404-07-01, 08:30 in Tehran
LATER = "2025-10-20 05:00:00+00:00"  # every 5-working-day review deadline from START is past
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
    ensure_district("09", "منطقه ۹", "District 9")
    return {
        "citizen": ensure_citizen("09140001001", "علی کریمی", "1360524185"),
        "expert": make_staff("expert", roles=["URB_EXPERT"]),
    }


def _advance(case: Case, element_id: str, answers: dict[str, Any], actor: User) -> None:
    task = next(t for t in case.tasks if t.state == TaskState.OPEN and t.element_id == element_id)
    services.complete_task(
        case, task.engine_task_id, answers, actor=actor, expected_version=case.version_id
    )
    db.session.commit()


def _case_at_review(people: dict[str, User]) -> Case:
    version = latest_version("sample_permit")
    assert version is not None
    case = services.start_case(
        version, applicant=people["citizen"], district=None, data={}, actor=people["citizen"]
    )
    db.session.commit()
    _advance(case, "submit_application", APPLICATION, people["citizen"])
    return case


def _task(app: Flask, name: str) -> Any:
    # This app's own task: a shared task resolves to whichever Celery app was made last.
    return app.extensions["celery"].tasks[name]


def _events(case_id: int, kind: str) -> int:
    statement = select(func.count(CaseEvent.id)).where(
        CaseEvent.case_id == case_id, CaseEvent.kind == kind
    )
    return db.session.scalar(statement) or 0


def test_the_engine_tasks_are_registered_and_beat_sweeps_timers(app: Flask) -> None:
    celery = app.extensions["celery"]
    assert {"engine.sweep_due_timers", "engine.deliver_message"} <= set(celery.tasks)
    schedule = celery.conf.beat_schedule["sweep-due-timers"]
    assert schedule == {"task": "engine.sweep_due_timers", "schedule": TIMER_SWEEP_SECONDS}
    assert (sweep_due_timers_task.name, deliver_message_task.name) == (
        "engine.sweep_due_timers",
        "engine.deliver_message",
    )


def test_without_a_broker_a_message_is_delivered_in_process(
    app: Flask, people: dict[str, User]
) -> None:
    assert app.config["CELERY_BROKER_URL"] == ""
    assert app.extensions["celery"].conf.task_always_eager
    case = _case_at_review(people)
    _advance(case, "review_application", {"decision": "approve"}, people["expert"])
    assert case.status == CaseStatus.WAITING_EVENT

    deliver = _task(app, "engine.deliver_message")
    first = deliver.delay("payment_confirmed", case.tracking_code, PAYMENT)
    again = deliver.delay("payment_confirmed", case.tracking_code, PAYMENT)

    assert (first.get(), again.get()) == (True, False)  # the duplicate finds no waiting case
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case is not None
    assert case.status == CaseStatus.COMPLETED
    assert _events(case.id, "message_received") == 1


def test_the_sweep_task_runs_in_process_without_a_broker(
    app: Flask, people: dict[str, User]
) -> None:
    with freeze_time(START):
        case_id = _case_at_review(people).id
    sweep = _task(app, "engine.sweep_due_timers")
    with freeze_time(LATER):
        assert sweep.delay().get() == (1, 0)
        assert sweep.delay().get() == (0, 0)
    assert _events(case_id, "timer_fired") == 1


def test_a_broken_case_does_not_hold_back_the_sweep(
    people: dict[str, User], caplog: pytest.LogCaptureFixture
) -> None:
    with freeze_time(START):
        broken = _case_at_review(people)
    with freeze_time("2025-09-24 05:00:00+00:00"):  # due a day later than the broken one
        healthy_id = _case_at_review(people).id
    broken.workflow_state = b"not a workflow"
    db.session.commit()
    broken_id = broken.id

    with freeze_time(LATER):
        assert sweep_due_timers() == (1, 1)

    assert _events(healthy_id, "timer_fired") == 1
    assert _events(broken_id, "timer_fired") == 0
    assert f"timer sweep failed on case {broken_id}" in caplog.text
