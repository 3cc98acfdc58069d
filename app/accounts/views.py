"""Staff sign-in (password, then a TOTP code), enrolment, password change and session rules."""

from __future__ import annotations

import math
import time
from functools import lru_cache
from urllib.parse import urlsplit

from flask import (
    Blueprint,
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
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import Integer, Select, bindparam, select
from sqlalchemy.orm import joinedload

from app.accounts import services, totp
from app.accounts.models import User, UserKind
from app.accounts.services import AccountProblem, SignInCheck, utc_now
from app.db import db
from app.extensions import login_manager

bp = Blueprint(
    "accounts",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/accounts/static",
)

login_manager.login_view = "accounts.staff_login"
login_manager.login_message_category = "info"

#: How long the password step stays good while the user finds their phone.
PENDING_SECONDS = 300


@lru_cache(maxsize=1)
def _user_statement() -> Select[tuple[User]]:
    # Built once: every signed-in request runs it, and building it again (its options and its
    # cache key) cost more than the query.
    return (
        select(User)
        .where(User.id == bindparam("user_id", type_=Integer))
        .options(joinedload(User.roles), joinedload(User.districts))
    )


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    # Every signed-in page asks for the roles and districts: one statement instead of three.
    if not user_id.isdigit():
        return None
    return db.session.scalars(_user_statement(), {"user_id": int(user_id)}).unique().first()


@login_manager.unauthorized_handler
def _ask_to_sign_in() -> ResponseReturnValue:
    flash(_("Please sign in to see this page."), "info")
    return redirect(url_for("accounts.staff_login", next=request.full_path))


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect would let a phishing link borrow our domain.
    if target and urlsplit(target).netloc == "" and target.startswith("/") and "//" not in target:
        return target
    return url_for("accounts.me")


def _end_session(message: str) -> ResponseReturnValue:
    logout_user()
    session.clear()
    flash(message, "info")
    return redirect(url_for("accounts.staff_login", next=request.full_path))


@bp.before_app_request
def _staff_session_rules() -> ResponseReturnValue | None:
    """End staff sessions that are idle, too old, or older than a password reset."""
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    if current_user.kind == UserKind.CITIZEN:
        return None
    config, now = current_app.config, time.time()
    nonce = current_user.session_nonce
    if nonce and session.get("auth_nonce") != nonce:
        return _end_session(_("Your session was ended by an administrator. Please sign in again."))
    seen = session.get("seen_at")
    if seen is not None and now - float(seen) > config["STAFF_IDLE_MINUTES"] * 60:
        services.record_sign_out(current_user)
        db.session.commit()
        return _end_session(_("You were signed out after a period of inactivity."))
    started = session.get("signed_in_at")
    if started is not None and now - float(started) > config["STAFF_SESSION_HOURS"] * 3600:
        return _end_session(_("Your session has ended. Please sign in again."))
    if seen is None or now - float(seen) > 15:  # rewrite the cookie at most every 15 s
        session["seen_at"] = now
    return None


def _sign_in(user: User) -> ResponseReturnValue:
    services.complete_sign_in(user, now=utc_now())
    db.session.commit()
    target = _safe_next(session.get("staff_next"))
    if user.kind == UserKind.AGENCY and not session.get("staff_next"):
        target = url_for("agency.inbox")  # outside agencies work at /agency, not /office
    session.clear()  # nothing from before sign-in carries over
    login_user(user)
    now = time.time()
    session.update({"auth_nonce": user.session_nonce, "signed_in_at": now, "seen_at": now})
    if user.must_change_password:
        return redirect(url_for("accounts.change_password"))
    if services.totp_required(user) and not user.totp_enrolled:
        return redirect(url_for("accounts.totp_enrol"))
    return redirect(target)


def _refusal(check: SignInCheck) -> str:
    if check.outcome == "locked":
        return _(
            "This account is locked after too many failed attempts. Ask an administrator to unlock it."
        )
    if check.outcome == "wait" and check.retry_at is not None:
        minutes = max(1, math.ceil((check.retry_at - utc_now()).total_seconds() / 60))
        return _("Too many failed attempts. Try again in %(minutes)d minutes.", minutes=minutes)
    return _("The username or password is not correct.")


@bp.route("/staff/login", methods=["GET", "POST"])
def staff_login() -> ResponseReturnValue:
    errors: dict[str, str] = {}
    username = request.form.get("username", "")
    if request.method == "POST":
        password = request.form.get("password", "")
        if not username.strip():
            errors["username"] = _("Enter your username.")
        if not password:
            errors["password"] = _("Enter your password.")
        if not errors:
            check = services.check_staff_password(username, password, now=utc_now())
            db.session.commit()  # failures count even though the page says no
            if check.outcome == "ok" and check.user is not None:
                session["staff_next"] = request.args.get("next")
                if check.user.totp_enrolled:
                    session["pending_user"] = check.user.id
                    session["pending_at"] = time.time()
                    return redirect(url_for("accounts.staff_login_code"))
                return _sign_in(check.user)
            errors["password"] = _refusal(check)
    status = 422 if errors else 200
    return render_template("accounts/login.html", errors=errors, username=username), status


def _pending_user() -> User | None:
    user_id, at = session.get("pending_user"), session.get("pending_at")
    if user_id is None or at is None or time.time() - float(at) > PENDING_SECONDS:
        return None
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.is_active else None


@bp.route("/staff/login/code", methods=["GET", "POST"])
def staff_login_code() -> ResponseReturnValue:
    user = _pending_user()
    if user is None:
        flash(_("Please enter your username and password again."), "info")
        return redirect(url_for("accounts.staff_login"))
    errors: dict[str, str] = {}
    code = request.form.get("code", "")
    if request.method == "POST":
        if not code.strip():
            errors["code"] = _("Enter the 6-digit code from your authenticator app.")
        else:
            check = services.check_totp_code(user, code, now=utc_now())
            db.session.commit()
            if check.outcome == "ok":
                return _sign_in(user)
            if check.outcome == "wrong":
                errors["code"] = _(
                    "The code is not correct. Enter the code your authenticator app shows now."
                )
            else:
                errors["code"] = _refusal(check)
    status = 422 if errors else 200
    return render_template("accounts/login_code.html", errors=errors, code=code), status


@bp.route("/staff/totp", methods=["GET", "POST"])
@login_required
def totp_enrol() -> ResponseReturnValue:
    user: User = current_user._get_current_object()
    errors: dict[str, str] = {}
    code = request.form.get("code", "")
    if request.method == "POST" and not user.totp_enrolled:
        if request.form.get("action") == "start" or not user.totp_secret:
            services.begin_totp_enrolment(user)
            db.session.commit()
            code = ""
        elif not code.strip():
            errors["code"] = _("Enter the 6-digit code from your authenticator app.")
        elif services.confirm_totp_enrolment(user, code, now=utc_now()):
            db.session.commit()
            flash(
                _("Your authenticator is set up. You will be asked for a code at every sign-in."),
                "success",
            )
            return redirect(url_for("accounts.me"))
        else:
            errors["code"] = _(
                "The code is not correct. Check that the app shows Parvaneh and enter its current code."
            )
    context = {"user": user, "errors": errors, "code": code, "qr": None, "secret": None}
    if user.totp_secret and not user.totp_enrolled:
        uri = totp.provisioning_uri(
            user.totp_secret, user.username or str(user.id), current_app.config["TOTP_ISSUER"]
        )
        context.update(qr=totp.qr_svg(uri), secret=totp.grouped(user.totp_secret))
    response = current_app.make_response(
        (render_template("accounts/totp.html", **context), 422 if errors else 200)
    )
    response.headers["Cache-Control"] = "no-store"  # the page shows a secret
    return response


@bp.route("/staff/password", methods=["GET", "POST"])
@login_required
def change_password() -> ResponseReturnValue:
    user: User = current_user._get_current_object()
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            services.change_own_password(
                user,
                request.form.get("current", ""),
                request.form.get("new", ""),
                request.form.get("repeat", ""),
            )
        except AccountProblem as problem:
            errors = problem.errors
        else:
            db.session.commit()
            flash(_("Your password has been changed."), "success")
            if services.totp_required(user) and not user.totp_enrolled:
                return redirect(url_for("accounts.totp_enrol"))
            return redirect(url_for("accounts.me"))
    status = 422 if errors else 200
    return render_template("accounts/password.html", errors=errors, user=user), status


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    if current_user.kind != UserKind.CITIZEN:
        services.record_sign_out(current_user)
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."), "success")
    return redirect(url_for("public.home"))


@bp.get("/account")
@login_required
def me() -> ResponseReturnValue:
    return render_template(
        "accounts/me.html", user=current_user, totp_required=services.totp_required(current_user)
    )
