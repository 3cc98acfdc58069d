"""Back-office use cases: claim, release and reassign tasks, keep notes, read a case's story.

Each takes the actor and validated values, may add and flush, and never commits: the route
or command that called it commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import or_, select

from app.accounts.models import District, DistrictMembership, RoleAssignment, User, UserKind
from app.cases import services as cases
from app.cases import workflow as bridge
from app.cases.models import Case, CaseEvent, CaseTask, TaskState
from app.db import db
from app.documents import services as documents
from app.documents.checks import UploadRefused
from app.documents.models import Document
from app.forms.definitions import FormDefinition, parse_definition
from app.forms.services import render_answers
from app.office.models import CaseNote
from app.processes.models import ProcessVersion

NOTE_MAX_LENGTH = 4000


class TaskTaken(Exception):
    """Someone else holds this task; only they or a supervisor may release it."""


def _now() -> datetime:
    return datetime.now(UTC)


def supervisor_roles() -> set[str]:
    """The roles that see overdue work and may reassign it (OFFICE_SUPERVISOR_ROLES)."""
    return set(current_app.config["OFFICE_SUPERVISOR_ROLES"])


def is_supervisor(user: User) -> bool:
    """Whether the user supervises the back office (reassigns, sees overdue work per step)."""
    return bool(user.role_codes & supervisor_roles())


def may_see(user: User, case: Case) -> bool:
    """Staff see only their districts' cases (a case without a district is everyone's)."""
    return user.kind != UserKind.CITIZEN and (
        case.district_id is None or case.district_id in {d.id for d in user.districts}
    )


def _record(case: Case, kind: str, actor: User, task: CaseTask, **data: Any) -> None:
    db.session.add(
        CaseEvent(
            case_id=case.id,
            kind=kind,
            actor_id=actor.id,
            element_id=task.element_id,
            title=task.name,
            data={"task": task.engine_task_id, **data},
            created_at=_now(),
        )
    )


def claim_task(case: Case, task: CaseTask, *, actor: User) -> None:
    """Take an open task so it shows under "assigned to me" and nobody else picks it up.

    :raises NotAllowed: when the actor does not hold the task's role in the case's district.
    :raises TaskNotReady: when the task is no longer open.
    :raises TaskTaken: when someone else holds it.
    """
    cases.open_task(case, task.engine_task_id)
    if not cases.may_work_on(actor, case, task):
        raise cases.NotAllowed(task.lane)
    if task.claimed_by_id == actor.id:
        return
    if task.claimed_by_id is not None:
        raise TaskTaken(task.claimed_by_id)
    task.claimed_by_id = actor.id
    _record(case, "task_claimed", actor, task)


def release_task(case: Case, task: CaseTask, *, actor: User) -> None:
    """Give a claimed task back to the role's shared queue.

    :raises TaskTaken: when the actor neither holds it nor supervises.
    """
    cases.open_task(case, task.engine_task_id)
    if task.claimed_by_id is None:
        return
    if task.claimed_by_id != actor.id and not is_supervisor(actor):
        raise TaskTaken(task.claimed_by_id)
    _record(case, "task_released", actor, task, previous=task.claimed_by_id)
    task.claimed_by_id = None


def eligible_staff(case: Case, task: CaseTask) -> list[User]:
    """Staff who hold the task's role and serve the case's district, by name."""
    statement = (
        select(User)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(
            RoleAssignment.role_code == task.lane,
            User.kind != UserKind.CITIZEN,
            User.is_active_account.is_(True),
        )
        .order_by(User.full_name, User.id)
    )
    if case.district_id is not None:
        statement = statement.join(DistrictMembership, DistrictMembership.user_id == User.id).where(
            DistrictMembership.district_id == case.district_id
        )
    return list(db.session.scalars(statement).unique())


def reassign_task(case: Case, task: CaseTask, assignee: User, *, actor: User) -> None:
    """Hand an open task to another staff member of the same role and district (supervisors).

    :raises NotAllowed: when the actor does not supervise this case, or the assignee may not
        work on the task.
    :raises TaskNotReady: when the task is no longer open.
    """
    cases.open_task(case, task.engine_task_id)
    if not is_supervisor(actor) or not may_see(actor, case):
        raise cases.NotAllowed("supervisor")
    if not cases.may_work_on(assignee, case, task):
        raise cases.NotAllowed(task.lane)
    _record(case, "task_reassigned", actor, task, previous=task.claimed_by_id, to=assignee.id)
    task.claimed_by_id = assignee.id


def add_note(case: Case, body: str, *, actor: User) -> CaseNote:
    """Keep an internal note on the case (staff only; never shown to the applicant)."""
    note = CaseNote(case_id=case.id, author_id=actor.id, body=body, created_at=_now())
    db.session.add(note)
    db.session.flush()
    return note


def notes(case: Case) -> list[CaseNote]:
    """The case's internal notes, newest first."""
    statement = select(CaseNote).where(CaseNote.case_id == case.id).order_by(CaseNote.id.desc())
    return list(db.session.scalars(statement))


def history(case: Case) -> list[CaseEvent]:
    """The case's history, oldest first."""
    statement = select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    return list(db.session.scalars(statement))


_frozen: dict[tuple[int, str], FormDefinition] = {}


