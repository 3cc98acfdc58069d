"""One-time codes, citizens' profiles and who may act for which owner."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, DateTime, Enum, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.db import db


def _enum(kind: type[enum.Enum]) -> Enum:
    return Enum(kind, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class CodePurpose(enum.StrEnum):
    LOGIN = "login"  # a citizen signs in
    ASSIST = "assist"  # a citizen lets a counter clerk file for them


class OneTimeCode(db.Model):
    """A 6-digit code sent by SMS; only its HMAC is stored, and it works once, briefly."""

    __tablename__ = "one_time_codes"
    __table_args__ = (Index("ix_one_time_codes_mobile_created", "mobile", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Random handle kept in the browser's session: binds the code to this sign-in attempt.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    mobile: Mapped[str] = mapped_column(String(11))
    purpose: Mapped[CodePurpose] = mapped_column(_enum(CodePurpose))
    #: HMAC-SHA256 (keyed with SECRET_KEY) of the token and the code, hex.
    code_hash: Mapped[str] = mapped_column(String(64))
    tries: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Set when a newer code for the same number and purpose replaced this one.
    replaced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PersonKind(enum.StrEnum):
    NATURAL = "natural"  # شخص حقیقی
    LEGAL = "legal"  # شخص حقوقی


class CitizenProfile(db.Model):
    """What a citizen (or an owner record) adds to the account: postal code, e-mail, legal ID."""

    __tablename__ = "citizen_profiles"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    person_kind: Mapped[PersonKind] = mapped_column(_enum(PersonKind), default=PersonKind.NATURAL)
    #: شناسه ملی of a legal person, 11 digits.
    legal_id: Mapped[str | None] = mapped_column(String(11), unique=True)
    postal_code: Mapped[str | None] = mapped_column(String(10))
    email: Mapped[str | None] = mapped_column(String(254))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    user: Mapped[User] = relationship()


class RepresentationKind(enum.StrEnum):
    ATTORNEY = "attorney"  # وکیل, by a notarised power of attorney
    LEGAL_REPRESENTATIVE = "legal_representative"  # signs for a company (نماینده شخص حقوقی)


class RepresentationStatus(enum.StrEnum):
    PENDING = "pending"  # declared by the citizen, waiting for the counter's check
    VERIFIED = "verified"
    REJECTED = "rejected"
    REVOKED = "revoked"


class Representation(db.Model):
    """The agent may act for the owner (natural or legal person) once the counter verified it."""

    __tablename__ = "representations"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[RepresentationKind] = mapped_column(_enum(RepresentationKind))
    status: Mapped[RepresentationStatus] = mapped_column(
        _enum(RepresentationStatus), default=RepresentationStatus.PENDING, index=True
    )
    #: The power of attorney's number and notary office, as written on it.
    reference: Mapped[str] = mapped_column(String(120))
    valid_until: Mapped[date | None] = mapped_column(Date)
    #: The uploaded power of attorney, kept in the document storage under its SHA-256 key.
    document_key: Mapped[str | None] = mapped_column(String(200))
    document_name: Mapped[str | None] = mapped_column(String(200))
    document_type: Mapped[str | None] = mapped_column(String(40))
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    document_size: Mapped[int | None] = mapped_column()
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The counter's reason when it rejects.
    decision_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    agent: Mapped[User] = relationship(foreign_keys=[agent_id])
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
