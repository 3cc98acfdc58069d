"""Moving a running case to a newer process version: a dry-run diff, then the migration.

Migration is an admin action on a suspended case. SpiffWorkflow resets every READY and
WAITING branch, so **every waiting timer restarts from the migration time** (a 5-day SLA
due tomorrow becomes due in 5 days): ``MigrationDiff.timers_restarting`` lists them.
Statutory deadlines therefore live on the case, not only in engine timers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.util.diff import SpecDiff, diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from engine.errors import MigrationBlocked
from engine.library import CompiledProcess
from engine.records import HistoryEntry, StepResult
from engine.serializer import REGISTRY
from engine.steps import SYSTEM_ACTOR, Operation
from engine.workflow import Workflow

_ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
_DONE = TaskState.COMPLETED | TaskState.STARTED


@dataclass(frozen=True)
class TimerRestart:
    """A waiting timer that migration will restart from the migration time."""

    element_id: str
    name: str
    due_before: datetime | None


@dataclass(frozen=True)
class MigrationDiff:
    """What moving a case from one version to another would change."""

    from_version: str
    to_version: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: Mapping[str, tuple[str, ...]]
    # Elements of READY/WAITING tasks that migration resets (and re-enters).
    resetting: tuple[str, ...]
    timers_restarting: tuple[TimerRestart, ...]
    blocked_reasons: tuple[str, ...]

    @property
    def allowed(self) -> bool:
        """True when migrate() would proceed."""
        return not self.blocked_reasons


def _element(spec: Any) -> str | None:
    element_id: str | None = getattr(spec, "bpmn_id", None)
    return element_id


def diff_versions(workflow: Workflow, new: CompiledProcess) -> MigrationDiff:
    """Compare a case with a newer version of its process, without changing anything."""
    bpmn = workflow._wf
    _, sub_diffs = diff_workflow(REGISTRY, bpmn, new._spec, new._subprocess_specs)
    spec_diff = SpecDiff(REGISTRY, bpmn.spec, new._spec)
    added = tuple(sorted(e for e in (_element(s) for s in spec_diff.added) if e))
    removed_specs = set(spec_diff.removed)
    removed = tuple(sorted(e for e in (_element(s) for s in removed_specs) if e))
    changed_specs = spec_diff.changed
    changed = {
        element: tuple(sorted(attrs))
        for spec, attrs in changed_specs.items()
        if (element := _element(spec))
    }
    reasons: list[str] = []
    if workflow.incident is not None:
        reasons.append(
            f"case has an open incident at {workflow.incident.element_id}; resolve it first"
        )
    for task in bpmn.get_tasks():
        spec, element = task.task_spec, _element(task.task_spec) or task.task_spec.name
        if spec in changed_specs and task.has_state(_DONE):
            reasons.append(
                f"{element} changed ({', '.join(changed_specs[spec])}) but already ran in this case"
            )
        if spec in removed_specs and task.has_state(_DONE | _ACTIVE):
            reasons.append(f"{element} is removed in the new version but is used by this case")
        if (
            spec in changed_specs
            and task.has_state(_ACTIVE)
            and isinstance(spec, (SubWorkflowTask, LoopTask))
        ):
            reasons.append(f"{element} is an active subprocess, call activity or loop that changed")
    for sp_id, sp_diff in sub_diffs.items():
        if sp_diff is None and not bpmn.subprocesses[sp_id].completed:
            reasons.append(
                f"active subprocess {bpmn.subprocesses[sp_id].spec.name} has no spec in the new version"
            )
    resetting = sorted(
        {
            e
            for t in bpmn.get_tasks(state=TaskState.READY | TaskState.WAITING)
            if (e := _element(t.task_spec))
        }
    )
    timers = tuple(TimerRestart(t.element_id, t.name, t.due_at) for t in workflow.pending_timers())
    return MigrationDiff(
        from_version=workflow.compiled.spec_hash,
        to_version=new.spec_hash,
        added=added,
        removed=removed,
        changed=changed,
        resetting=tuple(resetting),
        timers_restarting=timers,
        blocked_reasons=tuple(dict.fromkeys(reasons)),
    )


def migrate(
    workflow: Workflow,
    new: CompiledProcess,
    *,
    actor: str = SYSTEM_ACTOR,
    now: datetime | None = None,
) -> Workflow:
    """Return a copy of the case moved to ``new``; the given Workflow is left unchanged.

    :raises MigrationBlocked: when diff_versions() reports blocking reasons.
    """
    diff = diff_versions(workflow, new)
    if diff.blocked_reasons:
        raise MigrationBlocked(list(diff.blocked_reasons))
    runtime = workflow._runtime
    copy = Workflow.load(workflow.compiled, workflow.dump(), runtime=runtime)
    bpmn = copy._wf
    top, sub_diffs = diff_workflow(REGISTRY, bpmn, new._spec, new._subprocess_specs)
    migrate_workflow(top, bpmn, new._spec)
    for sp_id, sp_diff in sub_diffs.items():
        subprocess = bpmn.subprocesses[sp_id]
        if sp_diff is not None:
            migrate_workflow(sp_diff, subprocess, new._subprocess_specs[subprocess.spec.name])
    bpmn.subprocess_specs = new._subprocess_specs
    migrated = Workflow(new, bpmn, runtime)
    at = now or runtime.clock()
    result = migrated._execute(Operation("steps", at, actor=actor))
    note = {
        "from_version": diff.from_version,
        "to_version": diff.to_version,
        "timers_restarted": [
            {
                "element_id": t.element_id,
                "due_before": t.due_before.isoformat() if t.due_before else None,
            }
            for t in diff.timers_restarting
        ],
        "timers_now": [
            {"element_id": t.element_id, "due_at": t.due_at.isoformat()}
            for t in migrated.pending_timers()
        ],
    }
    entry = HistoryEntry(kind="migrated", at=at, actor=actor, data=note)
    migrated.last_result = StepResult((entry, *result.history), result.incident, result.completed)
    return migrated
