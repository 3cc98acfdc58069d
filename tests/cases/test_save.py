"""What the engine's save keeps beside the state: business columns, stage messages, one UPDATE.

Runs on the suite's database (SQLite or PostgreSQL), through the same use cases as routes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from freezegun import freeze_time
from sqlalchemy import event, func, select

from app.accounts.models import User
from app.accounts.services import ensure_citizen, ensure_district
from app.cases import services
from app.cases.jobs import sweep_due_timers
from app.cases.models import Case, CaseTask, TaskState
from app.db import db
from app.notifications.models import Notification
from app.notifications.steps import EVENT_KEY, PerLanguage, notify_step_changed, stage_key
from app.processes.services import deploy_all, latest_version

START = "2025-09-23 05:00:00+00:00"  # Tuesday 1404-07-01
APPLICATION = {
    "applicant_type": "natural",
    "applicant_name": "علی کریمی",
    "national_code": "1360524185",
    "usage": "residential",
    "area": 240.5,
}


@pytest.fixture
def people(app: Flask, make_staff: Callable[..., User]) -> dict[str, Any]:
    deploy_all(["sample_permit"])
    return {
        "district": ensure_district("09", "منطقه ۹", "District 9"),
        "citizen": ensure_citizen("09140001001", "علی کریمی", "1360524185"),
        "expert": make_staff("expert", roles=["URB_EXPERT"]),
        "counter": make_staff("counter", roles=["COUNTER"]),
    }


def _start(people: dict[str, Any], actor: User, data: dict[str, Any] | None = None) -> Case:
    version = latest_version("sample_permit")
    assert version is not None
    case = services.start_case(
        version,
        applicant=people["citizen"],
        district=people["district"],
        data=data or {},
        actor=actor,
    )
    db.session.commit()
    return case


def _open(case: Case, element_id: str) -> CaseTask:
    rows = [t for t in case.tasks if t.state == TaskState.OPEN and t.element_id == element_id]
    assert len(rows) == 1, [(t.element_id, t.state) for t in case.tasks]
    return rows[0]


def _complete(
    case: Case, element_id: str, answers: dict[str, Any], actor: User, commit: bool = True
) -> Case:
    locked = services.lock_case(case.id)
    assert locked is not None
    task = _open(locked, element_id)
    services.complete_task(
        locked, task.engine_task_id, answers, actor=actor, expected_version=locked.version_id
    )
    if commit:
        db.session.commit()
    return locked


def _stage_messages(case: Case) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.case_id == case.id, Notification.event_key == EVENT_KEY)
            .order_by(Notification.id)
        )
    )


# --- Business columns ---------------------------------------------------------------------------


def test_property_keys_follow_the_data_that_carries_them(people: dict[str, Any]) -> None:
    case = _start(people, people["citizen"], {"renewal_code": "۰۱-۰۲-۰۰۳-۴-0-0-0"})
    assert case.renewal_code == "1-2-3-4-0-0-0"  # canonical, whatever digits were typed
    assert case.registry_plate is None

    answers = {**APPLICATION, "plate": {"section": "۳", "main": "211", "sub": "5"}}
    case = _complete(case, "submit_application", answers, people["citizen"])
    db.session.expire_all()
    stored = db.session.get(Case, case.id)
    assert stored is not None
    assert (stored.renewal_code, stored.registry_plate) == ("1-2-3-4-0-0-0", "3/211/5")


def test_a_step_without_property_keys_or_with_invalid_ones_leaves_the_columns(
    people: dict[str, Any],
) -> None:
    case = _start(people, people["citizen"], {"renewal_code": "1-2-3-4-0-0-0"})
    answers = {**APPLICATION, "renewal_code": "not a code", "plate": {"section": "", "main": "1"}}
    case = _complete(case, "submit_application", answers, people["citizen"])
    assert (case.renewal_code, case.registry_plate) == ("1-2-3-4-0-0-0", None)


# --- Stage messages -----------------------------------------------------------------------------


def test_a_stage_reached_through_someone_else_writes_one_message(people: dict[str, Any]) -> None:
    # Filed at the counter for the citizen: the citizen learns the case waits for them.
    case = _start(people, people["counter"])
    messages = _stage_messages(case)
    assert len(messages) == 1
    message = messages[0]
    assert message.recipient_id == people["citizen"].id
    assert case.tracking_code in message.text_fa
    assert "«" + _open(case, "submit_application").name + "»" in message.text_fa
    assert case.tracking_code in message.text_en
    assert "“Application”" in message.text_en  # the card's English name for the step
    ready = [t.engine_task_id for t in case.tasks if t.state == TaskState.OPEN]
    assert message.idempotency_key == stage_key(case.id, ready, completed=False)

    # Saved again at the same stage (a retried job, a repeated save): still one message.
    notify_step_changed(
        case, ready, new_stage=True, completed=False, stage=lambda: PerLanguage("x", "x")
    )
    db.session.commit()
    assert len(_stage_messages(case)) == 1


def test_the_applicants_own_step_and_a_step_the_bpmn_announces_add_none(
    people: dict[str, Any],
) -> None:
    case = _start(people, people["citizen"])  # the citizen sees the next step on screen
    case = _complete(case, "submit_application", APPLICATION, people["citizen"])
    assert _stage_messages(case) == []
    returned = {"decision": "return_for_correction", "reason": "سند ناخواناست"}
    case = _complete(case, "review_application", returned, people["expert"])
    # The BPMN's own «returned for correction» message is the announcement of that stage.
    events = db.session.scalars(
        select(Notification.event_key).where(Notification.case_id == case.id)
    ).all()
    assert "returned_for_correction" in events
    assert EVENT_KEY not in events


def test_a_timer_that_opens_a_step_tells_the_applicant(people: dict[str, Any]) -> None:
    with freeze_time(START) as clock:
        case = _start(people, people["citizen"])
        case = _complete(case, "submit_application", APPLICATION, people["citizen"])
        assert case.next_timer_at is not None
        clock.move_to(services._as_utc(case.next_timer_at) + timedelta(minutes=1))
        assert sweep_due_timers() == (1, 0)
    messages = _stage_messages(case)
    assert len(messages) == 1
    assert messages[0].recipient_id == people["citizen"].id


def test_a_step_that_rolls_back_leaves_no_stage_message(people: dict[str, Any]) -> None:
    case = _start(people, people["citizen"])
    before = db.session.scalar(select(func.count()).select_from(Notification))
    version = latest_version("sample_permit")
    assert version is not None
    services.start_case(
        version,
        applicant=people["citizen"],
        district=people["district"],
        data={},
        actor=people["counter"],
    )
    db.session.flush()
    assert db.session.scalar(select(func.count()).select_from(Notification)) == before + 1
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Notification)) == before
    assert _stage_messages(case) == []


def test_a_package_without_the_text_sends_none(people: dict[str, Any]) -> None:
    version = latest_version("sample_permit")
    assert version is not None
    card = dict(version.card)
    card["notifications"] = {k: v for k, v in card["notifications"].items() if k != EVENT_KEY}
    version.card = card  # as a package that does not opt in
    db.session.flush()
    case = _start(people, people["counter"])
    assert _stage_messages(case) == []


# --- The save's cost ----------------------------------------------------------------------------


@contextmanager
def _statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(" ".join(str(args[2]).split())[:60])

    engine = db.session.get_bind()
    target = getattr(engine, "engine", engine)
    event.listen(target, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(target, "before_cursor_execute", count)


def test_a_completion_writes_the_case_row_once_and_no_figures_inline(
    people: dict[str, Any],
) -> None:
    case = _start(people, people["citizen"])
    case = _complete(case, "submit_application", APPLICATION, people["citizen"])
    expert = people["expert"]
    # Loaded before the route runs, as Flask-Login does.
    assert expert.role_codes
    assert expert.districts
    case_id = case.id
    returned = {"decision": "return_for_correction", "reason": "سند ناخواناست"}
    with _statements() as seen:
        locked = services.lock_case(case_id)
        assert locked is not None
        task = _open(locked, "review_application")
        services.complete_task(
            locked, task.engine_task_id, returned, actor=expert, expected_version=locked.version_id
        )
        db.session.flush()
    assert len([s for s in seen if s.startswith("UPDATE cases ")]) == 1, seen
    assert not [s for s in seen if "metric_durations" in s or "metric_daily" in s], seen
    # 23 before; PostgreSQL writes the audit entry and its head in one statement.
    assert len(seen) <= (10 if db.session.get_bind().dialect.name == "postgresql" else 13), seen
    db.session.rollback()


def test_the_end_a_case_reaches_is_named_in_both_languages(people: dict[str, Any]) -> None:
    case = _start(people, people["citizen"])
    case = _complete(case, "submit_application", APPLICATION, people["citizen"])
    case = _complete(case, "review_application", {"decision": "reject"}, people["expert"])
    assert case.completed_at is not None
    final = _stage_messages(case)[-1]
    assert "«درخواست رد شد»" in final.text_fa  # the end event's BPMN name
    assert "“Application rejected”" in final.text_en  # and the card's English for it
