"""Account use cases: staff sign-in with backoff, TOTP, and the administrator's staff management.

Every function takes the actor and plain values, may add and flush, and never commits: the
route or CLI command that called it commits once.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from app.accounts import totp
from app.accounts.models import ADMIN_ROLE, PASSWORD_HASHER, District, User, UserKind
from app.accounts.passwords import MIN_PASSWORD_LENGTH, password_problem, temporary_password
from app.audit.services import record
from app.db import db

__all__ = ["MIN_PASSWORD_LENGTH"]

USERNAME_PATTERN = re.compile(r"^[a-z][a-z0-9._-]{2,59}$")
DISTRICT_CODE_PATTERN = re.compile(r"^[0-9]{2}$")

#: A hash of a random password, checked when the username is unknown so that both paths cost
#: the same time and the response does not reveal whether the account exists.
_DUMMY_HASH = PASSWORD_HASHER.hash(secrets.token_urlsafe(16))

Outcome = Literal["ok", "wrong", "wait", "locked"]


class AccountProblem(ValueError):
    """Input an administrator (or user) must fix; `errors` maps field names to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class SignInCheck:
    """The result of one sign-in step."""

    outcome: Outcome
    user: User | None = None
    retry_at: datetime | None = field(default=None)


def utc_now() -> datetime:
    return datetime.now(UTC)


def _as_utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- Signing in -------------------------------------------------------------------------------


def find_staff(username: str) -> User | None:
    """The staff or agency user with this username (any case, spaces trimmed), or None."""
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    return user if user is not None and user.kind != UserKind.CITIZEN else None


def _blocked(user: User, now: datetime) -> SignInCheck | None:
    if user.locked_at is not None:
        return SignInCheck("locked", user)
    retry_at = _as_utc(user.retry_after)
    if retry_at is not None and now < retry_at:
        return SignInCheck("wait", user, retry_at)
    return None


def register_failure(user: User, now: datetime, reason: str) -> SignInCheck:
    """Count a failed attempt: back off after a few, lock after many (NIST SP 800-63B §5.2.2)."""
    config = current_app.config
    user.failed_logins = (user.failed_logins or 0) + 1
    free, lock_after = config["STAFF_LOGIN_FREE_ATTEMPTS"], config["STAFF_LOGIN_LOCK_AFTER"]
    record(
        "staff.sign_in_failed",
        actor=None,
        subject=f"user:{user.id}",
        after={"reason": reason, "failures": user.failed_logins},
    )
    if user.failed_logins >= lock_after:
        user.locked_at = now
        record("staff.locked", actor=None, subject=f"user:{user.id}")
        return SignInCheck("locked", user)
    if user.failed_logins >= free:
        # 30 s, 1 min, 2 min… up to an hour, as NIST suggests.
        delay = min(30 * 2 ** (user.failed_logins - free), 3600)
        user.retry_after = now + timedelta(seconds=delay)
    return SignInCheck("wrong", user)


def check_staff_password(username: str, password: str, *, now: datetime) -> SignInCheck:
    """First sign-in step: the password. Failures are counted (commit them too)."""
    user = find_staff(username)
    if user is None or not user.is_active:
        _spend_hash_time(password)
        return SignInCheck("wrong")
    blocked = _blocked(user, now)
    if blocked is not None:
        return blocked
    if not user.check_password(password):
        return register_failure(user, now, "password")
    if user.password_needs_rehash():
        user.set_password(password)
    return SignInCheck("ok", user)


def _spend_hash_time(password: str) -> None:
    with contextlib.suppress(VerificationError, InvalidHashError):  # only the time matters
        PASSWORD_HASHER.verify(_DUMMY_HASH, password)


def check_totp_code(user: User, code: str, *, now: datetime) -> SignInCheck:
    """Second sign-in step: a TOTP code, accepted once (a replayed code fails)."""
    blocked = _blocked(user, now)
    if blocked is not None:
        return blocked
    step = totp.matching_step(user.totp_secret or "", code, now) if user.totp_secret else None
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return register_failure(user, now, "totp")
    user.totp_last_step = step
    return SignInCheck("ok", user)


