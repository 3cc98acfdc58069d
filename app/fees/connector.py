"""The `create_invoice` connector: the process's payment request raises an invoice.

The BPMN maps the DMN outputs to line items (``lines``) and names the notification event;
the service card gives the items' titles and the notification text.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import current_app

from app.cases import connectors
from app.fees.services import InvalidInvoice, create_invoice
from engine import ConnectorContext, ConnectorError, ConnectorRegistry


def register(registry: ConnectorRegistry) -> None:
    """Register `create_invoice` with the engine's connector registry."""
    registry.register(
        "create_invoice",
        create_invoice_connector,
        inputs={"lines": "dict", "tariff_year": "int", "event_key": "str"},
        outputs={"amount": "int", "bill_id": "str", "payment_id": "str"},
        optional=["event_key"],
        description="Raise the case's invoice from its line items and tell the applicant.",
    )


def create_invoice_connector(
    inputs: Mapping[str, Any], context: ConnectorContext
) -> Mapping[str, Any]:
    """Raise the invoice (same one on retry) and queue the payment-requested notification."""
    from app.cases.workflow import current_case

    case = current_case.get()
    if case is None:
        raise ConnectorError("connector called outside a case")
    card = case.process_version.card or {}
    try:
        invoice = create_invoice(
            case,
            inputs["lines"],
            tariff_year=inputs["tariff_year"],
            titles=card.get("fee_items", {}),
            idempotency_key=f"case:{case.id}:{context.idempotency_key}",
            company_code=current_app.config["BILL_COMPANY_CODE"],
            now=datetime.now(UTC),
        )
    except InvalidInvoice as exc:
        raise ConnectorError(str(exc)) from None
    event_key = inputs.get("event_key")
    if event_key:
        connectors.notify(
            {
                "event_key": event_key,
                "recipient_role": "APPLICANT",
                "amount": invoice.total_rials,
                "bill_id": invoice.bill_id,
                "payment_id": invoice.payment_id,
            },
            context,
        )
    return {
        "amount": invoice.total_rials,
        "bill_id": invoice.bill_id,
        "payment_id": invoice.payment_id,
    }
