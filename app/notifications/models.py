"""The notification outbox, its delivery attempts, and the development gateway's memory."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import db

if TYPE_CHECKING:
    from app.cases.models import Case


def _enum(kind: type[enum.Enum], length: int = 10) -> Enum:
    return Enum(
        kind, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


class DeliveryState(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # every attempt failed; staff may send it again
    IN_APP = "in_app"  # addressed to a role: shown in the app, nothing to send


class Notification(db.Model):
    """One message to one person, written in the same transaction as the case change.

    The texts come from the process package's service card, rendered in both languages
    when the event happens; a delivery worker sends pending rows and records the result.
    """

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Stable across retries of the step that wrote it: a retried step writes nothing new.
    #: The gateways receive it too (with the channel), so a resend never reaches anyone twice.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: The role the process addressed (APPLICANT, URB_HEAD…), kept for staff-wide messages.
    recipient_role: Mapped[str] = mapped_column(String(40))
    event_key: Mapped[str] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(20), default="sms")
    text_fa: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    state: Mapped[DeliveryState] = mapped_column(
        _enum(DeliveryState), default=DeliveryState.PENDING, index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Delivery attempts since the row was written (or last sent again by staff).
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Backoff: no attempt before this moment (None: at once).
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: A worker holds the row until then; a worker that died lets it go when the lease ends.
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str] = mapped_column(Text, default="", server_default="")

    case: Mapped[Case | None] = relationship(lazy="joined")
    delivery_attempts: Mapped[list[NotificationAttempt]] = relationship(
        back_populates="notification",
        cascade="all, delete-orphan",
        order_by="NotificationAttempt.id",
    )


class AttemptOutcome(enum.StrEnum):
    STARTED = "started"  # handed to the gateway; no result recorded (yet, or ever: a crash)
    SENT = "sent"
    FAILED = "failed"


class NotificationAttempt(db.Model):
    """One try at handing a notification to one channel's gateway."""

    __tablename__ = "notification_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(10))
    #: Where it went: a mobile number or an e-mail address.
    address: Mapped[str] = mapped_column(String(254))
    outcome: Mapped[AttemptOutcome] = mapped_column(_enum(AttemptOutcome))
    provider_message_id: Mapped[str | None] = mapped_column(String(120))
    error: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    notification: Mapped[Notification] = relationship(back_populates="delivery_attempts")


class DevReceipt(db.Model):
    """What the development gateway received, once per idempotency key.

    It plays the provider's side of the protocol: a message handed over again under a key
    it already holds is counted (`times_received`) but not delivered a second time.
    """

    __tablename__ = "dev_gateway_receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(240), unique=True)
    channel: Mapped[str] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(60))
    times_received: Mapped[int] = mapped_column(Integer, default=1)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
