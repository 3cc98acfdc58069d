"""Demo cases of the building permit (صدور پروانه ساختمانی) at different stages.

Uses the small driver of the certificates' demo (the people, opening a case, acting on a
step, paying through the gateway simulator) and adds the agencies a permit consults.
"""

from __future__ import annotations

from typing import Any

from app.accounts.models import User, UserKind
from app.accounts.services import ensure_district, ensure_staff
from app.demo import DEMO_PASSWORD
from app.demo_procedures.no_violation_certificate import (
    act,
    has_demo_cases,
    open_case,
    pay,
    people,
)
from app.processes.services import deploy_all
from app.properties.zoning import put_on_record

KEY = "building_permit"

#: (username, full name, role): the outside agencies a permit asks.
AGENCIES = [
    ("registry_office", "اداره ثبت اسناد و املاک تبریز", "AGENCY_REGISTRY"),
    ("engineering_org", "سازمان نظام مهندسی ساختمان آذربایجان شرقی", "AGENCY_ENGINEERING"),
    ("utilities_office", "شرکت توزیع برق تبریز", "AGENCY_UTILITIES"),
    ("heritage_office", "اداره کل میراث فرهنگی آذربایجان شرقی", "AGENCY_HERITAGE"),
]
FILE = {"name": "scan.pdf", "type": "application/pdf", "size": 182_044}

#: Domain case 1: علی کریمی, plate 3/125/4217, 240.50 m², pilotis + 4 floors, 8 units.
APPLICATION: dict[str, Any] = {
    "applicant_role": "owner",
    "applicant_name": "علی کریمی",
    "national_code": "1360524185",
    "mobile": "09140001001",
    "owners": [{"name": "علی کریمی", "national_code": "1360524185", "share": 6}],
    "plate": {"section": "3", "main": "125", "sub": "4217"},
    "renewal_code": "9-2-15-37-1-0-0",
    "address": "تبریز، منطقه ۹، حوزه ۲، کوچه نمونه، پلاک ۷",
    "postal_code": "5166614776",
    "area": 240.5,
    "land_use": "residential",
    "floors": 4,
    "units": 8,
    "pilotis": True,
    "deed_type": "single_sheet",
    "deed": FILE,
    "renewal_receipt": FILE,
}
ZONING = {
    "zone": "R211",
    "land_use": "residential",
    "max_floors": 5,
    "max_density_pct": 240,
    "max_coverage_pct": 60,
    "setback_m": 1.2,
    "street_width_m": 12,
}
VISIT = {
    "visited_on": "1404-07-06",
    "existing_state": "old_building",
    "measured_area": 240.5,
    "setback_m": 1.2,
    "findings": "ساختمان قدیمی یک‌طبقه؛ عقب‌نشینی ۱٫۲۰ متر لازم است.",
}
BRIEF = {
    "brief_setback_m": 1.2,
    "brief_max_floors": 5,
    "brief_density_pct": 240,
    "brief_coverage_pct": 60,
}
DRAWINGS: dict[str, Any] = {
    "architecture_drawings": [FILE],
    "structure_drawings": [FILE],
    "installations_drawings": [FILE],
    "parking_spaces": 8,
    "architect_name": "سارا احمدی",
    "architect_licence": "1-12-34567",
    "structural_engineer_name": "رضا محمدی",
    "structural_engineer_licence": "1-12-45678",
    "supervisor_name": "مهدی رحیمی",
    "supervisor_licence": "1-12-56789",
}
UNDERTAKINGS = {
    "notarised_undertaking": FILE,
    "undertaking_number": "145782",
    "undertaking_date": "1404-07-01",
    "social_security_letter": FILE,
    "social_security_number": "9/1404/5512",
}


def _people() -> dict[str, User]:
    who = people()
    for username, name, role in AGENCIES:
        who[username] = ensure_staff(username, name, DEMO_PASSWORD, [role], [], UserKind.AGENCY)
    return who


def _plate(sub: str) -> dict[str, Any]:
    return {**APPLICATION, "plate": {"section": "3", "main": "125", "sub": sub}}


def _reviewed(case: Any, who: dict[str, User], answers: dict[str, Any], **flags: bool) -> None:
    act(case, "submit_application", answers, who["owner"])
    act(case, "check_documents", {"decision": "approve"}, who["counter"])
    act(case, "inspect_site", VISIT, who["inspector"])
    review = {"utility_row_affected": False, "heritage_buffer": False, **flags}
    act(case, "review_planning", {"decision": "approve", **review}, who["reviewer"])


def seed() -> None:
    """Five permit cases: filed, returned, at the agencies, designing, and issued."""
    if has_demo_cases(KEY):
        return
    deploy_all([KEY])
    who = _people()
    put_on_record("3/125/4217", ZONING, district=ensure_district("09", "منطقه ۹", "District 9"))

    filed = open_case(KEY, who["owner"])
    act(filed, "submit_application", _plate("4220"), who["owner"])  # at the counter

    returned = open_case(KEY, who["owner"])
    act(returned, "submit_application", _plate("4221"), who["owner"])
    act(
        returned,
        "check_documents",
        {
            "decision": "return_for_correction",
            "fix_items": ["renewal_receipt"],
            "reason": "قبض عوارض نوسازی سال جاری را بارگذاری کنید.",
        },
        who["counter"],
    )  # waiting for the owner's correction

    # Right-of-way and heritage buffer: the registry has answered, three agencies have not.
    at_agencies = open_case(KEY, who["owner"])
    _reviewed(
        at_agencies,
        who,
        {**_plate("4222"), "floors": 5, "units": 10},
        utility_row_affected=True,
        heritage_buffer=True,
    )
    act(
        at_agencies, "registry_inquiry", {"registry_answer": "no_objection"}, who["registry_office"]
    )

    designing = open_case(KEY, who["owner"])
    _reviewed(designing, who, _plate("4223"))
    act(designing, "registry_inquiry", {"registry_answer": "no_objection"}, who["registry_office"])
    act(
        designing,
        "engineering_inquiry",
        {"engineering_answer": "no_objection"},
        who["engineering_org"],
    )
    act(designing, "draft_design_brief", BRIEF, who["reviewer"])
    act(designing, "approve_design_brief", {"decision": "approve"}, who["head"])
    # the owner's engineers are drawing: the municipality's clock is paused

    issued = open_case(KEY, who["owner"])
    _reviewed(issued, who, APPLICATION)
    act(issued, "registry_inquiry", {"registry_answer": "no_objection"}, who["registry_office"])
    act(
        issued,
        "engineering_inquiry",
        {
            "engineering_answer": "conditions",
            "engineering_conditions": "ناظر از سوی سازمان معرفی می‌شود.",
        },
        who["engineering_org"],
    )
    act(issued, "draft_design_brief", BRIEF, who["reviewer"])
    act(issued, "approve_design_brief", {"decision": "approve"}, who["head"])
    act(issued, "upload_drawings", DRAWINGS, who["owner"])
    act(
        issued,
        "verify_drawings",
        {"decision": "approve", "engineering_reference": "NM-1404-4512"},
        who["engineering_org"],
    )
    act(issued, "check_drawings", {"decision": "approve"}, who["reviewer"])
    pay(issued, who["owner"])
    act(issued, "upload_undertakings", UNDERTAKINGS, who["owner"])
    act(issued, "check_undertakings", {"decision": "approve"}, who["counter"])
    act(issued, "sign_head", {"decision": "approve"}, who["head"])
    act(issued, "sign_deputy", {"decision": "approve"}, who["mayor"])
