"""People who use Parvaneh, the roles they hold and the districts they serve."""

from __future__ import annotations

import enum
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin
from sqlalchemy import DateTime, Enum, ForeignKey, String, UniqueConstraint, false, func
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash

from app.db import db

#: The role that manages staff, districts and the working calendar (not a BPMN lane).
ADMIN_ROLE = "ADMIN"

#: argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): about 55 ms a hash here,
#: so a burst of sign-ins cannot starve two cores the way the 64 MiB profile would.
PASSWORD_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


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
    #: Base32 TOTP secret; enrolment is complete once totp_enabled_at is set.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The last accepted TOTP time step: a code is good for one sign-in only.
    totp_last_step: Mapped[int | None] = mapped_column()
    #: Consecutive failed sign-ins (password or code); reset by a successful one.
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Backoff: no sign-in attempt is checked before this moment.
    retry_after: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Locked after too many failures: only an administrator unlocks.
    locked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Set by an administrator's reset: the temporary password must be replaced at sign-in.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: Changes when the password is reset or the account disabled, ending older sessions.
    session_nonce: Mapped[str | None] = mapped_column(String(32))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

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

    @property
    def totp_enrolled(self) -> bool:
        """Whether the user confirmed a TOTP authenticator."""
        return self.totp_enabled_at is not None and bool(self.totp_secret)

    def set_password(self, password: str) -> None:
        """Store a salted argon2id hash of the password."""
        self.password_hash = PASSWORD_HASHER.hash(password)

    def check_password(self, password: str) -> bool:
        """Whether the password matches the stored hash (argon2id, or an older scrypt hash)."""
        stored = self.password_hash or ""
        if not stored:
            return False
        if not stored.startswith("$argon2"):
            # Hashes made before argon2 (werkzeug scrypt) still verify; sign-in upgrades them.
            return check_password_hash(stored, password)
        try:
            return PASSWORD_HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    def password_needs_rehash(self) -> bool:
        """Whether the stored hash is older than the current argon2id parameters."""
        stored = self.password_hash or ""
        return not stored.startswith("$argon2") or PASSWORD_HASHER.check_needs_rehash(stored)

    def grant_role(self, role_code: str) -> None:
        """Give the user a role unless they already hold it."""
        if role_code not in self.role_codes:
            self.roles.append(RoleAssignment(role_code=role_code))

    def revoke_role(self, role_code: str) -> None:
        """Take a role away (nothing happens when the user does not hold it)."""
        self.roles[:] = [a for a in self.roles if a.role_code != role_code]
