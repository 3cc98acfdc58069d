"""Two workers completing the same payment at once (a double callback, or a callback racing
the reconciliation): committed for real, so the database's own locking decides."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.accounts.services import ensure_citizen, ensure_district, ensure_staff
from app.cases.models import Case, CaseEvent, CaseStatus
from app.certificates.models import IssuedDocument
from app.db import db
from app.fees.models import InvoiceStatus
from app.payments import services
from app.payments.gateway import gateway_for
from app.payments.models import Payment, PaymentState, SimulatedTransaction, SimulatorState
from app.payments.simulator import find_transaction, play
from app.processes.services import deploy_all
from tests.fees.support import case_awaiting_payment

pytestmark = pytest.mark.requires_commit


def test_racing_completions_count_the_payment_once(live_db: Flask) -> None:
    deploy_all(["sample_permit"])
    district = ensure_district("09", "منطقه ۹", "District 9")
    citizen = ensure_citizen("09140001001", "علی کریمی", "1360524185")
    expert = ensure_staff("expert", "کارشناس", "correct horse battery", ["URB_EXPERT"], [district])
    db.session.commit()
    case, invoice = case_awaiting_payment(citizen, expert, district)
    gateway, now = gateway_for(live_db), datetime.now(UTC)
    payment, _ = services.start_payment(
        invoice, payer=citizen, gateway=gateway, callback_url="/payments/callback", now=now
    )
    db.session.commit()
    transaction = find_transaction(payment.token)
    assert transaction is not None
    assert play(transaction, "pay", now)
    db.session.commit()
    token, case_id = payment.token, case.id
    db.session.remove()

    barrier = threading.Barrier(3)
    outcomes: list[Any] = []

    def worker() -> None:
        with live_db.app_context():
            barrier.wait()
            try:
                done = services.complete_payment(token, gateway=gateway_for(live_db), now=now)
                db.session.commit()
                outcomes.append(done.state)
            except Exception as error:  # reported below: the test wants to see it
                db.session.rollback()
                outcomes.append(error)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert outcomes == [PaymentState.PAID] * 3, outcomes
    db.session.remove()
    [stored] = db.session.scalars(select(Payment)).all()
    assert stored.state == PaymentState.PAID
    assert stored.invoice.status == InvoiceStatus.PAID
    simulated = db.session.scalar(select(SimulatedTransaction))
    assert simulated is not None
    assert simulated.state == SimulatorState.VERIFIED  # never reversed by a losing worker
    stored_case = db.session.get(Case, case_id)
    assert stored_case is not None
    assert stored_case.status == CaseStatus.COMPLETED
    received = db.session.scalar(
        select(func.count(CaseEvent.id)).where(
            CaseEvent.case_id == case_id, CaseEvent.kind == "message_received"
        )
    )
    assert received == 1
    documents = db.session.scalar(
        select(func.count(IssuedDocument.id)).where(IssuedDocument.case_id == case_id)
    )
    assert documents == 2  # the permit and the receipt, once each
