"""Public verification of issued documents, the published key, and the owner's PDF download."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.access import payer_required
from app.cases.models import Case
from app.certificates import services
from app.certificates.models import IssuedDocument
from app.certificates.pdf import render_pdf
from app.certificates.signing import signing_key
from app.db import db
from app.i18n import localized
from app.persian.jalali import parse_jalali_date
from app.persian.property import RegistryPlate
from app.persian.text import normalize_identifier

bp = Blueprint("certificates", __name__, template_folder="templates")

#: Facts that are amounts of money (rials), whichever package issued the document.
MONEY_FACTS = frozenset({"fee_paid", "amount", "unpaid_fees", "fine"})
_ISO_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
_ISO_MOMENT = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}")
#: Numbers joined by hyphens or slashes (renewal code 9-2-15-37-1-0-0, letter 123/45): bidi
#: would reverse their parts on a right-to-left page unless they are isolated left to right.
_CODE = re.compile(r"[0-9]+(?:[-/][0-9]+)+")


@dataclass(frozen=True)
class Fact:
    """One signed fact as the verification page shows it: a label and a typed value.

    kind: "text", "money", "date", "moment", "plate", "code" (an identifier such as a renewal
    code or a letter number, read left to right) or "group" (then `children`).
    """

    key: str
    label: str
    kind: str
    value: Any
    children: tuple[Fact, ...] = ()


def _common_labels() -> dict[str, str]:
    """Labels of the facts every document may carry (the issuing step and the receipts add them)."""
    return {
        "applicant_name": _("Applicant"),
        "payer_name": _("Paid by"),
        "tracking_code": _("Case tracking code"),
        "fee_paid": _("Fees paid"),
        "amount": _("Amount"),
        "payment_reference": _("Payment reference"),
        "gateway_reference": _("Bank reference"),
        "bill_id": _("Bill ID"),
        "payment_id": _("Payment ID"),
        "card_mask": _("Card"),
        "paid_at": _("Paid at"),
        "valid_until": _("Valid until"),
        "valid_days": _("Valid for (days)"),
    }


def package_fact_labels(document: IssuedDocument) -> dict[str, Any]:
    """The issuing package's ``document_facts`` map ({name: {fa, en, values?}}), if it has one.

    Process analysts own these labels: they live in the package's service.json beside the
    BPMN that names the facts, and travel with the version that issued the document.
    """
    case = db.session.get(Case, document.case_id) if document.case_id else None
    labels = case.process_version.card.get("document_facts") if case is not None else None
    return labels if isinstance(labels, dict) else {}


def _date(text: str) -> date | None:
    match = _ISO_DATE.match(text)
    if match is None:
        return None
    year, month, day = (int(part) for part in match.groups())
    try:
        # Forms store Jalali dates as "1404-06-31"; connectors store Gregorian ISO dates.
        return parse_jalali_date(year, month, day) if year < 1700 else date(year, month, day)
    except ValueError:  # InvalidValue too: not a real day
        return None


def _fact(key: str, value: Any, package: Mapping[str, Any], common: Mapping[str, str]) -> Fact:
    spec = package.get(key)
    spec = spec if isinstance(spec, dict) else {}
    label = localized({k: v for k, v in spec.items() if k in ("fa", "en")}) or common.get(key, key)
    values = spec.get("values")
    if isinstance(value, bool):
        return Fact(key, label, "text", _("Yes") if value else _("No"))
    if isinstance(value, int | float) and (key in MONEY_FACTS or spec.get("format") == "rials"):
        return Fact(key, label, "money", int(value))
    if isinstance(value, str) and isinstance(values, dict) and value in values:
        return Fact(key, label, "text", localized(values[value]))
    if isinstance(value, str) and (day := _date(value)) is not None:
        return Fact(key, label, "date", day)
    if isinstance(value, str) and _ISO_MOMENT.match(value):
        try:
            return Fact(key, label, "moment", datetime.fromisoformat(value))
        except ValueError:
            pass
    if isinstance(value, dict):
        plate = RegistryPlate.from_answers(value)
        if plate is not None and set(value) <= {"section", "main", "sub", "unit"}:
            return Fact(key, label, "plate", plate)
        return Fact(key, label, "group", None, facts_of(value, package, common))
    if isinstance(value, list | tuple):
        return Fact(key, label, "text", "، ".join(str(item) for item in value))
    if isinstance(value, str) and _CODE.fullmatch(value):
        return Fact(key, label, "code", value)
    return Fact(key, label, "text", value)


def facts_of(
    facts: Mapping[str, Any], package: Mapping[str, Any], common: Mapping[str, str]
) -> tuple[Fact, ...]:
    """The non-empty facts in the package's order (its map), then the rest by name."""
    order = {name: position for position, name in enumerate(package)}
    names = sorted(
        (name for name, value in facts.items() if value not in (None, "", [], {})),
        key=lambda name: (order.get(name, len(order)), name),
    )
    return tuple(_fact(name, facts[name], package, common) for name in names)


def document_facts(document: IssuedDocument) -> tuple[Fact, ...]:
    """The document's signed facts with human labels in the current language."""
    facts = dict(document.facts or {})
    if document.valid_until is not None:
        facts.pop("valid_until", None)  # the page shows the register's date already
    return facts_of(facts, package_fact_labels(document), _common_labels())


@bp.get("/verify/")
def lookup() -> ResponseReturnValue:
    """A form to type a document number; any digits (Persian, Arabic, Latin) are accepted."""
    number = normalize_identifier(request.args.get("number", ""))
    if number:
        return redirect(url_for("certificates.verify", number=number), 303)
    return render_template("certificates/lookup.html")


@bp.get("/verify/<number>")
def verify(number: str) -> ResponseReturnValue:
    """Say whether a document is authentic and current, with the facts it certifies."""
    canonical = normalize_identifier(number)
    if canonical != number:
        return redirect(url_for("certificates.verify", number=canonical), 301)
    document = services.find_document(number)
    if document is None:
        return render_template("certificates/lookup.html", not_found=number), 404
    result = services.verify_document(document)
    return render_template(
        "certificates/verify.html",
        result=result,
        document=document,
        facts=document_facts(document),
        key_id=signing_key().key_id,
    )


@bp.get("/verify/public-key.pem")
def public_key() -> ResponseReturnValue:
    """The Ed25519 public key every document signature can be checked with."""
    key = signing_key()
    return (
        key.public_pem(),
        200,
        {"Content-Type": "application/x-pem-file; charset=utf-8", "X-Key-Id": key.key_id},
    )


@bp.get("/certificates/<number>.pdf")
@payer_required
def download(number: str) -> ResponseReturnValue:
    """The signed document as a PDF, for the case's applicant (404 for anyone else)."""
    document = services.document_for(number, current_user)
    if document is None:
        abort(404)
    return (
        render_pdf(document),
        200,
        {
            "Content-Type": "application/pdf",
            "Content-Disposition": f'attachment; filename="{document.document_number}.pdf"',
            "Cache-Control": "no-store",
        },
    )
