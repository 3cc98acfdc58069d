"""Case use cases: start, complete a task, deliver a message, fire timers, retry, migrate.

Each takes the actor and already-validated values, may add and flush, and never commits:
the route, CLI command or job that called it commits once (or rolls back on an exception).
Callers lock the case row first (`lock_case`), so two workers never step the same case.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import joinedload

from app.accounts.models import District, User, UserKind
from app.audit.services import record
from app.cases import workflow as bridge
from app.cases.models import Case, CaseStatus, CaseTask, MessageWait, TaskState
from app.db import db
from app.persian.identifiers import new_tracking_code
from app.persian.jalali import tehran_today
from app.processes.models import ProcessVersion
from engine import MigrationDiff, StepResult, TaskNotFound, TaskNotReady, diff_versions, migrate

#: Filing dates are calendar days in Iran.


class CaseConflict(Exception):
    """The case changed since the user loaded it; nothing was saved."""


class NotAllowed(Exception):
    """The actor may not do this to this case."""


class NoWaitingCase(LookupError):
    """No case waits for this message with this correlation key."""


def lock_case(case_id: int) -> Case | None:
    """Load a case and lock its row until the transaction ends (a no-op lock on SQLite)."""
    # Lock only the case row: its process version is shared by every case on that version.
    # The version's files and forms are read only when its compiled process is not cached.
    return db.session.get(
        Case,
        case_id,
        with_for_update={"of": Case.__table__},
        populate_existing=True,
        options=[
            joinedload(Case.process_version).defer(ProcessVersion.files),
            joinedload(Case.process_version).defer(ProcessVersion.forms),
        ],
    )


def _unused_tracking_code(district: District | None) -> str:
    prefix = district.code if district is not None else "00"
    while True:
        code = new_tracking_code(prefix)
        if not db.session.scalar(select(Case.id).where(Case.tracking_code == code)):
            return code


def start_case(
    version: ProcessVersion,
    *,
    applicant: User | None,
    district: District | None,
    data: dict[str, Any],
    actor: User | None,
) -> Case:
    """Open a case on this process version and run it until it first waits."""
    case = Case(
        tracking_code=_unused_tracking_code(district),
        process_key=version.process_key,
        process_version=version,
        status=CaseStatus.ACTIVE,
        applicant=applicant,
        district=district,
        workflow_state=b"",
        serializer_version="",
    )
    db.session.add(case)
    db.session.flush()  # the case id ties history, tasks and connector records to it
    # The filing date picks the tariff book (fees) and is the case's legal start date.
    filed_on = tehran_today(bridge.utc_now()).isoformat()
    start_data = {"tracking_code": case.tracking_code, "filed_on": filed_on, **data}
    workflow = bridge.start_workflow(
        case, start_data, bridge.actor_for(actor.id if actor else None)
    )
    bridge.save_workflow(case, workflow, workflow.last_result)
    db.session.flush()
    record("case.started", actor=actor, case=case, after=_state(case), internal=False)
    _record_completion(case, None, actor)
    return case


def _state(case: Case) -> dict[str, Any]:
    # What the audit trail keeps of a case before and after a step.
    return {"status": case.status.value, "step": case.current_step, "outcome": case.outcome}


def _record_completion(case: Case, before: dict[str, Any] | None, actor: User | None) -> None:
    if case.status == CaseStatus.COMPLETED and (before or {}).get("status") != "completed":
        record("case.completed", actor=actor, case=case, after=_state(case), internal=False)


def open_task(case: Case, engine_task_id: str) -> CaseTask:
    """The open task row of a case.

    :raises TaskNotReady: when the task was completed or withdrawn meanwhile.
    """
    for row in case.tasks:
        if row.engine_task_id == engine_task_id:
            if row.state != TaskState.OPEN:
                raise TaskNotReady(f"task {engine_task_id} is {row.state.value}")
            return row
    raise TaskNotFound(f"case {case.tracking_code} has no task {engine_task_id}")


def may_work_on(actor: User, case: Case, task: CaseTask) -> bool:
    """Whether the actor may complete this task: in citizen lanes the applicant or someone acting
    for them, else the lane's role."""
    if task.lane in bridge.citizen_lanes():
        # The applicant, or their attorney or representative (a verified power of attorney).
        from app.citizens.services import may_act_for

        return may_act_for(actor, case.applicant_id)
    if task.lane not in actor.role_codes:
        return False
    if actor.kind == UserKind.AGENCY and not actor.districts:
        return True  # an outside agency's office serves the whole city unless given districts
    return case.district is None or case.district in actor.districts


def complete_task(
    case: Case,
    engine_task_id: str,
    answers: dict[str, Any],
    *,
    actor: User,
    expected_version: int,
) -> StepResult:
    """Complete a human task with validated answers and run the process until it waits again.

    :raises CaseConflict: when the case changed since the actor loaded it (stale version).
    :raises NotAllowed: when the actor does not hold the task's lane or case.
    :raises TaskNotReady: when the task was completed or withdrawn meanwhile.
    """
    if case.version_id != expected_version:
        raise CaseConflict(case.tracking_code)
    task = open_task(case, engine_task_id)
    if not may_work_on(actor, case, task):
        raise NotAllowed(task.lane)
    before = _state(case)
    workflow = bridge.load_workflow(case)
    with bridge.running_for(case):
        result = workflow.complete(engine_task_id, answers, actor=bridge.actor_for(actor.id))
    # An incident that rolled the operation back leaves the task ready: it is not completed.
    if all(ready.id != engine_task_id for ready in workflow.human_tasks()):
        task.state = TaskState.COMPLETED
        task.completed_by_id = actor.id
        task.completed_at = bridge.utc_now()
    bridge.save_workflow(case, workflow, result)
    record(
        "task.completed",
        actor=actor,
        case=case,
        subject=f"task:{task.name}"[:120],
        before=before,
        after=_state(case),
        internal=task.state != TaskState.COMPLETED,  # an incident is staff business
    )
    _record_completion(case, before, actor)
    return result


