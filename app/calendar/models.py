"""The working calendar as stored: one calendar, weekday rules by date range, special days."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, DateTime, Enum, ForeignKey, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import db


class DayKind(enum.StrEnum):
    HOLIDAY = "holiday"  # an official public holiday
    CLOSURE = "closure"  # an ad-hoc closure (heat, mourning, energy saving)
    WORKING = "working"  # an ad-hoc working day (a Thursday declared open)


class MunicipalCalendar(db.Model):
    """The working calendar of the municipality this deployment serves."""

    __tablename__ = "work_calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name_fa: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    #: Random, replaced on every edit: processes compare it to rebuild their timer calendar.
    revision: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    rules: Mapped[list[WeekRule]] = relationship(
        cascade="all, delete-orphan", order_by="WeekRule.starts_on"
    )


class WeekRule(db.Model):
    """Which weekdays are closed from one date to another (Friday always; Thursday by decree)."""

    __tablename__ = "calendar_week_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(
        ForeignKey("work_calendars.id", ondelete="CASCADE"), index=True
    )
    starts_on: Mapped[date] = mapped_column(Date)
    #: None: until a later rule starts.
    ends_on: Mapped[date | None] = mapped_column(Date)
    #: Python weekday numbers (Monday 0 … Sunday 6), comma-separated: "3,4" = Thursday, Friday.
    closed_weekdays: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(200), default="")

    @property
    def closed(self) -> frozenset[int]:
        """The closed weekdays as numbers."""
        return frozenset(int(p) for p in self.closed_weekdays.split(",") if p.strip())


class CalendarDay(db.Model):
    """A date that differs from its weekday rule: a holiday, a closure or an extra working day."""

    __tablename__ = "calendar_days"
    __table_args__ = (UniqueConstraint("calendar_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(
        ForeignKey("work_calendars.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[DayKind] = mapped_column(
        Enum(DayKind, native_enum=False, length=10, values_callable=lambda e: [m.value for m in e])
    )
    name_fa: Mapped[str] = mapped_column(String(200), default="")
    name_en: Mapped[str] = mapped_column(String(200), default="")
    #: Lunar holidays are computed ahead and may move a day; confirm them every year.
    estimated: Mapped[bool] = mapped_column(default=False)
    #: Where it came from: "holidays" (the package) or "admin".
    source: Mapped[str] = mapped_column(String(20), default="admin")
