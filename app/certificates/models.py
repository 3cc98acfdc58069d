"""The register of issued documents."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import db


class DocumentStatus(enum.StrEnum):
    VALID = "valid"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"  # replaced by a newer document (superseded_by)


class IssuedDocument(db.Model):
    """A document a process issued, with the facts it certifies and its public number."""

    __tablename__ = "issued_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Printed on the document and used to verify it: year, district, random part, check digit.
    document_number: Mapped[str] = mapped_column(String(20), unique=True)
    #: Stable across retries of the issuing step: a retried step returns the same document.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    document_type: Mapped[str] = mapped_column(String(80))
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: The last day (Tehran calendar) the document is valid on; None when it does not expire.
    valid_until: Mapped[date | None] = mapped_column(Date)
    #: Ed25519 signature (base64) over the canonical document data; see certificates.signing.
    signature: Mapped[str | None] = mapped_column(String(100))
    #: Fingerprint of the public key that signed it, so keys can be rotated.
    key_id: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[DocumentStatus] = mapped_column(
        Enum(
            DocumentStatus,
            native_enum=False,
            length=12,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=DocumentStatus.VALID,
        server_default=DocumentStatus.VALID.value,
    )
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    superseded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("issued_documents.id", ondelete="SET NULL")
    )