def complete_sign_in(user: User, *, now: datetime) -> None:
    """Clear the failure count and record the sign-in."""
    user.failed_logins = 0
    user.retry_after = None
    user.last_login_at = now
    record("staff.signed_in", actor=user, subject=f"user:{user.id}")


def record_sign_out(user: User) -> None:
    """Record a sign-out (or an idle timeout)."""
    record("staff.signed_out", actor=user, subject=f"user:{user.id}")


def totp_required(user: User) -> bool:
    """Whether this user must enrol a TOTP authenticator before working (STAFF_TOTP_REQUIRED_ROLES)."""
    if user.kind == UserKind.CITIZEN:
        return False
    required = {
        code.strip()
        for code in str(current_app.config["STAFF_TOTP_REQUIRED_ROLES"]).split(",")
        if code.strip()
    }
    return "*" in required or bool(required & user.role_codes)


def begin_totp_enrolment(user: User) -> str:
    """Give the user a fresh secret to enrol (a previous, unconfirmed one is replaced)."""
    if user.totp_enrolled:
        raise AccountProblem({"code": _("An authenticator is already set up for this account.")})
    user.totp_secret = totp.new_secret()
    user.totp_enabled_at = None
    user.totp_last_step = None
    return user.totp_secret


def confirm_totp_enrolment(user: User, code: str, *, now: datetime) -> bool:
    """Turn TOTP on once the user proves their app shows the right code."""
    step = totp.matching_step(user.totp_secret or "", code, now) if user.totp_secret else None
    if step is None:
        return False
    user.totp_enabled_at = now
    user.totp_last_step = step
    record("staff.totp_enrolled", actor=user, subject=f"user:{user.id}")
    return True


def change_own_password(user: User, current: str, new: str, repeat: str) -> None:
    """Replace one's own password (after an administrator's reset, or by choice).

    :raises AccountProblem: naming the field to fix.
    """
    errors: dict[str, str] = {}
    if not user.check_password(current):
        errors["current"] = _("The current password is not correct.")
    problem = password_problem(new, user.username or "")
    if problem:
        errors["new"] = problem
    elif new != repeat:
        errors["repeat"] = _("The two new passwords are not the same.")
    elif new == current:
        errors["new"] = _("Choose a password different from the current one.")
    if errors:
        raise AccountProblem(errors)
    user.set_password(new)
    user.must_change_password = False
    record("staff.password_changed", actor=user, subject=f"user:{user.id}")


# --- Districts and what staff may see ---------------------------------------------------------


def visible_district_ids(user: User) -> frozenset[int]:
    """The districts whose cases this staff member may see (empty for citizens)."""
    if user.kind == UserKind.CITIZEN:
        return frozenset()
    return frozenset(district.id for district in user.districts)


def ensure_district(code: str, name_fa: str, name_en: str) -> District:
    """Return the district with this code, creating it when missing."""
    district = db.session.scalar(select(District).where(District.code == code))
    if district is None:
        district = District(code=code, name_fa=name_fa, name_en=name_en)
        db.session.add(district)
        db.session.flush()
    return district


def district_by_code(code: str) -> District | None:
    return db.session.scalar(select(District).where(District.code == code.strip()))


def all_districts() -> list[District]:
    return list(db.session.scalars(select(District).order_by(District.code)))


def save_district(
    district: District | None, code: str, name_fa: str, name_en: str, *, actor: User | None
) -> District:
    """Add a district, or rename one (its code never changes: tracking codes start with it).

    :raises AccountProblem: for a malformed or taken code, or empty names.
    """
    errors: dict[str, str] = {}
    code = code.strip()
    if district is None:
        if not DISTRICT_CODE_PATTERN.match(code):
            errors["code"] = _("Enter the district's two-digit code, for example 09.")
        elif district_by_code(code) is not None:
            errors["code"] = _("A district with this code already exists.")
    if not name_fa.strip():
        errors["name_fa"] = _("Enter the Persian name.")
    if not name_en.strip():
        errors["name_en"] = _("Enter the English name.")
    if errors:
        raise AccountProblem(errors)
    before = (
        None if district is None else {"name_fa": district.name_fa, "name_en": district.name_en}
    )
    if district is None:
        district = District(code=code, name_fa=name_fa.strip(), name_en=name_en.strip())
        db.session.add(district)
    else:
        district.name_fa, district.name_en = name_fa.strip(), name_en.strip()
    db.session.flush()
    record(
        "district.saved",
        actor=actor,
        subject=f"district:{district.code}",
        before=before,
        after={"name_fa": district.name_fa, "name_en": district.name_en},
    )
    return district


