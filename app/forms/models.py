"""Drafts of generated forms and their submissions."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, DateTime, Enum, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from app.db import db


class DraftStatus(enum.StrEnum):
    OPEN = "open"
    SUBMITTED = "submitted"


class FormDraft(db.Model):
    """Answers to a form being filled in, page by page, by a user or an anonymous session."""

    __tablename__ = "form_drafts"
    __table_args__ = (
        # Exactly one owner: a signed-in user, or the session of an anonymous preview.
        CheckConstraint("(owner_user_id IS NULL) <> (owner_session IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Random, in URLs; the integer id is never shown.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    form_key: Mapped[str] = mapped_column(String(120), index=True)
    #: sha256 of the definition file the draft was started with.
    form_version: Mapped[str] = mapped_column(String(64))
    owner_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    owner_session: Mapped[str | None] = mapped_column(String(64), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    page: Mapped[int] = mapped_column(default=0)
    status: Mapped[DraftStatus] = mapped_column(
        Enum(DraftStatus, native_enum=False, length=10), default=DraftStatus.OPEN
    )
    #: Sent with the final submit; a repeated submit with it finds the same submission.
    submission_token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    def owned_by(self, user_id: int | None, session_token: str | None) -> bool:
        """Whether this user (or, when anonymous, this browser session) owns the draft."""
        if self.owner_user_id is not None:
            return self.owner_user_id == user_id
        return session_token is not None and self.owner_session == session_token


class FormSubmission(db.Model):
    """The answers of a draft as finally submitted; one per draft, whatever is clicked twice."""

    __tablename__ = "form_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(
        ForeignKey("form_drafts.id", ondelete="CASCADE"), unique=True
    )
    token: Mapped[str] = mapped_column(String(64), unique=True)
    #: Shown to the person as the reference of what they sent.
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    form_key: Mapped[str] = mapped_column(String(120), index=True)
    form_version: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    submitted_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
