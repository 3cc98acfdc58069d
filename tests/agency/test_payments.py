"""An inquiring organisation pays its inquiry's levies online, through the same routes and the
gateway simulator citizens use, and comes back to its inquiries page; nobody else may.

Domain §9 case 3 with the real property_inquiry package: the unit's file holds a completion
certificate, so the notary's clean inquiry raises the transfer and renewal levies and waits
for payment_confirmed; once paid, the answer «بلامانع» is issued at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.accounts.models import User, UserKind
from app.accounts.services import ensure_citizen, ensure_district, ensure_staff
from app.cases import services as cases
from app.cases.models import Case, CaseStatus, TaskState
from app.certificates import services as certificates
from app.certificates.models import IssuedDocument
from app.db import db
from app.fees.models import Invoice, InvoiceStatus
from app.payments.models import Payment, PaymentState
from app.processes.services import deploy_all, latest_version
from app.properties import services as register
from app.properties.zoning import parse_plate_key
from tests.fees.support import signed_in

PASSWORD = "correct horse battery"
TO_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
UNIT = {"section": "3", "main": "125", "sub": "4217-5"}
NOTARY_LETTER = {
    "requester_kind": "notary",
    "requester_name": "دفتر اسناد رسمی شماره ۱۲ تبریز",
    "letter_number": "1404/2231",
    "letter_date": "1404-06-31",
    "plate": UNIT,
    "area": 85.5,
    "land_use": "residential",
    "purpose": "transfer",
    "seller_national_code": "0084127759",
    "buyer_national_code": "1367710944",
}


def _agency(username: str, role: str, district: Any) -> User:
    return ensure_staff(
        username, f"سازمان {username}", PASSWORD, [role], [district], kind=UserKind.AGENCY
    )


@pytest.fixture
def world(app: Flask) -> dict[str, Any]:
    deploy_all(["property_inquiry", "sample_permit"])
    district = ensure_district("09", "منطقه ۹", "District 9")
    citizen = ensure_citizen("09140001001", "علی کریمی", "1360524185")
    # The unit's earlier case and its completion certificate, already in the register.
    version = latest_version("sample_permit")
    assert version is not None
    earlier = cases.start_case(
        version, applicant=citizen, district=district, data={}, actor=citizen
    )
    register.link_case(
        register.get_or_create(parse_plate_key("3/125/4217-5")), earlier, datetime.now(UTC)
    )
    certificates.issue_document(
        document_type="completion_certificate",
        facts={"tracking_code": earlier.tracking_code},
        idempotency_key=f"test:{earlier.id}:completion",
        case=earlier,
        now=datetime.now(UTC) - timedelta(days=30),
    )
    return {
        "district": district,
        "citizen": citizen,
        "notary": _agency("notary-12", "REQUESTER_NOTARY", district),
        "other_notary": _agency("notary-40", "REQUESTER_NOTARY", district),
        "bank": _agency("bank-valiasr", "REQUESTER_BANK", district),
        "fire": _agency("fire", "AGENCY_FIRE", district),
        "revenue": ensure_staff("revenue-9", "واحد درآمد", PASSWORD, ["REVENUE"], [district]),
    }


@pytest.fixture
def awaiting(world: dict[str, Any]) -> tuple[Case, Invoice]:
    """The notary's clean inquiry, waiting for its levies to be paid."""
    version = latest_version("property_inquiry")
    assert version is not None
    notary = world["notary"]
    case = cases.start_case(
        version, applicant=notary, district=world["district"], data={}, actor=notary
    )
    [task] = [
        t for t in case.tasks if t.state == TaskState.OPEN and t.element_id == "submit_inquiry"
    ]
    cases.complete_task(
        case, task.engine_task_id, NOTARY_LETTER, actor=notary, expected_version=case.version_id
    )
    db.session.commit()
    assert case.status == CaseStatus.WAITING_EVENT
    invoice = db.session.scalars(select(Invoice).where(Invoice.case_id == case.id)).one()
    assert invoice.applicant_id == notary.id
    return case, invoice


@pytest.fixture
def client_of(app: Flask, world: dict[str, Any]) -> Callable[[str], FlaskClient]:
    return lambda who: signed_in(app, world[who])


def pay_at_the_simulator(client: FlaskClient, invoice: Invoice, action: str = "pay") -> str:
    """Press «Pay online», act on the simulator's page, come back: returns where the payer lands."""
    started = client.post(f"/invoices/{invoice.bill_id}/pay")
    assert started.status_code == 303, started.get_data(as_text=True)
    assert started.headers["Location"].startswith("/simulator/ipg/pay/")
    token = started.headers["Location"].rsplit("/", 1)[1]
    assert client.post(f"/simulator/ipg/pay/{token}", data={"action": action}).status_code == 200
    back = client.post("/payments/callback", data={"token": token, "state": "OK"})
    assert back.status_code == 303
    location: str = back.headers["Location"]
    return location


