"""Payment attempts, and the built-in gateway simulator's own transactions."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import db
from app.fees.models import Invoice


def _enum(kind: type[enum.Enum]) -> Enum:
    return Enum(kind, native_enum=False, length=12, values_callable=lambda e: [m.value for m in e])


class PaymentState(enum.StrEnum):
    PENDING = "pending"  # sent to the gateway; no answer yet
    PAID = "paid"  # verified and counted against the invoice
    CANCELLED = "cancelled"
    FAILED = "failed"  # declined, or not verified in time
    REVERSED = "reversed"  # verified but refunded (wrong amount, invoice already paid)


class Payment(db.Model):
    """One attempt to pay an invoice: exactly one row per gateway token, whatever happens next."""

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("gateway", "token"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Our order ID at the gateway and the attempt's public number (16 random digits).
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    payer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    gateway: Mapped[str] = mapped_column(String(80))
    token: Mapped[str] = mapped_column(String(100))
    amount_rials: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[PaymentState] = mapped_column(
        _enum(PaymentState), default=PaymentState.PENDING, index=True
    )
    #: Why it ended as it did (cancelled_by_payer, declined, amount_mismatch, already_paid…).
    reason: Mapped[str] = mapped_column(String(40), default="")
    #: The gateway's reference number (RRN) and the masked card, from verification.
    gateway_reference: Mapped[str | None] = mapped_column(String(64))
    card_mask: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: When the waiting case received payment_confirmed (reconciliation retries until set).
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    receipt_document_id: Mapped[int | None] = mapped_column(
        ForeignKey("issued_documents.id", ondelete="SET NULL")
    )

    invoice: Mapped[Invoice] = relationship()


class SimulatorState(enum.StrEnum):
    CREATED = "created"
    PAID = "paid"
    CANCELLED = "cancelled"
    FAILED = "failed"
    VERIFIED = "verified"
    SETTLED = "settled"
    REVERSED = "reversed"
    EXPIRED = "expired"


class SimulatedTransaction(db.Model):
    """A payment session at the built-in gateway simulator (its side, not ours)."""

    __tablename__ = "ipg_simulator_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    terminal_id: Mapped[str] = mapped_column(String(40))
    order_id: Mapped[str] = mapped_column(String(40))
    amount: Mapped[int] = mapped_column(BigInteger)
    callback_url: Mapped[str] = mapped_column(String(500))
    state: Mapped[SimulatorState] = mapped_column(_enum(SimulatorState))
    ref_num: Mapped[str | None] = mapped_column(String(20))
    card_mask: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
