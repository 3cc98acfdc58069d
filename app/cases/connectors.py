"""Connectors the BPMN service tasks call by name, registered with the engine at start-up.

Each connector runs inside the engine step of one case (see `workflow.current_case`), adds
rows to the same database session, and is idempotent by the engine's idempotency key: a
step retried after an incident returns what the first attempt made instead of doing it twice.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from app.cases.models import Case
from app.certificates import services as certificates
from app.db import db
from app.notifications.models import Notification
from app.notifications.steps import PerLanguage
from app.persian.identifiers import calbit
from app.persian.jalali import to_jalali
from app.persian.money import format_rial
from engine import ConnectorContext, ConnectorError, ConnectorRegistry


def register_connectors(registry: ConnectorRegistry) -> None:
    """Register every connector the process packages may name."""
    registry.register(
        "notify",
        notify,
        inputs={"event_key": "str", "recipient_role": "str", "amount": "int"},
        outputs={"sent": "bool"},
        optional=["amount"],
        description="Queue a message to the applicant or a role, with the card's text for the event.",
    )
    registry.register(
        "issue_document",
        issue_document,
        inputs={
            "document_type": "str",
            "applicant_name": "str",
            "fee_paid": "int",
            "payment_reference": "str",
            "facts": "dict",
            "valid_days": "int",
        },
        outputs={"document_number": "str"},
        optional=["applicant_name", "fee_paid", "payment_reference", "facts", "valid_days"],
        description=(
            "Register an issued document with the facts it certifies (valid `valid_days` days"
            " from issue when given); returns its number."
        ),
    )
    from app.fees.connector import register as register_fee_connectors
    from app.properties.connector import register as register_property_connectors

    register_fee_connectors(registry)
    register_property_connectors(registry)


def _case() -> Case:
    from app.cases.workflow import current_case

    case = current_case.get()
    if case is None:
        raise ConnectorError("connector called outside a case")
    return case


def _key(context: ConnectorContext, case: Case) -> str:
    return f"case:{case.id}:{context.idempotency_key}"


class _Blanks(dict[str, Any]):
    # A text naming a value the event did not supply keeps its {placeholder} visible.
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render_notification(template: Mapping[str, str], values: Mapping[str, Any]) -> tuple[str, str]:
    """The fa and en texts of a card notification, with the event's values filled in."""
    texts = []
    for locale in ("fa", "en"):
        localized = {
            key: getattr(value, locale) if isinstance(value, PerLanguage) else value
            for key, value in values.items()
        }
        if isinstance(values.get("amount"), int):
            localized["amount"] = format_rial(values["amount"], locale, unit=False)
        texts.append(str(template.get(locale, "")).format_map(_Blanks(localized)))
    return texts[0], texts[1]


def notify(inputs: Mapping[str, Any], context: ConnectorContext) -> Mapping[str, Any]:
    """Write an outbox row for the event; delivery happens outside the request."""
    case = _case()
    key = _key(context, case)
    if db.session.scalar(select(Notification.id).where(Notification.idempotency_key == key)):
        return {"sent": True}
    templates = case.process_version.card.get("notifications", {})
    template = templates.get(inputs["event_key"])
    if template is None:
        raise ConnectorError(
            f"the service card has no notification text for event {inputs['event_key']!r}"
        )
    text_fa, text_en = render_notification(
        template, {"tracking_code": case.tracking_code, **inputs}
    )
    role = inputs["recipient_role"]
    db.session.add(
        Notification(
            idempotency_key=key,
            case_id=case.id,
            recipient_id=case.applicant_id if role == "APPLICANT" else None,
            recipient_role=role,
            event_key=inputs["event_key"],
            text_fa=text_fa,
            text_en=text_en,
            created_at=datetime.now(UTC),
        )
    )
    return {"sent": True}


def new_document_number(district_code: str, now: datetime) -> str:
    """A 13-digit document number: Jalali year, district, 6 random digits, check digit."""
    year = to_jalali(now.date())[0]
    body = f"{year}{district_code:0>2}{secrets.randbelow(10**6):06d}"
    return f"{body}{calbit(body)}"


def issue_document(inputs: Mapping[str, Any], context: ConnectorContext) -> Mapping[str, Any]:
    """Register and sign the document with its facts; return its number (same number on retry)."""
    case = _case()
    named = {"document_type", "facts", "valid_days"}
    facts = {name: value for name, value in inputs.items() if name not in named}
    valid_days = inputs.get("valid_days")
    if valid_days is not None and valid_days <= 0:
        raise ConnectorError(f"valid_days must be a positive number of days, not {valid_days}")
    document = certificates.issue_document(
        document_type=inputs["document_type"],
        facts={"tracking_code": case.tracking_code, **(inputs.get("facts") or {}), **facts},
        idempotency_key=_key(context, case),
        case=case,
        now=datetime.now(UTC),
        valid_days=valid_days,
    )
    return {"document_number": document.document_number}
