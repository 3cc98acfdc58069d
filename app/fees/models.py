"""Invoices the processes raise, with their line items in integer rials."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import db


class InvoiceStatus(enum.StrEnum):
    OPEN = "open"
    PAID = "paid"
    CANCELLED = "cancelled"


class Invoice(db.Model):
    """A bill for a case's fees, payable by its bill ID and payment ID (type 6, municipal fees)."""

    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: شناسه قبض: file ID + company code + bill type 6 + check digit; also the invoice's public number.
    bill_id: Mapped[str] = mapped_column(String(13), unique=True)
    #: شناسه پرداخت: the amount in thousands of rials + year + period + two check digits.
    payment_id: Mapped[str] = mapped_column(String(13))
    #: Stable across retries of the process step that raised it: a retry finds this invoice.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    applicant_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: The Jalali year of the tariff book the amounts came from.
    tariff_year: Mapped[int]
    total_rials: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[InvoiceStatus] = mapped_column(
        Enum(
            InvoiceStatus,
            native_enum=False,
            length=10,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=InvoiceStatus.OPEN,
        index=True,
    )
    #: The one payment that settled the invoice; unique so a second payment can never also count.
    paid_payment_id: Mapped[int | None] = mapped_column(unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="InvoiceLine.position"
    )


class InvoiceLine(db.Model):
    """One line item (permit fee, renewal levy…) with its title frozen at issue time."""

    __tablename__ = "invoice_lines"
    __table_args__ = (UniqueConstraint("invoice_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    #: The item's key in the process (permit_fee, renewal_levy, …).
    code: Mapped[str] = mapped_column(String(60))
    title_fa: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    amount_rials: Mapped[int] = mapped_column(BigInteger)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")

    def title(self, locale: str) -> str:
        """The title in the reader's language."""
        return self.title_fa if locale == "fa" else self.title_en
