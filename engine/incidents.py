"""Turn an exception raised during a step into an Incident that names the BPMN element."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.errors import (
    ConnectorError,
    EngineError,
    InvalidTaskData,
    ScriptLimitExceeded,
    ScriptRejected,
)
from engine.records import Incident, IncidentKind

_KINDS: tuple[tuple[type[BaseException], IncidentKind], ...] = (
    (ScriptRejected, "sandbox"),
    (ScriptLimitExceeded, "limit"),
    (ConnectorError, "connector"),
    (InvalidTaskData, "data"),
)


class EngineStepLimit(EngineError):
    """Too many automatic steps in one operation: the model loops without waiting."""


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def incident_from_exception(
    exc: BaseException,
    fallback_task: Any,
    element_names: Mapping[str, str],
    occurred_at: datetime,
) -> Incident:
    """Describe ``exc`` as an Incident, naming the element SpiffWorkflow blames (or the step)."""
    chain = list(_chain(exc))
    task = next((e.task for e in chain if isinstance(e, WorkflowTaskException) and e.task), None)
    task = task or fallback_task
    line = next(
        (e.line_number for e in chain if isinstance(e, WorkflowTaskException) and e.line_number),
        None,
    )
    # Errors SpiffWorkflow attributes to a task come from model code (scripts, conditions,
    # timers, DMN cells); anything else is the engine's own failure.
    in_model_code = any(isinstance(e, WorkflowTaskException) for e in chain)
    kind: IncidentKind = "script" if in_model_code else "engine"
    for error in chain:
        found = next((k for cls, k in _KINDS if isinstance(error, cls)), None)
        if found is not None:
            kind = found
            break
    element_id = task.task_spec.bpmn_id if task is not None else None
    name = None
    if task is not None:
        name = element_names.get(element_id or "") or task.task_spec.bpmn_name or element_id
    return Incident(
        kind=kind,
        message=_message(chain),
        element_id=element_id,
        element_name=name,
        task_id=str(task.id) if task is not None else None,
        occurred_at=occurred_at,
        line=line or None,
    )


def _message(chain: list[BaseException]) -> str:
    # Prefer our own explicit errors, then the innermost non-SpiffWorkflow cause.
    for error in chain:
        if isinstance(error, EngineError):
            return f"{type(error).__name__}: {error}"
    for error in reversed(chain):
        if not isinstance(error, SpiffWorkflowException):
            return f"{type(error).__name__}: {error}"
    return f"{type(chain[0]).__name__}: {chain[0]}"
