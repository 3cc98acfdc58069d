"""Deployed process versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from app.db import db


class ProcessVersion(db.Model):
    """One immutable deployment of a process package, keyed by a hash of its content.

    The package's files (BPMN, DMN, service card and the forms its tasks use) are stored here
    once, so a running case can always be restored on exactly the version it started with,
    and each case's stored state carries no copy of the spec.
    """

    __tablename__ = "process_versions"
    __table_args__ = (UniqueConstraint("process_key", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_key: Mapped[str] = mapped_column(String(80), index=True)
    #: 1, 2, 3… per process key, in deployment order.
    number: Mapped[int] = mapped_column(Integer)
    #: SHA-256 over the package's file names and bytes: redeploying unchanged files is a no-op.
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: {file name: text} for every file of the package (BPMN, DMN, service card, templates).
    files: Mapped[dict[str, str]] = mapped_column(JSON)
    #: {form key: text} for every form the package's tasks use, frozen with the version.
    forms: Mapped[dict[str, str]] = mapped_column(JSON)
    #: The service card (names, description, deadlines, notification texts) as deployed.
    card: Mapped[dict[str, Any]] = mapped_column(JSON)
    deployed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")

    @property
    def label(self) -> str:
        """A short human label: key v3 (abc123de)."""
        return f"{self.process_key} v{self.number} ({self.content_hash[:8]})"
