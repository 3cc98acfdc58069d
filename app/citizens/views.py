"""Citizens' pages: sign-in with mobile and code, profile, representations; counter checks."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_user
from sqlalchemy import select
from werkzeug.routing import BuildError

from app.accounts.access import citizen_required, staff_required
from app.citizens import flow
from app.citizens.inputs import parse_profile, parse_representation
from app.citizens.models import (
    CitizenProfile,
    CodePurpose,
    Representation,
    RepresentationStatus,
)
from app.citizens.services import (
    AccountDisabled,
    SelfRepresentation,
    attach_power_of_attorney,
    decide_representation,
    declare_representation,
    owner_account,
    pending_representations,
    profile_complete,
    read_power_of_attorney,
    representations_of,
    sign_in_citizen,
    update_profile,
    withdraw_representation,
)
from app.db import db
from app.documents.checks import UploadRefused
from app.documents.services import current_policy, read_upload
from app.documents.storage import StorageError
from app.i18n import current_locale
from app.kiosk import terminal
from app.persian import to_persian_digits

bp = Blueprint(
    "citizens",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/citizens/static",
)

#: Where a signed-in citizen lands, the first that exists (the portal may add its own).
HOME_ENDPOINTS = ("portal.my_cases", "portal.cases", "portal.index", "citizens.profile")
NEXT_KEY = "citizens_next"


def _safe_next(target: str | None) -> str | None:
    # Same-site paths only: an open redirect would let a phishing link borrow our domain.
    if target and urlsplit(target).netloc == "" and target.startswith("/") and "//" not in target:
        return target
    return None


def citizen_home_url() -> str:
    """The citizen's landing page: the kiosk menu on a terminal, else their cases or profile."""
    if terminal.is_kiosk():
        return url_for("kiosk.home")
    for endpoint in HOME_ENDPOINTS:
        if endpoint in current_app.view_functions:
            try:
                return url_for(endpoint)
            except BuildError:
                continue
    return url_for("citizens.profile")


def _no_store(body: str, status: int) -> ResponseReturnValue:
    response = current_app.make_response((body, status))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if request.method == "GET" and (target := _safe_next(request.args.get("next"))):
        session[NEXT_KEY] = target
    if current_user.is_authenticated and request.method == "GET":
        return redirect(citizen_home_url())
    mobile = request.form.get("mobile", "")
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        mobile, outcome = flow.request_code(mobile, CodePurpose.LOGIN)
        if outcome.error is None:
            db.session.commit()
            return redirect(url_for("citizens.code"))
        db.session.commit()  # rate-limit state lives elsewhere; nothing half-made is kept
        errors["mobile"], status = outcome.error, outcome.status
    body = render_template("citizens/login.html", errors=errors, mobile=mobile)
    return _no_store(body, status)


@bp.route("/login/code", methods=["GET", "POST"])
def code() -> ResponseReturnValue:
    mobile = flow.pending_mobile(CodePurpose.LOGIN)
    if mobile is None:
        flash(_("Enter your mobile number to get a sign-in code."), "info")
        return redirect(url_for("citizens.login"))
    errors: dict[str, str] = {}
    status = 200
    typed = request.form.get("code", "")
    if request.method == "POST":
        outcome = flow.confirm_code(typed, CodePurpose.LOGIN)
        if outcome.error is None:
            try:
                user = sign_in_citizen(mobile)
            except AccountDisabled:
                db.session.commit()
                errors["code"] = _(
                    "This account is switched off. Please contact the district office."
                )
                return _no_store(
                    render_template("citizens/code.html", errors=errors, mobile=mobile, code=""),
                    403,
                )
            target = session.get(NEXT_KEY)
            kept = terminal.terminal_keys()
            session.clear()  # a fresh session on sign-in: nothing planted earlier carries over
            session.update(kept)
            login_user(user)
            db.session.commit()
            if not profile_complete(user):
                flash(_("Welcome. Please complete your details before filing a request."), "info")
                return redirect(url_for("citizens.profile"))
            return redirect(_safe_next(target) or citizen_home_url())
        db.session.commit()  # a wrong try counts even though the page says no
        errors["code"], status = outcome.error, outcome.status
    body = render_template("citizens/code.html", errors=errors, mobile=mobile, code=typed)
    return _no_store(body, status)


@bp.post("/login/resend")
def resend() -> ResponseReturnValue:
    outcome = flow.resend_code(CodePurpose.LOGIN)
    db.session.commit()
    mobile = flow.pending_mobile(CodePurpose.LOGIN)
    if outcome.error is None:
        flash(_("A new code was sent. Only the newest code works."), "success")
        return redirect(url_for("citizens.code"))
    if mobile is None:
        flash(outcome.error, "error")
        return redirect(url_for("citizens.login"))
    body = render_template(
        "citizens/code.html", errors={"code": outcome.error}, mobile=mobile, code=""
    )
    return _no_store(body, outcome.status)


