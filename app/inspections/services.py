"""Inspection use cases: open slots, book and confirm visits, queue reminder texts.

They take the actor and validated values, may add and flush, and never commit.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.accounts.models import District, User, UserKind
from app.cases.connectors import render_notification
from app.cases.models import Case, CaseTask, TaskState
from app.db import db
from app.inspections.models import InspectionSlot
from app.notifications.models import Notification
from app.persian.jalali import format_jalali_datetime

#: The role that visits sites; a lane name in the processes (roles.json).
INSPECTOR_ROLE = "INSPECTOR"
#: The task property that asks for a booked visit before the task can be done.
APPOINTMENT_PROPERTY = "appointment"


class SlotError(Exception):
    """A slot cannot be opened or booked; `reason` names why, for the page's message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def open_slot(
    district: District, inspector: User, starts_at: datetime, minutes: int, *, now: datetime
) -> InspectionSlot:
    """Offer a visit window of an inspector in a district.

    :raises SlotError: "past", "not_inspector" or "overlap".
    """
    if starts_at <= now:
        raise SlotError("past")
    if INSPECTOR_ROLE not in inspector.role_codes or district not in inspector.districts:
        raise SlotError("not_inspector")
    ends_at = starts_at + timedelta(minutes=minutes)
    clash = db.session.scalar(
        select(InspectionSlot.id).where(
            InspectionSlot.inspector_id == inspector.id,
            InspectionSlot.starts_at < ends_at,
            InspectionSlot.ends_at > starts_at,
        )
    )
    if clash is not None:
        raise SlotError("overlap")
    slot = InspectionSlot(
        district_id=district.id, inspector_id=inspector.id, starts_at=starts_at, ends_at=ends_at
    )
    db.session.add(slot)
    db.session.flush()
    return slot


def upcoming_slots(
    district_ids: list[int], now: datetime, limit: int = 200
) -> list[InspectionSlot]:
    """Slots from now on in these districts, booked or free, soonest first."""
    statement = (
        select(InspectionSlot)
        .where(InspectionSlot.district_id.in_(district_ids), InspectionSlot.ends_at > now)
        .order_by(InspectionSlot.starts_at, InspectionSlot.id)
        .limit(limit)
    )
    return list(db.session.scalars(statement))


def free_slots(district_id: int | None, now: datetime, limit: int = 30) -> list[InspectionSlot]:
    """Unbooked future slots in the district, soonest first."""
    statement = (
        select(InspectionSlot)
        .where(InspectionSlot.case_id.is_(None), InspectionSlot.starts_at > now)
        .order_by(InspectionSlot.starts_at, InspectionSlot.id)
        .limit(limit)
    )
    if district_id is not None:
        statement = statement.where(InspectionSlot.district_id == district_id)
    return list(db.session.scalars(statement))


def booking_for(case: Case) -> InspectionSlot | None:
    """The case's latest booked visit, if any."""
    statement = (
        select(InspectionSlot)
        .where(InspectionSlot.case_id == case.id)
        .order_by(InspectionSlot.starts_at.desc())
        .limit(1)
    )
    return db.session.scalar(statement)


def appointment_task(case: Case) -> CaseTask | None:
    """The open task of the case that needs a booked visit (its BPMN says so)."""
    for task in case.tasks:
        if task.state == TaskState.OPEN and (task.properties or {}).get(APPOINTMENT_PROPERTY):
            return task
    return None


def lock_slot(slot_id: int) -> InspectionSlot | None:
    """Load a slot and lock its row until the transaction ends, so two bookings never collide."""
    # Lock only the slot row: its district and inspector are joined in and shared.
    return db.session.get(
        InspectionSlot,
        slot_id,
        with_for_update={"of": InspectionSlot.__table__},
        populate_existing=True,
    )


def book_slot(case: Case, slot: InspectionSlot, *, actor: User, now: datetime) -> InspectionSlot:
    """Book the case into a free slot (releasing its earlier future booking) and text the applicant.

    The applicant picking a slot confirms it; staff booking one leaves it for the applicant
    to confirm.

    :raises SlotError: "no_visit" (no visit is due), "district", "past" or "taken".
    """
    if appointment_task(case) is None:
        raise SlotError("no_visit")
    if case.district_id is not None and slot.district_id != case.district_id:
        raise SlotError("district")
    if _utc(slot.starts_at) <= now:
        raise SlotError("past")
    if slot.case_id is not None and slot.case_id != case.id:
        raise SlotError("taken")
    previous = booking_for(case)
    if previous is not None and previous.id != slot.id and _utc(previous.starts_at) > now:
        previous.case_id = previous.booked_by_id = None
        previous.booked_at = previous.confirmed_at = previous.reminded_at = None
    slot.case_id = case.id
    slot.booked_by_id = actor.id
    slot.booked_at = now
    slot.confirmed_at = now if actor.kind == UserKind.CITIZEN else None
    slot.reminded_at = None
    db.session.flush()
    if actor.kind != UserKind.CITIZEN:
        _text_applicant(case, slot, "site_visit_booked", f"slot:{slot.id}:booked:{now.isoformat()}")
    return slot


def confirm_booking(case: Case, *, actor: User, now: datetime) -> InspectionSlot:
    """The applicant accepts the time staff booked.

    :raises SlotError: "not_booked" when nothing is booked.
    """
    slot = booking_for(case)
    if slot is None or _utc(slot.starts_at) <= now:
        raise SlotError("not_booked")
    slot.confirmed_at = slot.confirmed_at or now
    return slot


def send_reminders(now: datetime, ahead: timedelta) -> int:
    """Queue one reminder text per booked visit starting within `ahead`; returns how many."""
    statement = (
        select(InspectionSlot)
        .where(
            InspectionSlot.case_id.is_not(None),
            InspectionSlot.reminded_at.is_(None),
            InspectionSlot.starts_at > now,
            InspectionSlot.starts_at <= now + ahead,
        )
        .order_by(InspectionSlot.starts_at)
        .with_for_update(skip_locked=True, of=InspectionSlot.__table__)
    )
    sent = 0
    for slot in db.session.scalars(statement):
        case = db.session.get(Case, slot.case_id)
        if case is None:
            continue
        _text_applicant(case, slot, "site_visit_reminder", f"slot:{slot.id}:reminder")
        slot.reminded_at = now
        sent += 1
    return sent


def _text_applicant(case: Case, slot: InspectionSlot, event_key: str, key: str) -> None:
    template = case.process_version.card.get("notifications", {}).get(event_key)
    if template is None or case.applicant_id is None:
        return  # the service card has no text for this event: the process sends none
    if db.session.scalar(select(Notification.id).where(Notification.idempotency_key == key)):
        return
    values = {"tracking_code": case.tracking_code}
    text_fa, _ = render_notification(
        template, {**values, "when": format_jalali_datetime(slot.starts_at, "long", "fa")}
    )
    _, text_en = render_notification(
        template, {**values, "when": format_jalali_datetime(slot.starts_at, "long", "en")}
    )
    db.session.add(
        Notification(
            idempotency_key=key,
            case_id=case.id,
            recipient_id=case.applicant_id,
            recipient_role="APPLICANT",
            event_key=event_key,
            text_fa=text_fa,
            text_en=text_en,
            created_at=_now(),
        )
    )
