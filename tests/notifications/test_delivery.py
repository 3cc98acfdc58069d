"""Delivering the outbox: channels, retries with backoff, in-app messages, lists and resend."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import func, select

from app.accounts.models import User
from app.accounts.services import ensure_citizen, ensure_district
from app.citizens.models import CitizenProfile
from app.db import db
from app.notifications import services
from app.notifications.jobs import deliver_pending, retry_policy
from app.notifications.models import (
    AttemptOutcome,
    DeliveryState,
    DevReceipt,
    Notification,
)
from app.sms.models import DevSmsMessage
from tests.transparency.conftest import APPLICATION, start, step


def _note(
    user: User | None, key: str, role: str = "APPLICANT", case_id: int | None = None
) -> Notification:
    note = Notification(
        idempotency_key=key,
        case_id=case_id,
        recipient_id=user.id if user else None,
        recipient_role=role,
        event_key="submitted",
        text_fa=f"درخواست {key} ثبت شد.",
        text_en=f"Application {key} was received.",
        created_at=datetime.now(UTC),
    )
    db.session.add(note)
    db.session.commit()
    return note


@pytest.fixture
def citizen(app: Flask) -> User:
    user = ensure_citizen("09140001001", "علی کریمی", "1360524185")
    db.session.commit()
    return user


@pytest.fixture
def unreachable_sms(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The real HTTP adapter, pointed at a port nobody listens on.
    monkeypatch.setitem(app.config, "SMS_BACKEND", "http")
    monkeypatch.setitem(app.config, "SMS_HTTP_URL", "http://127.0.0.1:9/messages")
    monkeypatch.setitem(app.config, "SMS_HTTP_TIMEOUT", 2)
    return


def test_a_message_is_texted_once_through_the_gateway(citizen: User) -> None:
    note = _note(citizen, "case:1:a")
    report = deliver_pending()
    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)
    db.session.refresh(note)
    assert note.state == DeliveryState.SENT
    assert note.sent_at is not None
    assert note.lease_until is None
    [attempt] = note.delivery_attempts
    assert (attempt.channel, attempt.address, attempt.outcome) == (
        "sms",
        "09140001001",
        AttemptOutcome.SENT,
    )
    inbox = db.session.scalars(
        select(DevSmsMessage).where(DevSmsMessage.mobile == "09140001001")
    ).all()
    assert [m.text for m in inbox] == [note.text_fa]
    assert attempt.provider_message_id == inbox[0].message_id
    assert deliver_pending().sent == 0  # nothing is sent twice


def test_email_goes_too_when_the_citizen_gave_an_address(citizen: User) -> None:
    db.session.add(CitizenProfile(user_id=citizen.id, email="ali@example.org"))
    note = _note(citizen, "case:1:b")
    deliver_pending()
    db.session.refresh(note)
    assert sorted(a.channel for a in note.delivery_attempts) == ["email", "sms"]
    mail = db.session.scalar(select(DevReceipt).where(DevReceipt.channel == "email"))
    assert mail is not None
    assert mail.address == "ali@example.org"
    assert note.text_en in mail.text
    assert mail.idempotency_key == "case:1:b:email"


def test_a_message_to_a_role_stays_in_the_app(app: Flask) -> None:
    note = _note(None, "case:1:c", role="URB_HEAD")
    assert deliver_pending().in_app == 1
    db.session.refresh(note)
    assert note.state == DeliveryState.IN_APP
    assert note.delivery_attempts == []


def test_failures_back_off_exponentially_then_give_up(citizen: User, unreachable_sms: None) -> None:
    policy = retry_policy()
    note = _note(citizen, "case:1:d")
    start = datetime(2025, 10, 1, 6, 0, tzinfo=UTC)
    with freeze_time(start):
        assert deliver_pending().retrying == 1
    db.session.refresh(note)
    assert note.attempts == 1
    assert note.state == DeliveryState.PENDING
    assert note.next_attempt_at is not None
    assert _utc(note.next_attempt_at) == start + timedelta(seconds=policy.backoff_seconds)
    assert "unreachable" in note.last_error
    with freeze_time(start + timedelta(seconds=policy.backoff_seconds - 1)):
        assert deliver_pending().retrying == 0  # still backing off: not tried early
    moment = start
    for attempt in range(2, policy.max_attempts + 1):
        moment += timedelta(seconds=policy.backoff_seconds * 2 ** (attempt - 1))
        with freeze_time(moment):
            deliver_pending()
        db.session.refresh(note)
        assert note.attempts == attempt
    assert note.state == DeliveryState.FAILED
    assert [a.outcome for a in note.delivery_attempts] == [
        AttemptOutcome.FAILED
    ] * policy.max_attempts


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_a_leased_message_is_not_taken_by_a_second_worker(citizen: User) -> None:
    note = _note(citizen, "case:1:e")
    policy = retry_policy()
    now = datetime.now(UTC)
    assert services.claim_next(now, "worker-1", policy) is not None
    db.session.commit()
    assert services.claim_next(now, "worker-2", policy) is None
    later = now + timedelta(seconds=policy.lease_seconds + 1)
    again = services.claim_next(later, "worker-2", policy)
    assert again is not None
    assert again.id == note.id
    assert again.lease_owner == "worker-2"


def test_the_citizen_sees_only_their_own_messages(
    client: FlaskClient, citizen: User, login_as: Callable[[User], None]
) -> None:
    other = ensure_citizen("09140001002", "مینا رضایی", "0499370899")
    _note(citizen, "case:1:f")
    _note(other, "case:1:g")
    login_as(citizen)
    page = client.get("/notifications?lang=en").get_data(as_text=True)
    assert "case:1:f" in page
    assert "case:1:g" not in page


def test_staff_see_delivery_state_and_resend_a_failed_message(
    client: FlaskClient,
    people: dict[str, Any],
    login_as: Callable[[User], None],
    unreachable_sms: None,
    app: Flask,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "NOTIFY_MAX_ATTEMPTS", 1)
    case = start(people)
    returned = {"decision": "return_for_correction", "reason": "سند ناخواناست"}
    step(
        step(case, "submit_application", APPLICATION, people["citizen"]),
        "review_application",
        returned,
        people["expert"],
    )
    assert deliver_pending().failed == 1
    note = db.session.scalar(select(Notification))
    assert note is not None
    assert note.state == DeliveryState.FAILED

    login_as(people["expert"])
    page = client.get("/staff/notifications?lang=en&state=failed").get_data(as_text=True)
    assert case.tracking_code in page
    assert "Failed" in page
    assert "Send again" in page

    outsider = _staff_elsewhere(people)
    g.pop("_login_user", None)
    login_as(outsider)
    assert client.post(f"/staff/notifications/{note.id}/resend").status_code == 404

    g.pop("_login_user", None)
    login_as(people["expert"])
    assert client.post(f"/staff/notifications/{note.id}/resend").status_code == 302
    db.session.refresh(note)
    assert note.state == DeliveryState.PENDING
    assert note.attempts == 0
    monkeypatch.setitem(app.config, "SMS_BACKEND", "dev")
    assert deliver_pending().sent == 1
    assert db.session.scalar(select(func.count()).select_from(DevSmsMessage)) == 1


def _staff_elsewhere(people: dict[str, Any]) -> User:
    from app.accounts.services import ensure_staff

    elsewhere = ensure_district("05", "منطقه ۵", "District 5")
    user = ensure_staff("far", "کارشناس دور", "correct horse battery", ["URB_EXPERT"], [elsewhere])
    db.session.commit()
    return user
