"""API tokens of inquiring organisations (system-to-system inquiries)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.db import db


class ApiToken(db.Model):
    """A bearer token for one agency account; only its SHA-256 is kept (shown once at creation)."""

    __tablename__ = "agency_api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: Hex SHA-256 of the token: the token is random (256 bits), so a plain hash is enough.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The first characters of the token, so an administrator can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship(lazy="joined")
