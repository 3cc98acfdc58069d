"""Fee use cases: raise an invoice from the process's line items, find and settle it.

Amounts and items come from the process package (the DMN tariff table and the BPMN
mapping); titles from its service card. Nothing here decides how much anyone pays.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select, update

from app.accounts.models import User
from app.cases.models import Case
from app.db import db
from app.fees.models import Invoice, InvoiceLine, InvoiceStatus
from app.persian.identifiers import make_bill_id, make_payment_id
from app.persian.jalali import to_jalali

#: The bill standard carries thousands of rials; the remainder is waived on its own line.
ROUNDING_CODE = "rounding"
ROUNDING_TITLES = {"fa": "کسر مبلغ کمتر از هزار ریال", "en": "Amount under 1,000 rials waived"}


class InvalidInvoice(ValueError):
    """The process asked for an invoice that cannot be raised (no items, negative amounts)."""


def _unused_bill_id(company_code: str) -> str:
    while True:
        # Random, not sequential: a bill ID reveals nothing about the municipality's volumes.
        file_id = str(secrets.randbelow(9 * 10**7) + 10**7)
        bill_id = make_bill_id(file_id, company_code)
        if not db.session.scalar(select(Invoice.id).where(Invoice.bill_id == bill_id)):
            return bill_id


def create_invoice(
    case: Case,
    lines: Mapping[str, int],
    *,
    tariff_year: int,
    titles: Mapping[str, Mapping[str, str]],
    idempotency_key: str,
    company_code: str,
    now: datetime,
) -> Invoice:
    """Raise the case's invoice from its line items (same invoice again for the same key).

    :raises InvalidInvoice: when there is nothing to pay or an amount is not a whole rial.
    """
    existing = db.session.scalar(select(Invoice).where(Invoice.idempotency_key == idempotency_key))
    if existing is not None:
        return existing
    items = [(code, amount) for code, amount in lines.items() if amount != 0]
    for code, amount in items:
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise InvalidInvoice(f"line {code} must be a whole, non-negative number of rials")
    total = sum(amount for _, amount in items)
    waived = total % 1000
    if total - waived <= 0:
        raise InvalidInvoice("the invoice has nothing to pay")
    if waived:
        items.append((ROUNDING_CODE, -waived))
    bill_id = _unused_bill_id(company_code)
    year, month, _ = to_jalali(now.date())
    invoice = Invoice(
        bill_id=bill_id,
        payment_id=make_payment_id(total - waived, year % 10, month, bill_id),
        idempotency_key=idempotency_key,
        case_id=case.id,
        applicant_id=case.applicant_id,
        tariff_year=tariff_year,
        total_rials=total - waived,
        status=InvoiceStatus.OPEN,
        created_at=now,
    )
    for position, (code, amount) in enumerate(items, start=1):
        title = ROUNDING_TITLES if code == ROUNDING_CODE else titles.get(code, {})
        invoice.lines.append(
            InvoiceLine(
                position=position,
                code=code,
                title_fa=str(title.get("fa") or code),
                title_en=str(title.get("en") or code),
                amount_rials=amount,
            )
        )
    db.session.add(invoice)
    db.session.flush()
    return invoice


def find_invoice(bill_id: str) -> Invoice | None:
    """The invoice with this bill ID."""
    return db.session.scalar(select(Invoice).where(Invoice.bill_id == bill_id))


def invoice_for(bill_id: str, user: User) -> Invoice | None:
    """The invoice with this bill ID if the user is its case's applicant (else None: not found).

    The applicant is a citizen, or the account of an organisation that filed an inquiry.
    """
    invoice = find_invoice(bill_id)
    if invoice is None or invoice.applicant_id is None or invoice.applicant_id != user.id:
        return None
    return invoice


def case_invoices(case_id: int) -> list[Invoice]:
    """The invoices raised for a case, newest first (for the case page's link)."""
    statement = select(Invoice).where(Invoice.case_id == case_id).order_by(Invoice.id.desc())
    return list(db.session.scalars(statement))


def lock_invoice(invoice_id: int) -> Invoice | None:
    """Load an invoice and lock its row until the transaction ends (a no-op lock on SQLite)."""
    return db.session.get(Invoice, invoice_id, with_for_update=True, populate_existing=True)


def settle_invoice(invoice: Invoice, *, payment_id: int, now: datetime) -> bool:
    """Mark an open invoice paid by one payment; False when it was already paid or cancelled.

    A compare-and-set update, so two verifications racing for one invoice can never both win
    (with the unique paid_payment_id as the last line of defence).
    """
    result = db.session.execute(
        update(Invoice)
        .where(Invoice.id == invoice.id, Invoice.status == InvoiceStatus.OPEN)
        .values(status=InvoiceStatus.PAID, paid_payment_id=payment_id, paid_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(invoice)
    return bool(result.rowcount)  # type: ignore[attr-defined]
