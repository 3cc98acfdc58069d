"""Demo cases of property and zoning information (اطلاعات ملک / دستور نقشه / استعلام کاربری).

Puts the detailed-plan data of a few parcels on record (as the GIS import would), then files
requests that stop at different stages: answered at once from the record, at the expert, at
the site visit, and waiting for the service fee. Also holds the small driver the inquiries'
demo shares.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.accounts.models import District, User, UserKind
from app.accounts.services import ensure_citizen, ensure_district, ensure_staff
from app.cases import services as cases
from app.cases.models import Case, TaskState
from app.db import db
from app.demo import DEMO_PASSWORD
from app.processes.services import deploy_all, latest_version
from app.properties.zoning import put_on_record

KEY = "property_info"

#: Detailed-plan data of demo parcels (plate key -> zoning), as the plan's GIS export has it.
ZONING: dict[str, dict[str, Any]] = {
    "3/125/4217": {
        "zone": "R211",
        "land_use": "residential",
        "max_floors": 4,
        "max_density_pct": 180,
        "max_coverage_pct": 60,
        "setback_m": 1.2,
        "street_width_m": 12,
    },
    "3/125/4219": {
        "zone": "R211",
        "land_use": "residential",
        "max_floors": 4,
        "max_density_pct": 180,
        "max_coverage_pct": 60,
        "setback_m": 1.2,
        "street_width_m": 12,
    },
    "3/88/1902": {
        "zone": "M12",
        "land_use": "mixed",
        "max_floors": 6,
        "max_density_pct": 300,
        "max_coverage_pct": 60,
        "setback_m": 2.5,
        "street_width_m": 20,
    },
}

#: (username, full name, roles, kind): the people these procedures need.
STAFF = [
    ("inspector", "رضا قاسمی", ["INSPECTOR"], UserKind.STAFF),
    ("reviewer", "مریم احمدی", ["URB_EXPERT"], UserKind.STAFF),
    ("head", "علی‌رضا محمدی", ["URB_HEAD", "URB_EXPERT"], UserKind.STAFF),
]


def district9() -> District:
    return ensure_district("09", "منطقه ۹", "District 9")


def staff(rows: list[tuple[str, str, list[str], UserKind]]) -> dict[str, User]:
    """The demo accounts in `rows` (existing ones are kept); agencies work for no district."""
    return {
        username: ensure_staff(
            username,
            name,
            DEMO_PASSWORD,
            roles,
            [] if kind == UserKind.AGENCY else [district9()],
            kind,
        )
        for username, name, roles, kind in rows
    }


def has_demo_cases(key: str) -> bool:
    return db.session.scalar(select(Case.id).where(Case.process_key == key).limit(1)) is not None


def open_case(key: str, applicant: User) -> Case:
    version = latest_version(key)
    if version is None:
        raise LookupError(f"process {key} is not deployed")
    return cases.start_case(
        version, applicant=applicant, district=district9(), data={}, actor=applicant
    )


def act(case: Case, element_id: str, answers: dict[str, Any], actor: User) -> None:
    """Complete the case's open task of this step as the actor would on its page."""
    task = next(t for t in case.tasks if t.element_id == element_id and t.state == TaskState.OPEN)
    cases.complete_task(
        case, task.engine_task_id, answers, actor=actor, expected_version=case.version_id
    )
    db.session.flush()


def request(plate: str, kind: str = "zoning_info") -> dict[str, Any]:
    section, main, sub = plate.split("/")
    return {
        "request_kind": kind,
        "applicant_name": "علی کریمی",
        "plate": {"section": section, "main": main, "sub": sub},
        "address": "تبریز، منطقه ۹، حوزه ۲",
        "area": 240.5,
    }


EXPERT_ANSWER = {
    "zoning_zone": "R122",
    "zoning_land_use": "residential",
    "max_floors": 3,
    "max_density_pct": 150,
    "max_coverage_pct": 60,
    "setback_m": 0,
    "street_width_m": 10,
    "site_visit": False,
}


def seed() -> None:
    """Zoning for three parcels; four requests: answered, at the expert, at a visit, to pay."""
    district = district9()
    for plate, zoning in ZONING.items():
        put_on_record(plate, zoning, district=district)
    if has_demo_cases(KEY):
        return
    deploy_all([KEY])
    who = staff(STAFF)
    citizen = ensure_citizen("09140001001", "علی کریمی", "1360524185")

    answered = open_case(KEY, citizen)
    act(answered, "submit_request", request("3/125/4217"), citizen)

    at_expert = open_case(KEY, citizen)
    act(at_expert, "submit_request", request("5/310/77", "land_use_inquiry"), citizen)

    at_visit = open_case(KEY, citizen)
    act(at_visit, "submit_request", request("3/140/12", "design_brief_preview"), citizen)
    act(at_visit, "expert_review", {**EXPERT_ANSWER, "site_visit": True}, who["reviewer"])

    to_pay = open_case(KEY, citizen)
    act(to_pay, "submit_request", request("3/141/5"), citizen)
    act(to_pay, "expert_review", EXPERT_ANSWER, who["reviewer"])
    act(to_pay, "approve_answer", {"decision": "approve"}, who["head"])
