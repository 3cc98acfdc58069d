"""Connectors the procedures call to use the property register (contract of issue #7).

Like the other connectors they work for the case the engine runs (`current_case`), add rows
to the step's session and never commit, and are idempotent by the engine's idempotency key.
Bad input raises ConnectorError: the engine records an incident naming the service task.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from app.cases.models import Case
from app.db import db
from app.persian.identifiers import check_postal_code
from app.persian.messages import InvalidValue, message
from app.persian.property import RegistryPlate, check_renewal_code
from app.persian.text import normalize_text, to_ascii_digits
from app.properties import services
from app.properties.models import (
    LAND_USES,
    RULINGS,
    VIOLATION_KINDS,
    Property,
    Violation,
    ViolationStatus,
)
from engine import ConnectorContext, ConnectorError, ConnectorRegistry


def register(registry: ConnectorRegistry) -> None:
    """Register the property connectors with the engine's registry."""
    registry.register(
        "register_property",
        register_property,
        inputs={
            "plate": "dict",
            "renewal_code": "str",
            "postal_code": "str",
            "address": "str",
            "area": "float",
            "land_use": "str",
        },
        outputs={
            "property_id": "int",
            "zoning_on_record": "bool",
            "has_permit": "bool",
            "has_completion": "bool",
            "open_violations": "int",
        },
        optional=["renewal_code", "postal_code", "address", "area", "land_use"],
        description="Find or register the case's property by its plate and link the case to it.",
    )
    registry.register(
        "property_record",
        property_record,
        inputs={"as_of": "str"},
        outputs={
            "found": "bool",
            "zoning": "dict",
            "has_permit": "bool",
            "has_completion": "bool",
            "has_no_violation": "bool",
            "open_violations": "int",
            "unpaid_fees": "int",
            "documents": "list",
        },
        optional=["as_of"],
        description="The facts on record for the case's property: zoning, documents, violations, fees.",
    )
    registry.register(
        "record_violation",
        record_violation,
        inputs={"description": "str", "area": "float", "kind": "str"},
        outputs={"violation_id": "int"},
        optional=["area", "kind"],
        description="Record a violation the inspection found on the case's property.",
    )
    registry.register(
        "settle_violation",
        settle_violation,
        inputs={"ruling": "str", "fine": "int", "reference": "str"},
        outputs={"settled": "int"},
        optional=["fine", "reference"],
        description="Close the case's open violations with the Article-100 commission's final ruling.",
    )


def _case() -> Case:
    from app.cases.workflow import current_case

    case = current_case.get()
    if case is None:
        raise ConnectorError("connector called outside a case")
    return case


def _key(context: ConnectorContext, case: Case) -> str:
    return f"case:{case.id}:{context.idempotency_key}"


def _now() -> datetime:
    return datetime.now(UTC)


def _plate(answers: Mapping[str, Any]) -> RegistryPlate:
    if not answers.get("section") or not answers.get("main"):
        raise ConnectorError("invalid registry plate: the section and main plate are required")
    try:
        return RegistryPlate.parse(answers["section"], answers["main"], answers.get("sub") or None)
    except InvalidValue as error:
        raise ConnectorError(f"invalid registry plate: {message(error.key, 'en')}") from None


def _renewal_code(value: str) -> str | None:
    if not value.strip():
        return None
    check = check_renewal_code(value)
    if not check.ok:
        raise ConnectorError(f"invalid renewal code {value!r}: {message(check.error or '', 'en')}")
    return check.value


def _postal_code(value: str) -> str | None:
    if not value.strip():
        return None
    check = check_postal_code(value)
    if not check.ok:
        raise ConnectorError(f"invalid postal code {value!r}: {message(check.error or '', 'en')}")
    return check.value


def _linked_property(case: Case) -> Property:
    prop = services.property_of_case(case.id)
    if prop is None:
        raise ConnectorError(
            "the case is not linked to a property: call register_property before this step"
        )
    return prop


