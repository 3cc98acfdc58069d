"""The citizen's invoice page: line items, the total in words, bill and payment IDs, Pay."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from app.accounts.access import payer_required
from app.db import db
from app.fees import services
from app.fees.models import InvoiceStatus
from app.payments.models import Payment, PaymentState

bp = Blueprint("fees", __name__, url_prefix="/invoices", template_folder="templates")


@bp.get("/<bill_id>")
@payer_required
def invoice(bill_id: str) -> ResponseReturnValue:
    """Show one of the signed-in citizen's invoices (404 for anyone else's)."""
    found = services.invoice_for(bill_id, current_user)
    if found is None:
        abort(404)
    paid_by = db.session.get(Payment, found.paid_payment_id) if found.paid_payment_id else None
    last = db.session.scalar(
        select(Payment).where(Payment.invoice_id == found.id).order_by(Payment.id.desc())
    )
    response = render_template(
        "fees/invoice.html",
        invoice=found,
        payable=found.status == InvoiceStatus.OPEN,
        paid_by=paid_by,
        pending=last if last is not None and last.state == PaymentState.PENDING else None,
    )
    return response, 200, {"Cache-Control": "no-store"}
