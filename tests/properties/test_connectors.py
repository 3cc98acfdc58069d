"""The property connectors: register and link, the record's facts, violations and rulings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from app.cases.models import Case
from app.certificates import services as certificates
from app.db import db
from app.fees.models import InvoiceStatus
from app.properties.models import Property, PropertyCase, Violation, ViolationStatus
from app.properties.services import property_of_case
from engine import ConnectorError

from .conftest import PLATE, PLATE_KEY, call, invoice, issue

FULL = {
    "plate": PLATE,
    "renewal_code": "۹-۲-۱۵-۳۷-۱-۰-۰",
    "postal_code": "5153715311",
    "address": "تبریز، خیابان امام، کوچه ۱۲",
    "area": 240.5,
    "land_use": "residential",
}


def _count(model: type) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def test_register_property_creates_links_and_mirrors_the_keys_on_the_case(
    new_case: Callable[..., Case],
) -> None:
    case = new_case()
    result = call("register_property", FULL, case)

    prop = db.session.get(Property, result["property_id"])
    assert prop is not None
    assert (prop.key, prop.registry_section, prop.main_plate, prop.sub_plate) == (
        PLATE_KEY,
        3,
        "125",
        "4217",
    )
    assert prop.renewal_code == "9-2-15-37-1-0-0"
    assert (prop.postal_code, prop.land_use, prop.area_m2) == (
        "5153715311",
        "residential",
        Decimal("240.50"),
    )
    assert prop.district_id == case.district_id
    assert (case.registry_plate, case.renewal_code) == (PLATE_KEY, "9-2-15-37-1-0-0")
    assert property_of_case(case.id) == prop
    assert result == {
        "property_id": prop.id,
        "zoning_on_record": False,
        "has_permit": False,
        "has_completion": False,
        "open_violations": 0,
    }


def test_register_property_is_idempotent_and_never_overwrites_the_record(
    new_case: Callable[..., Case],
) -> None:
    first, second = new_case(), new_case()
    one = call("register_property", FULL, first)
    again = call("register_property", FULL, first)  # the step retried
    other = call(
        "register_property",
        {"plate": {"section": "۳", "main": "۱۲۵", "sub": "۴۲۱۷"}, "address": "نشانی دیگر"},
        second,
    )

    assert one == again
    assert other["property_id"] == one["property_id"]
    assert _count(Property) == 1
    assert _count(PropertyCase) == 2
    prop = db.session.get(Property, one["property_id"])
    assert prop is not None
    assert prop.address == FULL["address"]


def test_register_property_fills_blanks_the_record_lacks(new_case: Callable[..., Case]) -> None:
    first, second = new_case(), new_case()
    call("register_property", {"plate": PLATE}, first)
    result = call("register_property", FULL, second)
    prop = db.session.get(Property, result["property_id"])
    assert prop is not None
    assert (prop.address, prop.postal_code) == (FULL["address"], "5153715311")


def test_a_renewal_code_held_by_another_parcel_is_not_copied(
    new_case: Callable[..., Case],
) -> None:
    first, second = new_case(), new_case()
    call("register_property", FULL, first)
    result = call(
        "register_property",
        {"plate": {"section": "3", "main": "88", "sub": "1902"}, "renewal_code": "9-2-15-37-1-0-0"},
        second,
    )
    prop = db.session.get(Property, result["property_id"])
    assert prop is not None
    assert prop.key == "3/88/1902"
    assert prop.renewal_code is None


@pytest.mark.parametrize(
    ("inputs", "words"),
    [
        ({"plate": {"section": "0", "main": "125"}}, "invalid registry plate"),
        ({"plate": {"section": "3", "main": "abc"}}, "invalid registry plate"),
        ({"plate": {"main": "125"}}, "invalid registry plate"),
        ({"plate": PLATE, "renewal_code": "9-2-15"}, "invalid renewal code"),
        ({"plate": PLATE, "postal_code": "12"}, "invalid postal code"),
        ({"plate": PLATE, "land_use": "farm"}, "unknown land_use"),
        ({"plate": PLATE, "area": 0.0}, "area must be more than 0"),
    ],
)
def test_register_property_refuses_bad_keys(
    new_case: Callable[..., Case], inputs: dict[str, Any], words: str
) -> None:
    case = new_case()
    with pytest.raises(ConnectorError, match=words):
        call("register_property", inputs, case)
    assert _count(Property) == 0


def test_property_record_without_a_linked_property(new_case: Callable[..., Case]) -> None:
    assert call("property_record", {}, new_case()) == {
        "found": False,
        "zoning": {},
        "has_permit": False,
        "has_completion": False,
        "has_no_violation": False,
        "open_violations": 0,
        "unpaid_fees": 0,
        "documents": [],
    }


def test_property_record_draws_facts_from_documents_invoices_and_violations(
    new_case: Callable[..., Case],
) -> None:
    permit_case, certificate_case, inquiry = new_case(), new_case(), new_case()
    for case in (permit_case, certificate_case, inquiry):
        result = call("register_property", FULL, case)
    prop = db.session.get(Property, result["property_id"])
    assert prop is not None
    prop.zoning = {
        "zone": "R-2",
        "land_use": "residential",
        "max_floors": "4",
        "max_density_pct": 180,
        "max_coverage_pct": 60,
        "setback_m": 3,
        "street_width_m": "12.5",
    }
    permit = issue(permit_case, "building_permit")
    issue(permit_case, "sample_permit_certificate")
    revoked = issue(certificate_case, "completion_certificate")
    certificates.revoke_document(revoked, reason="خطا", now=datetime.now(UTC))
    old = issue(certificate_case, "no_violation_certificate")
    new = issue(certificate_case, "no_violation_certificate")
    certificates.supersede_document(old, new, reason="تمدید", now=datetime.now(UTC))
    invoice(permit_case, 12_000_000)
    invoice(certificate_case, 3_000_000)
    invoice(certificate_case, 5_000_000, InvoiceStatus.PAID)
    invoice(certificate_case, 7_000_000, InvoiceStatus.CANCELLED)
    call("record_violation", {"description": "طبقه اضافه", "kind": "extra_floor_area"}, permit_case)

    record = call("property_record", {}, inquiry)

    assert record["found"] is True
    assert record["zoning"] == {
        "zone": "R-2",
        "land_use": "residential",
        "max_floors": 4,
        "max_density_pct": 180,
        "max_coverage_pct": 60,
        "setback_m": 3.0,
        "street_width_m": 12.5,
    }
    assert (record["has_permit"], record["has_completion"], record["has_no_violation"]) == (
        True,
        False,  # the only completion certificate was revoked
        True,  # the superseded one does not count, its successor does
    )
    assert record["open_violations"] == 1
    assert record["unpaid_fees"] == 15_000_000
    numbers = {(d["type"], d["number"]) for d in record["documents"]}
    assert ("building_permit", permit.document_number) in numbers
    assert ("completion_certificate", revoked.document_number) not in numbers
    assert ("no_violation_certificate", old.document_number) not in numbers
    assert ("no_violation_certificate", new.document_number) in numbers
    assert len(record["documents"]) == 3
    # Issued just now, dated by Tehran's calendar day (from 20:30 UTC that is already tomorrow).
    today_in_tehran = datetime.now(ZoneInfo("Asia/Tehran")).date().isoformat()
    assert all(d["issued_on"] == today_in_tehran for d in record["documents"])
    registered = call("register_property", FULL, inquiry, key="step-2")
    assert (registered["zoning_on_record"], registered["has_permit"]) == (True, True)
    assert registered["open_violations"] == 1


def test_property_record_leaves_out_documents_past_their_validity(
    new_case: Callable[..., Case],
) -> None:
    answered, later = new_case(), new_case()
    call("register_property", {"plate": PLATE}, answered)
    call("register_property", {"plate": PLATE}, later)
    with freeze_time("2026-11-29 08:00:00"):
        issue(answered, "no_violation_certificate", valid_days=30)
    on_time = call("property_record", {"as_of": "2026-12-29"}, later)
    too_late = call("property_record", {"as_of": "2026-12-30"}, later)
    before = call("property_record", {"as_of": "2026-11-28"}, later)
    assert on_time["has_no_violation"] is True
    assert too_late["has_no_violation"] is False
    assert before["has_no_violation"] is False
    with pytest.raises(ConnectorError, match="ISO date"):
        call("property_record", {"as_of": "1405/09/08"}, later)


def test_record_violation_is_idempotent_and_needs_a_property(
    new_case: Callable[..., Case],
) -> None:
    case = new_case()
    with pytest.raises(ConnectorError, match="register_property"):
        call("record_violation", {"description": "x"}, case)
    call("register_property", {"plate": PLATE}, case)
    inputs = {"description": "تجاوز به عقب‌نشینی", "area": 12.5, "kind": "setback"}
    first = call("record_violation", inputs, case)
    again = call("record_violation", inputs, case)
    other = call("record_violation", {"description": "بدون پروانه"}, case, key="step-2")
    assert first == again
    assert other["violation_id"] != first["violation_id"]
    violation = db.session.get(Violation, first["violation_id"])
    assert violation is not None
    assert (violation.kind, violation.area_m2, violation.status) == (
        "setback",
        Decimal("12.50"),
        ViolationStatus.OPEN,
    )
    assert violation.case_id == case.id
    with pytest.raises(ConnectorError, match="unknown violation kind"):
        call("record_violation", {"description": "x", "kind": "noise"}, case, key="step-3")


def test_settle_violation_closes_the_cases_open_violations_once(
    new_case: Callable[..., Case],
) -> None:
    case, neighbour = new_case(), new_case()
    call("register_property", {"plate": PLATE}, case)
    call("register_property", {"plate": PLATE}, neighbour)
    call("record_violation", {"description": "یک"}, case, key="v1")
    call("record_violation", {"description": "دو"}, case, key="v2")
    call("record_violation", {"description": "دیگری"}, neighbour, key="v1")

    inputs = {"ruling": "fine", "fine": 450_000_000, "reference": "۱۴۰۵/۱۲۳"}
    assert call("settle_violation", inputs, case, key="ruling") == {"settled": 2}
    assert call("settle_violation", inputs, case, key="ruling") == {"settled": 2}  # retried
    assert call("settle_violation", inputs, case, key="ruling-2") == {"settled": 0}

    rows = list(db.session.scalars(select(Violation).where(Violation.case_id == case.id)))
    assert {(v.status, v.ruling, v.fine_rials) for v in rows} == {
        (ViolationStatus.SETTLED, "fine", 450_000_000)
    }
    assert all(v.settled_at is not None and v.reference == "1405/123" for v in rows)
    assert call("property_record", {}, neighbour)["open_violations"] == 1
    with pytest.raises(ConnectorError, match="unknown ruling"):
        call("settle_violation", {"ruling": "pardon"}, case, key="ruling-3")


def test_issue_document_takes_facts_and_a_validity_period(new_case: Callable[..., Case]) -> None:
    case = new_case()
    with freeze_time("2026-11-29 21:00:00"):  # 00:30 on 30 November in Tehran
        result = call(
            "issue_document",
            {
                "document_type": "property_inquiry_answer",
                "facts": {"open_violations": 0, "plate": PLATE_KEY},
                "valid_days": 90,
            },
            case,
        )
    document = certificates.find_document(result["document_number"])
    assert document is not None
    assert document.facts == {
        "tracking_code": case.tracking_code,
        "open_violations": 0,
        "plate": PLATE_KEY,
    }
    assert document.valid_until == (datetime(2026, 11, 30) + timedelta(days=90)).date()
    assert certificates.signed_data(document)["valid_until"] == document.valid_until.isoformat()
    assert certificates.verify_document(document).signature_valid
    with pytest.raises(ConnectorError, match="valid_days"):
        call("issue_document", {"document_type": "x", "valid_days": 0}, case, key="step-2")


def test_a_corrected_plate_moves_the_case_to_the_other_property(
    new_case: Callable[..., Case],
) -> None:
    case = new_case()
    first = call("register_property", {"plate": PLATE}, case)
    corrected = call(
        "register_property", {"plate": {"section": "3", "main": "88", "sub": "1902"}}, case, "2"
    )
    assert corrected["property_id"] != first["property_id"]
    prop = property_of_case(case.id)
    assert prop is not None
    assert prop.id == corrected["property_id"]
    assert case.registry_plate == "3/88/1902"
    assert _count(PropertyCase) == 1
