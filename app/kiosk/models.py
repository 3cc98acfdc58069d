"""The audit record of assisted filing at the counter."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import User
from app.db import db


class AssistedSession(db.Model):
    """A counter clerk acted for a citizen, who allowed it with the code sent to their phone."""

    __tablename__ = "assisted_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    clerk_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    citizen_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    clerk: Mapped[User] = relationship(foreign_keys=[clerk_id])
    citizen: Mapped[User] = relationship(foreign_keys=[citizen_id])
