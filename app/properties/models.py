"""The property register: a parcel, the cases filed about it, and the violations found on it.

Permits and certificates are not copied here: they are the issued documents of the
property's cases (`app.certificates`), and unpaid fees are the open invoices of those cases.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Enum,
    ForeignKey,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import District
from app.db import db

#: The detailed-plan fields a parcel's zoning record may hold, with their types.
ZONING_FIELDS: dict[str, type] = {
    "zone": str,
    "land_use": str,
    "max_floors": int,
    "max_density_pct": int,
    "max_coverage_pct": int,
    "setback_m": float,
    "street_width_m": float,
}

#: The land uses the application forms offer (sample_permit's `usage` enum and more).
LAND_USES = ("residential", "commercial", "administrative", "industrial", "mixed", "green")


class Property(db.Model):
    """A parcel, identified by its registry plate; the record inquiry answers are drawn from."""

    __tablename__ = "properties"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: بخش ثبتی, اصلی and فرعی as the deed has them ("211-253" when several numbers).
    registry_section: Mapped[int]
    main_plate: Mapped[str] = mapped_column(String(60))
    sub_plate: Mapped[str] = mapped_column(String(60), default="", server_default="")
    #: `RegistryPlate.key`: "section/main/sub", the same string cases store in `registry_plate`.
    key: Mapped[str] = mapped_column(String(60), unique=True)
    #: کد نوسازی in canonical form; one parcel has one.
    renewal_code: Mapped[str | None] = mapped_column(String(40), unique=True)
    address: Mapped[str] = mapped_column(Text, default="", server_default="")
    postal_code: Mapped[str | None] = mapped_column(String(10), index=True)
    area_m2: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    land_use: Mapped[str] = mapped_column(String(20), default="", server_default="")
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"), index=True)
    #: The detailed plan's data for the parcel (see ZONING_FIELDS), None when not on record.
    zoning: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    district: Mapped[District | None] = relationship()


class PropertyCase(db.Model):
    """A case filed about a property (a permit, a certificate, an inquiry…)."""

    __tablename__ = "property_cases"
    __table_args__ = (UniqueConstraint("property_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    property_id: Mapped[int] = mapped_column(
        ForeignKey("properties.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    linked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ViolationStatus(enum.StrEnum):
    OPEN = "open"
    SETTLED = "settled"  # the Article-100 commission's ruling is final (and any fine paid)


VIOLATION_KINDS = ("extra_floor_area", "setback", "use_change", "no_permit", "other")
RULINGS = ("fine", "demolition", "restoration", "dismissed")


class Violation(db.Model):
    """A building violation an inspection found on a property, until the commission settles it."""

    __tablename__ = "property_violations"

    id: Mapped[int] = mapped_column(primary_key=True)
    property_id: Mapped[int] = mapped_column(
        ForeignKey("properties.id", ondelete="CASCADE"), index=True
    )
    #: The case whose inspection found it.
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    #: Stable across retries of the recording step: a retry finds this row.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(30), default="other")
    description: Mapped[str] = mapped_column(Text, default="")
    area_m2: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    found_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[ViolationStatus] = mapped_column(
        Enum(
            ViolationStatus,
            native_enum=False,
            length=10,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=ViolationStatus.OPEN,
        index=True,
    )
    ruling: Mapped[str | None] = mapped_column(String(20))
    fine_rials: Mapped[int | None] = mapped_column(BigInteger)
    #: The commission's ruling number.
    reference: Mapped[str] = mapped_column(String(60), default="", server_default="")
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The idempotency key of the step that settled it, so a retried step settles nothing twice.
    settled_key: Mapped[str | None] = mapped_column(String(200), index=True)
