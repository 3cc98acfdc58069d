"""Every way a payment can go, through the real routes, the HTTP adapter and the simulator.

Each path ends in the right state with exactly one payment row per attempt; only a verified
payment of the right amount counts, once, and reaches the waiting case as a message.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import func, select

from app.cases.models import Case, CaseStatus
from app.certificates.models import IssuedDocument
from app.certificates.services import verify_document
from app.db import db
from app.fees.models import Invoice, InvoiceStatus
from app.payments.gateway import GatewayError, GatewayState, gateway_for
from app.payments.models import Payment, PaymentState, SimulatedTransaction, SimulatorState
from tests.fees.support import case_awaiting_payment, signed_in

NOW = "2026-11-29 08:00:00+00:00"


@pytest.fixture
def awaiting(people: dict[str, Any]) -> tuple[Case, Invoice]:
    with freeze_time(NOW):
        return case_awaiting_payment(people["citizen"], people["expert"], people["district"])


@pytest.fixture
def citizen(app: Flask, people: dict[str, Any]) -> FlaskClient:
    return signed_in(app, people["citizen"])


def start(client: FlaskClient, invoice: Invoice) -> str:
    """Press Pay: returns the gateway token the citizen was sent to."""
    response = client.post(f"/invoices/{invoice.bill_id}/pay")
    assert response.status_code == 303, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith("/simulator/ipg/pay/")
    return location.rsplit("/", 1)[1]


def at_gateway(client: FlaskClient, token: str, action: str) -> str:
    response = client.post(f"/simulator/ipg/pay/{token}", data={"action": action})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def callback(client: FlaskClient, token: str, state: str = "OK", **extra: str) -> str:
    response = client.post("/payments/callback", data={"token": token, "state": state, **extra})
    assert response.status_code == 303
    location: str = response.headers["Location"]
    return location


def reload(*rows: Any) -> None:
    db.session.expire_all()
    for row in rows:
        db.session.refresh(row)


def payments() -> list[Payment]:
    return list(db.session.scalars(select(Payment).order_by(Payment.id)))


def documents(case: Case, kind: str) -> list[IssuedDocument]:
    return list(
        db.session.scalars(
            select(IssuedDocument).where(
                IssuedDocument.case_id == case.id, IssuedDocument.document_type == kind
            )
        )
    )


def assert_still_waiting(case: Case, invoice: Invoice) -> None:
    reload(case, invoice)
    assert invoice.status == InvoiceStatus.OPEN
    assert invoice.paid_payment_id is None
    assert case.status == CaseStatus.WAITING_EVENT
    assert documents(case, "sample_permit_certificate") == []


def test_success_pays_once_and_the_case_issues_the_permit(
    awaiting: tuple[Case, Invoice], citizen: FlaskClient
) -> None:
    case, invoice = awaiting
    token = start(citizen, invoice)
    page = at_gateway(citizen, token, "pay")
    assert 'id="return-to-merchant"' in page  # a form, so it works without JavaScript

    location = callback(citizen, token)

    [payment] = payments()
    assert location == f"/payments/{payment.reference}"
    reload(case, invoice)
    assert payment.state == PaymentState.PAID
    assert payment.amount_rials == invoice.total_rials
    assert payment.gateway_reference
    assert payment.settled_at is not None
    assert payment.delivered_at is not None
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.paid_payment_id == payment.id
    assert case.status == CaseStatus.COMPLETED
    assert case.outcome == "end_approved"
    [permit] = documents(case, "sample_permit_certificate")
    assert permit.facts["fee_paid"] == invoice.total_rials
    assert permit.facts["payment_reference"] == payment.gateway_reference
    assert verify_document(permit).signature_valid
    [receipt] = documents(case, "payment_receipt")
    assert payment.receipt_document_id == receipt.id
    assert receipt.facts["amount"] == invoice.total_rials
    assert verify_document(receipt).signature_valid
    simulated = db.session.scalar(select(SimulatedTransaction))
    assert simulated is not None
    assert simulated.state == SimulatorState.SETTLED

    result = citizen.get(location)
    text = result.get_data(as_text=True)
    assert result.status_code == 200
    assert "پرداخت انجام شد" in text
    assert f"/certificates/{permit.document_number}.pdf" in text
    assert f"/payments/{payment.reference}/receipt.pdf" in text


def test_duplicate_and_refreshed_callbacks_change_nothing(
    awaiting: tuple[Case, Invoice], citizen: FlaskClient
) -> None:
    case, invoice = awaiting
    token = start(citizen, invoice)
    at_gateway(citizen, token, "pay")
    first = callback(citizen, token)

    assert callback(citizen, token) == first  # the bank posts twice
    refreshed = citizen.get(f"/payments/callback?token={token}&state=OK")  # the payer refreshes
    assert refreshed.headers["Location"] == first

    assert len(payments()) == 1
    reload(case)
    assert case.status == CaseStatus.COMPLETED
    assert len(documents(case, "sample_permit_certificate")) == 1
    assert len(documents(case, "payment_receipt")) == 1


@pytest.mark.parametrize(
    ("action", "state", "reason", "words"),
    [
        ("cancel", PaymentState.CANCELLED, "cancelled_by_payer", "لغو کردید"),
        ("fail", PaymentState.FAILED, "declined", "بانک پرداخت را نپذیرفت"),
    ],
)
def test_cancelled_or_declined_payments_leave_the_invoice_open(
    awaiting: tuple[Case, Invoice],
    citizen: FlaskClient,
    action: str,
    state: PaymentState,
    reason: str,
    words: str,
) -> None:
    case, invoice = awaiting
    token = start(citizen, invoice)
    at_gateway(citizen, token, action)

    location = callback(citizen, token, {"cancel": "CANCELED", "fail": "FAILED"}[action])

    [payment] = payments()
    assert (payment.state, payment.reason) == (state, reason)
    assert_still_waiting(case, invoice)
    assert words in citizen.get(location).get_data(as_text=True)
    # A forged "OK" for the same token afterwards changes nothing.
    callback(citizen, token, "OK")
    reload(payment)
    assert payment.state == state
    assert_still_waiting(case, invoice)


def test_a_callback_claiming_success_before_payment_is_not_believed(
    awaiting: tuple[Case, Invoice], citizen: FlaskClient
) -> None:
    case, invoice = awaiting
    token = start(citizen, invoice)  # the payer never pays

    callback(citizen, token, "OK", amount="1000", ref_num="999999999999")

    [payment] = payments()
    assert payment.state == PaymentState.PENDING
    assert_still_waiting(case, invoice)


def test_a_payment_of_another_amount_is_refunded_not_counted(
    awaiting: tuple[Case, Invoice], citizen: FlaskClient
) -> None:
    case, invoice = awaiting
    token = start(citizen, invoice)
    # The gateway charged a different amount than we asked for (tampering or a bank error).
    simulated = db.session.scalar(
        select(SimulatedTransaction).where(SimulatedTransaction.token == token)
    )
    assert simulated is not None
    simulated.amount = 1_000
    db.session.commit()
    at_gateway(citizen, token, "pay")

    location = callback(citizen, token, "OK", amount=str(invoice.total_rials))

    [payment] = payments()
    assert (payment.state, payment.reason) == (PaymentState.REVERSED, "amount_mismatch")
    reload(simulated)
    assert simulated.state == SimulatorState.REVERSED  # the money went back
    assert_still_waiting(case, invoice)
    assert "مبلغ دیگری" in citizen.get(location).get_data(as_text=True)


def test_a_late_verify_finds_the_payment_reversed_by_the_bank(
    awaiting: tuple[Case, Invoice], citizen: FlaskClient
) -> None:
    case, invoice = awaiting
    # From now (a session cookie signed "in the future" would not be accepted).
    with freeze_time(datetime.now(UTC)) as clock:
        token = start(citizen, invoice)
        at_gateway(citizen, token, "pay")
        clock.tick(timedelta(minutes=21))  # past the simulator's 20-minute verify window

        callback(citizen, token)

    [payment] = payments()
    assert (payment.state, payment.reason) == (PaymentState.FAILED, "verify_window_passed")
    assert_still_waiting(case, invoice)


def test_a_lost_callback_is_found_and_completed_by_reconciliation(
    app: Flask, awaiting: tuple[Case, Invoice], citizen: FlaskClient
) -> None:
    case, invoice = awaiting
    token = start(citizen, invoice)
    page = at_gateway(citizen, token, "timeout")
    assert "return-to-merchant" not in page  # the payer never comes back
    [payment] = payments()
    assert payment.state == PaymentState.PENDING

    runner = app.test_cli_runner()
    too_early = runner.invoke(args=["payments", "reconcile"])  # default: pending 10 minutes
    assert "completed: 0" in too_early.output
    result = runner.invoke(args=["payments", "reconcile", "--older-than", "0"])

    assert result.exit_code == 0, result.output
    assert "completed: 1" in result.output
    assert "settled: 1" in result.output
    reload(payment, invoice, case)
    assert payment.state == PaymentState.PAID
    assert payment.settled_at is not None
    assert invoice.status == InvoiceStatus.PAID
    assert case.status == CaseStatus.COMPLETED
    assert len(payments()) == 1
    # Running it again finds nothing left to do.
    again = runner.invoke(args=["payments", "reconcile", "--older-than", "0"])
    assert "completed: 0" in again.output
    assert "settled: 0" in again.output


def test_a_second_attempt_paid_after_the_first_is_refunded(
    awaiting: tuple[Case, Invoice], citizen: FlaskClient
) -> None:
    case, invoice = awaiting
    first, second = start(citizen, invoice), start(citizen, invoice)  # two tabs
    at_gateway(citizen, first, "pay")
    at_gateway(citizen, second, "pay")

    callback(citizen, first)
    callback(citizen, second)

    paid, refunded = payments()
    assert paid.state == PaymentState.PAID
    assert (refunded.state, refunded.reason) == (PaymentState.REVERSED, "already_paid")
    reload(invoice, case)
    assert invoice.paid_payment_id == paid.id
    assert case.status == CaseStatus.COMPLETED
    assert len(documents(case, "sample_permit_certificate")) == 1
    assert len(documents(case, "payment_receipt")) == 1


def test_a_paid_invoice_cannot_be_paid_again(
    awaiting: tuple[Case, Invoice], citizen: FlaskClient
) -> None:
    _, invoice = awaiting
    token = start(citizen, invoice)
    at_gateway(citizen, token, "pay")
    callback(citizen, token)

    response = citizen.post(f"/invoices/{invoice.bill_id}/pay")

    assert response.headers["Location"] == f"/invoices/{invoice.bill_id}"
    assert len(payments()) == 1


def test_an_unreachable_gateway_records_nothing_and_keeps_the_invoice(
    app: Flask, awaiting: tuple[Case, Invoice], citizen: FlaskClient
) -> None:
    _, invoice = awaiting
    app.config["PAYMENT_GATEWAY_URL"] = "http://127.0.0.1:9/ipg"  # nothing listens on port 9
    try:
        response = citizen.post(f"/invoices/{invoice.bill_id}/pay")
    finally:
        app.config["PAYMENT_GATEWAY_URL"] = ""

    assert response.headers["Location"] == f"/invoices/{invoice.bill_id}"
    assert payments() == []
    page = citizen.get(f"/invoices/{invoice.bill_id}").get_data(as_text=True)
    assert "درگاه پرداخت بانک پاسخ نمی‌دهد" in page


def test_the_simulator_refuses_a_wrong_key(app: Flask, awaiting: tuple[Case, Invoice]) -> None:
    gateway = gateway_for(app)
    gateway.api_key = "not-the-key"

    with pytest.raises(GatewayError, match="unauthorised"):
        gateway.request_token(amount=10_000, order_id="1", callback_url="/x")


def test_exactly_one_row_per_attempt_across_all_paths(
    app: Flask, awaiting: tuple[Case, Invoice], citizen: FlaskClient
) -> None:
    _, invoice = awaiting
    for action in ("cancel", "fail", "timeout", "pay"):
        token = start(citizen, invoice)
        at_gateway(citizen, token, action)
        if action != "timeout":
            callback(citizen, token)
            callback(citizen, token)
    counted = db.session.scalar(select(func.count(Payment.id)))
    assert counted == 4
    assert [p.state for p in payments()] == [
        PaymentState.CANCELLED,
        PaymentState.FAILED,
        PaymentState.PENDING,
        PaymentState.PAID,
    ]
    assert gateway_for(app).inquire(payments()[2].token).state == GatewayState.PAID
