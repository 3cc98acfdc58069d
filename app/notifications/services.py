"""Notification use cases: claim a due message, record what the gateway said, lists, resend.

Like every use case these never commit: the delivery job commits after each stage, so a
claim, a hand-over and its record are each durable before the next begins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, or_, select, update

from app.accounts.models import User
from app.cases.models import Case
from app.citizens.models import CitizenProfile
from app.db import db
from app.notifications.models import (
    AttemptOutcome,
    DeliveryState,
    Notification,
    NotificationAttempt,
)


class NotResendable(Exception):
    """Only a message whose delivery failed can be sent again."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a message is tried."""

    max_attempts: int
    backoff_seconds: int
    backoff_max_seconds: int
    lease_seconds: int

    def delay(self, attempts: int) -> timedelta:
        """Exponential backoff after the given number of failed attempts."""
        seconds = self.backoff_seconds * 2 ** max(attempts - 1, 0)
        return timedelta(seconds=min(seconds, self.backoff_max_seconds))


def utc_now() -> datetime:
    return datetime.now(UTC)


def _due(now: datetime) -> tuple[object, ...]:
    return (
        Notification.state == DeliveryState.PENDING,
        or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now),
        or_(Notification.lease_until.is_(None), Notification.lease_until <= now),
    )


def claim_next(now: datetime, owner: str, policy: RetryPolicy) -> Notification | None:
    """Take the oldest due message for this worker until its lease ends; None when none is due.

    The claim is a conditional UPDATE: of two workers that picked the same row, only the
    first changes it, on SQLite and on PostgreSQL alike.
    """
    candidates = db.session.scalars(
        select(Notification.id).where(*_due(now)).order_by(Notification.id).limit(20)  # type: ignore[arg-type]
    ).all()
    for notification_id in candidates:
        claimed = db.session.execute(
            update(Notification)
            .where(Notification.id == notification_id, *_due(now))  # type: ignore[arg-type]
            .values(
                lease_until=now + timedelta(seconds=policy.lease_seconds),
                lease_owner=owner,
                attempts=Notification.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount == 1:  # type: ignore[attr-defined]
            return db.session.get(Notification, notification_id, populate_existing=True)
    return None


def addresses(notification: Notification) -> list[tuple[str, str]]:
    """(channel, address) pairs the message goes to: SMS, and e-mail when the citizen gave one."""
    if notification.recipient_id is None:
        return []
    recipient = db.session.get(User, notification.recipient_id)
    if recipient is None:
        return []
    found = []
    if recipient.mobile:
        found.append(("sms", recipient.mobile))
    profile = db.session.get(CitizenProfile, recipient.id)
    if profile is not None and profile.email:
        found.append(("email", profile.email))
    return found


def outstanding(notification: Notification) -> list[tuple[str, str]]:
    """The channels not yet delivered (a channel delivered earlier is never sent again)."""
    done = {a.channel for a in notification.delivery_attempts if a.outcome == AttemptOutcome.SENT}
    return [
        (channel, address) for channel, address in addresses(notification) if channel not in done
    ]


def gateway_key(notification: Notification, channel: str) -> str:
    """The key the gateway dedupes by: the same for every attempt on this channel."""
    return f"{notification.idempotency_key}:{channel}"


def start_attempt(
    notification: Notification, channel: str, address: str, now: datetime
) -> NotificationAttempt:
    """Note that the message is about to be handed to a gateway."""
    attempt = NotificationAttempt(
        channel=channel, address=address, outcome=AttemptOutcome.STARTED, started_at=now
    )
    notification.delivery_attempts.append(attempt)
    db.session.flush()
    return attempt


def record_sent(attempt: NotificationAttempt, provider_message_id: str, now: datetime) -> None:
    """The gateway accepted the message."""
    attempt.outcome = AttemptOutcome.SENT
    attempt.provider_message_id = provider_message_id[:120]
    attempt.finished_at = now


def finish(notification: Notification, now: datetime) -> None:
    """Every channel has the message: the row is delivered and its lease released."""
    notification.state = DeliveryState.SENT
    notification.sent_at = now
    notification.lease_until = None
    notification.lease_owner = None
    notification.last_error = ""


def keep_in_app(notification: Notification) -> None:
    """A message with nowhere to send it (addressed to a role) stays in the in-app lists."""
    notification.state = DeliveryState.IN_APP
    notification.lease_until = None
    notification.lease_owner = None


def record_failure(
    notification: Notification,
    attempt: NotificationAttempt | None,
    error: str,
    now: datetime,
    policy: RetryPolicy,
) -> None:
    """The gateway refused (or the worker died): back off, or give up after the last attempt."""
    if attempt is not None:
        attempt.outcome = AttemptOutcome.FAILED
        attempt.error = error[:2000]
        attempt.finished_at = now
    notification.last_error = error[:2000]
    notification.lease_until = None
    notification.lease_owner = None
    if notification.attempts >= policy.max_attempts:
        notification.state = DeliveryState.FAILED
    else:
        notification.next_attempt_at = now + policy.delay(notification.attempts)


def resend(notification: Notification) -> None:
    """Queue a failed message again; channels already delivered are not repeated.

    :raises NotResendable: when the message did not fail.
    """
    if notification.state != DeliveryState.FAILED:
        raise NotResendable(notification.state.value)
    notification.state = DeliveryState.PENDING
    notification.attempts = 0
    notification.next_attempt_at = None
    notification.last_error = ""


def for_citizen(user: User) -> Select[tuple[Notification]]:
    """A citizen's own messages, newest first."""
    return (
        select(Notification)
        .where(Notification.recipient_id == user.id)
        .order_by(Notification.id.desc())
    )


def for_staff(
    user: User, citizen_lanes: Sequence[str], state: DeliveryState | None = None
) -> Select[tuple[Notification]]:
    """Messages of the staff member's districts: to their roles, and to citizens (to follow up)."""
    district_ids = [district.id for district in user.districts]
    statement = (
        select(Notification)
        .join(Case, Case.id == Notification.case_id)
        .where(
            or_(Case.district_id.in_(district_ids), Case.district_id.is_(None)),
            Notification.recipient_role.in_([*user.role_codes, *citizen_lanes]),
        )
        .order_by(Notification.id.desc())
    )
    if state is not None:
        statement = statement.where(Notification.state == state)
    return statement


def may_see(user: User, notification: Notification, citizen_lanes: Sequence[str]) -> bool:
    """Whether a staff member may see (and resend) this message."""
    statement = for_staff(user, citizen_lanes).where(Notification.id == notification.id)
    return db.session.scalar(statement.with_only_columns(Notification.id)) is not None
