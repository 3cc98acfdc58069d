"""The audit log table and the head of its hash chain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import db


class AuditEntry(db.Model):
    """One audited event: who did what to which case or record, with the state before and after.

    Rows are only ever inserted. Each row's `entry_hash` is an HMAC over its own content and the
    previous row's hash, so editing, inserting or deleting a row breaks the chain visibly.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_case", "case_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Position in the chain: 1, 2, 3… without gaps (given out under the head row's lock).
    seq: Mapped[int] = mapped_column(unique=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_id: Mapped[int | None] = mapped_column()
    #: Who acted, readable without joins: a username, "citizen:<id>" or "system".
    actor_label: Mapped[str] = mapped_column(String(80))
    #: No foreign key: the record must outlive whatever it describes.
    case_id: Mapped[int | None] = mapped_column()
    #: A verb-like code: case.started, task.completed, personal_data.viewed, staff.signed_in…
    action: Mapped[str] = mapped_column(String(60), index=True)
    #: What was acted on when it is not (only) the case: "user:12", "calendar_day:1404-01-13".
    subject: Mapped[str] = mapped_column(String(120), default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: Internal rows (views, sign-ins, notes) are never shown to citizens.
    internal: Mapped[bool] = mapped_column(default=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class AuditHead(db.Model):
    """The chain's last position and hash; one row, locked while a new entry is appended."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