def answers(case: Case) -> list[IssuedDocument]:
    return list(
        db.session.scalars(
            select(IssuedDocument).where(
                IssuedDocument.case_id == case.id,
                IssuedDocument.document_type == "property_inquiry_answer",
            )
        )
    )


def test_the_notary_sees_the_invoice_and_pays_it_through_the_simulator(
    awaiting: tuple[Case, Invoice], client_of: Callable[[str], FlaskClient]
) -> None:
    case, invoice = awaiting
    notary = client_of("notary")
    listing = notary.get("/agency/inquiries/").get_data(as_text=True)
    amount = f"{invoice.total_rials:,}".replace(",", "٬").translate(TO_PERSIAN)
    assert amount in listing  # the amount in Persian digits with Persian separators
    assert invoice.bill_id.translate(TO_PERSIAN) in listing
    assert invoice.payment_id.translate(TO_PERSIAN) in listing
    assert f'action="/invoices/{invoice.bill_id}/pay"' in listing
    assert notary.get(f"/invoices/{invoice.bill_id}").status_code == 200

    landed = pay_at_the_simulator(notary, invoice)

    [payment] = db.session.scalars(select(Payment)).all()
    assert landed == f"/agency/inquiries/?payment={payment.reference}#payment-outcome"
    db.session.expire_all()
    assert payment.state == PaymentState.PAID
    assert payment.payer_id == awaiting[0].applicant_id
    assert invoice.status == InvoiceStatus.PAID
    assert case.status == CaseStatus.COMPLETED  # the message reached the case: answer issued
    [answer] = answers(case)
    assert answer.facts["answer"] == "بلامانع"
    assert answer.facts["fee_paid"] == invoice.total_rials

    page = notary.get(landed).get_data(as_text=True)
    assert 'id="payment-outcome"' in page
    assert "پرداخت انجام شد" in page
    assert answer.document_number.translate(TO_PERSIAN) in page  # the answer is on the list
    assert f'action="/invoices/{invoice.bill_id}/pay"' not in page  # nothing left to pay
    receipt = db.session.get(IssuedDocument, payment.receipt_document_id)
    assert receipt is not None
    # The receipt sits beside its invoice, not among the answers.
    assert f"/agency/answers/{receipt.document_number}.pdf" not in page
    assert f"/payments/{payment.reference}" in page

    shown = notary.get(f"/payments/{payment.reference}")
    assert shown.status_code == 200
    assert "بازگشت به استعلام‌های من" in shown.get_data(as_text=True)
    pdf = notary.get(f"/payments/{payment.reference}/receipt.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert notary.get(f"/certificates/{answer.document_number}.pdf").status_code == 200


def test_a_cancelled_payment_brings_the_notary_back_to_pay_again(
    awaiting: tuple[Case, Invoice], client_of: Callable[[str], FlaskClient]
) -> None:
    case, invoice = awaiting
    notary = client_of("notary")

    landed = pay_at_the_simulator(notary, invoice, action="cancel")

    [payment] = db.session.scalars(select(Payment)).all()
    assert landed.startswith(f"/agency/inquiries/?payment={payment.reference}")
    page = notary.get(landed).get_data(as_text=True)
    assert "پرداخت انجام نشد" in page
    assert f'action="/invoices/{invoice.bill_id}/pay"' in page  # pay again from the list
    db.session.expire_all()
    assert payment.state == PaymentState.CANCELLED
    assert invoice.status == InvoiceStatus.OPEN
    assert case.status == CaseStatus.WAITING_EVENT
    assert answers(case) == []


@pytest.mark.parametrize("who", ["other_notary", "bank", "fire", "citizen", "revenue"])
def test_nobody_else_sees_or_pays_the_organisations_invoice(
    awaiting: tuple[Case, Invoice], client_of: Callable[[str], FlaskClient], who: str
) -> None:
    case, invoice = awaiting
    landed = pay_at_the_simulator(client_of("notary"), invoice)
    [payment] = db.session.scalars(select(Payment)).all()
    [answer] = answers(case)

    stranger = client_of(who)
    assert stranger.get(f"/invoices/{invoice.bill_id}").status_code == 404
    assert stranger.post(f"/invoices/{invoice.bill_id}/pay").status_code == 404
    assert stranger.get(f"/payments/{payment.reference}").status_code == 404
    assert stranger.post(f"/payments/{payment.reference}/check").status_code == 404
    assert stranger.get(f"/payments/{payment.reference}/receipt.pdf").status_code == 404
    assert stranger.get(f"/certificates/{answer.document_number}.pdf").status_code == 404
    if who in ("other_notary", "bank"):  # their own list says nothing about it either
        page = stranger.get(landed).get_data(as_text=True)
        assert 'id="payment-outcome"' not in page
        assert invoice.bill_id.translate(TO_PERSIAN) not in page
    assert db.session.scalar(select(Payment).where(Payment.id != payment.id)) is None
