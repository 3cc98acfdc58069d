"""Demo inquiries from a notary, a bank and a utility (پاسخ استعلام دفترخانه، بانک، خدمات‌رسان).

Creates the three requester organisations' accounts (REQUESTER_* roles, signing in at
/staff/login and working at /agency/inquiries/) and files inquiries that stop at different
stages. Domain §9 case 3 needs a unit with a completion certificate on record: seed this after
the completion certificate's demo, which issues one for plate 3/125/4219; without it those
inquiries go to the expert instead, which is a demo stage too.
"""

from __future__ import annotations

from typing import Any

from app.accounts.models import UserKind
from app.accounts.services import ensure_citizen
from app.demo_procedures.property_info import act, has_demo_cases, open_case, staff
from app.processes.services import deploy_all

KEY = "property_inquiry"

#: (username, organisation, roles, kind): the requester organisations and the office staff.
STAFF = [
    ("notary12", "دفتر اسناد رسمی شماره ۱۲ تبریز", ["REQUESTER_NOTARY"], UserKind.AGENCY),
    ("bank-valiasr", "بانک نمونه، شعبه ولیعصر تبریز", ["REQUESTER_BANK"], UserKind.AGENCY),
    ("gas-tabriz", "شرکت گاز استان آذربایجان شرقی", ["REQUESTER_UTILITY"], UserKind.AGENCY),
    ("inspector", "رضا قاسمی", ["INSPECTOR"], UserKind.STAFF),
    ("reviewer", "مریم احمدی", ["URB_EXPERT"], UserKind.STAFF),
    ("head", "علی‌رضا محمدی", ["URB_HEAD", "URB_EXPERT"], UserKind.STAFF),
]

UNIT = {"section": "3", "main": "125", "sub": "4219"}


def letter(number: str, plate: dict[str, str], **more: Any) -> dict[str, Any]:
    return {
        "letter_number": number,
        "letter_date": "1404-07-01",
        "plate": plate,
        "area": 240.5,
        **more,
    }


def seed() -> None:
    """Four inquiries: a notary's to pay, a bank's answered, a utility's and a notary's at the expert."""
    if has_demo_cases(KEY):
        return
    deploy_all([KEY])
    who = staff(STAFF)
    ensure_citizen("09140001001", "علی کریمی", "1360524185")
    notary = {
        "requester_kind": "notary",
        "requester_name": "دفتر اسناد رسمی شماره ۱۲ تبریز",
        "purpose": "transfer",
        "land_use": "residential",
        "seller_national_code": "0084127759",
        "buyer_national_code": "1367710944",
    }

    # Domain §9 case 3: the unit's file holds a completion certificate.
    to_pay = open_case(KEY, who["notary12"])
    act(to_pay, "submit_inquiry", letter("۱۲/۴۴۰۸", UNIT, **notary), who["notary12"])

    bank = open_case(KEY, who["bank-valiasr"])
    act(
        bank,
        "submit_inquiry",
        letter(
            "ب/۸۸۱۲",
            UNIT,
            requester_kind="bank",
            requester_name="بانک نمونه، شعبه ولیعصر تبریز",
            purpose="mortgage",
            borrower_national_code="1367710944",
        ),
        who["bank-valiasr"],
    )

    utility = open_case(KEY, who["gas-tabriz"])
    act(
        utility,
        "submit_inquiry",
        letter(
            "گ/۳۰۱۷",
            {"section": "5", "main": "310", "sub": "77"},
            requester_kind="utility",
            requester_name="شرکت گاز استان آذربایجان شرقی",
            purpose="connection",
            utility_service="gas",
        ),
        who["gas-tabriz"],
    )

    answered = open_case(KEY, who["notary12"])
    act(
        answered,
        "submit_inquiry",
        letter("۱۲/۴۴۱۹", {"section": "3", "main": "140", "sub": "12"}, **notary),
        who["notary12"],
    )
    act(
        answered,
        "expert_review",
        {"verdict": "violation_referral", "site_visit": False},
        who["reviewer"],
    )
