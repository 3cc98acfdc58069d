"""The certificate packages at app level: real database, real connectors, app.cases.services.

Domain §9 case 2 (completion certificate, legal person and attorney, 12.6 m² extra roof area
→ Article-100 fine → no objection → fine paid → fire service OK → certificate) and the
no-violation certificate's main path. Staff, the fire service and the bank act through the
same services the pages call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory
from sqlalchemy import select

from app.accounts.models import User
from app.accounts.services import ensure_citizen, ensure_district
from app.cases import services as cases
from app.cases.models import Case, CaseStatus
from app.certificates.models import IssuedDocument
from app.certificates.pdf import render_html
from app.db import db
from app.fees.models import Invoice
from app.notifications.models import Notification
from app.processes.services import deploy_all, latest_version
from app.properties.models import Property, Violation, ViolationStatus
from app.properties.services import property_of_case

FILE = {"name": "deed.pdf", "type": "application/pdf", "size": 2048}
PLATE = {"section": "3", "main": "88", "sub": "1902"}
OWNER: dict[str, Any] = {
    "applicant_type": "legal",
    "legal_id": "10862134507",
    "company_name": "شرکت ساختمانی نمونه‌سازان آذر (سهامی خاص)",
    "applicant_capacity": "attorney",
    "applicant_name": "مریم نیک‌پور",
    "power_of_attorney": FILE,
    "mobile": "09140001002",
    "plate": PLATE,
    "renewal_code": "9-2-15-40-1-0-0",
    "postal_code": "5153715311",
    "address": "تبریز، منطقه ۹، خیابان نمونه، پلاک ۱۲",
    "area": 310.0,
    "land_use": "residential",
    "permit_number": "1402-09-1187",
}
COMPLETION = {
    **OWNER,
    "completion_form_number": "PK-3391",
    "floors": 5,
    "units": 8,
    "built_area": 820.5,
    "deed_scan": FILE,
    "as_built_drawings": [FILE],
}
NO_VIOLATION = {
    **OWNER,
    "construction_stage": "roof",
    "stage_report_number": "NZ-5521",
    "purpose": "bank_loan",
    "deed_last_page": FILE,
    "renewal_receipt": FILE,
}
VISIT = {"visited_on": "1404-09-01", "findings": "بازدید انجام شد"}
FINE = 378_000_000


@pytest.fixture
def clock(app: Flask) -> Iterator[FrozenDateTimeFactory]:
    with freeze_time("2025-11-22 06:00:00+00:00") as frozen:  # 1404-09-01, Saturday
        yield frozen


@pytest.fixture
def people(app: Flask, make_staff: Callable[..., User]) -> dict[str, User]:
    deploy_all(["no_violation_certificate", "completion_certificate"])
    return {
        "attorney": ensure_citizen("09140001002", "مریم نیک‌پور", "1382046170"),
        "counter": make_staff("counter", roles=["COUNTER"]),
        "inspector": make_staff("inspector", roles=["INSPECTOR"]),
        "expert": make_staff("expert", roles=["URB_EXPERT"]),
        "fire": make_staff("fire", roles=["AGENCY_FIRE"]),
        "c100": make_staff("c100", roles=["C100_SEC"]),
        "head": make_staff("head", roles=["URB_HEAD"]),
        "mayor": make_staff("mayor", roles=["DISTRICT_MAYOR"]),
    }


class Driver:
    """Acts on one case as its people would, through app.cases.services."""

    def __init__(self, key: str, people: dict[str, User]) -> None:
        version = latest_version(key)
        assert version is not None
        self.people = people
        self.case = cases.start_case(
            version,
            applicant=people["attorney"],
            district=ensure_district("09", "منطقه ۹", "District 9"),
            data={},
            actor=people["attorney"],
        )

    def open(self) -> list[str]:
        return sorted(t.element_id for t in self.case.tasks if t.state.value == "open")

    def do(self, element_id: str, who: str, answers: dict[str, Any]) -> None:
        [task] = [
            t for t in self.case.tasks if t.element_id == element_id and t.state.value == "open"
        ]
        result = cases.complete_task(
            self.case,
            task.engine_task_id,
            answers,
            actor=self.people[who],
            expected_version=self.case.version_id,
        )
        assert result.incident is None, result.incident
        db.session.flush()

    def pay(self, amount: int, reference: str) -> None:
        waiting = cases.waiting_case("payment_confirmed", self.case.tracking_code)
        cases.deliver_message(
            waiting, "payment_confirmed", {"amount": amount, "reference": reference}
        )
        db.session.flush()

    def wait(self, clock: FrozenDateTimeFactory, days: int) -> None:
        clock.tick(timedelta(days=days, minutes=1))
        assert cases.fire_due_timers(self.case, datetime.now(UTC)) is not None
        db.session.flush()

    def events(self) -> list[str]:
        rows = db.session.scalars(
            select(Notification)
            .where(Notification.case_id == self.case.id)
            .order_by(Notification.id)
        )
        return [row.event_key for row in rows]

    def invoices(self) -> list[Invoice]:
        return list(
            db.session.scalars(
                select(Invoice).where(Invoice.case_id == self.case.id).order_by(Invoice.id)
            )
        )

    def document(self) -> IssuedDocument:
        return db.session.scalars(
            select(IssuedDocument).where(IssuedDocument.case_id == self.case.id)
        ).one()


def test_domain_case_2_completion_with_an_article_100_fine(
    app: Flask, people: dict[str, User], clock: FrozenDateTimeFactory
) -> None:
    run = Driver("completion_certificate", people)
    run.do("submit_application", "attorney", COMPLETION)

    case = run.case
    prop = property_of_case(case.id)
    assert prop is not None
    assert (prop.key, case.registry_plate, case.renewal_code) == (
        "3/88/1902",
        "3/88/1902",
        "9-2-15-40-1-0-0",
    )

    run.do("check_documents", "counter", {"doc_decision": "accept"})
    run.do(
        "inspect_site",
        "inspector",
        {
            **VISIT,
            "inspection_outcome": "violation",
            "violation_kind": "extra_floor_area",
            "violation_area": 12.6,
            "violation_description": "۱۲٫۶ متر مربع اضافه بنا در بام",
        },
    )
    run.do("review_case", "expert", {"decision": "approve"})
    assert run.open() == ["fire_inquiry"]
    run.do("fire_inquiry", "fire", {"answer": "no_objection"})

    [violation] = db.session.scalars(select(Violation).where(Violation.property_id == prop.id))
    assert (violation.kind, violation.status) == ("extra_floor_area", ViolationStatus.OPEN)
    assert run.open() == ["file_defence"]

    run.wait(clock, 10)  # no defence: the referral goes ahead
    run.do(
        "prepare_referral",
        "c100",
        {
            "referral_number": "C100-77",
            "referred_on": "1404-09-10",
            "referral_summary": "اضافه بنا",
        },
    )
    run.do(
        "record_ruling",
        "c100",
        {
            "ruling": "fine",
            "fine_amount": FINE,
            "ruling_number": "R-1404-310",
            "ruled_on": "1404-09-25",
            "ruling_text": "جریمه اضافه بنا",
        },
    )
    assert run.open() == ["object_to_ruling"]
    run.wait(clock, 10)  # the objection window closes on silence

    fine_invoice = run.invoices()[-1]
    assert fine_invoice.total_rials == FINE
    run.pay(FINE, "FINE-REF-1")
    db.session.refresh(violation)
    assert (violation.status, violation.ruling, violation.fine_rials) == (
        ViolationStatus.SETTLED,
        "fine",
        FINE,
    )

    fee_invoice = run.invoices()[-1]
    assert fee_invoice.total_rials == 98_460_000  # 820.5 m² × 120,000 (tariff 1404)
    run.pay(fee_invoice.total_rials, "FEE-REF-1")
    run.do("sign_head", "head", {"confirm": True})
    run.do("sign_mayor", "mayor", {"confirm": True})

    assert case.status == CaseStatus.COMPLETED
    document = run.document()
    assert document.document_type == "completion_certificate"
    assert document.facts["fire_clearance"] == "no_objection"
    assert document.facts["article_100"] == "fine"
    assert document.facts["built_area"] == 820.5
    assert document.facts["tracking_code"] == case.tracking_code
    assert run.events() == [
        "fire_inquiry_sent",
        "violation_found",
        "c100_defence_requested",
        "c100_referred",
        "c100_ruling",
        "objection_window_closed",
        "fine_payable",
        "payment_requested",
        "certificate_issued",
    ]
    assert db.session.get(Property, prop.id) is not None
    with app.test_request_context():
        html = render_html(document)
    assert "گواهی پایان کار" in html
    assert "۸۲۰٫۵ متر مربع" in html
    assert "تخلف با پرداخت جریمه کمیسیون ماده ۱۰۰ تسویه شد" in html


def test_no_violation_certificate_main_path(
    app: Flask, people: dict[str, User], clock: FrozenDateTimeFactory
) -> None:
    run = Driver("no_violation_certificate", people)
    run.do("submit_application", "attorney", NO_VIOLATION)
    run.do(
        "check_documents",
        "counter",
        {
            "doc_decision": "return_for_correction",
            "fix_items": ["renewal_receipt"],
            "doc_note": "قبض سال جاری نیست",
        },
    )
    run.do("correct_application", "attorney", {"correction_note": "قبض جدید بارگذاری شد"})
    run.do("check_documents", "counter", {"doc_decision": "accept"})
    run.do("inspect_site", "inspector", {**VISIT, "inspection_outcome": "compliant"})
    run.do("review_case", "expert", {"decision": "approve"})

    [invoice] = run.invoices()
    assert invoice.total_rials == 12_400_000  # 310 m² × 40,000 (tariff 1404, residential)
    run.pay(invoice.total_rials, "FEE-REF-2")
    run.do("sign_certificate", "head", {"confirm": True})

    assert run.case.status == CaseStatus.COMPLETED
    document = run.document()
    assert document.document_type == "no_violation_certificate"
    assert document.valid_until is not None
    assert (document.valid_until - document.issued_at.date()).days == 90
    assert document.facts["stage"] == "roof"
    assert document.facts["article_100"] == "none"
    prop = property_of_case(run.case.id)
    assert prop is not None
    assert db.session.scalars(select(Violation).where(Violation.property_id == prop.id)).all() == []
    assert run.events() == ["returned_for_correction", "payment_requested", "certificate_issued"]
    with app.test_request_context():
        html = render_html(document)
    assert "گواهی عدم خلاف" in html
    assert "سقف و سفت‌کاری" in html
    assert "پلاک ۱۹۰۲ فرعی از ۸۸ اصلی، بخش ۳" in html


@pytest.mark.parametrize("key", ["no_violation_certificate", "completion_certificate"])
def test_the_packages_validate_against_the_real_connectors(app: Flask, key: str) -> None:
    result = app.test_cli_runner().invoke(args=["processes", "validate", key])
    assert result.exit_code == 0, result.output
    assert f"{key}: ok" in result.output


def test_demo_cases_reach_their_stages_and_seeding_twice_adds_nothing(app: Flask) -> None:
    from app.demo_procedures import completion_certificate, no_violation_certificate

    for module in (no_violation_certificate, completion_certificate, no_violation_certificate):
        module.seed()
        db.session.commit()

    def stages(key: str) -> list[tuple[str | None, list[str]]]:
        rows = db.session.scalars(select(Case).where(Case.process_key == key).order_by(Case.id))
        return [
            (case.outcome, sorted(t.element_id for t in case.tasks if t.state.value == "open"))
            for case in rows
        ]

    assert stages("no_violation_certificate") == [
        (None, ["check_documents"]),
        (None, ["correct_application"]),
        (None, ["object_to_ruling"]),
        ("end_issued", []),
    ]
    assert stages("completion_certificate") == [
        (None, ["fire_inquiry"]),
        (None, []),  # waiting for the appealed fine to be paid
        ("end_issued", []),
    ]
    documents = db.session.scalars(
        select(IssuedDocument.document_type).where(
            IssuedDocument.document_type.like("%_certificate")
        )
    ).all()
    assert sorted(documents) == ["completion_certificate", "no_violation_certificate"]
