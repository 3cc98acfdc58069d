"""Raw SpiffWorkflow, the baseline bench/engine.py measures the engine against.

This is what an application using SpiffWorkflow directly does per completion: restore the
case from SpiffWorkflow's own JSON (spec embedded), complete a task, run engine steps and
serialize again, with the stock serializer and a plain script engine. For measuring only:
the app never calls it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from engine.calendar import WorkCalendar
from engine.scripting import script_helpers, utc_now
from engine.workflow import Workflow

_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(dict(SPIFF_CONFIG)))


class _PlainScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """SpiffWorkflow's unrestricted engine; service tasks get an empty answer, no connector."""

    def call_service(self, task: Any, operation_name: str, *args: Any, **kwargs: Any) -> str:
        # Stock SpiffWorkflow cannot call services at all; the least an application adds.
        return json.dumps({})


# The same helper names our scripts may use, so the same process runs unchanged.
_SCRIPT_ENGINE = _PlainScriptEngine(
    environment=TaskDataEnvironment(script_helpers(WorkCalendar(), utc_now))
)


def spiff_json(workflow: Workflow) -> str:
    """Return SpiffWorkflow's own serialization of a case (spec embedded), as it would store it."""
    text: str = _SERIALIZER.serialize_json(workflow._wf)
    return text


def raw_roundtrip(state: str, element_id: str, data: Mapping[str, Any]) -> str:
    """Restore a case from SpiffWorkflow's JSON, complete a ready human task, step, serialize.

    :raises LookupError: when no human task with this element id is ready.
    """
    bpmn = _SERIALIZER.deserialize_json(state)
    bpmn.script_engine = _SCRIPT_ENGINE
    ready = [
        task
        for task in bpmn.get_tasks(state=TaskState.READY, manual=True)
        if task.task_spec.bpmn_id == element_id
    ]
    if not ready:
        raise LookupError(f"no ready human task {element_id}")
    ready[0].set_data(**dict(data))
    ready[0].run()
    bpmn.do_engine_steps()
    text: str = _SERIALIZER.serialize_json(bpmn)
    return text
