"""Paying an invoice: start at the gateway, come back through the callback, see the receipt."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.access import payer_required
from app.accounts.models import User, UserKind
from app.certificates import services as certificates
from app.certificates.models import IssuedDocument
from app.certificates.pdf import render_pdf
from app.db import db
from app.extensions import csrf
from app.fees import services as fees
from app.payments import services
from app.payments.gateway import GatewayError, gateway_for
from app.payments.models import Payment, PaymentState

bp = Blueprint(
    "payments",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/payments/static",
)


def _now() -> datetime:
    return datetime.now(UTC)


def _outcome_url(payment: Payment) -> str:
    """Where the payer reads the outcome: back where they work.

    An organisation that filed an inquiry returns to its inquiries page, which shows the
    result; a citizen to the payment's own page. Decided from the payment's payer, not the
    session: a bank's page posts the callback from another site, without the user's cookie.
    """
    payer = db.session.get(User, payment.payer_id) if payment.payer_id else None
    if payer is not None and payer.kind == UserKind.AGENCY:
        return url_for("agency.inquiries", payment=payment.reference, _anchor="payment-outcome")
    return url_for("payments.show", reference=payment.reference)


@bp.post("/invoices/<bill_id>/pay")
@payer_required
def start(bill_id: str) -> ResponseReturnValue:
    """Open a payment at the gateway and send the payer (the case's applicant) there."""
    invoice = fees.invoice_for(bill_id, current_user)
    if invoice is None:
        abort(404)
    try:
        _payment, redirect_url = services.start_payment(
            invoice,
            payer=current_user,
            gateway=gateway_for(current_app),
            callback_url=url_for("payments.callback", _external=True),
            now=_now(),
        )
    except services.NotPayable:
        flash(_("This invoice is already paid."), "success")
        return redirect(url_for("fees.invoice", bill_id=bill_id), 303)
    except GatewayError:
        db.session.rollback()
        current_app.logger.exception("payment gateway refused a token for %s", bill_id)
        flash(
            _(
                "The bank's payment gateway is not answering. Nothing was charged; please try again in a few minutes."
            ),
            "error",
        )
        return redirect(url_for("fees.invoice", bill_id=bill_id), 303)
    db.session.commit()
    return redirect(redirect_url, 303)


@bp.route("/payments/callback", methods=["GET", "POST"])
@csrf.exempt  # the bank's page posts here; the outcome is taken only from verify
def callback() -> ResponseReturnValue:
    """Where the gateway sends the payer back; asks the gateway, then shows the outcome."""
    token = request.values.get("token", "").strip()
    gateway = gateway_for(current_app)
    payment = services.find_payment(token, gateway) if token else None
    if payment is None:
        abort(404)
    reference, outcome = payment.reference, _outcome_url(payment)
    try:
        payment = services.complete_payment(token, gateway=gateway, now=_now())
    except GatewayError:
        db.session.rollback()
        current_app.logger.exception("verify failed for payment %s", reference)
        return redirect(outcome, 303)
    db.session.commit()
    if payment.state == PaymentState.PAID and services.settle_payment(
        payment, gateway=gateway, now=_now()
    ):
        db.session.commit()
    # A redirect, so refreshing the page never posts the callback again.
    return redirect(outcome, 303)


def _own_payment(reference: str) -> Payment:
    payment = services.payment_for(reference, current_user)
    if payment is None:
        abort(404)
    return payment


@bp.get("/payments/<reference>")
@payer_required
def show(reference: str) -> ResponseReturnValue:
    """The outcome of one attempt: the receipt, or what went wrong and how to try again."""
    payment = _own_payment(reference)
    receipt = (
        db.session.get(IssuedDocument, payment.receipt_document_id)
        if payment.receipt_document_id
        else None
    )
    invoice = payment.invoice
    documents = [
        d
        for d in (certificates.case_documents(invoice.case_id) if invoice.case_id else [])
        if d.document_type != services.RECEIPT_DOCUMENT
    ]
    page = render_template(
        "payments/result.html",
        payment=payment,
        invoice=invoice,
        receipt=receipt,
        documents=documents,
    )
    return page, 200, {"Cache-Control": "no-store"}


@bp.post("/payments/<reference>/check")
@payer_required
def check(reference: str) -> ResponseReturnValue:
    """Ask the gateway again about a payment still waiting for confirmation."""
    payment = _own_payment(reference)
    outcome = _outcome_url(payment)
    gateway = gateway_for(current_app)
    try:
        payment = services.complete_payment(payment.token, gateway=gateway, now=_now())
    except GatewayError:
        db.session.rollback()
        flash(
            _("The bank's payment gateway is not answering. Please try again in a few minutes."),
            "error",
        )
        return redirect(outcome, 303)
    db.session.commit()
    if payment.state == PaymentState.PAID and services.settle_payment(
        payment, gateway=gateway, now=_now()
    ):
        db.session.commit()
    return redirect(outcome, 303)


@bp.get("/payments/<reference>/receipt.pdf")
@payer_required
def receipt_pdf(reference: str) -> ResponseReturnValue:
    """The signed receipt of a completed payment as a PDF."""
    payment = _own_payment(reference)
    receipt = (
        db.session.get(IssuedDocument, payment.receipt_document_id)
        if payment.receipt_document_id
        else None
    )
    if receipt is None:
        abort(404)
    return (
        render_pdf(receipt),
        200,
        {
            "Content-Type": "application/pdf",
            "Content-Disposition": f'attachment; filename="receipt-{receipt.document_number}.pdf"',
            "Cache-Control": "no-store",
        },
    )
