"""Demo cases of the completion certificate (گواهی پایان کار) at different stages."""

from __future__ import annotations

from app.demo_procedures.no_violation_certificate import (
    COMPANY,
    FILE,
    NATURAL,
    VIOLATION,
    VISIT,
    act,
    has_demo_cases,
    open_case,
    pay,
    people,
)
from app.processes.services import deploy_all

KEY = "completion_certificate"
BUILDING = {
    "completion_form_number": "PK-3391",
    "floors": 5,
    "units": 8,
    "built_area": 820.5,
    "deed_scan": FILE,
    "as_built_drawings": [FILE],
}


def seed() -> None:
    """Three completion cases: at the fire service, in the Article-100 detour, issued."""
    if has_demo_cases(KEY):
        return
    deploy_all([KEY])
    who = people()

    at_fire = open_case(KEY, who["owner"])
    act(at_fire, "submit_application", {**NATURAL, **BUILDING}, who["owner"])
    act(at_fire, "check_documents", {"doc_decision": "accept"}, who["counter"])
    act(at_fire, "inspect_site", {**VISIT, "inspection_outcome": "compliant"}, who["inspector"])
    act(at_fire, "review_case", {"decision": "approve"}, who["reviewer"])  # fire service next

    # Domain case 2, the company's building: a fine, appealed, now waiting to be paid.
    detour = open_case(KEY, who["attorney"])
    act(detour, "submit_application", {**COMPANY, **BUILDING}, who["attorney"])
    act(detour, "check_documents", {"doc_decision": "accept"}, who["counter"])
    act(detour, "inspect_site", VIOLATION, who["inspector"])
    act(detour, "review_case", {"decision": "approve"}, who["reviewer"])
    act(detour, "fire_inquiry", {"answer": "no_objection"}, who["fire_service"])
    act(detour, "file_defence", {"defence_text": "اضافه بنا انباری مشاعات است."}, who["attorney"])
    act(
        detour,
        "prepare_referral",
        {
            "referral_number": "C100-1404-078",
            "referred_on": "1404-09-10",
            "referral_summary": "اضافه بنای ۱۲٫۶ متر مربع در بام.",
        },
        who["c100"],
    )
    ruling = {"ruling_number": "R-1404-311", "ruled_on": "1404-09-25"}
    act(
        detour,
        "record_ruling",
        {"ruling": "fine", "fine_amount": 378_000_000, "ruling_text": "جریمه", **ruling},
        who["c100"],
    )
    act(
        detour,
        "object_to_ruling",
        {"objection_text": "مساحت بیش از واقع برآورد شده است."},
        who["attorney"],
    )
    act(
        detour,
        "record_appeal_ruling",
        {
            "appeal_ruling": "fine",
            "appeal_fine_amount": 302_400_000,
            "appeal_ruling_number": "A-1404-052",
            "appeal_ruled_on": "1404-10-05",
            "appeal_ruling_text": "کاهش جریمه به ۳۰۲٬۴۰۰٬۰۰۰ ریال",
        },
        who["c100"],
    )  # the fine's bill now waits to be paid

    issued = open_case(KEY, who["owner"])
    answers = {**NATURAL, **BUILDING, "plate": {"section": "3", "main": "125", "sub": "4219"}}
    act(issued, "submit_application", answers, who["owner"])
    act(issued, "check_documents", {"doc_decision": "accept"}, who["counter"])
    act(issued, "inspect_site", {**VISIT, "inspection_outcome": "compliant"}, who["inspector"])
    act(issued, "review_case", {"decision": "approve"}, who["reviewer"])
    act(
        issued,
        "fire_inquiry",
        {"answer": "conditions", "conditions": "کپسول در هر طبقه"},
        who["fire_service"],
    )
    pay(issued, who["owner"])
    act(issued, "sign_head", {"confirm": True}, who["head"])
    act(issued, "sign_mayor", {"confirm": True}, who["mayor"])
