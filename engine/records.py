"""Plain values the engine hands to the app: tasks, history, incidents, timers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

HistoryKind = Literal[
    "process_started",
    "task_completed",
    "message_received",
    "message_sent",
    "timer_fired",
    "connector_called",
    "decision_made",
    "milestone_reached",
    "escalation_raised",
    "end_reached",
    "process_completed",
    "incident_opened",
    "incident_dismissed",
    "migrated",
]

IncidentKind = Literal["sandbox", "limit", "connector", "data", "script", "engine", "bpmn_error"]


@dataclass(frozen=True)
class HumanTask:
    """A READY user or manual task, everything a worklist row and a form need."""

    id: str
    element_id: str
    name: str
    lane: str | None
    form_key: str | None
    documentation: str | None
    properties: Mapping[str, str]
    # From the "outcomes" property (comma-separated), e.g. approve,return_for_correction,reject.
    outcomes: tuple[str, ...]
    data: Mapping[str, Any]
    ready_since: datetime
    # The earliest pending boundary timer on this task, when it has one.
    due_at: datetime | None


@dataclass(frozen=True)
class HistoryEntry:
    """One line of the case timeline: who did what, when, with which data."""

    kind: HistoryKind
    at: datetime
    actor: str
    element_id: str | None = None
    element_name: str | None = None
    task_id: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Incident:
    """A step that failed; the workflow keeps the state from before it and can retry."""

    kind: IncidentKind
    message: str
    element_id: str | None
    element_name: str | None
    task_id: str | None
    occurred_at: datetime
    line: int | None = None
    retryable: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-native dict (stored with the workflow state)."""
        return {
            "kind": self.kind,
            "message": self.message,
            "element_id": self.element_id,
            "element_name": self.element_name,
            "task_id": self.task_id,
            "occurred_at": self.occurred_at.isoformat(),
            "line": self.line,
            "retryable": self.retryable,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Incident:
        """Rebuild an incident stored by to_dict."""
        return cls(
            kind=data["kind"],
            message=data["message"],
            element_id=data.get("element_id"),
            element_name=data.get("element_name"),
            task_id=data.get("task_id"),
            occurred_at=datetime.fromisoformat(data["occurred_at"]),
            line=data.get("line"),
            retryable=bool(data.get("retryable", True)),
        )


@dataclass(frozen=True)
class StepResult:
    """What one operation (start, complete, message, timers, retry) did."""

    history: tuple[HistoryEntry, ...]
    incident: Incident | None
    completed: bool


@dataclass(frozen=True)
class PendingTimer:
    """A timer event waiting to fire."""

    element_id: str
    name: str
    due_at: datetime
    task_id: str
    # For a boundary timer, the element id of the task it is attached to.
    attached_to: str | None


@dataclass(frozen=True)
class Milestone:
    """The latest intermediate none event the process passed."""

    element_id: str
    name: str
    reached_at: datetime
