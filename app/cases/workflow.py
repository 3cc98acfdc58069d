"""The bridge between the app and engine/: the only app module that imports the engine.

It owns the shared Runtime (calendar, connectors, sandbox), turns stored process versions
into compiled processes, and keeps a case's columns, task rows and message waits in step
with its workflow after every engine operation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from flask import current_app, g
from sqlalchemy import delete, select

from app.calendar.working import CalendarSnapshot
from app.cases.models import Case, CaseEvent, CaseStatus, CaseTask, MessageWait, TaskState
from app.db import db
from app.notifications.steps import PerLanguage, notify_step_changed
from app.processes.models import ProcessVersion
from app.processes.step_names import card_text, current_steps_text
from engine import (
    SERIALIZER_VERSION,
    CompiledProcess,
    ConnectorRegistry,
    HumanTask,
    ProcessLibrary,
    ProcessPackage,
    Runtime,
    StepResult,
    ValidationIssue,
    WorkCalendar,
    Workflow,
    compile_package,
    validate_package,
)

#: Python's weekday number for Thursday, the day the engine's calendar can open or close.
THURSDAY = 3

#: The actor string the engine records for automatic work (timers, sweeps).
SYSTEM_ACTOR = "system"

#: The case an engine operation is running for, so connectors can tie their records to it.
current_case: ContextVar[Case | None] = ContextVar("current_case", default=None)


def actor_for(user_id: int | None) -> str:
    """The engine's actor string for a user (or the system)."""
    return f"user:{user_id}" if user_id is not None else SYSTEM_ACTOR


def user_id_of(actor: str) -> int | None:
    """The user id inside an actor string, or None for the system."""
    prefix, _, rest = actor.partition(":")
    return int(rest) if prefix == "user" and rest.isdigit() else None


# --- The shared runtime and the analysts' files ---------------------------------------------


_roles_cache: dict[tuple[str, int], dict[str, dict[str, Any]]] = {}


def role_catalogue() -> dict[str, dict[str, Any]]:
    """The role codes lanes may use, with their names (processes/roles.json).

    Read again only when the file changes: every engine step asks for it.
    """
    path = Path(current_app.config["PROCESSES_DIR"]) / "roles.json"
    key = (str(path), path.stat().st_mtime_ns)
    roles = _roles_cache.get(key)
    if roles is None:
        roles = json.loads(path.read_text(encoding="utf-8"))["roles"]
        _roles_cache.clear()
        _roles_cache[key] = roles
    return roles


def citizen_lanes() -> frozenset[str]:
    """Lanes whose tasks the applicant does: while one is open, the case waits for the citizen."""
    return frozenset(code for code, role in role_catalogue().items() if role.get("citizen"))


def runtime() -> Runtime:
    """The app's one Runtime: working calendar, registered connectors and sandbox limits.

    Rebuilt when an administrator edits the working calendar (its revision changes), so
    BPMN timers in every process count the days the database says.
    """
    from app.calendar.services import calendar_snapshot

    # One calendar check per request, job or sweep (each has its own app context) is enough:
    # a single step asks for the runtime several times. Editing the calendar forgets it.
    if "parvaneh_runtime" in g:
        return g.parvaneh_runtime  # type: ignore[no-any-return]
    snapshot = calendar_snapshot()
    revision = snapshot.revision if snapshot is not None else None
    existing = current_app.extensions.get("parvaneh.runtime")
    if existing is None or current_app.extensions.get("parvaneh.runtime_calendar") != revision:
        from app.cases.connectors import register_connectors

        registry = ConnectorRegistry()
        register_connectors(registry)
        existing = Runtime(calendar=engine_calendar(snapshot), connectors=registry)
        current_app.extensions["parvaneh.runtime"] = existing
        current_app.extensions["parvaneh.runtime_calendar"] = revision
    g.parvaneh_runtime = existing
    return existing  # type: ignore[no-any-return]


#: Days before today and after it that the engine calendar copies from the database one.
_CALENDAR_PAST_DAYS, _CALENDAR_FUTURE_DAYS = 3 * 366, 10 * 366


def engine_calendar(snapshot: CalendarSnapshot | None) -> WorkCalendar:
    """The engine's WorkCalendar, made to agree day by day with the database calendar.

    The engine knows one Thursday rule and extra holidays or working days; the database has
    weekday rules by date range. Every date in a window around today where the two differ
    becomes an extra holiday or working day, so both count the same days.
    """
    if snapshot is None:
        return WorkCalendar(thursday_closed=current_app.config.get("THURSDAY_CLOSED", True))
    today = utc_now().date()
    closed_now = snapshot.closed_weekdays(today)
    base = WorkCalendar(thursday_closed=THURSDAY in closed_now, official_holidays=False)
    first = min([today - timedelta(days=_CALENDAR_PAST_DAYS), *snapshot.days])
    last = max([today + timedelta(days=_CALENDAR_FUTURE_DAYS), *snapshot.days])
    extra_holidays, extra_working = [], []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        ours, theirs = snapshot.is_working_day(day), base.is_working_day(day)
        if ours and not theirs:
            extra_working.append(day)
        elif theirs and not ours:
            extra_holidays.append(day)
    return WorkCalendar(
        thursday_closed=THURSDAY in closed_now,
        official_holidays=False,
        extra_holidays=extra_holidays,
        extra_working_days=extra_working,
    )


