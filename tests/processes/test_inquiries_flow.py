"""property_info and property_inquiry at app level: real database, real connectors, real register.

Domain §9 case 3: a notary asks about an apartment whose file already holds a completion
certificate, pays the levies and gets «بلامانع» in the same request; a bank then asks about the
same unit and is answered from the same record.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.accounts.models import District, User, UserKind
from app.accounts.services import ensure_citizen, ensure_district, ensure_staff
from app.cases import services as cases
from app.cases import workflow as bridge
from app.cases.models import Case, CaseStatus, TaskState
from app.certificates import services as certificates
from app.certificates.models import IssuedDocument
from app.certificates.pdf import render_html
from app.db import db
from app.fees.models import Invoice, InvoiceStatus
from app.notifications.models import Notification
from app.processes.services import deploy_all, latest_version
from app.properties import services as register
from app.properties.models import PropertyCase
from app.properties.zoning import parse_plate_key, put_on_record
from engine import ConnectorContext

PASSWORD = "correct horse battery"
UNIT = {"section": "3", "main": "125", "sub": "4217-5"}
UNIT_KEY = "3/125/4217-5"
NOTARY_LETTER = {
    "requester_kind": "notary",
    "requester_name": "دفتر اسناد رسمی شماره ۰۰۰ تبریز",
    "letter_number": "1404/2231",
    "letter_date": "1404-06-31",
    "plate": UNIT,
    "renewal_code": "9-2-15-37-1-5-0",
    "postal_code": "5138893611",
    "area": 85.5,
    "land_use": "residential",
    "purpose": "transfer",
    "seller_national_code": "0084127759",
    "buyer_national_code": "1367710944",
}
BANK_LETTER = {
    "requester_kind": "bank",
    "requester_name": "بانک نمونه، شعبه ولیعصر تبریز",
    "letter_number": "ب/۸۸۱۲",
    "letter_date": "1404-07-01",
    "plate": UNIT,
    "area": 85.5,
    "purpose": "mortgage",
    "borrower_national_code": "1367710944",
}


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    deploy_all(["property_info", "property_inquiry", "sample_permit"])
    district = ensure_district("09", "منطقه ۹", "District 9")

    def agency(username: str, name: str, role: str) -> User:
        return ensure_staff(username, name, PASSWORD, [role], [district], kind=UserKind.AGENCY)

    return {
        "district": district,
        "notary": agency("notary-000", "دفتر اسناد رسمی شماره ۰۰۰ تبریز", "REQUESTER_NOTARY"),
        "bank": agency("bank-valiasr", "بانک نمونه، شعبه ولیعصر", "REQUESTER_BANK"),
        "expert": ensure_staff("expert-9", "کارشناس شهرسازی", PASSWORD, ["URB_EXPERT"], [district]),
        "head": ensure_staff("head-9", "رئیس اداره", PASSWORD, ["URB_HEAD"], [district]),
        "citizen": ensure_citizen("09140001001", "علی کریمی", "1360524185"),
    }


def start(key: str, applicant: User, district: District) -> Case:
    version = latest_version(key)
    assert version is not None
    return cases.start_case(
        version, applicant=applicant, district=district, data={}, actor=applicant
    )


def complete(case: Case, element_id: str, answers: dict[str, Any], actor: User) -> None:
    [task] = [t for t in case.tasks if t.state == TaskState.OPEN and t.element_id == element_id]
    cases.complete_task(
        case, task.engine_task_id, answers, actor=actor, expected_version=case.version_id
    )
    db.session.flush()


def completed_unit(world: dict[str, Any]) -> IssuedDocument:
    """The unit's earlier case (its completion certificate) already in the register."""
    earlier = start("sample_permit", world["citizen"], world["district"])
    prop = register.get_or_create(parse_plate_key(UNIT_KEY))
    register.link_case(prop, earlier, datetime.now(UTC))
    return certificates.issue_document(
        document_type="completion_certificate",
        facts={"tracking_code": earlier.tracking_code},
        idempotency_key=f"test:{earlier.id}:completion",
        case=earlier,
        now=datetime.now(UTC) - timedelta(days=30),
    )


def answer_of(case: Case) -> IssuedDocument:
    return db.session.scalars(
        select(IssuedDocument).where(
            IssuedDocument.case_id == case.id,
            IssuedDocument.document_type.in_(["property_inquiry_answer", "property_info_answer"]),
        )
    ).one()


def events(case: Case) -> list[str]:
    rows = db.session.scalars(
        select(Notification).where(Notification.case_id == case.id).order_by(Notification.id)
    )
    return [row.event_key for row in rows]


