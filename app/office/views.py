"""Back-office pages: the inbox, the task page, notes, claims, reassignment and overdue work.

Routes parse input, call one use case, and commit once. A stale save (someone else completed
or changed the case meanwhile) rolls back and shows the reviewer their own answers again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict

from app.accounts.access import citizen_required, staff_required
from app.accounts.models import User
from app.cases import services as cases
from app.cases import workflow as bridge
from app.cases.models import Case, CaseTask, TaskState
from app.db import db
from app.documents.services import case_version, read_version
from app.forms.definitions import FormDefinition
from app.forms.services import normalise, render_page, validate
from app.i18n import localized
from app.inspections import services as inspections
from app.office import queries, services
from app.persian.text import normalize_text, to_ascii_digits

bp = Blueprint("office", __name__, url_prefix="/office", template_folder="templates")


def _now() -> datetime:
    return datetime.now(UTC)


def _user() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _int(value: str | None) -> int | None:
    text = to_ascii_digits(value or "").strip()
    return int(text) if text.isdigit() else None


def _filter_from(args: MultiDict[str, str]) -> queries.InboxFilter:
    tab = args.get("tab", "")
    due = args.get("due", "")
    return queries.InboxFilter(
        tab=tab if tab in queries.TABS else "unassigned",
        service=args.get("service", "")[:80],
        step=args.get("step", "")[:120],
        district=_int(args.get("district")),
        due=due if due in queries.DUE_FILTERS else "",
        q=normalize_text(args.get("q", ""))[:60],
        page=max(1, min(_int(args.get("page")) or 1, 10_000)),
    )


@bp.get("/")
@staff_required()
def inbox() -> ResponseReturnValue:
    user = _user()
    wanted = _filter_from(request.args)
    now = _now()
    page = queries.inbox(user, wanted, now)
    return render_template(
        "office/inbox.html",
        page=page,
        wanted=wanted,
        now=now,
        districts={d.id: d for d in user.districts},
        service_names=dict(page.services),
        supervisor=services.is_supervisor(user),
        cap=queries.COUNT_CAP,
    )


# --- one task -----------------------------------------------------------------------------


def _task(task_id: int) -> tuple[Case, CaseTask]:
    task = db.get_or_404(CaseTask, task_id)
    case = task.case
    if not services.may_see(_user(), case):
        abort(404)  # another district's case is as good as missing
    return case, task


def _task_form(case: Case, task: CaseTask) -> FormDefinition:
    form = services.frozen_form(case.process_version, task.form_key or "")
    if form is None:
        abort(404)
    return form


def _render_task(
    case: Case,
    task: CaseTask,
    *,
    errors: dict[str, str] | None = None,
    formdata: MultiDict[str, str] | None = None,
    conflict: bool = False,
    expected_version: int | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    user = _user()
    form = _task_form(case, task)
    events = services.history(case)
    may_work = task.state == TaskState.OPEN and cases.may_work_on(user, case, task)
    steps = bridge.compiled(case.process_version).steps()
    open_elements = {t.element_id for t in case.tasks if t.state == TaskState.OPEN}
    appointment = (task.properties or {}).get(inspections.APPOINTMENT_PROPERTY)
    return render_template(
        "office/task.html",
        case=case,
        task=task,
        form=form,
        fields=render_page(form, None, data={}, formdata=formdata, errors=errors),
        errors=errors or {},
        conflict=conflict,
        expected_version=expected_version if expected_version is not None else case.version_id,
        may_work=may_work,
        claimant=db.session.get(User, task.claimed_by_id) if task.claimed_by_id else None,
        earlier=services.earlier_steps(case, events),
        events=events,
        people=services.people_of(events),
        notes=services.notes(case),
        steps=steps,
        open_elements=open_elements,
        service_name=localized(case.process_version.card.get("name")) or case.process_key,
        outcome_labels=services.outcome_labels(form, task.outcomes),
        staff=services.eligible_staff(case, task) if services.is_supervisor(user) else [],
        supervisor=services.is_supervisor(user),
        booking=inspections.booking_for(case) if appointment else None,
        free_slots=inspections.free_slots(case.district_id, _now()) if appointment else [],
        appointment=appointment,
        overdue=task.due_at is not None and queries.as_utc(task.due_at) < _now(),
        kind_labels=_kind_labels(),
        documents=services.case_documents(case),
    ), status


def _kind_labels() -> dict[str, str]:
    return {
        "process_started": _("Case opened"),
        "task_completed": _("Step completed"),
        "task_claimed": _("Task claimed"),
        "task_released": _("Task released"),
        "task_reassigned": _("Task reassigned"),
        "message_received": _("Message received"),
        "timer_fired": _("Deadline passed"),
        "connector_called": _("Automatic step"),
        "decision_made": _("Decision table applied"),
        "milestone_reached": _("Milestone"),
        "end_reached": _("End reached"),
        "process_completed": _("Case closed"),
        "incident_opened": _("Incident"),
    }


@bp.get("/tasks/<int:task_id>")
@staff_required()
def task(task_id: int) -> ResponseReturnValue:
    case, row = _task(task_id)
    return _render_task(case, row)


@bp.post("/tasks/<int:task_id>")
@staff_required()
def complete(task_id: int) -> ResponseReturnValue:
    case, row = _task(task_id)
    user = _user()
    form = _task_form(case, row)
    expected = _int(request.form.get("expected_version"))
    data = normalise(form, request.form, files=request.files)
    errors = validate(form, data)
    errors.update(services.outcome_errors(form, row.outcomes, data))
    if expected is None or expected != case.version_id:
        return _conflict(case, row, expected)
    if row.claimed_by_id not in (None, user.id):
        flash(
            _("Another reviewer holds this task. Ask them or a supervisor to release it."), "error"
        )
        return _render_task(case, row, formdata=request.form, expected_version=expected, status=409)
    if errors:
        return _render_task(
            case, row, errors=errors, formdata=request.form, expected_version=expected, status=422
        )
    locked = cases.lock_case(case.id)
    if locked is None:
        abort(404)
    refused = services.store_uploads(locked, row, form, request.files, data, actor=user)
    if refused:
        db.session.rollback()
        case, row = _task(task_id)
        return _render_task(
            case, row, errors=refused, formdata=request.form, expected_version=expected, status=422
        )
    try:
        cases.complete_task(locked, row.engine_task_id, data, actor=user, expected_version=expected)
        db.session.commit()
    except (cases.CaseConflict, cases.TaskNotReady, StaleDataError):
        db.session.rollback()
        case, row = _task(task_id)
        return _conflict(case, row, expected)
    except cases.NotAllowed:
        db.session.rollback()
        abort(403)
    flash(_("Done: %(step)s for case %(code)s.", step=row.name, code=case.tracking_code), "success")
    return redirect(url_for(".inbox", tab="mine"))


def _conflict(case: Case, row: CaseTask, expected: int | None) -> ResponseReturnValue:
    # Nothing was saved; the reviewer's answers come back exactly as typed, beside the
    # case as it is now, so they can decide again without retyping.
    db.session.expire_all()
    case, row = _task(row.id)
    return _render_task(
        case,
        row,
        formdata=request.form,
        conflict=True,
        expected_version=case.version_id,
        status=409,
    )


@bp.post("/tasks/<int:task_id>/claim")
@staff_required()
def claim(task_id: int) -> ResponseReturnValue:
    case, row = _task(task_id)
    try:
        services.claim_task(case, row, actor=_user())
        db.session.commit()
    except cases.NotAllowed:
        abort(403)
    except cases.TaskNotReady:
        flash(_("This task was already completed."), "error")
    except services.TaskTaken:
        flash(_("Another reviewer took this task first."), "error")
    return redirect(url_for(".task", task_id=row.id))


@bp.post("/tasks/<int:task_id>/release")
@staff_required()
def release(task_id: int) -> ResponseReturnValue:
    case, row = _task(task_id)
    try:
        services.release_task(case, row, actor=_user())
        db.session.commit()
        flash(_("The task is back in the shared queue."), "success")
    except cases.TaskNotReady:
        flash(_("This task was already completed."), "error")
    except services.TaskTaken:
        abort(403)
    return redirect(url_for(".inbox"))


@bp.post("/tasks/<int:task_id>/reassign")
@staff_required()
def reassign(task_id: int) -> ResponseReturnValue:
    case, row = _task(task_id)
    assignee = db.session.get(User, _int(request.form.get("assignee")) or 0)
    if assignee is None:
        flash(_("Choose who should do this task."), "error")
        return redirect(url_for(".task", task_id=row.id, _anchor="reassign"))
    try:
        services.reassign_task(case, row, assignee, actor=_user())
        db.session.commit()
    except cases.NotAllowed:
        abort(403)
    except cases.TaskNotReady:
        flash(_("This task was already completed."), "error")
        return redirect(url_for(".task", task_id=row.id))
    flash(_("Reassigned to %(name)s.", name=assignee.full_name), "success")
    if request.form.get("back") == "overdue":
        return redirect(url_for(".overdue"))
    return redirect(url_for(".task", task_id=row.id))


@bp.post("/cases/<int:case_id>/notes")
@staff_required()
def add_note(case_id: int) -> ResponseReturnValue:
    case = db.get_or_404(Case, case_id)
    if not services.may_see(_user(), case):
        abort(404)
    body = normalize_text(request.form.get("body", ""), multiline=True)
    task_id = _int(request.form.get("task"))
    if not body or len(body) > services.NOTE_MAX_LENGTH:
        flash(
            _("Write the note (at most %(count)s characters).", count=services.NOTE_MAX_LENGTH),
            "error",
        )
    else:
        services.add_note(case, body, actor=_user())
        db.session.commit()
        flash(_("Note saved."), "success")
    target = url_for(".task", task_id=task_id) if task_id else url_for(".inbox")
    return redirect(f"{target}#notes")


@bp.get("/cases/<int:case_id>/diagram.bpmn")
@staff_required()
def diagram(case_id: int) -> ResponseReturnValue:
    case = db.get_or_404(Case, case_id)
    if not services.may_see(_user(), case):
        abort(404)
    xml = bridge.compiled(case.process_version).bpmn_xml
    return Response(xml, mimetype="application/xml")


@bp.get("/cases/<int:case_id>/documents/<int:version_id>")
@staff_required()
def document(case_id: int, version_id: int) -> ResponseReturnValue:
    case = db.get_or_404(Case, case_id)
    if not services.may_see(_user(), case):
        abort(404)
    version = case_version(case.id, version_id)
    if version is None:
        abort(404)
    response = Response(read_version(version), mimetype=version.content_type)
    # Shown inline in the task page; never run as a page of ours, never cached by proxies.
    response.headers["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(version.file_name)}"
    if version.content_type != "application/pdf":  # Chromium's PDF viewer refuses sandboxing
        response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/overdue")
@staff_required()
def overdue() -> ResponseReturnValue:
    user = _user()
    if not services.is_supervisor(user):
        abort(403)
    now = _now()
    return render_template(
        "office/overdue.html",
        per_step=queries.overdue_by_step(user, now),
        tasks=services.overdue_tasks(user, now),
        service_names=queries.service_names(),
        now=now,
    )


# --- the applicant's side of a returned case ----------------------------------------------


@bp.get("/applicant/tasks/<int:task_id>")
@citizen_required
def applicant_task(task_id: int) -> ResponseReturnValue:
    """The old address of the citizen's correction page: the portal serves it now.

    The portal's case page shows what the reviewer asked to fix beside the task, and its task
    pages save drafts, take uploads and check the answers before sending.
    """
    task = db.get_or_404(CaseTask, task_id)
    if task.case.applicant_id != _user().id or task.lane not in bridge.citizen_lanes():
        abort(404)
    return redirect(url_for("portal.case", case_id=task.case_id, _anchor="needed-title"), 301)