def library() -> ProcessLibrary:
    """The process packages and forms on disk, as the analysts edit them."""
    return ProcessLibrary(current_app.config["PROCESSES_DIR"], current_app.config["FORMS_DIR"])


def validate(package: ProcessPackage) -> list[ValidationIssue]:
    """Every problem in a package: BPMN/DMN, lanes, forms, scripts, loops, layout."""
    return validate_package(
        package.files,
        key=package.key,
        form_exists=lambda key: key in package.forms,
        known_roles=role_catalogue().keys(),
        connectors=runtime().connectors,
    )


def compiled(version: ProcessVersion) -> CompiledProcess:
    """The compiled process of a stored version (cached by content inside the engine).

    Versions never change once stored, so the compiled process is also remembered by the
    version's content hash: loading a case then reads neither the version's files nor
    hashes them again (lock_case does not even load them).
    """
    known = _compiled_versions.get(version.content_hash)
    if known is not None and known.key == version.process_key:
        return known
    files = {name: text.encode("utf-8") for name, text in version.files.items()}
    result = compile_package(files, key=version.process_key)
    if len(_compiled_versions) >= _COMPILED_VERSIONS_KEPT:
        _compiled_versions.pop(next(iter(_compiled_versions)))
    _compiled_versions[version.content_hash] = result
    return result


#: Compiled processes by process version content hash (the engine caches them by content).
_compiled_versions: dict[str, CompiledProcess] = {}
_COMPILED_VERSIONS_KEPT = 64


# --- Running a case's workflow ----------------------------------------------------------------


@contextmanager
def running_for(case: Case) -> Iterator[None]:
    """Mark the case the engine works for, for the connectors it calls."""
    token = current_case.set(case)
    try:
        yield
    finally:
        current_case.reset(token)


def start_workflow(case: Case, data: dict[str, Any], actor: str) -> Workflow:
    """Start the case's process with its initial data; runs until the process waits."""
    with running_for(case):
        return Workflow.start(
            compiled(case.process_version), data, actor=actor, runtime=runtime(), now=utc_now()
        )


def load_workflow(case: Case) -> Workflow:
    """Restore a case's workflow exactly as stored, with the sandbox re-attached."""
    workflow = Workflow.load(compiled(case.process_version), case.workflow_state, runtime=runtime())
    # The message-wait rows mirror the stored state: remember it, so the save knows whether
    # the waits changed without reading the rows back.
    _waits_at_load[workflow] = frozenset(workflow.waiting_messages())
    return workflow


#: The messages a loaded workflow waited for when it was restored (see save_workflow).
_waits_at_load: WeakKeyDictionary[Workflow, frozenset[str]] = WeakKeyDictionary()


def utc_now() -> datetime:
    return datetime.now(UTC)


def save_workflow(case: Case, workflow: Workflow, result: StepResult) -> None:
    """Store the engine state on the case, mirror its tasks and waits, and append history.

    Every case column is set before anything is flushed, so the case row is written with one
    UPDATE, which also marks the case for the public figures' fold; the applicant gets a
    message when the case reaches a new stage.
    """
    now = utc_now()
    human_tasks = workflow.human_tasks()
    with db.session.no_autoflush:
        case.workflow_state = workflow.dump()
        case.serializer_version = SERIALIZER_VERSION
        case.next_timer_at = workflow.next_timer_at()
        case.incident = workflow.incident.to_dict() if workflow.incident else None
        case.outcome = workflow.outcome
        case.current_step = "، ".join(workflow.current_steps())[:200]
        case.status = _status_of(workflow, human_tasks)
        just_completed = workflow.is_completed and case.completed_at is None
        if just_completed:
            case.completed_at = now
        case.due_at = min((t.due_at for t in human_tasks if t.due_at), default=None)
        _mirror_business_columns(case, result)
        _record_metrics(case, now)
        new_stage = _sync_tasks(case, human_tasks, now)
        _append_history(case, result)
        waits_before = _waits_at_load.pop(workflow, None)
    _sync_message_waits(case, workflow.waiting_messages(), waits_before)
    notify_step_changed(
        case,
        [task.id for task in human_tasks],
        new_stage=new_stage and not _by_applicant(case, result),
        completed=just_completed,
        # Named only when a message is written: naming reads the version's card.
        stage=lambda: _stage_name(case, result, just_completed),
    )


def _by_applicant(case: Case, result: StepResult) -> bool:
    # The applicant who filed or submitted sees the next step on the page the action leads
    # to: the stage message is for changes someone (or something) else made.
    applicant = actor_for(case.applicant_id) if case.applicant_id is not None else None
    return any(
        entry.kind in ("process_started", "task_completed") and entry.actor == applicant
        for entry in result.history
    )


