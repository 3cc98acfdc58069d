"""People who use Parvaneh, the roles they hold and the districts they serve."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import DateTime, Enum, ForeignKey, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.db import db


class UserKind(enum.StrEnum):
    CITIZEN = "citizen"
    STAFF = "staff"
    AGENCY = "agency"


class District(db.Model):
    """A municipal district (منطقه): the routing key for cases and staff."""

    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Two digits, also the first two digits of the district's tracking codes.
    code: Mapped[str] = mapped_column(String(2), unique=True)
    name_fa: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))

    def name(self, locale: str) -> str:
        """The district's name in the given locale."""
        return self.name_en if locale == "en" else self.name_fa


class RoleAssignment(db.Model):
    """A role (a BPMN lane name such as URB_EXPERT) held by a user."""

    __tablename__ = "role_assignments"
    __table_args__ = (UniqueConstraint("user_id", "role_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role_code: Mapped[str] = mapped_column(String(40))


class DistrictMembership(db.Model):
    """A staff member serves a district and sees only that district's cases."""

    __tablename__ = "district_memberships"
    __table_args__ = (UniqueConstraint("user_id", "district_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id", ondelete="CASCADE"))


class User(UserMixin, db.Model):
    """Anyone who signs in: a citizen (by mobile), a staff member or an agency user (by username)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[UserKind] = mapped_column(Enum(UserKind, native_enum=False, length=10))
    username: Mapped[str | None] = mapped_column(String(60), unique=True)
    #: Canonical 09XXXXXXXXX; the citizen's sign-in key.
    mobile: Mapped[str | None] = mapped_column(String(11), unique=True)
    national_code: Mapped[str | None] = mapped_column(String(10), index=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active_account: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    roles: Mapped[list[RoleAssignment]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    districts: Mapped[list[District]] = relationship(
        secondary="district_memberships", lazy="selectin"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login asks this before signing in
        return self.is_active_account

    @property
    def role_codes(self) -> set[str]:
        """The BPMN lane names this user may work in."""
        return {assignment.role_code for assignment in self.roles}

    def set_password(self, password: str) -> None:
        """Store a salted scrypt hash of the password."""
        self.password_hash = generate_password_hash(password, method="scrypt")

    def check_password(self, password: str) -> bool:
        """Whether the password matches the stored hash."""
        return bool(self.password_hash) and check_password_hash(self.password_hash or "", password)

    def grant_role(self, role_code: str) -> None:
        """Give the user a role unless they already hold it."""
        if role_code not in self.role_codes:
            self.roles.append(RoleAssignment(role_code=role_code))
