"""Case files, the human tasks mirrored from the engine, and the append-only history."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import District, User
from app.db import db
from app.processes.models import ProcessVersion


class CaseStatus(enum.StrEnum):
    ACTIVE = "active"  # staff are working on it
    WAITING_CITIZEN = "waiting_citizen"  # a task in the applicant's lane is open: the clock pauses
    WAITING_EVENT = "waiting_event"  # waiting for a message (payment, agency answer) or a timer
    INCIDENT = "incident"  # a script or connector failed; kept as before the step, retryable
    COMPLETED = "completed"


def _enum(kind: type[enum.Enum]) -> Enum:
    return Enum(kind, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class Case(db.Model):
    """A case file: one citizen request moving through its BPMN process."""

    __tablename__ = "cases"
    __table_args__ = (
        # The figures' fold and "figures as of" read only the few marked cases.
        Index(
            "ix_cases_figures_changed",
            "figures_changed_at",
            postgresql_where=text("figures_changed_at IS NOT NULL"),
            sqlite_where=text("figures_changed_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: 12 digits: district, 9 random digits, check digit. Never sequential.
    tracking_code: Mapped[str] = mapped_column(String(12), unique=True)
    process_key: Mapped[str] = mapped_column(String(80), index=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))
    status: Mapped[CaseStatus] = mapped_column(_enum(CaseStatus), index=True)
    #: The process's own word for how it ended (approved, rejected…), from its data.
    outcome: Mapped[str | None] = mapped_column(String(40))
    applicant_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"), index=True)
    #: Property keys citizens and staff search by.
    renewal_code: Mapped[str | None] = mapped_column(String(40), index=True)
    registry_plate: Mapped[str | None] = mapped_column(String(60), index=True)
    #: Names of the steps that are open now, for lists and the public status page.
    current_step: Mapped[str] = mapped_column(String(200), default="")
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The earliest timer the engine waits on: the sweep touches only due cases.
    next_timer_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    #: Engine state without the spec (stored once per version), compressed.
    workflow_state: Mapped[bytes] = mapped_column(LargeBinary)
    serializer_version: Mapped[str] = mapped_column(String(20))
    incident: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The first change not yet folded into the public figures (app.transparency.recording):
    #: set by every step in its own UPDATE, cleared by the fold. None: the figures are current.
    figures_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Optimistic lock: a save from a stale copy raises StaleDataError and changes nothing.
    version_id: Mapped[int] = mapped_column(default=1)

    process_version: Mapped[ProcessVersion] = relationship(lazy="joined")
    applicant: Mapped[User | None] = relationship(foreign_keys=[applicant_id])
    district: Mapped[District | None] = relationship()
    tasks: Mapped[list[CaseTask]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseTask.id"
    )

    __mapper_args__ = {"version_id_col": version_id}  # noqa: RUF012 - SQLAlchemy's own dict


class TaskState(enum.StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"  # the engine withdrew it (timer, message, migration)


class CaseTask(db.Model):
    """A human task of a case, mirrored from the engine so inboxes never load workflows."""

    __tablename__ = "case_tasks"
    __table_args__ = (
        UniqueConstraint("case_id", "engine_task_id"),
        Index("ix_case_tasks_open_by_lane", "state", "lane"),
        # The back-office inbox: counts per role and district, rows by deadline (open tasks only).
        Index(
            "ix_case_tasks_inbox",
            "lane",
            "district_id",
            "claimed_by_id",
            "due_at",
            postgresql_where=text("state = 'open'"),
            sqlite_where=text("state = 'open'"),
        ),
        Index(
            "ix_case_tasks_mine",
            "claimed_by_id",
            "due_at",
            "id",
            postgresql_where=text("state = 'open'"),
            sqlite_where=text("state = 'open'"),
        ),
        Index(
            "ix_case_tasks_open_due",
            "due_at",
            "id",
            postgresql_where=text("state = 'open'"),
            sqlite_where=text("state = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    #: The engine's task UUID: stable across save and restore, used in URLs.
    engine_task_id: Mapped[str] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(200))
    #: The BPMN lane, which is a role code (URB_EXPERT, APPLICANT…).
    lane: Mapped[str] = mapped_column(String(40))
    #: The case's district, copied so inboxes filter and count without joining cases.
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    form_key: Mapped[str | None] = mapped_column(String(160))
    #: The decisions the BPMN offers on this task (its `outcomes` property), in order.
    outcomes: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    #: The task's other spiffworkflow properties (assignment, appointment…), as the BPMN says.
    properties: Mapped[dict[str, str]] = mapped_column(JSON, default=dict, server_default="{}")
    state: Mapped[TaskState] = mapped_column(_enum(TaskState), default=TaskState.OPEN)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    case: Mapped[Case] = relationship(back_populates="tasks")


class CaseEvent(db.Model):
    """One entry of a case's append-only history: who did what, when, with which data."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    #: started, task_completed, message_received, timer_fired, incident, incident_retried,
    #: migrated, completed.
    kind: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    element_id: Mapped[str | None] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(200), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MessageWait(db.Model):
    """A message a case waits for, so an incoming message finds its case by correlation key."""

    __tablename__ = "message_waits"
    __table_args__ = (
        UniqueConstraint("case_id", "message_name"),
        Index("ix_message_waits_lookup", "message_name", "correlation_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    message_name: Mapped[str] = mapped_column(String(120))
    #: What the sender knows the case by: its tracking code.
    correlation_key: Mapped[str] = mapped_column(String(64))