def frozen_form(version: ProcessVersion, key: str) -> FormDefinition | None:
    """A form exactly as deployed with the case's process version (not today's file)."""
    cache_key = (version.id, key)
    if cache_key not in _frozen:
        text = version.forms.get(key)
        if text is None:
            return None
        path = PurePosixPath(f"version-{version.id}") / f"{key}.json"
        _frozen[cache_key] = parse_definition(key, path, text)  # type: ignore[arg-type]
    return _frozen[cache_key]


@dataclass(frozen=True)
class EarlierStep:
    """A completed step's answers, rendered with its own frozen form."""

    name: str
    completed_at: datetime
    actor: str
    answers: Markup


def earlier_steps(case: Case, events: list[CaseEvent]) -> list[EarlierStep]:
    """Every completed human step with its answers, newest first."""
    forms = {row.element_id: row.form_key for row in case.tasks}
    people = _names({e.actor_id for e in events if e.actor_id is not None})
    steps = []
    for event in events:
        if event.kind != "task_completed" or event.element_id not in forms:
            continue
        key = forms[event.element_id]
        form = frozen_form(case.process_version, key) if key else None
        if form is None:
            continue
        steps.append(
            EarlierStep(
                name=event.title,
                completed_at=event.created_at,
                actor=people.get(event.actor_id or 0, ""),
                answers=render_answers(form, dict(event.data)),
            )
        )
    return list(reversed(steps))


def _names(user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = db.session.execute(select(User.id, User.full_name).where(User.id.in_(user_ids)))
    return {user_id: name for user_id, name in rows}


def district_names(ids: set[int]) -> dict[int, District]:
    """Districts by id (one statement)."""
    if not ids:
        return {}
    return {d.id: d for d in db.session.scalars(select(District).where(District.id.in_(ids)))}


def people_of(events: list[CaseEvent]) -> dict[int, str]:
    """The names of everyone who acted in these events (one statement)."""
    return _names({e.actor_id for e in events if e.actor_id is not None})


def outcome_field(form: FormDefinition, outcomes: list[str]) -> str | None:
    """The form's top-level choice whose options include every outcome the BPMN offers."""
    if not outcomes:
        return None
    for field in form.fields:
        options = field.schema.get("enum") or [
            o.get("const") for o in field.schema.get("oneOf", [])
        ]
        if set(outcomes) <= set(options):
            return field.name
    return None


def outcome_labels(form: FormDefinition, outcomes: list[str]) -> list[str]:
    """The outcomes the BPMN offers on this task, in the form's words."""
    name = outcome_field(form, outcomes)
    field = next((f for f in form.fields if f.name == name), None)
    labels = dict(field.choices()) if field is not None else {}
    return [labels.get(outcome, outcome) for outcome in outcomes]


def outcome_errors(
    form: FormDefinition, outcomes: list[str], data: dict[str, Any]
) -> dict[str, str]:
    """An error when the chosen decision is one the BPMN does not offer on this task."""
    name = outcome_field(form, outcomes)
    if name is None or name not in data or data[name] in outcomes:
        return {}
    return {name: _("Choose one of the decisions this step offers.")}


def overdue_tasks(user: User, now: datetime, limit: int = 200) -> list[tuple[CaseTask, str]]:
    """Overdue staff tasks in the supervisor's districts, most overdue first, with tracking codes."""
    district_ids = [d.id for d in user.districts]
    statement = (
        select(CaseTask, Case.tracking_code)
        .join(Case, Case.id == CaseTask.case_id)
        .where(
            CaseTask.state == TaskState.OPEN,
            CaseTask.due_at < now,
            CaseTask.lane.not_in(sorted(bridge.citizen_lanes())),
            or_(CaseTask.district_id.in_(district_ids), CaseTask.district_id.is_(None)),
        )
        .order_by(CaseTask.due_at, CaseTask.id)
        .limit(limit)
    )
    return [(task, code) for task, code in db.session.execute(statement)]


def store_uploads(
    case: Case,
    task: CaseTask,
    form: FormDefinition,
    files: Any,
    data: dict[str, Any],
    *,
    actor: User,
) -> dict[str, str]:
    """Keep the task's uploaded files (photos from a phone…) as case documents.

    Each answer then holds the stored version's metadata and id instead of a bare file name.
    Returns {field: message} for files the document rules refused (nothing of those is kept).
    """
    errors: dict[str, str] = {}
    for field in form.fields:
        if field.widget != "file":
            continue
        uploads = [f for f in files.getlist(field.name) if f and f.filename]
        if not uploads:
            continue
        stored = []
        for number, upload in enumerate(uploads, start=1):
            upload.stream.seek(0)  # the form's own checks already read the first bytes
            try:
                version = documents.add_version(
                    case,
                    slot=f"task:{task.id}:{field.name}:{number}",
                    title=_label_pair(field.label_text),
                    data=upload.stream.read(),
                    file_name=upload.filename or "",
                    actor=actor,
                    accept=field.schema.get("x-accept"),
                    max_size=field.schema.get("x-maxSize"),
                )
            except UploadRefused as refused:
                errors[field.name] = refused.message()
                break
            stored.append(documents.version_values(version))
        if field.name not in errors:
            many = field.schema.get("type") == "array"
            data[field.name] = stored if many else stored[0]
    return errors


def case_documents(case: Case) -> list[Document]:
    """The case's documents with their versions (two statements)."""
    return documents.case_documents([case.id]).get(case.id, [])


def _label_pair(label: dict[str, str] | str) -> dict[str, str]:
    return dict(label) if isinstance(label, dict) else {"fa": label, "en": label}
