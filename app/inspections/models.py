"""Inspection slots: an inspector's time in a district, booked for one case at a time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import District, User
from app.db import db


class InspectionSlot(db.Model):
    """A visit window an inspector offers in a district; free until a case books it."""

    __tablename__ = "inspection_slots"
    __table_args__ = (
        UniqueConstraint("inspector_id", "starts_at"),
        Index("ix_inspection_slots_free", "district_id", "case_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"))
    inspector_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: The case booked into this slot; one slot holds one visit.
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    booked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: When the applicant confirmed the time (picking it themselves counts as confirming).
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: When the reminder SMS was queued: the sweep sends each reminder once.
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    district: Mapped[District] = relationship(lazy="joined")
    inspector: Mapped[User] = relationship(foreign_keys=[inspector_id], lazy="joined")
