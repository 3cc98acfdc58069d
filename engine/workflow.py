"""Workflow: one running case of a process, driven through plain-typed operations.

Every operation (start, complete, send_message, fire_due_timers, retry) runs engine steps
until the case waits again and returns a StepResult. When a step fails the case gets an
Incident and keeps the state from before the failing step:

* a script, connector, DMN or gateway step that fails inside its own run is put back
  to READY with the data it had (exact, in memory);
* any other failure (e.g. an expression evaluated while a step completes) restores the
  state from before the whole operation and remembers the operation, so ``retry()``
  replays it: nothing the user submitted is lost.

While an incident is open, only ``retry()`` and ``dismiss_incident()`` change the case.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent,
    EndEvent,
    IntermediateThrowEvent,
)
from SpiffWorkflow.bpmn.specs.event_definitions import (
    CycleTimerEventDefinition,
    ErrorEventDefinition,
    EscalationEventDefinition,
    NoneEventDefinition,
    TerminateEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions import (
    MessageEventDefinition as BaseMessageEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

from engine.errors import (
    IncidentNotRetryable,
    IncidentOpen,
    NothingToRetry,
    NotWaitingForMessage,
    StateFormatError,
    TaskNotFound,
    TaskNotReady,
)
from engine.incidents import EngineStepLimit, incident_from_exception
from engine.library import FORM_KEY_PROPERTY, CompiledProcess
from engine.records import (
    HumanTask,
    Incident,
    Milestone,
    PendingTimer,
    StepResult,
)
from engine.runtime import Runtime, default_runtime
from engine.scripting import check_json_native
from engine.serializer import (
    SERIALIZER_VERSION,
    SPIFF_FORMAT,
    decode_state,
    encode_state,
    workflow_from_dict,
    workflow_to_dict,
)
from engine.steps import (
    SELF_CONTAINED_STEPS,
    SYSTEM_ACTOR,
    HistoryRecorder,
    Operation,
    StepWatch,
    as_utc,
    checked_data,
    chronological,
    timer_due,
)


class Workflow:
    """One case's running process. Build with start() or load(); never share across threads."""

    def __init__(
        self,
        compiled: CompiledProcess,
        bpmn: BpmnWorkflow,
        runtime: Runtime,
        *,
        incident: Incident | None = None,
        replay: Operation | None = None,
        stored: bytes | None = None,
    ) -> None:
        self._compiled = compiled
        self._wf = bpmn
        self._runtime = runtime
        self._incident = incident
        self._replay = replay
        # Bytes equal to the current state, if nothing changed since load() or dump().
        self._stored = stored
        self._throwers: dict[str, str] = {}
        self.last_result = StepResult(history=(), incident=incident, completed=bpmn.is_completed())

    # ----------------------------------------------------------------- creating
    @classmethod
    def start(
        cls,
        compiled: CompiledProcess,
        data: Mapping[str, Any] | None = None,
        *,
        actor: str = SYSTEM_ACTOR,
        now: datetime | None = None,
        runtime: Runtime | None = None,
    ) -> Workflow:
        """Start a case with initial data and run it until it waits; see ``last_result``.

        :raises InvalidTaskData: when the data is not JSON-native or uses reserved names.
        """
        runtime = runtime or default_runtime()
        initial = checked_data(data or {}, "start data")
        bpmn = BpmnWorkflow(
            compiled._spec, compiled._subprocess_specs, script_engine=runtime._script_engine
        )
        bpmn.get_tasks(state=TaskState.READY)[0].data.update(initial)
        workflow = cls(compiled, bpmn, runtime)
        at = now or runtime.clock()
        workflow._execute(Operation("start", at, actor=actor, data=initial))
        return workflow

    @classmethod
    def load(
        cls, compiled: CompiledProcess, stored_state: bytes, *, runtime: Runtime | None = None
    ) -> Workflow:
        """Restore a case stored by dump(), with the sandboxed script engine re-attached.

        :raises StateFormatError: for unreadable state or state of another process version.
        """
        runtime = runtime or default_runtime()
        envelope, migrated = decode_state(stored_state)
        if (
            envelope.get("process") != compiled.key
            or envelope.get("spec_hash") != compiled.spec_hash
        ):
            raise StateFormatError(
                f"state belongs to {envelope.get('process')} version {str(envelope.get('spec_hash'))[:12]}, "
                f"not {compiled.key} version {compiled.spec_hash[:12]}"
            )
        bpmn = workflow_from_dict(envelope["workflow"], compiled._spec, compiled._subprocess_specs)
        # The serializer restores a plain, unrestricted PythonScriptEngine: always replace it.
        bpmn.script_engine = runtime._script_engine
        incident = Incident.from_dict(envelope["incident"]) if envelope.get("incident") else None
        replay = Operation.from_dict(envelope["replay"]) if envelope.get("replay") else None
        # A migrated state must be re-encoded by dump(), so only current bytes count as stored.
        stored = None if migrated else stored_state
        return cls(compiled, bpmn, runtime, incident=incident, replay=replay, stored=stored)

    def dump(self) -> bytes:
        """Return the state to store: compressed JSON without the spec (see serializer.py)."""
        if self._stored is None:
            self._stored = encode_state(self._envelope())
        return self._stored

    def _envelope(self) -> dict[str, Any]:
        return {
            "format": SERIALIZER_VERSION,
            "spiff": SPIFF_FORMAT,
            "process": self._compiled.key,
            "spec_hash": self._compiled.spec_hash,
            "workflow": workflow_to_dict(self._wf),
            "incident": self._incident.to_dict() if self._incident else None,
            "replay": self._replay.to_dict() if self._replay else None,
        }

    # ----------------------------------------------------------------- reading
    @property
    def compiled(self) -> CompiledProcess:
        """The process version this case runs on."""
        return self._compiled

    @property
    def is_completed(self) -> bool:
        """True once the process reached its end."""
        return bool(self._wf.is_completed())

    @property
    def incident(self) -> Incident | None:
        """The open incident, if a step failed."""
        return self._incident

    def human_tasks(self, *, lane: str | None = None) -> list[HumanTask]:
        """Return the READY user and manual tasks, optionally of one lane."""
        tasks = self._wf.get_tasks(state=TaskState.READY, manual=True)
        return [self._human_task(t) for t in tasks if lane is None or t.task_spec.lane == lane]

    def human_task(self, task_id: str | UUID) -> HumanTask:
        """Return one READY human task.

        :raises TaskNotFound: / :raises TaskNotReady: as for complete().
        """
        return self._human_task(self._ready_human_task(task_id))

    def _human_task(self, task: Any) -> HumanTask:
        spec = task.task_spec
        props = dict((spec.extensions or {}).get("properties", {}))
        outcomes = tuple(o.strip() for o in props.get("outcomes", "").split(",") if o.strip())
        return HumanTask(
            id=str(task.id),
            element_id=spec.bpmn_id,
            name=spec.bpmn_name or spec.bpmn_id,
            lane=spec.lane,
            form_key=props.get(FORM_KEY_PROPERTY),
            documentation=spec.documentation,
            properties=props,
            outcomes=outcomes,
            data=copy.deepcopy(task.data),
            ready_since=datetime.fromtimestamp(task.last_state_change, UTC),
            due_at=self._boundary_due(task),
        )

    def _boundary_due(self, task: Any) -> datetime | None:
        parent = task.parent
        if parent is None or not isinstance(parent.task_spec, BoundaryEventSplit):
            return None
        dues = [
            due
            for sibling in parent.children
            if sibling.state == TaskState.WAITING
            and isinstance(
                getattr(sibling.task_spec, "event_definition", None), TimerEventDefinition
            )
            and (due := timer_due(sibling)) is not None
        ]
        return min(dues) if dues else None

    def pending_timers(self) -> list[PendingTimer]:
        """Return every waiting timer with its due time, earliest first."""
        timers: list[PendingTimer] = []
        for task in self._timer_tasks():
            due = timer_due(task)
            if due is None:
                continue
            attached = None
            if isinstance(task.task_spec, BoundaryEvent) and task.parent is not None:
                attached = next(
                    (
                        c.task_spec.bpmn_id
                        for c in task.parent.children
                        if not isinstance(c.task_spec, BoundaryEvent)
                    ),
                    None,
                )
            timers.append(
                PendingTimer(
                    element_id=task.task_spec.bpmn_id,
                    name=self._compiled.element_names.get(
                        task.task_spec.bpmn_id, task.task_spec.bpmn_id
                    ),
                    due_at=as_utc(due),
                    task_id=str(task.id),
                    attached_to=attached,
                )
            )
        # Ties broken by element and task id: a restored tree walks its tasks in another order.
        return sorted(timers, key=lambda timer: (timer.due_at, timer.element_id, timer.task_id))

    def next_timer_at(self) -> datetime | None:
        """Return when the next timer is due (store it on the case for the sweep), or None."""
        timers = self.pending_timers()
        return timers[0].due_at if timers else None

    def _timer_tasks(self) -> list[Any]:
        return [
            task
            for task in self._wf.event_manager.tasks.values()
            if isinstance(task.task_spec.event_definition, TimerEventDefinition)
        ]

    def waiting_messages(self) -> list[str]:
        """Return the names of messages the case is waiting for."""
        names = {
            event.name
            for event in self._wf.waiting_events()
            if event.event_type.endswith("MessageEventDefinition")
        }
        return sorted(names)

    def current_steps(self) -> list[str]:
        """Return the names of the steps the case is at (ready or waiting), for a status column."""
        active = self._wf.get_tasks(
            state=TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
        )
        names: list[str] = []
        for task in sorted(active, key=chronological):
            element_id = task.task_spec.bpmn_id
            if (
                isinstance(task.task_spec, BoundaryEvent)
                or element_id not in self._compiled.element_names
            ):
                continue
            name = self._compiled.element_names[element_id]
            if name not in names:
                names.append(name)
        return names

    @property
    def milestone(self) -> Milestone | None:
        """The latest intermediate none event passed, if any."""
        reached = [
            task
            for task in self._wf.get_tasks(state=TaskState.COMPLETED)
            if isinstance(task.task_spec, IntermediateThrowEvent)
            and isinstance(task.task_spec.event_definition, NoneEventDefinition)
        ]
        if not reached:
            return None
        task = max(reached, key=chronological)
        element_id = task.task_spec.bpmn_id
        return Milestone(
            element_id=element_id,
            name=self._compiled.element_names.get(element_id, element_id),
            reached_at=datetime.fromtimestamp(task.last_state_change, UTC),
        )

    @property
    def outcome(self) -> str | None:
        """The id of the end event that completed the process (None while running)."""
        if not self.is_completed:
            return None
        ends = [
            t
            for t in self._wf.get_tasks(state=TaskState.COMPLETED)
            if isinstance(t.task_spec, EndEvent)
        ]
        if not ends:
            return None
        # A terminate end event ends the whole case, whatever other branches reached.
        terminating = [
            t for t in ends if isinstance(t.task_spec.event_definition, TerminateEventDefinition)
        ]
        element_id: str = max(terminating or ends, key=chronological).task_spec.bpmn_id
        return element_id

    @property
    def data(self) -> dict[str, Any]:
        """The case's current business data: the active branches' data merged, JSON-native."""
        frontier = self._wf.get_tasks(
            state=TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
        )
        if not frontier:
            frontier = [
                t for t in self._wf.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id
            ]
            frontier = sorted(frontier, key=chronological)[-1:]
        merged: dict[str, Any] = {}
        for task in sorted(frontier, key=chronological):
            merged = DeepMerge.merge(merged, copy.deepcopy(task.data))
        if self.is_completed:
            merged = DeepMerge.merge(merged, copy.deepcopy(self._wf.data))
        return merged

    # ----------------------------------------------------------------- acting
    def complete(
        self,
        task_id: str | UUID,
        data: Mapping[str, Any],
        *,
        actor: str,
        now: datetime | None = None,
    ) -> StepResult:
        """Submit a human task's data, complete it and run until the case waits again.

        :raises TaskNotFound: no human task with this id.
        :raises TaskNotReady: the task is no longer READY (stale completion).
        :raises InvalidTaskData: data not JSON-native or using reserved names.
        :raises IncidentOpen: the case has an open incident; retry() first.
        """
        self._refuse_during_incident()
        task = self._ready_human_task(task_id)
        submitted = checked_data(data, "submitted data")
        op = Operation(
            "complete",
            now or self._runtime.clock(),
            actor=actor,
            task_id=str(task.id),
            data=submitted,
        )
        return self._execute(op)

    def send_message(
        self,
        name: str,
        payload: Any = None,
        correlation: Mapping[str, Any] | None = None,
        *,
        actor: str = SYSTEM_ACTOR,
        now: datetime | None = None,
    ) -> StepResult:
        """Deliver a message (e.g. payment_confirmed) to the catch event waiting for it.

        Finding the case a message belongs to is the app's job; ``correlation`` is passed to
        SpiffWorkflow for processes that declare correlation properties.

        :raises NotWaitingForMessage: nothing in the case waits for this message.
        :raises IncidentOpen: the case has an open incident; retry() first.
        """
        self._refuse_during_incident()
        if name not in self.waiting_messages():
            raise NotWaitingForMessage(f"case is not waiting for message {name!r}")
        if payload is not None:
            check_json_native(payload, "message payload")
        op = Operation(
            "message",
            now or self._runtime.clock(),
            actor=actor,
            message=name,
            payload=copy.deepcopy(payload),
            correlation=dict(correlation or {}),
        )
        return self._execute(op)

    def fire_due_timers(self, now: datetime | None = None) -> StepResult:
        """Fire every timer due at ``now`` (default: the runtime clock), then run engine steps.

        :raises IncidentOpen: the case has an open incident; retry() first.
        """
        self._refuse_during_incident()
        at = now or self._runtime.clock()
        if not any((due := timer_due(t)) is not None and due <= at for t in self._timer_tasks()):
            return StepResult(history=(), incident=None, completed=self.is_completed)
        return self._execute(Operation("timers", at))

    def retry(self, *, now: datetime | None = None) -> StepResult:
        """Run the failed step (or replay the rolled-back operation) again after a fix.

        :raises NothingToRetry: there is no incident.
        :raises IncidentNotRetryable: the incident is a BPMN error; dismiss_incident() it.
        """
        incident = self._incident
        if incident is None:
            raise NothingToRetry("the case has no incident")
        if not incident.retryable:
            raise IncidentNotRetryable(
                f"{incident.kind} incident cannot be retried: {incident.message}"
            )
        at = now or self._runtime.clock()
        op = self._replay.at_time(at) if self._replay else Operation("steps", at)
        self._incident, self._replay, self._stored = None, None, None
        return self._execute(op)

    def dismiss_incident(self, *, actor: str, now: datetime | None = None) -> StepResult:
        """Close an incident that needs no retry (e.g. an uncaught BPMN error end event)."""
        incident = self._incident
        if incident is None:
            raise NothingToRetry("the case has no incident")
        if incident.retryable:
            raise IncidentNotRetryable("a retryable incident is closed by retry(), not dismissed")
        self._incident, self._replay, self._stored = None, None, None
        history = HistoryRecorder(self._compiled, now or self._runtime.clock())
        history.add(
            "incident_dismissed",
            actor=actor,
            element_id=incident.element_id,
            data={"message": incident.message},
        )
        self.last_result = StepResult(tuple(history.entries), None, self.is_completed)
        return self.last_result

    # ----------------------------------------------------------------- internals
    def _refuse_during_incident(self) -> None:
        if self._incident is not None:
            raise IncidentOpen(
                f"case has an open {self._incident.kind} incident at {self._incident.element_id}: "
                f"{self._incident.message}"
            )

    def _ready_human_task(self, task_id: str | UUID) -> Any:
        try:
            uuid = task_id if isinstance(task_id, UUID) else UUID(str(task_id))
        except ValueError:
            raise TaskNotFound(f"{task_id!r} is not a task id") from None
        task = self._wf.tasks.get(uuid)
        if task is None:
            for sub in self._wf.subprocesses.values():
                task = sub.tasks.get(uuid)
                if task is not None:
                    break
        if task is None or not task.task_spec.manual:
            raise TaskNotFound(f"no human task {task_id} in this case")
        if task.state != TaskState.READY:
            raise TaskNotReady(
                f"task {task.task_spec.bpmn_id} ({task_id}) is {TaskState.get_name(task.state)}, not READY"
            )
        return task

    def _execute(self, op: Operation) -> StepResult:
        baseline = self._stored if self._stored is not None else encode_state(self._envelope())
        history = HistoryRecorder(self._compiled, op.at, sender=op.actor)
        watch = StepWatch(history, self._runtime.max_engine_steps, self._remember_thrower)
        was_completed = self.is_completed
        self._stored = None
        try:
            self._begin(op, history)
            self._wf.do_engine_steps(watch.will_run, watch.did_run)
            self._collect_events(history)
        except NotWaitingForMessage:
            self._restore(baseline)
            raise
        except Exception as exc:
            self._fail(exc, op, watch, baseline, history)
        if self.is_completed and not was_completed:
            history.add("process_completed", element_id=self.outcome)
        self.last_result = StepResult(tuple(history.entries), self._incident, self.is_completed)
        return self.last_result

    def _begin(self, op: Operation, history: HistoryRecorder) -> None:
        if op.kind == "start":
            history.add("process_started", actor=op.actor, data=op.data)
        elif op.kind == "complete":
            task = self._ready_human_task(op.task_id or "")
            task.set_data(**copy.deepcopy(dict(op.data)))
            task.run()
            history.add("task_completed", task, actor=op.actor, data=op.data)
        elif op.kind == "message":
            event = BpmnEvent(
                MessageEventDefinition(op.message), copy.deepcopy(op.payload), dict(op.correlation)
            )
            try:
                self._wf.send_event(event)
            except WorkflowException as exc:
                if "not waiting" in str(exc):
                    raise NotWaitingForMessage(
                        f"case is not waiting for message {op.message!r}"
                    ) from None
                raise
        elif op.kind == "timers":
            for task in self._timer_tasks():
                due = timer_due(task)
                if (
                    due is not None
                    and due <= op.at
                    and not isinstance(task.task_spec.event_definition, CycleTimerEventDefinition)
                ):
                    # Honour the caller's clock: SpiffWorkflow itself compares with datetime.now().
                    task._set_internal_data(event_fired=True)
        # Timers first, then steps: do_engine_steps only refreshes timers at its end.
        self._wf.refresh_timers()

    def _collect_events(self, history: HistoryRecorder) -> None:
        for event in self._wf.get_events():
            definition = event.event_definition
            thrower = self._throwers.get(definition.name)
            if isinstance(definition, ErrorEventDefinition):
                self._incident = Incident(
                    kind="bpmn_error",
                    message=f"uncaught BPMN error {definition.name!r} (code {getattr(definition, 'code', None)!r})",
                    element_id=thrower,
                    element_name=self._compiled.element_names.get(thrower or ""),
                    task_id=None,
                    occurred_at=history.at,
                    retryable=False,
                )
                history.add("incident_opened", element_id=thrower, data=self._incident.to_dict())
            elif isinstance(definition, EscalationEventDefinition):
                history.add(
                    "escalation_raised",
                    element_id=thrower,
                    data={"name": definition.name, "payload": event.payload},
                )
            elif isinstance(definition, BaseMessageEventDefinition):
                history.add(
                    "message_sent",
                    element_id=thrower,
                    data={"name": definition.name, "payload": event.payload},
                )

    def _remember_thrower(self, task: Any) -> None:
        definition = getattr(task.task_spec, "event_definition", None)
        if definition is not None and getattr(definition, "name", None):
            self._throwers[definition.name] = task.task_spec.bpmn_id

    def _fail(
        self,
        exc: Exception,
        op: Operation,
        watch: StepWatch,
        baseline: bytes,
        history: HistoryRecorder,
    ) -> None:
        task = watch.task
        in_memory = task is not None and (
            isinstance(exc, EngineStepLimit)
            or (
                isinstance(task.task_spec, SELF_CONTAINED_STEPS)
                and task.state in (TaskState.ERROR, TaskState.READY)
            )
        )
        if in_memory:
            if not isinstance(exc, EngineStepLimit):
                task.data = watch.data
                task.internal_data = watch.internal
                task._set_state(TaskState.READY)
            replay = None
        else:
            self._restore(baseline)
            history.entries.clear()
            replay = op
        incident = incident_from_exception(
            exc, task or self._op_task(op), self._compiled.element_names, op.at
        )
        self._incident, self._replay, self._stored = incident, replay, None
        history.add("incident_opened", element_id=incident.element_id, data=incident.to_dict())

    def _op_task(self, op: Operation) -> Any:
        if op.task_id is None:
            return None
        try:
            return self._wf.get_task_from_id(UUID(op.task_id))
        except Exception:
            return None

    def _restore(self, baseline: bytes) -> None:
        envelope, _ = decode_state(baseline)
        self._wf = workflow_from_dict(
            envelope["workflow"], self._compiled._spec, self._compiled._subprocess_specs
        )
        self._wf.script_engine = self._runtime._script_engine
        self._stored = baseline