def waiting_case(message_name: str, correlation_key: str) -> Case:
    """The case waiting for this message under this correlation key, locked.

    :raises NoWaitingCase: when no case waits for it.
    """
    case_id = _waiting_case_id(message_name, correlation_key)
    case = lock_case(case_id) if case_id is not None else None
    # Look again under the lock: another worker may have delivered it while this one waited.
    if case is None or _waiting_case_id(message_name, correlation_key) != case.id:
        raise NoWaitingCase(f"no case waits for {message_name} with key {correlation_key}")
    return case


def _waiting_case_id(message_name: str, correlation_key: str) -> int | None:
    return db.session.scalar(
        select(MessageWait.case_id).where(
            MessageWait.message_name == message_name,
            MessageWait.correlation_key == correlation_key,
        )
    )


def deliver_message(case: Case, message_name: str, payload: dict[str, Any]) -> StepResult:
    """Hand a message (payment confirmed, agency answered…) to the waiting case.

    :raises NotWaitingForMessage: when the case does not (or no longer) wait for it.
    """
    before = _state(case)
    workflow = bridge.load_workflow(case)
    with bridge.running_for(case):
        result = workflow.send_message(message_name, payload, actor=bridge.SYSTEM_ACTOR)
    bridge.save_workflow(case, workflow, result)
    record(
        "message.received",
        actor=None,
        case=case,
        subject=f"message:{message_name}"[:120],
        before=before,
        after=_state(case),
        internal=False,
    )
    _record_completion(case, before, None)
    return result


def _due_by(now: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        Case.next_timer_at.is_not(None),
        Case.next_timer_at <= now,
        # A case with an open incident waits for an operator, not for its timers.
        Case.status != CaseStatus.INCIDENT,
    )


def due_case_ids(now: datetime, limit: int = 500) -> list[int]:
    """Cases with a timer due by `now`, oldest first: the only ones a sweep touches."""
    statement = select(Case.id).where(*_due_by(now)).order_by(Case.next_timer_at).limit(limit)
    return list(db.session.scalars(statement))


def lock_next_due_case(now: datetime, passed: Collection[int] = ()) -> Case | None:
    """Lock the oldest case with a due timer that no other sweep holds, skipping `passed`.

    On PostgreSQL a row another transaction has locked is skipped (SKIP LOCKED), so
    concurrent sweeps share the due cases instead of queuing on the same row; SQLite
    serialises writers itself and ignores the clause.
    """
    statement = (
        select(Case)
        .where(*_due_by(now), Case.id.not_in(list(passed)))
        .order_by(Case.next_timer_at, Case.id)
        .limit(1)
        .with_for_update(skip_locked=True, of=Case.__table__)
        .execution_options(populate_existing=True)
    )
    return db.session.scalars(statement).first()


def fire_due_timers(case: Case, now: datetime) -> StepResult | None:
    """Fire the case's due timers and run what they release; None when nothing was due.

    Safe to call twice: a second sweep finds the timers already fired.
    """
    if case.next_timer_at is None or _as_utc(case.next_timer_at) > now:
        return None
    before = _state(case)
    workflow = bridge.load_workflow(case)
    with bridge.running_for(case):
        result = workflow.fire_due_timers(now)
    bridge.save_workflow(case, workflow, result)
    record("timer.fired", actor=None, case=case, before=before, after=_state(case))
    _record_completion(case, before, None)
    return result


def retry_incident(case: Case, *, actor: User) -> StepResult:
    """Run the failed step again (after a fix); the incident closes when it succeeds.

    :raises NothingToRetry: when the case has no incident.
    :raises IncidentNotRetryable: for a BPMN error the model did not catch (dismiss it instead).
    """
    before = _state(case)
    workflow = bridge.load_workflow(case)
    with bridge.running_for(case):
        result = workflow.retry()
    bridge.save_workflow(case, workflow, result)
    record("incident.retried", actor=actor, case=case, before=before, after=_state(case))
    _record_completion(case, before, actor)
    return result


def migration_diff(case: Case, target: ProcessVersion) -> MigrationDiff:
    """What moving the case to another version would change (a dry run; nothing is saved)."""
    return diff_versions(bridge.load_workflow(case), bridge.compiled(target))


def migrate_case(case: Case, target: ProcessVersion, *, actor: User | None) -> StepResult:
    """Move a running case to another version of its process.

    :raises MigrationBlocked: when the diff shows the move would lose work.
    """
    before = {**_state(case), "version": case.process_version.id}
    workflow = migrate(
        bridge.load_workflow(case),
        bridge.compiled(target),
        actor=bridge.actor_for(actor.id if actor else None),
    )
    case.process_version = target
    bridge.save_workflow(case, workflow, workflow.last_result)
    record(
        "case.migrated",
        actor=actor,
        case=case,
        before=before,
        after={**_state(case), "version": target.id},
    )
    return workflow.last_result


def _as_utc(moment: datetime) -> datetime:
    # SQLite returns naive datetimes for timezone-aware columns; they were stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
