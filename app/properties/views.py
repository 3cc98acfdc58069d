"""Staff pages of the property register: search by plate, renewal or postal code, and a
property's record (its cases, documents, violations and the inquiries answered about it)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.accounts.access import staff_required
from app.accounts.models import User
from app.audit.services import record_personal_data_view
from app.db import db
from app.office.queries import service_names
from app.persian.identifiers import format_postal_code
from app.persian.text import normalize_text
from app.properties import queries
from app.properties.models import ZONING_FIELDS
from app.properties.services import plate_of, zoning_of

bp = Blueprint("properties", __name__, url_prefix="/office/properties", template_folder="templates")

#: What the page shows of the record, as named in the audit trail.
VIEWED_FIELDS = ("plate", "renewal_code", "address", "postal_code", "cases", "violations")

ZONING_LABELS = {
    "zone": _l("Zone"),
    "land_use": _l("Land use"),
    "max_floors": _l("Floors allowed"),
    "max_density_pct": _l("Density allowed (%)"),
    "max_coverage_pct": _l("Site coverage allowed (%)"),
    "setback_m": _l("Setback (m)"),
    "street_width_m": _l("Street width (m)"),
}
LAND_USES = {
    "residential": _l("Residential"),
    "commercial": _l("Commercial"),
    "administrative": _l("Administrative"),
    "industrial": _l("Industrial"),
    "mixed": _l("Mixed use"),
    "green": _l("Green space"),
}
CASE_STATUSES = {
    "active": _l("With the municipality"),
    "waiting_citizen": _l("Waiting for the applicant"),
    "waiting_event": _l("Waiting for an answer or payment"),
    "incident": _l("Stopped by an error"),
    "completed": _l("Closed"),
}
DOCUMENT_TYPES = {
    "building_permit": _l("Building permit"),
    "no_violation_certificate": _l("No-violation certificate"),
    "completion_certificate": _l("Completion certificate"),
    "property_info_answer": _l("Property and zoning information"),
    "property_inquiry_answer": _l("Inquiry answer"),
    "sample_permit_certificate": _l("Permit"),
    "payment_receipt": _l("Payment receipt"),
}
STANDINGS = {
    "valid": _l("Valid"),
    "expired": _l("Expired"),
    "revoked": _l("Revoked"),
    "superseded": _l("Superseded"),
}
VIOLATION_KINDS = {
    "extra_floor_area": _l("Built area beyond the permit"),
    "setback": _l("Setback not observed"),
    "use_change": _l("Change of use"),
    "no_permit": _l("Building without a permit"),
    "other": _l("Other"),
}
RULINGS = {
    "fine": _l("Fine"),
    "demolition": _l("Demolition"),
    "restoration": _l("Restoration"),
    "dismissed": _l("Dismissed"),
}


def _user() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _labels() -> dict[str, object]:
    return {
        "zoning_labels": ZONING_LABELS,
        "land_uses": LAND_USES,
        "case_statuses": CASE_STATUSES,
        "document_types": DOCUMENT_TYPES,
        "standings": STANDINGS,
        "violation_kinds": VIOLATION_KINDS,
        "rulings": RULINGS,
        "format_postal_code": format_postal_code,
    }


@bp.get("/")
@staff_required()
def search() -> ResponseReturnValue:
    """Find a property by plate key (3/125/4217 or 125/4217), renewal code or postal code."""
    q = normalize_text(request.args.get("q", ""))[:60]
    results = queries.search(_user(), q) if q else []
    return render_template(
        "properties/search.html",
        q=q,
        results=results,
        plates={prop.id: plate_of(prop) for prop in results},
        **_labels(),
    )


@bp.get("/<int:property_id>")
@staff_required()
def show(property_id: int) -> ResponseReturnValue:
    """The property's record; viewing it is written to the audit trail."""
    user = _user()
    prop = queries.visible_property(user, property_id)
    if prop is None:
        abort(404)  # another district's property is as good as missing
    record_personal_data_view(user, subject=f"property:{prop.id}", fields=VIEWED_FIELDS)
    # Commit before loading the rows: a commit afterwards would expire them all, and the
    # template would reload each one (a statement per case).
    db.session.commit()
    page = queries.property_page(user, prop)
    zoning = zoning_of(prop)
    return render_template(
        "properties/show.html",
        page=page,
        prop=prop,
        plate=plate_of(prop),
        zoning=[(name, zoning[name]) for name in ZONING_FIELDS if name in zoning],
        service_names=service_names(),
        **_labels(),
    )
