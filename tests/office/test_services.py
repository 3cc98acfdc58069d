"""Back-office use cases: claims, releases, reassignment, notes, returns and earlier answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from app.cases import services as cases
from app.cases.models import Case, CaseEvent, CaseStatus, TaskState
from app.db import db
from app.notifications.models import Notification
from app.office import services

from .conftest import complete, open_task

pytestmark = pytest.mark.usefixtures("in_request")

RETURN = {
    "decision": "return_for_correction",
    "fix_items": ["deed_scan", "area"],
    "reason": "تصویر سند ناخواناست و مساحت با سند نمی‌خواند.",
}


def _kinds(case: Case) -> list[str]:
    return list(
        db.session.scalars(
            select(CaseEvent.kind).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        )
    )


def test_claim_and_release(people: dict[str, Any], filed: Callable[..., Case]) -> None:
    case = filed()
    review = open_task(case, "review_application")

    services.claim_task(case, review, actor=people["expert"])
    services.claim_task(case, review, actor=people["expert"])  # again: nothing changes

    assert review.claimed_by_id == people["expert"].id
    with pytest.raises(services.TaskTaken):
        services.claim_task(case, review, actor=people["expert2"])
    with pytest.raises(services.TaskTaken):
        services.release_task(case, review, actor=people["expert2"])

    services.release_task(case, review, actor=people["expert"])
    assert review.claimed_by_id is None
    assert _kinds(case)[-2:] == ["task_claimed", "task_released"]


def test_only_the_lanes_role_in_the_district_may_claim(
    people: dict[str, Any], filed: Callable[..., Case]
) -> None:
    case = filed()
    review = open_task(case, "review_application")

    for outsider in (people["inspector"], people["elsewhere"], people["citizen"]):
        with pytest.raises(cases.NotAllowed):
            services.claim_task(case, review, actor=outsider)
    assert review.claimed_by_id is None


def test_a_completed_task_cannot_be_claimed(
    people: dict[str, Any], filed: Callable[..., Case]
) -> None:
    case = filed()
    review = complete(case, "review_application", {"decision": "approve"}, people["expert"])

    with pytest.raises(cases.TaskNotReady):
        services.claim_task(case, review, actor=people["expert"])


def test_a_supervisor_reassigns_within_the_role_and_district(
    people: dict[str, Any], filed: Callable[..., Case]
) -> None:
    case = filed()
    review = open_task(case, "review_application")
    services.claim_task(case, review, actor=people["expert"])

    with pytest.raises(cases.NotAllowed):  # a reviewer is no supervisor
        services.reassign_task(case, review, people["expert2"], actor=people["expert"])
    with pytest.raises(cases.NotAllowed):  # the inspector does not hold the review's role
        services.reassign_task(case, review, people["inspector"], actor=people["head"])
    with pytest.raises(cases.NotAllowed):  # another district's reviewer
        services.reassign_task(case, review, people["elsewhere"], actor=people["head"])

    services.reassign_task(case, review, people["expert2"], actor=people["head"])

    assert review.claimed_by_id == people["expert2"].id
    event = db.session.scalars(select(CaseEvent).where(CaseEvent.kind == "task_reassigned")).one()
    assert event.data["previous"] == people["expert"].id
    assert event.data["to"] == people["expert2"].id
    assert event.actor_id == people["head"].id
    eligible = {u.username for u in services.eligible_staff(case, review)}
    assert eligible == {"expert", "expert2", "head"}


def test_return_for_correction_texts_the_citizen_and_comes_back_to_the_same_reviewer(
    people: dict[str, Any], filed: Callable[..., Case]
) -> None:
    case = filed()
    review = open_task(case, "review_application")
    services.claim_task(case, review, actor=people["expert"])
    assert case.due_at is not None

    complete(case, "review_application", RETURN, people["expert"])

    assert case.status == CaseStatus.WAITING_CITIZEN
    assert case.due_at is None  # no staff deadline runs while the citizen corrects
    correction = open_task(case, "correct_application")
    assert correction.lane == "APPLICANT"
    sms = db.session.scalars(
        select(Notification).where(
            Notification.case_id == case.id, Notification.event_key == "returned_for_correction"
        )
    ).one()
    assert sms.recipient_id == people["citizen"].id
    assert case.tracking_code in sms.text_fa

    complete(case, "correct_application", {"correction_note": "سند تازه"}, people["citizen"])

    again = open_task(case, "review_application")
    assert again.id != review.id
    assert again.claimed_by_id == people["expert"].id
    assert case.due_at is not None


def test_a_returned_review_goes_to_the_role_when_nobody_completed_it_before(
    people: dict[str, Any], filed: Callable[..., Case]
) -> None:
    case = filed()

    assert open_task(case, "review_application").claimed_by_id is None


def test_answers_from_earlier_steps_use_the_frozen_forms(
    people: dict[str, Any], filed: Callable[..., Case]
) -> None:
    case = filed()
    complete(case, "review_application", RETURN, people["expert"])

    steps = services.earlier_steps(case, services.history(case))

    assert [s.name for s in steps] == ["بررسی مدارک", "ثبت درخواست"]
    assert steps[0].actor == people["expert"].full_name
    assert "علی کریمی" in steps[1].answers
    assert "بازگشت برای اصلاح" in steps[0].answers


def test_notes_are_kept_newest_first(people: dict[str, Any], filed: Callable[..., Case]) -> None:
    case = filed()
    services.add_note(case, "با متقاضی تماس گرفتم.", actor=people["expert"])
    services.add_note(case, "سند اصل دیده شد.", actor=people["head"])

    assert [n.body for n in services.notes(case)] == ["سند اصل دیده شد.", "با متقاضی تماس گرفتم."]
    assert services.notes(case)[0].author.username == "head"


def test_outcomes_come_from_the_bpmn(people: dict[str, Any], filed: Callable[..., Case]) -> None:
    case = filed()
    review = open_task(case, "review_application")
    form = services.frozen_form(case.process_version, "sample_permit/review")
    assert form is not None

    assert review.outcomes == ["approve", "return_for_correction", "reject"]
    assert review.properties == {"assignment": "previous_performer"}
    assert services.outcome_field(form, review.outcomes) == "decision"
    assert services.outcome_labels(form, review.outcomes) == ["تأیید", "بازگشت برای اصلاح", "رد"]
    assert (
        services.outcome_errors(form, ["approve"], {"decision": "reject"})
        == {"decision": "Choose one of the decisions this step offers."}
        or services.outcome_errors(form, ["approve"], {"decision": "reject"})["decision"]
    )
    assert services.outcome_errors(form, review.outcomes, {"decision": "reject"}) == {}


def test_staff_see_only_their_districts(people: dict[str, Any], filed: Callable[..., Case]) -> None:
    case = filed()

    assert services.may_see(people["expert"], case)
    assert not services.may_see(people["elsewhere"], case)
    assert not services.may_see(people["citizen"], case)


def test_task_rows_carry_the_cases_district(
    people: dict[str, Any], filed: Callable[..., Case]
) -> None:
    case = filed()

    assert {t.district_id for t in case.tasks} == {people["district"].id}
    assert all(t.state in (TaskState.OPEN, TaskState.COMPLETED) for t in case.tasks)
