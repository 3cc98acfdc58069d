"""Kiosk pages: start screen, citizen menu, finish, inactivity timeout, assisted filing, slip."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
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

from app.accounts.access import citizen_required, staff_required
from app.citizens import flow
from app.citizens.models import CodePurpose
from app.citizens.services import AccountDisabled, profile_complete, sign_in_citizen
from app.db import db
from app.extensions import csrf
from app.kiosk import terminal
from app.kiosk.services import (
    case_for_slip,
    end_assisted_session,
    start_assisted_session,
    visible_cases,
)
from app.persian import normalize_identifier
from app.portal.services import current_step_text

bp = Blueprint(
    "kiosk",
    __name__,
    url_prefix="/kiosk",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

#: Part B's portal pages the kiosk offers, the first of each list that exists.
FILING_ENDPOINTS = ("portal.catalogue", "portal.services", "portal.index")
LOOKUP_ENDPOINTS = ("portal.lookup", "public.lookup", "portal.status_lookup")
#: Pages an anonymous kiosk visitor may open; anything else returns to the start screen.
ANONYMOUS_ENDPOINTS = frozenset(
    {
        "kiosk.start",
        "kiosk.finish",
        "kiosk.ping",
        "citizens.login",
        "citizens.code",
        "citizens.resend",
        "accounts.staff_login",
        *LOOKUP_ENDPOINTS,
    }
)


def _first_endpoint(candidates: tuple[str, ...]) -> str | None:
    return next((e for e in candidates if e in current_app.view_functions), None)


def _is_static(endpoint: str | None) -> bool:
    return endpoint is not None and (endpoint == "static" or endpoint.endswith(".static"))


@bp.before_app_request
def _kiosk_guard() -> ResponseReturnValue | None:
    """On a terminal: end an idle session, and keep anonymous visitors inside the kiosk."""
    if not terminal.is_kiosk() or _is_static(request.endpoint):
        return None
    if terminal.idle_seconds() > current_app.config["KIOSK_IDLE_SECONDS"]:
        _end_session()
        return redirect(url_for("kiosk.start", ended="timeout"))
    terminal.touch()
    endpoint = request.endpoint or ""
    if current_user.is_authenticated or endpoint in ANONYMOUS_ENDPOINTS:
        return None
    return redirect(url_for("kiosk.start"))


@bp.after_app_request
def _nothing_cached(response: Response) -> Response:
    # A terminal's pages must not come back from the cache (Back button) after the citizen left.
    if terminal.is_kiosk() and not _is_static(request.endpoint):
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.app_context_processor
def _kiosk_context() -> dict[str, object]:
    if not terminal.is_kiosk():
        return {"kiosk_mode": False}
    return {
        "kiosk_mode": True,
        "kiosk_idle_seconds": current_app.config["KIOSK_IDLE_SECONDS"],
        "kiosk_warning_seconds": current_app.config["KIOSK_WARNING_SECONDS"],
    }


def _end_session() -> None:
    end_assisted_session(session.get(terminal.ASSIST_KEY))
    db.session.commit()
    terminal.wipe()


@bp.get("/")
def start() -> ResponseReturnValue:
    terminal.mark_terminal()
    if current_user.is_authenticated:
        return redirect(url_for("kiosk.home"))
    lookup = _first_endpoint(LOOKUP_ENDPOINTS)
    return render_template(
        "kiosk/start.html",
        ended=request.args.get("ended"),
        lookup_url=url_for(lookup) if lookup else None,
    )


@bp.get("/home")
@citizen_required
def home() -> ResponseReturnValue:
    filing = _first_endpoint(FILING_ENDPOINTS)
    return render_template(
        "kiosk/home.html",
        filing_url=url_for(filing) if filing else None,
        cases=visible_cases(current_user),
        assisted=bool(session.get(terminal.ASSIST_KEY)),
    )


@bp.post("/finish")
@csrf.exempt  # ending a session must always work, even with a stale page on screen
def finish() -> ResponseReturnValue:
    reason = "timeout" if request.form.get("reason") == "timeout" else "finish"
    _end_session()
    return redirect(url_for("kiosk.start", ended=reason))


@bp.get("/ping")
def ping() -> ResponseReturnValue:
    """Keep the server-side session alive while the citizen types (the guard already touched it)."""
    return "", 204


@bp.get("/slip/<tracking_code>")
@citizen_required
def slip(tracking_code: str) -> ResponseReturnValue:
    case = case_for_slip(current_user, normalize_identifier(tracking_code))
    if case is None:
        abort(404)
    current_step = current_step_text(case.process_version, case.current_step)
    return render_template("kiosk/slip.html", case=case, current_step=current_step)


# --- assisted filing: a counter clerk files for a citizen who confirms by code ---------------


@bp.route("/assist", methods=["GET", "POST"])
@staff_required("COUNTER")
def assist() -> ResponseReturnValue:
    terminal.mark_terminal()
    mobile = request.form.get("mobile", "")
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        mobile, outcome = flow.request_code(mobile, CodePurpose.ASSIST)
        db.session.commit()
        if outcome.error is None:
            return redirect(url_for("kiosk.assist_confirm"))
        errors["mobile"], status = outcome.error, outcome.status
    return render_template("kiosk/assist.html", errors=errors, mobile=mobile), status


@bp.route("/assist/confirm", methods=["GET", "POST"])
@staff_required("COUNTER")
def assist_confirm() -> ResponseReturnValue:
    mobile = flow.pending_mobile(CodePurpose.ASSIST)
    if mobile is None:
        return redirect(url_for("kiosk.assist"))
    errors: dict[str, str] = {}
    status = 200
    typed = request.form.get("code", "")
    if request.method == "POST":
        outcome = flow.confirm_code(typed, CodePurpose.ASSIST)
        if outcome.error is None:
            clerk = current_user._get_current_object()
            try:
                citizen = sign_in_citizen(mobile)
            except AccountDisabled:
                db.session.commit()
                errors["code"] = _("This citizen's account is switched off.")
                return render_template(
                    "kiosk/assist_confirm.html", errors=errors, mobile=mobile, code=""
                ), 403
            assisted = start_assisted_session(clerk, citizen)
            db.session.commit()
            # The clerk's own sign-in ends here: from now on the terminal acts as the citizen.
            session.clear()
            terminal.mark_terminal()
            session[terminal.ASSIST_KEY] = assisted.id
            login_user(citizen)
            if not profile_complete(citizen):
                flash(_("Please complete the citizen's details first."), "info")
                return redirect(url_for("citizens.profile"))
            return redirect(url_for("kiosk.home"))
        db.session.commit()  # a wrong try counts
        errors["code"], status = outcome.error, outcome.status
    return render_template(
        "kiosk/assist_confirm.html", errors=errors, mobile=mobile, code=typed
    ), status
