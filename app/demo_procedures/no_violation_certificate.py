"""Demo cases of the no-violation certificate (گواهی عدم خلاف) at different stages.

Also holds the small driver the completion certificate's demo shares: the people who act on
these cases, and acting on a case through app.cases.services as they would.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.accounts.models import User, UserKind
from app.accounts.services import ensure_citizen, ensure_district, ensure_staff
from app.cases import services as cases
from app.cases.models import Case, TaskState
from app.db import db
from app.demo import DEMO_PASSWORD
from app.fees.models import Invoice, InvoiceStatus
from app.processes.services import deploy_all, latest_version

KEY = "no_violation_certificate"

#: (username, full name, roles, kind): the demo staff these procedures need.
STAFF = [
    ("counter", "زهره اسدی", ["COUNTER", "SECRETARIAT"], UserKind.STAFF),
    ("inspector", "رضا قاسمی", ["INSPECTOR"], UserKind.STAFF),
    ("reviewer", "مریم احمدی", ["URB_EXPERT"], UserKind.STAFF),
    ("head", "علی‌رضا محمدی", ["URB_HEAD", "URB_EXPERT"], UserKind.STAFF),
    ("mayor", "حسن نوری", ["DISTRICT_MAYOR", "DEPUTY"], UserKind.STAFF),
    ("c100", "نرگس طاهری", ["C100_SEC"], UserKind.STAFF),
    ("enforcement", "جواد رستمی", ["ENFORCEMENT"], UserKind.STAFF),
    ("fire_service", "آتش‌نشانی تبریز", ["AGENCY_FIRE"], UserKind.AGENCY),
]
FILE = {"name": "scan.pdf", "type": "application/pdf", "size": 182_044}

#: The owners of the demo cases: a natural person, and domain case 2's company and attorney.
NATURAL: dict[str, Any] = {
    "applicant_type": "natural",
    "national_code": "1360524185",
    "applicant_capacity": "owner",
    "applicant_name": "علی کریمی",
    "mobile": "09140001001",
    "plate": {"section": "3", "main": "125", "sub": "4217"},
    "renewal_code": "9-2-15-37-1-0-0",
    "postal_code": "5166614776",
    "address": "تبریز، منطقه ۹، حوزه ۲، کوچه نمونه، پلاک ۷",
    "area": 240.5,
    "land_use": "residential",
    "permit_number": "1404-09-0412",
}
COMPANY: dict[str, Any] = {
    "applicant_type": "legal",
    "legal_id": "10862134507",
    "company_name": "شرکت ساختمانی نمونه‌سازان آذر (سهامی خاص)",
    "applicant_capacity": "attorney",
    "applicant_name": "مریم نیک‌پور",
    "power_of_attorney": FILE,
    "mobile": "09140001002",
    "plate": {"section": "3", "main": "88", "sub": "1902"},
    "renewal_code": "9-2-15-40-1-0-0",
    "postal_code": "5153715311",
    "address": "تبریز، منطقه ۹، خیابان نمونه، پلاک ۱۲",
    "area": 310.0,
    "land_use": "residential",
    "permit_number": "1402-09-1187",
}
NO_VIOLATION = {
    "construction_stage": "roof",
    "stage_report_number": "NZ-5521",
    "purpose": "bank_loan",
    "deed_last_page": FILE,
    "renewal_receipt": FILE,
}
VISIT = {"visited_on": "1404-09-01", "findings": "بازدید انجام شد؛ جزئیات در عکس‌ها."}
VIOLATION = {
    **VISIT,
    "inspection_outcome": "violation",
    "violation_kind": "extra_floor_area",
    "violation_area": 12.6,
    "violation_description": "۱۲٫۶ متر مربع اضافه بنا در طبقه بام",
}


def people() -> dict[str, User]:
    """The demo staff, agency and citizens these procedures need (existing ones are kept)."""
    district = ensure_district("09", "منطقه ۹", "District 9")
    found = {
        username: ensure_staff(
            username,
            name,
            DEMO_PASSWORD,
            roles,
            [] if kind == UserKind.AGENCY else [district],
            kind,
        )
        for username, name, roles, kind in STAFF
    }
    found["owner"] = ensure_citizen("09140001001", "علی کریمی", "1360524185")
    found["attorney"] = ensure_citizen("09140001002", "مریم نیک‌پور", "1382046170")
    return found


def has_demo_cases(key: str) -> bool:
    return db.session.scalar(select(Case.id).where(Case.process_key == key).limit(1)) is not None


def open_case(key: str, applicant: User) -> Case:
    version = latest_version(key)
    if version is None:
        raise LookupError(f"process {key} is not deployed")
    return cases.start_case(
        version,
        applicant=applicant,
        district=ensure_district("09", "منطقه ۹", "District 9"),
        data={},
        actor=applicant,
    )


def act(case: Case, element_id: str, answers: dict[str, Any], actor: User) -> None:
    """Complete the case's open task of this step as the actor would on its page."""
    task = next(t for t in case.tasks if t.element_id == element_id and t.state == TaskState.OPEN)
    cases.complete_task(
        case, task.engine_task_id, answers, actor=actor, expected_version=case.version_id
    )
    db.session.flush()