# --- Staff management (administrators and the CLI) --------------------------------------------


def grantable_roles() -> dict[str, dict[str, Any]]:
    """Roles staff may hold: the lanes of processes/roles.json (not citizen or automatic) and ADMIN."""
    from app.cases.workflow import role_catalogue

    roles = {
        code: role
        for code, role in role_catalogue().items()
        if not role.get("citizen") and not role.get("automatic")
    }
    roles[ADMIN_ROLE] = {"fa": "مدیر سامانه", "en": "System administrator"}
    return roles


def all_staff() -> list[User]:
    statement = select(User).where(User.kind != UserKind.CITIZEN).order_by(User.username)
    return list(db.session.scalars(statement))


def _snapshot(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "full_name": user.full_name,
        "kind": user.kind.value,
        "active": user.is_active_account,
        "roles": sorted(user.role_codes),
        "districts": sorted(d.code for d in user.districts),
    }


def _check_roles_and_districts(
    roles: Iterable[str], district_codes: Iterable[str]
) -> tuple[list[str], list[District], dict[str, str]]:
    errors: dict[str, str] = {}
    known = grantable_roles()
    roles = sorted(set(roles))
    unknown = [code for code in roles if code not in known]
    if unknown:
        errors["roles"] = _("Unknown role: %(codes)s", codes=", ".join(unknown))
    districts: list[District] = []
    for code in sorted(set(district_codes)):
        district = district_by_code(code)
        if district is None:
            errors["districts"] = _("Unknown district: %(code)s", code=code)
        else:
            districts.append(district)
    return roles, districts, errors


def create_staff(
    username: str,
    full_name: str,
    password: str,
    roles: Iterable[str],
    district_codes: Iterable[str],
    *,
    actor: User | None,
    kind: UserKind = UserKind.STAFF,
) -> User:
    """Create a staff (or agency) account with roles and districts.

    :raises AccountProblem: naming every field to fix.
    """
    username = username.strip().lower()
    errors: dict[str, str] = {}
    if not USERNAME_PATTERN.match(username):
        errors["username"] = _(
            "Use 3 to 60 lower-case English letters, digits, dots, hyphens or underscores, starting with a letter."
        )
    elif db.session.scalar(select(User.id).where(User.username == username)) is not None:
        errors["username"] = _("This username is taken.")
    if not full_name.strip():
        errors["full_name"] = _("Enter the person's full name.")
    problem = password_problem(password, username)
    if problem:
        errors["password"] = problem
    role_list, districts, more = _check_roles_and_districts(roles, district_codes)
    errors.update(more)
    if errors:
        raise AccountProblem(errors)
    user = User(kind=kind, username=username, full_name=full_name.strip())
    user.set_password(password)
    for code in role_list:
        user.grant_role(code)
    user.districts.extend(districts)
    db.session.add(user)
    db.session.flush()
    record("staff.created", actor=actor, subject=f"user:{user.id}", after=_snapshot(user))
    return user


def update_staff(
    user: User,
    *,
    full_name: str,
    roles: Iterable[str],
    district_codes: Iterable[str],
    active: bool,
    actor: User | None,
) -> None:
    """Change a staff member's name, roles, districts and whether the account may sign in.

    :raises AccountProblem: naming every field to fix.
    """
    role_list, districts, errors = _check_roles_and_districts(roles, district_codes)
    if not full_name.strip():
        errors["full_name"] = _("Enter the person's full name.")
    if actor is not None and user.id == actor.id and (not active or ADMIN_ROLE not in role_list):
        errors["roles"] = _("You cannot remove your own administrator role or disable yourself.")
    if errors:
        raise AccountProblem(errors)
    before = _snapshot(user)
    user.full_name = full_name.strip()
    for code in user.role_codes - set(role_list):
        user.revoke_role(code)
    for code in role_list:
        user.grant_role(code)
    user.districts[:] = districts
    if user.is_active_account and not active:
        user.session_nonce = secrets.token_hex(16)  # ends the sessions it has open
    user.is_active_account = active
    db.session.flush()
    record(
        "staff.updated",
        actor=actor,
        subject=f"user:{user.id}",
        before=before,
        after=_snapshot(user),
    )


