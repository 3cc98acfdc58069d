"""Messages the development SMS backend keeps instead of sending them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import db


class DevSmsMessage(db.Model):
    """One text the development backend (or its HTTP simulator) received, shown at /dev/sms."""

    __tablename__ = "dev_sms_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The id the gateway answered with, as a real provider would.
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    #: The sender's key for this message: a repeat of it is not stored again.
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    mobile: Mapped[str] = mapped_column(String(20), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
