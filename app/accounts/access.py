"""Route guards: who may open a page. Citizens and staff sign in differently."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, redirect, request, url_for
from flask_login import current_user

from app.accounts.models import User, UserKind

View = TypeVar("View", bound=Callable[..., Any])


def citizen_required(view: View) -> View:
    """Let only a signed-in citizen in; others are sent to the citizens' sign-in page."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return redirect(url_for("citizens.login", next=request.full_path))
        if current_user.kind != UserKind.CITIZEN:
            abort(403)
        return view(*args, **kwargs)

    return guarded  # type: ignore[return-value]


def staff_required(*roles: str) -> Callable[[View], View]:
    """Let in signed-in staff holding any of `roles` (any staff member when none are given)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return redirect(url_for("accounts.staff_login", next=request.full_path))
            if current_user.kind == UserKind.CITIZEN:
                abort(403)
            if roles and not current_user.role_codes & set(roles):
                abort(403)
            setup = unfinished_setup(current_user)
            if setup is not None:
                return redirect(setup)
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate


def unfinished_setup(user: User) -> str | None:
    """Where a staff member must go before working: a forced password change or TOTP enrolment."""
    from app.accounts.services import totp_required

    if user.must_change_password:
        return url_for("accounts.change_password")
    if totp_required(user) and not user.totp_enrolled:
        return url_for("accounts.totp_enrol")
    return None
