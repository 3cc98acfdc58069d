"""A case's documents and every version uploaded for them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import db


class Document(db.Model):
    """One document of a case (the deed scan, an ID card…); replacing it adds a version."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("case_id", "slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    #: What the document is for: a form field ("form:sample_permit/application:deed_scan") or a
    #: document the service card asks for ("card:0"); a new upload to the same slot replaces it.
    slot: Mapped[str] = mapped_column(String(200))
    #: {"fa": …, "en": …}: the question or card line the document answers.
    title: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    versions: Mapped[list[DocumentVersion]] = relationship(
        back_populates="document",
        cascade="all, delete-orphan",
        order_by="DocumentVersion.number",
        lazy="selectin",
    )

    @property
    def current(self) -> DocumentVersion:
        """The latest version: the one reviewers read."""
        return self.versions[-1]


class DocumentVersion(db.Model):
    """One uploaded file; earlier versions stay when a document is replaced."""

    __tablename__ = "document_versions"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    #: Where the bytes live in the document storage; derived from the SHA-256, never from a name.
    storage_key: Mapped[str] = mapped_column(String(200))
    #: The sanitised name shown and offered on download; its extension follows the content.
    file_name: Mapped[str] = mapped_column(String(200))
    #: The type the content proved to be (magic bytes), never the one the browser claimed.
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    #: clean, or not_configured when no virus scanner is set up (never reported as clean).
    scan_status: Mapped[str] = mapped_column(String(20))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    document: Mapped[Document] = relationship(back_populates="versions")
