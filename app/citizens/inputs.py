"""Parse and validate the citizens' hand-written forms: clean values, or messages per field."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from app.citizens.models import PersonKind, RepresentationKind
from app.i18n import current_locale
from app.persian import (
    InvalidValue,
    check_legal_id,
    check_national_code,
    check_postal_code,
    message,
    normalize_text,
    parse_jalali_date,
    tehran_today,
    to_ascii_digits,
)

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _name(raw: str, field: str, errors: dict[str, str]) -> str:
    name = normalize_text(raw).strip()
    if not name:
        errors[field] = _("Enter the full name.")
    elif len(name) > 200:
        errors[field] = _("The name is too long: at most 200 characters.")
    return name


def parse_profile(form: MultiDict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The profile's values, cleaned; errors maps field names to messages."""
    errors: dict[str, str] = {}
    full_name = _name(form.get("full_name", ""), "full_name", errors)
    national = check_national_code(form.get("national_code", ""))
    if not national.ok:
        errors["national_code"] = message(national.error or "", current_locale())
    postal = check_postal_code(form.get("postal_code", ""))
    if not postal.ok:
        errors["postal_code"] = message(postal.error or "", current_locale())
    email = to_ascii_digits(form.get("email", "")).strip().lower()
    if email and (len(email) > 254 or not _EMAIL.fullmatch(email)):
        errors["email"] = _("Enter an e-mail address like name@example.com, or leave it empty.")
    clean = {
        "full_name": full_name,
        "national_code": national.value,
        "postal_code": postal.value,
        "email": email or None,
    }
    return clean, errors


def parse_representation(form: MultiDict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """A declared representation: whom (natural or legal person), by which document, until when."""
    errors: dict[str, str] = {}
    kind_raw = form.get("kind", "")
    if kind_raw not in {k.value for k in RepresentationKind}:
        errors["kind"] = _("Choose how you act for the owner.")
        kind = RepresentationKind.ATTORNEY
    else:
        kind = RepresentationKind(kind_raw)
    person_kind = (
        PersonKind.LEGAL if kind == RepresentationKind.LEGAL_REPRESENTATIVE else PersonKind.NATURAL
    )
    raw_identifier = form.get("identifier", "")
    check = (check_legal_id if person_kind == PersonKind.LEGAL else check_national_code)(
        raw_identifier
    )
    if not check.ok:
        errors["identifier"] = message(check.error or "", current_locale())
    name = _name(form.get("name", ""), "name", errors)
    reference = normalize_text(form.get("reference", "")).strip()
    if not reference:
        errors["reference"] = _("Enter the number and the notary office of the document.")
    elif len(reference) > 120:
        errors["reference"] = _("Keep this under 120 characters.")
    valid_until: date | None = None
    raw_date = form.get("valid_until", "").strip()
    if raw_date:
        parts = re.split(r"[/\-.]", to_ascii_digits(raw_date))
        if len(parts) != 3:
            errors["valid_until"] = _("Enter the date as year/month/day, for example 1405/01/15.")
        else:
            try:
                valid_until = parse_jalali_date(*parts)
            except InvalidValue as invalid:
                errors["valid_until"] = message(invalid.key, current_locale())
            if valid_until is not None and valid_until < tehran_today():
                errors["valid_until"] = _("This date has passed: the power of attorney has ended.")
    clean = {
        "kind": kind,
        "person_kind": person_kind,
        "identifier": check.value,
        "name": name,
        "reference": reference,
        "valid_until": valid_until,
    }
    return clean, errors