def register_property(inputs: Mapping[str, Any], context: ConnectorContext) -> Mapping[str, Any]:
    """Find or create the property by its plate, fill its blanks, link the case (idempotent)."""
    case = _case()
    plate = _plate(inputs["plate"])
    renewal = _renewal_code(inputs.get("renewal_code", ""))
    postal = _postal_code(inputs.get("postal_code", ""))
    land_use = inputs.get("land_use", "")
    if land_use and land_use not in LAND_USES:
        raise ConnectorError(f"unknown land_use {land_use!r}; use one of {list(LAND_USES)}")
    area = inputs.get("area")
    if area is not None and area <= 0:
        raise ConnectorError(f"area must be more than 0 m², not {area}")
    prop = services.get_or_create(plate)
    services.fill_blanks(
        prop,
        renewal_code=renewal,
        postal_code=postal,
        address=normalize_text(inputs.get("address", ""), multiline=True),
        area=area,
        land_use=land_use,
        district_id=case.district_id,
    )
    services.link_case(prop, case, _now())
    case.registry_plate = plate.key
    if renewal:
        case.renewal_code = renewal
    facts = services.facts(prop, services.tehran_today())
    return {
        "property_id": prop.id,
        "zoning_on_record": bool(facts.zoning),
        "has_permit": facts.has(services.PERMIT),
        "has_completion": facts.has(services.COMPLETION),
        "open_violations": facts.open_violations,
    }


def _as_of(value: str | None) -> date:
    if not value:
        return services.tehran_today()
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ConnectorError(f"as_of must be an ISO date like 2026-11-29, not {value!r}") from None


def property_record(inputs: Mapping[str, Any], context: ConnectorContext) -> Mapping[str, Any]:
    """The facts an answer about the case's property is drawn from (found=False without one)."""
    case = _case()
    as_of = _as_of(inputs.get("as_of"))
    prop = services.property_of_case(case.id)
    if prop is None:
        return {
            "found": False,
            "zoning": {},
            "has_permit": False,
            "has_completion": False,
            "has_no_violation": False,
            "open_violations": 0,
            "unpaid_fees": 0,
            "documents": [],
        }
    facts = services.facts(prop, as_of)
    return {
        "found": True,
        "zoning": facts.zoning,
        "has_permit": facts.has(services.PERMIT),
        "has_completion": facts.has(services.COMPLETION),
        "has_no_violation": facts.has(services.NO_VIOLATION),
        "open_violations": facts.open_violations,
        "unpaid_fees": facts.unpaid_fees,
        "documents": [
            {
                "type": d.document_type,
                "number": d.document_number,
                "issued_on": services.tehran_today(d.issued_at).isoformat(),
            }
            for d in facts.documents
        ],
    }


def record_violation(inputs: Mapping[str, Any], context: ConnectorContext) -> Mapping[str, Any]:
    """Record the violation the case's inspection found (the same row on a retried step)."""
    case = _case()
    key = _key(context, case)
    existing = db.session.scalar(select(Violation.id).where(Violation.idempotency_key == key))
    if existing is not None:
        return {"violation_id": existing}
    kind = inputs.get("kind") or "other"
    if kind not in VIOLATION_KINDS:
        raise ConnectorError(f"unknown violation kind {kind!r}; use one of {list(VIOLATION_KINDS)}")
    area = inputs.get("area")
    if area is not None and area < 0:
        raise ConnectorError(f"area must not be negative, not {area}")
    prop = _linked_property(case)
    violation = Violation(
        property_id=prop.id,
        case_id=case.id,
        idempotency_key=key,
        kind=kind,
        description=normalize_text(inputs["description"], multiline=True),
        area_m2=Decimal(str(area)).quantize(Decimal("0.01")) if area is not None else None,
        found_at=_now(),
        status=ViolationStatus.OPEN,
    )
    db.session.add(violation)
    db.session.flush()
    return {"violation_id": violation.id}


def settle_violation(inputs: Mapping[str, Any], context: ConnectorContext) -> Mapping[str, Any]:
    """Close the case's open violations with the commission's ruling (counted once on retry)."""
    case = _case()
    key = _key(context, case)
    ruling = inputs["ruling"]
    if ruling not in RULINGS:
        raise ConnectorError(f"unknown ruling {ruling!r}; use one of {list(RULINGS)}")
    fine = inputs.get("fine")
    if fine is not None and fine < 0:
        raise ConnectorError(f"fine must not be negative, not {fine}")
    done = list(db.session.scalars(select(Violation).where(Violation.settled_key == key)))
    if done:
        return {"settled": len(done)}
    statement = select(Violation).where(
        Violation.case_id == case.id, Violation.status == ViolationStatus.OPEN
    )
    now = _now()
    violations = list(db.session.scalars(statement))
    for violation in violations:
        violation.status = ViolationStatus.SETTLED
        violation.ruling = ruling
        violation.fine_rials = fine
        violation.reference = to_ascii_digits(normalize_text(inputs.get("reference", "")))[:60]
        violation.settled_at = now
        violation.settled_key = key
    db.session.flush()
    return {"settled": len(violations)}
