"""Payment use cases: start an attempt, complete it from the gateway's word, reconcile, settle.

Every outcome is decided by asking the gateway (verify), never by the callback's fields.
Network calls happen before this transaction writes anything, so the embedded SQLite
database is never locked while a gateway answers. Completing a payment is idempotent and
atomic: the payment row is locked and moved out of PENDING once, the invoice is settled by
a compare-and-set update (and a unique column), and the case receives payment_confirmed in
the same transaction.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from app.accounts.models import User
from app.cases import services as cases
from app.cases.models import Case
from app.certificates import services as certificates
from app.certificates.models import IssuedDocument
from app.db import db
from app.fees import services as fees
from app.fees.models import Invoice, InvoiceStatus
from app.payments.gateway import GatewayError, GatewayResult, GatewayState, PaymentGateway
from app.payments.models import Payment, PaymentState

#: The message the waiting process step catches, and the receipt's document type.
PAYMENT_MESSAGE = "payment_confirmed"
RECEIPT_DOCUMENT = "payment_receipt"

_SUCCESS = frozenset({GatewayState.VERIFIED, GatewayState.SETTLED})
_ENDED = {
    GatewayState.CANCELLED: (PaymentState.CANCELLED, "cancelled_by_payer"),
    GatewayState.FAILED: (PaymentState.FAILED, "declined"),
    GatewayState.EXPIRED: (PaymentState.FAILED, "verify_window_passed"),
    GatewayState.REVERSED: (PaymentState.REVERSED, "reversed_at_gateway"),
    GatewayState.UNKNOWN: (PaymentState.FAILED, "unknown_at_gateway"),
}


class NotPayable(Exception):
    """The invoice is already paid or cancelled."""


class UnknownPayment(LookupError):
    """No payment attempt has this token."""


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _unused_reference() -> str:
    while True:
        reference = f"{secrets.randbelow(9 * 10**15) + 10**15}"
        if not db.session.scalar(select(Payment.id).where(Payment.reference == reference)):
            return reference


def start_payment(
    invoice: Invoice,
    *,
    payer: User | None,
    gateway: PaymentGateway,
    callback_url: str,
    now: datetime,
) -> tuple[Payment, str]:
    """Open a payment session at the gateway and record the attempt; returns it and the redirect.

    :raises NotPayable: when the invoice is not open.
    :raises GatewayError: when the gateway refuses or cannot be reached (nothing is recorded).
    """
    if invoice.status != InvoiceStatus.OPEN:
        raise NotPayable(invoice.bill_id)
    reference = _unused_reference()
    session = gateway.request_token(
        amount=invoice.total_rials, order_id=reference, callback_url=callback_url
    )
    payment = Payment(
        reference=reference,
        invoice_id=invoice.id,
        payer_id=payer.id if payer is not None else None,
        gateway=gateway.name,
        token=session.token,
        amount_rials=invoice.total_rials,
        state=PaymentState.PENDING,
        created_at=now,
    )
    db.session.add(payment)
    db.session.flush()
    return payment, session.redirect_url


def find_payment(token: str, gateway: PaymentGateway) -> Payment | None:
    """The attempt with this gateway token."""
    return db.session.scalar(
        select(Payment).where(Payment.gateway == gateway.name, Payment.token == token)
    )


def payment_for(reference: str, user: User) -> Payment | None:
    """The attempt with this reference if it pays the user's invoice (else None: not found).

    The user is the invoice's applicant: a citizen, or an organisation that filed an inquiry.
    """
    payment = db.session.scalar(select(Payment).where(Payment.reference == reference))
    if payment is None or payment.invoice.applicant_id != user.id:
        return None
    return payment


def _lock(payment: Payment) -> Payment:
    locked = db.session.get(Payment, payment.id, with_for_update=True, populate_existing=True)
    if locked is None:  # rows are never deleted; a vanished one is a bug, not an outcome
        raise UnknownPayment(payment.token)
    return locked


def complete_payment(token: str, *, gateway: PaymentGateway, now: datetime) -> Payment:
    """Settle an attempt's outcome by asking the gateway; safe to call any number of times.

    Used by the callback (whatever it claims) and by reconciliation. A pending answer leaves
    the attempt pending.

    :raises UnknownPayment: when no attempt has this token.
    :raises GatewayError: when the gateway cannot be asked (nothing changes).
    """
    payment = find_payment(token, gateway)
    if payment is None:
        raise UnknownPayment(token)
    if payment.state != PaymentState.PENDING:
        return payment  # a refreshed or duplicated callback: already decided
    result = gateway.verify(token)
    payment = _lock(payment)
    if payment.state != PaymentState.PENDING:
        return payment  # another worker decided while this one asked the gateway
    if result.state in _SUCCESS:
        _record_success(payment, result, gateway=gateway, now=now)
    elif result.state in _ENDED:
        _claim(payment, *_ENDED[result.state], result=result, now=now)
    return payment


def _claim(
    payment: Payment, state: PaymentState, reason: str, *, result: GatewayResult, now: datetime
) -> bool:
    """Move the attempt out of PENDING once: a compare-and-set, so of two racing workers
    only one writes (SQLite has no row locks; on PostgreSQL the row lock came first)."""
    claimed = db.session.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.state == PaymentState.PENDING)
        .values(
            state=state,
            reason=reason,
            gateway_reference=result.reference,
            card_mask=result.card_mask,
            completed_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    db.session.refresh(payment)
    return bool(claimed)


def _record_success(
    payment: Payment, result: GatewayResult, *, gateway: PaymentGateway, now: datetime
) -> None:
    # Refunds are decided before this transaction writes, so the gateway call never waits on
    # a database lock; only a lost race for the invoice (below) refunds after writing.
    invoice = payment.invoice
    db.session.refresh(invoice)
    if invoice.paid_payment_id == payment.id:
        return  # this very attempt was completed by another worker meanwhile
    if result.amount != payment.amount_rials or result.order_id != payment.reference:
        _refund(payment, result, gateway, "amount_mismatch", now)
        return
    if invoice.status != InvoiceStatus.OPEN:
        _refund(payment, result, gateway, "already_paid", now)
        return
    if not _claim(payment, PaymentState.PAID, "", result=result, now=now):
        return  # another worker completed this attempt first
    locked = fees.lock_invoice(payment.invoice_id)
    if locked is None or not fees.settle_invoice(locked, payment_id=payment.id, now=now):
        # Another attempt paid the invoice in the meantime: this money goes back.
        gateway.reverse(payment.token)
        payment.state, payment.reason = PaymentState.REVERSED, "already_paid"
        return
    db.session.flush()
    payment.receipt_document_id = _issue_receipt(payment, locked, now).id
    deliver_to_case(payment, now=now)


def _refund(
    payment: Payment,
    result: GatewayResult,
    gateway: PaymentGateway,
    reason: str,
    now: datetime,
) -> None:
    # The money reached us but must not count: give it back (idempotent at the gateway).
    gateway.reverse(payment.token)
    _claim(payment, PaymentState.REVERSED, reason, result=result, now=now)


def _issue_receipt(payment: Payment, invoice: Invoice, now: datetime) -> IssuedDocument:
    case = db.session.get(Case, invoice.case_id) if invoice.case_id else None
    payer = db.session.get(User, payment.payer_id) if payment.payer_id else None
    return certificates.issue_document(
        document_type=RECEIPT_DOCUMENT,
        facts={
            "tracking_code": case.tracking_code if case is not None else "",
            "payer_name": payer.full_name if payer is not None else "",
            "bill_id": invoice.bill_id,
            "payment_id": invoice.payment_id,
            "amount": payment.amount_rials,
            "gateway_reference": payment.gateway_reference or "",
            "payment_reference": payment.reference,
            "card_mask": payment.card_mask or "",
            "paid_at": _utc(now).replace(microsecond=0).isoformat(),
        },
        idempotency_key=f"payment:{payment.id}:receipt",
        case=case,
        now=now,
    )


def deliver_to_case(payment: Payment, *, now: datetime) -> bool:
    """Hand payment_confirmed to the case waiting for this invoice; False if none waits yet."""
    if payment.delivered_at is not None:
        return True
    invoice = payment.invoice
    case = db.session.get(Case, invoice.case_id) if invoice.case_id else None
    if case is None:
        payment.delivered_at = now  # an invoice without a case has nobody to tell
        return True
    try:
        waiting = cases.waiting_case(PAYMENT_MESSAGE, case.tracking_code)
    except cases.NoWaitingCase:
        return False
    cases.deliver_message(
        waiting,
        PAYMENT_MESSAGE,
        {"amount": payment.amount_rials, "reference": payment.gateway_reference or ""},
    )
    payment.delivered_at = now
    return True


def settle_payment(payment: Payment, *, gateway: PaymentGateway, now: datetime) -> bool:
    """Ask the gateway to settle a paid attempt once; False when it could not (retried later)."""
    if payment.state != PaymentState.PAID or payment.settled_at is not None:
        return payment.settled_at is not None
    try:
        result = gateway.settle(payment.token)
    except GatewayError:
        return False
    if result.state != GatewayState.SETTLED:
        return False
    payment.settled_at = now
    return True


@dataclass
class ReconcileReport:
    """What a reconciliation run did."""

    completed: list[str]
    still_pending: list[str]
    settled: list[str]
    delivered: list[str]
    errors: list[str]


def payments_to_reconcile(now: datetime, older_than: timedelta) -> list[int]:
    """Attempts that need the gateway's word: pending too long, or paid but not settled/delivered."""
    stale = select(Payment.id).where(
        Payment.state == PaymentState.PENDING, Payment.created_at <= now - older_than
    )
    unfinished = select(Payment.id).where(
        Payment.state == PaymentState.PAID,
        (Payment.settled_at.is_(None)) | (Payment.delivered_at.is_(None)),
    )
    return sorted(set(db.session.scalars(stale)) | set(db.session.scalars(unfinished)))


def reconcile_payment(
    payment_id: int, *, gateway: PaymentGateway, now: datetime, report: ReconcileReport
) -> None:
    """Finish one attempt: ask the gateway about a pending one, deliver a paid one.

    Settlement is a separate step (`settle_payment`) after the caller commits this one.
    """
    payment = db.session.get(Payment, payment_id)
    if payment is None:
        return
    if payment.state == PaymentState.PENDING:
        try:
            payment = complete_payment(payment.token, gateway=gateway, now=now)
        except GatewayError as error:
            report.errors.append(f"{payment.reference}: {error}")
            return
        if payment.state == PaymentState.PENDING:
            report.still_pending.append(payment.reference)
            return
        report.completed.append(payment.reference)
    if (
        payment.state == PaymentState.PAID
        and payment.delivered_at is None
        and deliver_to_case(payment, now=now)
    ):
        report.delivered.append(payment.reference)
