"""Inspection slots: opening, booking, confirming, and the reminder sweep."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import select

from app.accounts.services import ensure_district
from app.cases.models import Case
from app.db import db
from app.inspections import services
from app.inspections.models import InspectionSlot
from app.notifications.models import Notification
from tests.office.conftest import complete, open_task

NOW = datetime.now(UTC).replace(microsecond=0)
TOMORROW = NOW + timedelta(days=1)


def _at_visit(people: dict[str, Any], filed: Callable[..., Case]) -> Case:
    case = filed()
    complete(
        case, "review_application", {"decision": "approve", "site_visit": True}, people["expert"]
    )
    assert open_task(case, "inspect_site").properties == {"appointment": "site_visit"}
    return case


def _slot(people: dict[str, Any], starts: datetime = TOMORROW) -> InspectionSlot:
    return services.open_slot(people["district"], people["inspector"], starts, 60, now=NOW)


#: Texts the visit booking sends (the process's own step texts are another domain's).
VISIT_TEXTS = ("site_visit_booked", "site_visit_reminder")


def _visit_texts(case: Case) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.case_id == case.id, Notification.event_key.in_(VISIT_TEXTS))
            .order_by(Notification.id)
        )
    )


def _texts(case: Case) -> list[str]:
    return [n.event_key for n in _visit_texts(case)]


def test_opening_slots(people: dict[str, Any]) -> None:
    slot = _slot(people)
    assert (slot.ends_at - slot.starts_at) == timedelta(minutes=60)

    with pytest.raises(services.SlotError, match="overlap"):
        _slot(people, TOMORROW + timedelta(minutes=30))
    with pytest.raises(services.SlotError, match="past"):
        _slot(people, NOW - timedelta(hours=1))
    with pytest.raises(services.SlotError, match="not_inspector"):
        services.open_slot(people["district"], people["expert"], TOMORROW, 60, now=NOW)
    elsewhere = ensure_district("05", "منطقه ۵", "District 5")
    with pytest.raises(services.SlotError, match="not_inspector"):
        services.open_slot(elsewhere, people["inspector"], TOMORROW, 60, now=NOW)
    assert _slot(people, TOMORROW + timedelta(hours=1)).id != slot.id  # back to back is fine


def test_staff_book_then_the_applicant_confirms(
    people: dict[str, Any], filed: Callable[..., Case]
) -> None:
    case = _at_visit(people, filed)
    slot = _slot(people)

    services.book_slot(case, slot, actor=people["inspector"], now=NOW)

    assert (slot.case_id, slot.confirmed_at) == (case.id, None)
    assert _texts(case) == ["site_visit_booked"]
    (booked,) = _visit_texts(case)
    assert case.tracking_code in booked.text_fa
    assert "ساعت" in booked.text_fa  # the time, in Persian
    services.confirm_booking(case, actor=people["citizen"], now=NOW)
    assert slot.confirmed_at == NOW


def test_the_applicant_picks_another_time(
    people: dict[str, Any], filed: Callable[..., Case]
) -> None:
    case = _at_visit(people, filed)
    first, second = _slot(people), _slot(people, TOMORROW + timedelta(hours=3))
    services.book_slot(case, first, actor=people["inspector"], now=NOW)

    services.book_slot(case, second, actor=people["citizen"], now=NOW)

    assert first.case_id is None  # released for someone else
    assert (second.case_id, second.confirmed_at) == (case.id, NOW)
    assert services.booking_for(case) is second
    assert _texts(case) == ["site_visit_booked"]  # picking it yourself needs no text


def test_booking_refusals(people: dict[str, Any], filed: Callable[..., Case]) -> None:
    waiting_review = filed()
    case = _at_visit(people, filed)
    other = _at_visit(people, filed)
    slot = _slot(people)
    services.book_slot(other, slot, actor=people["citizen"], now=NOW)

    with pytest.raises(services.SlotError, match="no_visit"):
        services.book_slot(
            waiting_review,
            _slot(people, TOMORROW + timedelta(hours=2)),
            actor=people["inspector"],
            now=NOW,
        )
    with pytest.raises(services.SlotError, match="taken"):
        services.book_slot(case, slot, actor=people["citizen"], now=NOW)
    with pytest.raises(services.SlotError, match="past"):
        services.book_slot(case, slot, actor=people["citizen"], now=TOMORROW + timedelta(hours=1))
    with pytest.raises(services.SlotError, match="not_booked"):
        services.confirm_booking(case, actor=people["citizen"], now=NOW)


def test_reminders_are_sent_once_for_visits_within_the_window(
    people: dict[str, Any], filed: Callable[..., Case]
) -> None:
    soon, later = _at_visit(people, filed), _at_visit(people, filed)
    services.book_slot(
        soon, _slot(people, NOW + timedelta(hours=20)), actor=people["citizen"], now=NOW
    )
    services.book_slot(
        later, _slot(people, NOW + timedelta(hours=30)), actor=people["citizen"], now=NOW
    )
    _slot(people, NOW + timedelta(hours=5))  # free: nobody to remind

    assert services.send_reminders(NOW, timedelta(hours=24)) == 1
    assert services.send_reminders(NOW, timedelta(hours=24)) == 0

    assert _texts(soon) == ["site_visit_reminder"]
    assert _texts(later) == []
    (text,) = _visit_texts(soon)
    assert text.recipient_id == people["citizen"].id
    assert "یادآوری" in text.text_fa


@pytest.mark.requires_commit
def test_remind_command(app: Flask) -> None:
    result: Result = app.test_cli_runner().invoke(args=["office", "remind", "--hours", "1"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "0 reminder(s) queued"