def pay(case: Case, payer: User) -> None:
    """Pay the case's open invoice through the built-in gateway simulator, as the payer would.

    The simulator answers from its own database session (like a bank), so everything before
    the payment, and then the attempt, must be committed before it is asked (on SQLite an open
    write would lock it out): the one place these demo seeds commit (as demo.seed_payments).
    """
    from app.payments import services as payments
    from app.payments.gateway import gateway_for
    from app.payments.simulator import find_transaction, play

    invoice = db.session.scalars(
        select(Invoice).where(Invoice.case_id == case.id, Invoice.status == InvoiceStatus.OPEN)
    ).one()
    gateway, now = gateway_for(current_app), datetime.now(UTC)
    db.session.commit()
    payment, _ = payments.start_payment(
        invoice, payer=payer, gateway=gateway, callback_url="/payments/callback", now=now
    )
    db.session.commit()
    transaction = find_transaction(payment.token)
    if transaction is None or not play(transaction, "pay", now):
        raise RuntimeError("the gateway simulator did not take the demo payment")
    db.session.commit()
    payments.complete_payment(payment.token, gateway=gateway, now=now)
    db.session.flush()


def seed() -> None:
    """Four no-violation certificate cases: filed, returned, in the objection window, issued."""
    if has_demo_cases(KEY):
        return
    deploy_all([KEY])
    who = people()
    owner_answers = {**NATURAL, **NO_VIOLATION}
    company_answers = {**COMPANY, **NO_VIOLATION}

    filed = open_case(KEY, who["owner"])
    act(filed, "submit_application", owner_answers, who["owner"])

    returned = open_case(KEY, who["owner"])
    act(returned, "submit_application", {**owner_answers, "area": 180.0}, who["owner"])
    act(
        returned,
        "check_documents",
        {
            "doc_decision": "return_for_correction",
            "fix_items": ["renewal_receipt"],
            "doc_note": "قبض عوارض نوسازی سال جاری را بارگذاری کنید.",
        },
        who["counter"],
    )

    objection = open_case(KEY, who["attorney"])
    act(objection, "submit_application", company_answers, who["attorney"])
    act(objection, "check_documents", {"doc_decision": "accept"}, who["counter"])
    act(objection, "inspect_site", VIOLATION, who["inspector"])
    act(objection, "review_case", {"decision": "approve"}, who["reviewer"])
    act(
        objection,
        "file_defence",
        {"defence_text": "بنای بام در نقشه تأییدشده آمده بود."},
        who["attorney"],
    )
    act(
        objection,
        "prepare_referral",
        {
            "referral_number": "C100-1404-077",
            "referred_on": "1404-09-10",
            "referral_summary": "اضافه بنای ۱۲٫۶ متر مربع در بام؛ دفاعیه مالک پیوست است.",
        },
        who["c100"],
    )
    act(
        objection,
        "record_ruling",
        {
            "ruling": "fine",
            "fine_amount": 378_000_000,
            "ruling_number": "R-1404-310",
            "ruled_on": "1404-09-25",
            "ruling_text": "جریمه اضافه بنا طبق تبصره‌های ماده ۱۰۰",
        },
        who["c100"],
    )  # now in the 10-day objection window

    issued = open_case(KEY, who["owner"])
    act(
        issued,
        "submit_application",
        {**owner_answers, "plate": {"section": "3", "main": "125", "sub": "4218"}},
        who["owner"],
    )
    act(issued, "check_documents", {"doc_decision": "accept"}, who["counter"])
    act(issued, "inspect_site", {**VISIT, "inspection_outcome": "compliant"}, who["inspector"])
    act(issued, "review_case", {"decision": "approve"}, who["reviewer"])
    pay(issued, who["owner"])
    act(issued, "sign_certificate", {"confirm": True}, who["head"])
