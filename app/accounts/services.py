"""Account use cases: find and authenticate users. Never commits; the caller does."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import District, User, UserKind
from app.db import db

#: A staff password shorter than this is refused (NIST SP 800-63B asks at least 8; we ask 12).
MIN_PASSWORD_LENGTH = 12


def authenticate_staff(username: str, password: str) -> User | None:
    """Return the active staff or agency user with these credentials, or None."""
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None or user.kind == UserKind.CITIZEN or not user.is_active:
        return None
    return user if user.check_password(password) else None


def ensure_district(code: str, name_fa: str, name_en: str) -> District:
    """Return the district with this code, creating it when missing."""
    district = db.session.scalar(select(District).where(District.code == code))
    if district is None:
        district = District(code=code, name_fa=name_fa, name_en=name_en)
        db.session.add(district)
        db.session.flush()
    return district


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
