"""Runtime: the calendar, connectors and sandbox limits a workflow runs with.

The app builds one Runtime at start-up (with its real connectors and the municipality's
calendar) and passes it to ``Workflow.start``/``Workflow.load``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.util.task import TaskState

from engine.calendar import WorkCalendar
from engine.connectors import ConnectorContext, ConnectorRegistry
from engine.errors import ConnectorError
from engine.scripting import RestrictedEnvironment, SandboxLimits, script_helpers, utc_now


class SandboxedScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """SpiffWorkflow script engine: restricted environment plus our connector calls."""

    def __init__(self, environment: RestrictedEnvironment, connectors: ConnectorRegistry) -> None:
        super().__init__(environment=environment)
        self.connectors = connectors

    def call_service(
        self, task: Any, operation_name: str, operation_params: dict[str, Any], **kwargs: Any
    ) -> str:
        """Call a registered connector for a service task.

        Replaces PythonScriptEngine.call_service, whose error path references an
        undefined name in SpiffWorkflow 3.2.0 and hides the real error behind a NameError.
        """
        spec = self.connectors.get(operation_name)
        inputs: dict[str, Any] = {}
        for name, param in operation_params.items():
            declared = spec.inputs.get(name)
            if declared is not None and param.get("type") != declared:
                raise ConnectorError(
                    f"parameter {name} of connector {operation_name} is typed "
                    f"{param.get('type')!r} in the BPMN but declared {declared!r}"
                )
            inputs[name] = param["value"]
        element_id = task.task_spec.bpmn_id
        done_before = task.workflow.get_tasks(
            spec_name=task.task_spec.name, state=TaskState.COMPLETED
        )
        context = ConnectorContext(
            connector=operation_name,
            process_key=task.workflow.top_workflow.spec.name,
            element_id=element_id,
            task_id=str(task.id),
            idempotency_key=f"{element_id}#{len(done_before) + 1}",
        )
        outputs = self.connectors.call(operation_name, inputs, context)
        try:
            # SpiffWorkflow's ServiceTask json.loads whatever we return.
            return json.dumps(outputs, ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise ConnectorError(
                f"connector {operation_name} returned non-JSON outputs: {exc}"
            ) from None


class Runtime:
    """Calendar, connectors and sandbox limits shared by every workflow of the app."""

    def __init__(
        self,
        *,
        calendar: WorkCalendar | None = None,
        connectors: ConnectorRegistry | None = None,
        limits: SandboxLimits | None = None,
        max_engine_steps: int = 1000,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.calendar = calendar or WorkCalendar()
        self.connectors = connectors if connectors is not None else ConnectorRegistry()
        self.limits = limits or SandboxLimits()
        # Automatic steps per operation; a model looping without a wait state is stopped here.
        self.max_engine_steps = max_engine_steps
        self.clock = clock
        environment = RestrictedEnvironment(script_helpers(self.calendar, clock), self.limits)
        self._script_engine = SandboxedScriptEngine(environment, self.connectors)


_default_runtime: Runtime | None = None


def default_runtime() -> Runtime:
    """Return a shared Runtime with the default calendar and no connectors."""
    global _default_runtime
    if _default_runtime is None:
        _default_runtime = Runtime()
    return _default_runtime
