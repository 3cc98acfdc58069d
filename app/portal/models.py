"""Which form draft holds a citizen's answers to which task of a case."""

from __future__ import annotations

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from app.db import db


class TaskDraft(db.Model):
    """The draft a citizen fills in for one of their case's tasks, so it resumes where they left it."""

    __tablename__ = "portal_task_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_task_id: Mapped[int] = mapped_column(
        ForeignKey("case_tasks.id", ondelete="CASCADE"), unique=True
    )
    draft_id: Mapped[int] = mapped_column(
        ForeignKey("form_drafts.id", ondelete="CASCADE"), unique=True
    )
