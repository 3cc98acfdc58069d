"""One operation's machinery: the operation as data, engine-step callbacks, history.

Kept apart from workflow.py so the Workflow class reads as the API it offers.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent,
    EndEvent,
    ExclusiveGateway,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
)
from SpiffWorkflow.bpmn.specs.event_definitions import (
    MessageEventDefinition as BaseMessageEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import ReceiveTask
from SpiffWorkflow.spiff.specs.defaults import BusinessRuleTask, ScriptTask, ServiceTask

from engine.errors import InvalidTaskData
from engine.incidents import EngineStepLimit
from engine.library import CompiledProcess
from engine.records import HistoryEntry, HistoryKind
from engine.scripting import RESERVED_DATA_NAMES, check_json_native

SYSTEM_ACTOR = "system"

# Steps whose run hook touches nothing but their own data and state when it fails, so a
# failure can be undone in memory. Anything else is undone by restoring the operation's
# starting state.
SELF_CONTAINED_STEPS = (ScriptTask, ServiceTask, BusinessRuleTask, ExclusiveGateway)

OperationKind = Literal["start", "complete", "message", "timers", "steps"]


@dataclass(frozen=True)
class Operation:
    """An operation as data, so a rolled-back one can be replayed by retry()."""

    kind: OperationKind
    at: datetime
    actor: str = SYSTEM_ACTOR
    task_id: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    message: str | None = None
    payload: Any = None
    correlation: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the operation as JSON-native data (stored while an incident is open)."""
        return {
            "kind": self.kind,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "task_id": self.task_id,
            "data": dict(self.data),
            "message": self.message,
            "payload": self.payload,
            "correlation": dict(self.correlation),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Operation:
        """Rebuild an operation stored by to_dict."""
        return cls(
            kind=data["kind"],
            at=datetime.fromisoformat(data["at"]),
            actor=data.get("actor", SYSTEM_ACTOR),
            task_id=data.get("task_id"),
            data=data.get("data") or {},
            message=data.get("message"),
            payload=data.get("payload"),
            correlation=data.get("correlation") or {},
        )

    def at_time(self, at: datetime) -> Operation:
        """Return the same operation happening at another time (a replay)."""
        return replace(self, at=at)


class HistoryRecorder:
    """Collects the history entries of one operation."""

    def __init__(self, compiled: CompiledProcess, at: datetime, sender: str = SYSTEM_ACTOR) -> None:
        self.compiled = compiled
        self.at = at
        # Who delivered the operation's message (a bank callback, an agency adapter...).
        self.sender = sender
        self.entries: list[HistoryEntry] = []

    def add(
        self,
        kind: HistoryKind,
        task: Any = None,
        *,
        actor: str = SYSTEM_ACTOR,
        data: Mapping[str, Any] | None = None,
        element_id: str | None = None,
    ) -> None:
        """Append an entry for ``task`` (or a bare element id) at the operation's time."""
        if task is not None:
            element_id = task.task_spec.bpmn_id
        name = self.compiled.element_names.get(element_id or "") if element_id else None
        self.entries.append(
            HistoryEntry(
                kind=kind,
                at=self.at,
                actor=actor,
                element_id=element_id,
                element_name=name,
                task_id=str(task.id) if task is not None else None,
                data=copy.deepcopy(dict(data or {})),
            )
        )


class StepWatch:
    """Engine-step callbacks: remembers the running step and records what it did."""

    def __init__(
        self, history: HistoryRecorder, max_steps: int, on_throw: Callable[[Any], None]
    ) -> None:
        self.history = history
        self.max_steps = max_steps
        self.on_throw = on_throw
        self.count = 0
        self.task: Any = None
        self.data: dict[str, Any] = {}
        self.internal: dict[str, Any] = {}

    def will_run(self, task: Any) -> None:
        """Remember the step about to run and its data, so a failure can be undone."""
        self.count += 1
        self.task, self.data, self.internal = task, {}, {}
        if self.count > self.max_steps:
            raise EngineStepLimit(
                f"more than {self.max_steps} automatic steps without waiting: does the model loop?"
            )
        self.data = copy.deepcopy(task.data)
        self.internal = copy.deepcopy(task.internal_data)

    def did_run(self, task: Any) -> None:
        """Record what the finished step did in the history."""
        spec = task.task_spec
        if isinstance(spec, ServiceTask):
            self.history.add(
                "connector_called",
                task,
                data={
                    "connector": spec.operation_name,
                    spec.result_variable: task.data.get(spec.result_variable),
                },
            )
        elif isinstance(spec, BusinessRuleTask):
            self.history.add("decision_made", task, data=changed_keys(self.data, task.data))
        elif isinstance(spec, (IntermediateCatchEvent, BoundaryEvent, ReceiveTask)):
            # A receive task waits for a message like a catch event does (payment confirmed…).
            definition = spec.event_definition
            if isinstance(definition, TimerEventDefinition):
                self.history.add("timer_fired", task)
            elif isinstance(definition, BaseMessageEventDefinition):
                self.history.add(
                    "message_received",
                    task,
                    actor=self.history.sender,
                    data=changed_keys(self.data, task.data),
                )
        elif isinstance(spec, IntermediateThrowEvent) and isinstance(
            spec.event_definition, NoneEventDefinition
        ):
            self.history.add("milestone_reached", task)
        elif isinstance(spec, EndEvent):
            self.history.add("end_reached", task)
        if isinstance(spec, (EndEvent, IntermediateThrowEvent)):
            self.on_throw(task)
        self.task = None


def changed_keys(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """Return the keys of ``after`` that are new or different from ``before``."""
    return {key: value for key, value in after.items() if key not in before or before[key] != value}


def chronological(task: Any) -> tuple[float, int]:
    """Sort key putting tasks in the order they were reached."""
    # Timestamps tie under a frozen clock (and within the clock's resolution); a task
    # deeper in the tree was reached later.
    return (task.last_state_change, task.depth)


def as_utc(value: datetime) -> datetime:
    """Return ``value`` in UTC (naive values are taken as UTC)."""
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def timer_due(task: Any) -> datetime | None:
    """Return when a waiting timer task fires, or None before its due time is known."""
    value = task.internal_data.get("event_value")
    if isinstance(value, dict):  # cycle timers keep {"cycles", "next", "duration"}
        value = value.get("next") if value.get("cycles") != 0 else None
    if not isinstance(value, str):
        return None
    due: datetime = TimerEventDefinition.get_datetime(value)
    return due


def checked_data(data: Mapping[str, Any], what: str) -> dict[str, Any]:
    """Return a deep copy of submitted data after refusing reserved names and non-JSON values."""
    if not isinstance(data, Mapping):
        raise InvalidTaskData(f"{what} must be a mapping")
    reserved = sorted(
        key
        for key in data
        if not isinstance(key, str) or key in RESERVED_DATA_NAMES or key.startswith("_")
    )
    if reserved:
        raise InvalidTaskData(f"{what} uses reserved or invalid names {reserved}")
    plain = dict(data)
    check_json_native(plain, what)
    return copy.deepcopy(plain)