@bp.route("/profile", methods=["GET", "POST"])
@citizen_required
def profile() -> ResponseReturnValue:
    user = current_user
    stored = db.session.get(CitizenProfile, user.id)
    shown = to_persian_digits if current_locale() == "fa" else str
    values = {
        "full_name": user.full_name,
        "national_code": shown(user.national_code or ""),
        "postal_code": shown((stored.postal_code if stored else "") or ""),
        "email": (stored.email if stored else "") or "",
    }
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = {key: request.form.get(key, "") for key in values}
        clean, errors = parse_profile(request.form)
        if not errors:
            update_profile(user, **clean)
            db.session.commit()
            flash(_("Your details were saved."), "success")
            return redirect(url_for("citizens.profile"))
        status = 422
    body = render_template(
        "citizens/profile.html",
        values=values,
        errors=errors,
        representations=representations_of(user),
        home_url=citizen_home_url(),
    )
    return _no_store(body, status)


@bp.route("/profile/representations/new", methods=["GET", "POST"])
@citizen_required
def new_representation() -> ResponseReturnValue:
    values = {
        key: request.form.get(key, "")
        for key in ("kind", "identifier", "name", "reference", "valid_until")
    }
    values["kind"] = values["kind"] or "attorney"
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        clean, errors = parse_representation(request.form)
        upload = request.files.get("document")
        if upload is None or not upload.filename:
            errors["document"] = _("Choose the scanned power of attorney (PDF, JPEG or PNG).")
        if not errors and upload is not None:
            owner = owner_account(clean["person_kind"], clean["identifier"], clean["name"])
            try:
                representation = declare_representation(
                    current_user,
                    kind=clean["kind"],
                    owner=owner,
                    reference=clean["reference"],
                    valid_until=clean["valid_until"],
                )
                data = read_upload(
                    upload.stream, upload.filename or "", current_policy().max_file_bytes
                )
                attach_power_of_attorney(representation, data, upload.filename or "")
            except SelfRepresentation:
                db.session.rollback()
                errors["identifier"] = _(
                    "This is your own national code: you do not need a power of attorney to act for yourself."
                )
            except UploadRefused as refused:
                db.session.rollback()
                errors["document"] = refused.message()
            else:
                db.session.commit()
                flash(
                    _(
                        "Saved. The district office will check the power of attorney; until then you cannot act for this owner."
                    ),
                    "success",
                )
                return redirect(url_for("citizens.profile"))
        status = 422
    body = render_template("citizens/representation_new.html", values=values, errors=errors)
    return _no_store(body, status)


def _document_response(representation: Representation) -> ResponseReturnValue:
    try:
        data = read_power_of_attorney(representation)
    except (LookupError, StorageError):
        abort(404)
    response = current_app.response_class(data, mimetype=representation.document_type)
    response.headers["Content-Disposition"] = content_disposition(
        representation.document_name or "document"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response


def content_disposition(name: str) -> str:
    """An attachment header that carries a Persian file name safely (RFC 6266 / 5987)."""
    ascii_name = name.encode("ascii", "ignore").decode() or "document"
    ascii_name = ascii_name.replace('"', "").replace("\\", "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


@bp.get("/profile/representations/<int:representation_id>/document")
@citizen_required
def representation_document(representation_id: int) -> ResponseReturnValue:
    representation = db.session.get(Representation, representation_id)
    if representation is None or representation.agent_id != current_user.id:
        abort(404)
    return _document_response(representation)


@bp.post("/profile/representations/<int:representation_id>/withdraw")
@citizen_required
def withdraw(representation_id: int) -> ResponseReturnValue:
    representation = db.session.get(Representation, representation_id)
    if representation is None or representation.agent_id != current_user.id:
        abort(404)
    withdraw_representation(representation)
    db.session.commit()
    flash(_("You no longer act for this owner."), "success")
    return redirect(url_for("citizens.profile"))


# --- the counter checks declared representations --------------------------------------------


@bp.get("/counter/representations")
@staff_required("COUNTER")
def pending() -> ResponseReturnValue:
    return render_template("citizens/counter_representations.html", items=pending_representations())


@bp.get("/counter/representations/<int:representation_id>/document")
@staff_required("COUNTER")
def counter_document(representation_id: int) -> ResponseReturnValue:
    representation = db.session.get(Representation, representation_id)
    if representation is None:
        abort(404)
    return _document_response(representation)


@bp.post("/counter/representations/<int:representation_id>")
@staff_required("COUNTER")
def decide(representation_id: int) -> ResponseReturnValue:
    representation = db.session.scalar(
        select(Representation).where(Representation.id == representation_id).with_for_update()
    )
    if representation is None:
        abort(404)
    if representation.status != RepresentationStatus.PENDING:
        flash(_("This representation was already decided."), "info")
        return redirect(url_for("citizens.pending"))
    approve = request.form.get("decision") == "approve"
    note = request.form.get("note", "").strip()
    if not approve and not note:
        flash(_("Write the reason for rejecting, so the citizen knows what to fix."), "error")
        return render_template(
            "citizens/counter_representations.html",
            items=pending_representations(),
            note_error=representation_id,
        ), 422
    decide_representation(representation, approve=approve, actor=current_user, note=note)
    db.session.commit()
    flash(_("The decision was saved."), "success")
    return redirect(url_for("citizens.pending"))