def _stage_name(case: Case, result: StepResult, completed: bool) -> PerLanguage:
    # What the applicant's stage message calls the new stage: the open steps, or the end
    # event the case reached (the BPMN's own words, e.g. «پروانه صادر شد»), and in English
    # the card's `step_names` for them.
    step_names = (case.process_version.card or {}).get("step_names") or {}
    if completed:
        ends = [e for e in result.history if e.kind == "end_reached" and e.element_name]
        if not ends:
            return PerLanguage(case.outcome or "", case.outcome or "")
        end = ends[-1]
        name = end.element_name or ""
        return PerLanguage(name, card_text(step_names, end.element_id or "", name, "en"))
    names = compiled(case.process_version).element_names
    ids = {name: element_id for element_id, name in names.items()}  # once per stage message
    english = current_steps_text(step_names, ids, case.current_step, "en")
    return PerLanguage(case.current_step, english)


def _mirror_business_columns(case: Case, result: StepResult) -> None:
    # The property keys staff and citizens search by follow the data that set them: a start,
    # a submitted form or a message carrying `renewal_code` or `plate` (the property
    # register's connector sets the columns itself, to the same values).
    from app.persian.property import RegistryPlate, check_renewal_code

    for entry in result.history:
        data = entry.data
        if not data:
            continue
        code = data.get("renewal_code")
        if isinstance(code, str) and code:
            check = check_renewal_code(code)
            if check.ok:
                case.renewal_code = check.value
        if "plate" in data:
            plate = RegistryPlate.from_answers(data["plate"])
            if plate is not None:
                case.registry_plate = plate.key


def _record_metrics(case: Case, now: datetime) -> None:
    # The public figures: a mark in the case's own UPDATE; a background fold adds them up.
    from app.transparency.recording import mark_case_changed

    mark_case_changed(case, now)


def _status_of(workflow: Workflow, human_tasks: list[HumanTask]) -> CaseStatus:
    if workflow.incident is not None:
        return CaseStatus.INCIDENT
    if workflow.is_completed:
        return CaseStatus.COMPLETED
    lanes = {task.lane for task in human_tasks}
    if lanes and lanes <= citizen_lanes():
        return CaseStatus.WAITING_CITIZEN
    if not human_tasks:
        return CaseStatus.WAITING_EVENT
    return CaseStatus.ACTIVE


def _sync_tasks(case: Case, human_tasks: list[HumanTask], now: datetime) -> bool:
    """Mirror the ready human tasks into task rows; True when a new task appeared."""
    ready = {task.id: task for task in human_tasks}
    for row in case.tasks:
        if row.state == TaskState.OPEN and row.engine_task_id not in ready:
            # Completed through complete_task, or withdrawn by a timer, message or migration.
            row.state = TaskState.CANCELLED
            row.completed_at = now
    known = {row.engine_task_id for row in case.tasks}
    appeared = False
    for task in human_tasks:
        if task.id in known:
            row = next(r for r in case.tasks if r.engine_task_id == task.id)
            row.due_at = task.due_at
            continue
        appeared = True
        extra = {k: v for k, v in task.properties.items() if k not in ("formKey", "outcomes")}
        case.tasks.append(
            CaseTask(
                engine_task_id=task.id,
                element_id=task.element_id,
                name=task.name[:200],
                lane=task.lane or "",
                district_id=case.district_id,
                form_key=task.form_key,
                outcomes=list(task.outcomes),
                properties=extra,
                state=TaskState.OPEN,
                created_at=task.ready_since,
                due_at=task.due_at,
                claimed_by_id=_previous_performer(case, task.element_id)
                if extra.get("assignment") == "previous_performer"
                else None,
            )
        )
    return appeared


def _previous_performer(case: Case, element_id: str) -> int | None:
    # The BPMN asks that a step coming round again (after a correction) go back to whoever
    # completed it last, so the reviewer who asked for the fix checks it.
    done = [
        row
        for row in case.tasks
        if row.element_id == element_id and row.completed_by_id is not None
    ]
    return max(done, key=lambda row: row.id or 0).completed_by_id if done else None


def _sync_message_waits(case: Case, waiting: list[str], before: frozenset[str] | None) -> None:
    wanted = set(waiting)
    # Most steps neither start nor stop a wait: then leave the rows alone. `before` is what
    # the rows hold when the workflow was loaded from them; read them only when unknown.
    stored = (
        set(before)
        if before is not None
        else set(
            db.session.scalars(
                select(MessageWait.message_name).where(MessageWait.case_id == case.id)
            )
        )
    )
    if stored == wanted:
        return
    db.session.execute(
        delete(MessageWait).where(MessageWait.case_id == case.id),
        execution_options={"synchronize_session": False},
    )
    for name in sorted(wanted):
        db.session.add(
            MessageWait(case_id=case.id, message_name=name, correlation_key=case.tracking_code)
        )


def _append_history(case: Case, result: StepResult) -> None:
    for entry in result.history:
        db.session.add(
            CaseEvent(
                case_id=case.id,
                kind=entry.kind,
                actor_id=user_id_of(entry.actor),
                element_id=entry.element_id,
                title=(entry.element_name or "")[:200],
                data=dict(entry.data),
                detail=str(entry.data.get("message", ""))
                if entry.kind == "incident_opened"
                else "",
                created_at=entry.at,
            )
        )
