"""Property register use cases: find or register a parcel, link cases, compute its facts.

Nothing here commits: connectors run inside the engine's step, pages and the CLI commit at
their edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError

from app.cases.models import Case
from app.certificates.models import DocumentStatus, IssuedDocument
from app.db import db
from app.fees.models import Invoice, InvoiceStatus
from app.persian.identifiers import check_postal_code
from app.persian.jalali import tehran_today
from app.persian.property import RegistryPlate, check_renewal_code
from app.persian.text import normalize_identifier
from app.properties.models import ZONING_FIELDS, Property, PropertyCase, Violation, ViolationStatus

#: The document types that make a property's facts (contract of issue #7).
PERMIT = "building_permit"
COMPLETION = "completion_certificate"
NO_VIOLATION = "no_violation_certificate"


def plate_of(prop: Property) -> RegistryPlate:
    """The property's plate as a RegistryPlate (for `plate_in_words`)."""
    return RegistryPlate.parse(prop.registry_section, prop.main_plate, prop.sub_plate or None)


def find_by_key(key: str) -> Property | None:
    """The property with this plate key ("section/main/sub")."""
    return db.session.scalar(select(Property).where(Property.key == key))


def find_by_renewal_code(code: str) -> Property | None:
    """The property with this (canonical) renewal code."""
    return db.session.scalar(select(Property).where(Property.renewal_code == code))


@lru_cache(maxsize=1)
def _property_of_case_statement() -> Select[tuple[Property]]:
    # Built once: every case page asks.
    return (
        select(Property)
        .join(PropertyCase, PropertyCase.property_id == Property.id)
        .where(PropertyCase.case_id == bindparam("case_id", type_=Integer))
        .order_by(PropertyCase.linked_at.desc(), PropertyCase.id.desc())
        .limit(1)
    )


def property_of_case(case_id: int) -> Property | None:
    """The property a case is about (the latest link), or None when it names none."""
    return db.session.scalar(_property_of_case_statement(), {"case_id": case_id})


def get_or_create(plate: RegistryPlate) -> Property:
    """The property with this plate, registered now if the register does not hold it yet."""
    prop = find_by_key(plate.key)
    if prop is not None:
        return prop
    prop = Property(
        registry_section=plate.section,
        main_plate=plate.main_text,
        sub_plate=plate.sub_text,
        key=plate.key,
    )
    try:
        with db.session.begin_nested():
            db.session.add(prop)
    except IntegrityError:
        # Another case registered the same parcel a moment ago: use theirs.
        existing = find_by_key(plate.key)
        if existing is None:
            raise
        return existing
    return prop


def fill_blanks(
    prop: Property,
    *,
    renewal_code: str | None = None,
    postal_code: str | None = None,
    address: str | None = None,
    area: float | Decimal | None = None,
    land_use: str | None = None,
    district_id: int | None = None,
) -> None:
    """Complete what the record lacks; what it already holds is never overwritten.

    A renewal code another property already holds is left off: the plate decides the parcel.
    """
    if renewal_code and not prop.renewal_code:
        holder = find_by_renewal_code(renewal_code)
        if holder is None or holder.id == prop.id:
            prop.renewal_code = renewal_code
    if postal_code and not prop.postal_code:
        prop.postal_code = postal_code
    if address and not prop.address:
        prop.address = address
    if area is not None and prop.area_m2 is None:
        prop.area_m2 = Decimal(str(area)).quantize(Decimal("0.01"))
    if land_use and not prop.land_use:
        prop.land_use = land_use
    if district_id is not None and prop.district_id is None:
        prop.district_id = district_id


def link_case(prop: Property, case: Case, now: datetime) -> PropertyCase:
    """Link the case to the property (the same link again on a second call).

    A case is about one parcel: when a corrected application names another plate, the case
    moves to that property instead of staying on the one it named first.
    """
    links = list(db.session.scalars(select(PropertyCase).where(PropertyCase.case_id == case.id)))
    current = next((link for link in links if link.property_id == prop.id), None)
    for link in links:
        if link is not current:
            db.session.delete(link)
    if current is None:
        current = PropertyCase(property_id=prop.id, case_id=case.id, linked_at=now)
        db.session.add(current)
    db.session.flush()
    return current


