"""Sign-in and sign-out pages for staff and agency users."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.accounts.models import User
from app.accounts.services import authenticate_staff
from app.db import db
from app.extensions import login_manager

bp = Blueprint("accounts", __name__, template_folder="templates")

login_manager.login_view = "accounts.staff_login"
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


@login_manager.unauthorized_handler
def _ask_to_sign_in() -> ResponseReturnValue:
    flash(_("Please sign in to see this page."), "info")
    return redirect(url_for("accounts.staff_login", next=request.full_path))


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect would let a phishing link borrow our domain.
    if target and urlsplit(target).netloc == "" and target.startswith("/") and "//" not in target:
        return target
    return url_for("accounts.me")


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
            user = authenticate_staff(username, password)
            if user is None:
                errors["password"] = _("The username or password is not correct.")
            else:
                login_user(user)
                return redirect(_safe_next(request.args.get("next")))
    status = 422 if errors else 200
    return render_template("accounts/login.html", errors=errors, username=username), status


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    logout_user()
    flash(_("You have signed out."), "success")
    return redirect(url_for("public.home"))


@bp.get("/account")
@login_required
def me() -> ResponseReturnValue:
    return render_template("accounts/me.html", user=current_user)