def grant_role(user: User, role_code: str, *, actor: User | None) -> None:
    """Give a staff member a role. :raises AccountProblem: for an unknown role."""
    if role_code not in grantable_roles():
        raise AccountProblem({"roles": _("Unknown role: %(codes)s", codes=role_code)})
    before = sorted(user.role_codes)
    user.grant_role(role_code)
    record(
        "staff.role_granted",
        actor=actor,
        subject=f"user:{user.id}",
        before={"roles": before},
        after={"roles": sorted(user.role_codes)},
    )


def revoke_role(user: User, role_code: str, *, actor: User | None) -> None:
    """Take a role from a staff member."""
    before = sorted(user.role_codes)
    user.revoke_role(role_code)
    record(
        "staff.role_revoked",
        actor=actor,
        subject=f"user:{user.id}",
        before={"roles": before},
        after={"roles": sorted(user.role_codes)},
    )


def set_districts(user: User, district_codes: Iterable[str], *, actor: User | None) -> None:
    """Replace the districts a staff member serves. :raises AccountProblem: for an unknown code."""
    _roles, districts, errors = _check_roles_and_districts([], district_codes)
    if errors:
        raise AccountProblem(errors)
    before = sorted(d.code for d in user.districts)
    user.districts[:] = districts
    record(
        "staff.districts_set",
        actor=actor,
        subject=f"user:{user.id}",
        before={"districts": before},
        after={"districts": sorted(d.code for d in districts)},
    )


def reset_password(user: User, *, actor: User | None) -> str:
    """Give the user a one-time password to replace at sign-in; ends their sessions and unlocks.

    Returns the temporary password: show it once, never store it.
    """
    password = temporary_password()
    user.set_password(password)
    user.must_change_password = True
    user.session_nonce = secrets.token_hex(16)
    user.failed_logins, user.retry_after, user.locked_at = 0, None, None
    record("staff.password_reset", actor=actor, subject=f"user:{user.id}")
    return password


def reset_totp(user: User, *, actor: User | None) -> None:
    """Remove the user's authenticator (lost phone); they enrol again at their next sign-in."""
    user.totp_secret, user.totp_enabled_at, user.totp_last_step = None, None, None
    user.session_nonce = secrets.token_hex(16)
    record("staff.totp_reset", actor=actor, subject=f"user:{user.id}")


def unlock(user: User, *, actor: User | None) -> None:
    """Lift a lockout or backoff after too many failed sign-ins."""
    user.failed_logins, user.retry_after, user.locked_at = 0, None, None
    record("staff.unlocked", actor=actor, subject=f"user:{user.id}")


# --- Fixtures for the demo and tests ----------------------------------------------------------


def ensure_staff(
    username: str,
    full_name: str,
    password: str,
    roles: list[str],
    districts: list[District],
    kind: UserKind = UserKind.STAFF,
) -> User:
    """Return the staff user with this username, creating it with roles and districts if missing.

    :raises ValueError: when the password is shorter than MIN_PASSWORD_LENGTH.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(kind=kind, username=username, full_name=full_name)
        user.set_password(password)
        db.session.add(user)
    for role in roles:
        user.grant_role(role)
    for district in districts:
        if district not in user.districts:
            user.districts.append(district)
    db.session.flush()
    return user


def ensure_citizen(mobile: str, full_name: str, national_code: str) -> User:
    """Return the citizen with this mobile number, creating the account if missing."""
    user = db.session.scalar(select(User).where(User.mobile == mobile))
    if user is None:
        user = User(
            kind=UserKind.CITIZEN, mobile=mobile, full_name=full_name, national_code=national_code
        )
        db.session.add(user)
        db.session.flush()
    return user