# --- facts ------------------------------------------------------------------------------------


def _case_ids(property_id: int) -> Any:
    return select(PropertyCase.case_id).where(PropertyCase.property_id == property_id)


def valid_documents(property_id: int, as_of: date) -> list[IssuedDocument]:
    """The property's documents valid on `as_of`: issued, not revoked or superseded, not expired."""
    statement = (
        select(IssuedDocument)
        .where(
            IssuedDocument.case_id.in_(_case_ids(property_id)),
            IssuedDocument.status == DocumentStatus.VALID,
            or_(IssuedDocument.valid_until.is_(None), IssuedDocument.valid_until >= as_of),
        )
        .order_by(IssuedDocument.issued_at, IssuedDocument.id)
    )
    return [d for d in db.session.scalars(statement) if tehran_today(d.issued_at) <= as_of]


def open_violation_count(property_id: int) -> int:
    """How many violations on the property the commission has not settled."""
    statement = select(func.count(Violation.id)).where(
        Violation.property_id == property_id, Violation.status == ViolationStatus.OPEN
    )
    return int(db.session.scalar(statement) or 0)


def unpaid_fees(property_id: int) -> int:
    """Rials owed: the open invoices of the property's cases."""
    statement = select(func.coalesce(func.sum(Invoice.total_rials), 0)).where(
        Invoice.case_id.in_(_case_ids(property_id)), Invoice.status == InvoiceStatus.OPEN
    )
    return int(db.session.scalar(statement) or 0)


def zoning_of(prop: Property) -> dict[str, Any]:
    """The parcel's detailed-plan data in the contract's types ({} when not on record)."""
    if not prop.zoning:
        return {}
    result: dict[str, Any] = {}
    for name, kind in ZONING_FIELDS.items():
        value = prop.zoning.get(name)
        if value is not None and value != "":
            result[name] = kind(value)
    return result


@dataclass(frozen=True)
class Facts:
    """What an answer about a property is drawn from."""

    zoning: dict[str, Any] = field(default_factory=dict)
    documents: list[IssuedDocument] = field(default_factory=list)
    open_violations: int = 0
    unpaid_fees: int = 0

    def has(self, document_type: str) -> bool:
        """Whether a valid document of this type is on record."""
        return any(d.document_type == document_type for d in self.documents)


def facts(prop: Property, as_of: date) -> Facts:
    """The property's facts on a day: zoning, valid documents, open violations, fees owed."""
    return Facts(
        zoning=zoning_of(prop),
        documents=valid_documents(prop.id, as_of),
        open_violations=open_violation_count(prop.id),
        unpaid_fees=unpaid_fees(prop.id),
    )


# --- search -----------------------------------------------------------------------------------


def search_condition(q: str) -> ColumnElement[bool] | None:
    """Match a plate key ("3/125/4217", or "125/4217" without the section), a renewal code or
    a postal code, typed in any digits; None when the text is none of these."""
    raw = normalize_identifier(q, keep_hyphens=True).replace("\\", "/").strip("/")
    if not raw:
        return None
    options: list[ColumnElement[bool]] = []
    parts = raw.split("/")
    if len(parts) in (2, 3) and all(parts):
        canonical = "/".join(
            "-".join(str(int(n)) for n in part.split("-")) if _numbers(part) else part
            for part in parts
        )
        options.append(Property.key == canonical)
        if len(parts) == 2:
            main, sub = canonical.split("/")
            options.append((Property.main_plate == main) & (Property.sub_plate == sub))
    elif _numbers(raw) and "-" not in raw:
        options.append(Property.main_plate == str(int(raw)))
    if (renewal := check_renewal_code(raw)).ok:
        options.append(Property.renewal_code == renewal.value)
    if (postal := check_postal_code(raw)).ok:
        options.append(Property.postal_code == postal.value)
    return or_(*options) if options else None


def _numbers(text: str) -> bool:
    return all(p.isdigit() for p in text.split("-"))