def pay(case: Case) -> Invoice:
    """What the payment service does once the gateway confirms: invoice paid, message to the case."""
    invoice = db.session.scalars(select(Invoice).where(Invoice.case_id == case.id)).one()
    invoice.status = InvoiceStatus.PAID
    cases.deliver_message(
        case, "payment_confirmed", {"amount": invoice.total_rials, "reference": "40704"}
    )
    db.session.flush()
    return invoice


def test_case_3_notary_then_bank_answered_from_the_same_record(world: dict[str, Any]) -> None:
    completion = completed_unit(world)

    notary_case = start("property_inquiry", world["notary"], world["district"])
    complete(notary_case, "submit_inquiry", NOTARY_LETTER, world["notary"])

    # A clean file: no expert, no visit; the levies are due before the answer.
    assert notary_case.status == CaseStatus.WAITING_EVENT
    assert [t.element_id for t in notary_case.tasks if t.state == TaskState.OPEN] == []
    invoice = pay(notary_case)
    # Residential, 85.5 m²: the transfer levy and the year's renewal levy of the tariff book.
    per_m2 = 40_000 + 20_000 if invoice.tariff_year <= 1404 else 50_000 + 25_000
    levies = round(85.5 * per_m2)
    assert invoice.total_rials == levies - levies % 1000  # the bill waives what is under 1,000

    assert notary_case.incident is None, notary_case.incident
    assert notary_case.status == CaseStatus.COMPLETED
    answer = answer_of(notary_case)
    assert answer.facts["answer"] == "بلامانع"
    assert answer.facts["documents"] == completion.document_number
    assert answer.facts["fee_paid"] == invoice.total_rials
    assert answer.facts["applicant_name"] == "دفتر اسناد رسمی شماره ۰۰۰ تبریز"
    assert answer.valid_until == certificates.valid_until(answer.issued_at, 180)
    assert notary_case.registry_plate == UNIT_KEY
    assert events(notary_case) == ["submitted", "payment_requested", "answer_issued"]

    bank_case = start("property_inquiry", world["bank"], world["district"])
    complete(bank_case, "submit_inquiry", BANK_LETTER, world["bank"])

    assert bank_case.status == CaseStatus.COMPLETED  # free and in the same request
    bank_answer = answer_of(bank_case)
    assert bank_answer.facts["answer"] == "بلامانع"
    assert bank_answer.facts["documents"] == completion.document_number
    assert bank_answer.facts["fee_paid"] == 0
    linked = db.session.scalars(
        select(PropertyCase.property_id).where(
            PropertyCase.case_id.in_([notary_case.id, bank_case.id])
        )
    ).all()
    assert len(linked) == 2
    assert len(set(linked)) == 1
    assert events(bank_case) == ["submitted", "answer_issued"]


def test_an_open_violation_is_in_the_answer(world: dict[str, Any]) -> None:
    completed_unit(world)
    earlier = db.session.scalars(
        select(Case).where(Case.process_key == "sample_permit").order_by(Case.id.desc())
    ).first()
    assert earlier is not None
    context = ConnectorContext(
        connector="record_violation",
        process_key="sample_permit",
        element_id="inspect_site",
        task_id="t",
        idempotency_key="inspection#1",
    )
    with bridge.running_for(earlier):
        bridge.runtime().connectors.call(
            "record_violation",
            {"description": "طبقه اضافه بر پروانه", "area": 12.6, "kind": "extra_floor_area"},
            context,
        )

    inquiry = start("property_inquiry", world["notary"], world["district"])
    complete(inquiry, "submit_inquiry", NOTARY_LETTER, world["notary"])
    assert [t.element_id for t in inquiry.tasks if t.state == TaskState.OPEN] == ["expert_review"]
    assert events(inquiry) == ["submitted", "under_review"]

    complete(
        inquiry,
        "expert_review",
        {"verdict": "violation_referral", "site_visit": False},
        world["expert"],
    )

    assert inquiry.status == CaseStatus.COMPLETED
    answer = answer_of(inquiry)
    assert answer.facts["answer"] == "دارای خلاف — ارجاع به کمیسیون ماده ۱۰۰"
    assert answer.facts["open_violations"] == 1
    assert db.session.scalars(select(Invoice).where(Invoice.case_id == inquiry.id)).all() == []


