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
            if current_user.kind != UserKind.STAFF:
                abort(403)  # citizens, and outside agencies (they work at /agency)
            if roles and not current_user.role_codes & set(roles):
                abort(403)
            setup = unfinished_setup(current_user)
            if setup is not None:
                return redirect(setup)
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate


def agency_required(*roles: str) -> Callable[[View], View]:
    """Let in signed-in agency users holding any of `roles` (any agency user when none are given).

    Agency users sign in like staff (password and TOTP) but work only at /agency.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return redirect(url_for("accounts.staff_login", next=request.full_path))
            if current_user.kind != UserKind.AGENCY:
                abort(403)
            if roles and not current_user.role_codes & set(roles):
                abort(403)
            setup = unfinished_setup(current_user)
            if setup is not None:
                return redirect(setup)
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate


def payer_required(view: View) -> View:
    """Let in whoever may be the applicant of a case with fees: a signed-in citizen, or an
    organisation that files inquiries (an agency user holding a requester role).

    Anyone else signed in gets 404, as for someone else's invoice: these pages hold nothing
    of theirs. Whose invoice it is, the view checks (the case's applicant only).
    """

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return redirect(url_for("citizens.login", next=request.full_path))
        if current_user.kind == UserKind.CITIZEN:
            return view(*args, **kwargs)
        if current_user.kind != UserKind.AGENCY or not is_requester(current_user):
            abort(404)
        setup = unfinished_setup(current_user)
        if setup is not None:
            return redirect(setup)
        return view(*args, **kwargs)

    return guarded  # type: ignore[return-value]


def is_requester(user: User) -> bool:
    """Whether the user's organisation files inquiries (a role marked "requester" in roles.json)."""
    from app.cases.workflow import role_catalogue

    catalogue = role_catalogue()
    return any(catalogue.get(code, {}).get("requester") for code in user.role_codes)


def unfinished_setup(user: User) -> str | None:
    """Where a staff member must go before working: a forced password change or TOTP enrolment."""
    from app.accounts.services import totp_required

    if user.must_change_password:
        return url_for("accounts.change_password")
    if totp_required(user) and not user.totp_enrolled:
        return url_for("accounts.totp_enrol")
    return None