def test_property_info_is_answered_automatically_when_zoning_is_on_record(
    world: dict[str, Any],
) -> None:
    put_on_record(
        "3/125/4217",
        {
            "zone": "R211",
            "land_use": "residential",
            "max_floors": 4,
            "max_density_pct": 180,
            "max_coverage_pct": 60,
            "setback_m": 1.2,
            "street_width_m": 12,
        },
        district=world["district"],
    )
    case = start("property_info", world["citizen"], world["district"])
    complete(
        case,
        "submit_request",
        {
            "request_kind": "zoning_info",
            "applicant_name": "علی کریمی",
            "plate": {"section": "3", "main": "125", "sub": "4217"},
            "address": "تبریز، منطقه ۹، خیابان نمونه",
            "area": 240.5,
        },
        world["citizen"],
    )

    assert case.status == CaseStatus.COMPLETED
    answer = answer_of(case)
    assert (answer.facts["zone"], answer.facts["max_floors"], answer.facts["setback_m"]) == (
        "R211",
        4,
        1.2,
    )
    assert answer.facts["answer_source"] == "record"
    assert answer.valid_until == certificates.valid_until(answer.issued_at, 90)
    assert events(case) == ["submitted", "answer_issued"]
    assert db.session.scalars(select(Invoice).where(Invoice.case_id == case.id)).all() == []


def test_property_info_without_zoning_goes_to_the_expert_and_is_paid(
    world: dict[str, Any],
) -> None:
    case = start("property_info", world["citizen"], world["district"])
    complete(
        case,
        "submit_request",
        {
            "request_kind": "land_use_inquiry",
            "applicant_name": "علی کریمی",
            "plate": {"section": "5", "main": "310", "sub": "77"},
            "address": "تبریز، منطقه ۹",
            "area": 1150,
        },
        world["citizen"],
    )
    complete(
        case,
        "expert_review",
        {
            "zoning_zone": "M12",
            "zoning_land_use": "mixed",
            "max_floors": 5,
            "max_density_pct": 240,
            "max_coverage_pct": 60,
            "setback_m": 2.5,
            "street_width_m": 16,
            "site_visit": False,
        },
        world["expert"],
    )
    complete(case, "approve_answer", {"decision": "approve"}, world["head"])
    pay(case)

    assert case.status == CaseStatus.COMPLETED
    answer = answer_of(case)
    assert (answer.facts["zone"], answer.facts["answer_source"]) == ("M12", "review")
    assert events(case) == ["submitted", "under_review", "payment_requested", "answer_issued"]


def test_the_answers_render_with_their_validity(app: Flask, world: dict[str, Any]) -> None:
    completed_unit(world)
    inquiry = start("property_inquiry", world["bank"], world["district"])
    complete(inquiry, "submit_inquiry", BANK_LETTER, world["bank"])
    put_on_record("3/125/4217", {"zone": "R211", "land_use": "residential", "max_floors": 4})
    info = start("property_info", world["citizen"], world["district"])
    complete(
        info,
        "submit_request",
        {
            "request_kind": "design_brief_preview",
            "applicant_name": "علی کریمی",
            "plate": {"section": "3", "main": "125", "sub": "4217"},
            "address": "تبریز، منطقه ۹",
            "area": 240.5,
        },
        world["citizen"],
    )

    with app.test_request_context():
        inquiry_html = render_html(answer_of(inquiry))
        info_html = render_html(answer_of(info))

    assert "پاسخ استعلام ملک" in inquiry_html
    assert "بلامانع" in inquiry_html
    assert "۴۲۱۷-۵ فرعی از ۱۲۵ اصلی، بخش ۳" in inquiry_html
    assert "اعتبار این پاسخ ۱۸۰ روز از تاریخ صدور است، تا پایان" in inquiry_html
    assert "پیش‌نمایش دستور نقشه" in info_html
    assert "R211" in info_html
    assert "اعتبار این پاسخ ۹۰ روز از تاریخ صدور است" in info_html
    assert "رایگان" in info_html


def test_the_demo_seeds_are_idempotent_and_reach_their_stages(app: Flask) -> None:
    from app.demo_procedures import property_info, property_inquiry

    for _ in range(2):
        property_info.seed()
        property_inquiry.seed()

    def stages(key: str) -> list[tuple[str, list[str]]]:
        rows = db.session.scalars(select(Case).where(Case.process_key == key).order_by(Case.id))
        return [
            (c.status.value, [t.element_id for t in c.tasks if t.state == TaskState.OPEN])
            for c in rows
        ]

    assert stages("property_info") == [
        ("completed", []),
        ("active", ["expert_review"]),
        ("active", ["inspect_site"]),
        ("waiting_event", []),
    ]
    # Without the completion certificate's demo the unit's file is not clean: both go to review.
    assert stages("property_inquiry") == [
        ("active", ["expert_review"]),
        ("active", ["expert_review"]),
        ("active", ["expert_review"]),
        ("completed", []),
    ]
    users = {u.username: u for u in db.session.scalars(select(User))}
    assert users["notary12"].kind == UserKind.AGENCY
    assert "REQUESTER_NOTARY" in users["notary12"].role_codes
