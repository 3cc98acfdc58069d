"""Agency pages: the questions addressed to an outside agency and their answers; the inquiries
an organisation (notary, bank, utility) files and the answers it receives; the inbound API.

Routes parse input, call the use cases, and commit once. An agency answer is the task's
generated form, exactly as on the back office's task page; a stale answer (the case changed
meanwhile) rolls back and shows the agency what it typed again.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import click
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import MultiDict

from app.accounts.access import agency_required
from app.accounts.models import User
from app.agency import api, services
from app.audit.services import record, record_personal_data_view
from app.cases import services as cases
from app.cases.models import Case, CaseTask, TaskState
from app.db import db
from app.documents.services import case_version, read_version
from app.forms.definitions import FormDefinition
from app.forms.normalise import apply_action
from app.forms.services import normalise, render_page, validate
from app.i18n import current_locale, localized
from app.office import services as office
from app.office.queries import service_names
from app.payments import services as payments
from app.payments.models import Payment
from app.persian.text import normalize_text, to_ascii_digits

bp = Blueprint("agency", __name__, template_folder="templates", cli_group="agency")
api.register(bp)


def _user() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _int(value: str | None) -> int | None:
    text = to_ascii_digits(value or "").strip()
    return int(text) if text.isdigit() else None


def _page_number() -> int:
    return max(1, min(_int(request.args.get("page")) or 1, 10_000))


@bp.after_request
def _personal_pages_are_not_cached(response: Response) -> Response:
    response.headers.setdefault("Cache-Control", "private, no-store")
    return response


def _land_uses() -> dict[str, str]:
    return {
        "residential": _("Residential"),
        "commercial": _("Commercial"),
        "administrative": _("Administrative"),
        "industrial": _("Industrial"),
        "mixed": _("Mixed use"),
        "green": _("Green space"),
    }


# --- Questions addressed to my agency ---------------------------------------------------------


@bp.get("/agency/")
@agency_required()
def inbox() -> ResponseReturnValue:
    user = _user()
    lanes = services.agency_lanes(user)
    if not lanes and services.requester_roles(user):
        return redirect(url_for(".inquiries"))
    now = services.utc_now()
    q = normalize_text(request.args.get("q", ""))[:40]
    page = services.questions(user, q=q, page=_page_number(), now=now)
    return render_template(
        "agency/inbox.html",
        page=page,
        q=q,
        now=now,
        lanes=lanes,
        names=service_names(),
        requester=bool(services.requester_roles(user)),
    )


def _task_or_404(task_id: int) -> tuple[Case, CaseTask]:
    task = services.agency_task(_user(), task_id)
    if task is None:
        abort(404)
    return task.case, task


def _task_form(case: Case, task: CaseTask) -> FormDefinition:
    form = office.frozen_form(case.process_version, task.form_key or "")
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
    facts = services.property_facts(case, current_locale())
    documents = office.case_documents(case)
    # The agency sees the owner's property and papers: the trail says who looked, and when.
    record_personal_data_view(
        user,
        case=case,
        subject=f"agency_task:{task.id}",
        fields=[*facts.shown_fields, *(["documents"] if documents else [])],
    )
    db.session.commit()
    now = services.utc_now()
    return render_template(
        "agency/task.html",
        case=case,
        task=task,
        form=form,
        question=(task.properties or {}).get(services.QUESTION_PROPERTY, ""),
        facts=facts,
        land_uses=_land_uses(),
        fields=render_page(form, None, data={}, formdata=formdata, errors=errors),
        errors=errors or {},
        conflict=conflict,
        expected_version=expected_version if expected_version is not None else case.version_id,
        open=task.state == TaskState.OPEN,
        overdue=task.due_at is not None and services.as_utc(task.due_at) < now,
        service_name=localized(case.process_version.card.get("name")) or case.process_key,
        documents=documents,
    ), status


@bp.get("/agency/tasks/<int:task_id>")
@agency_required()
def task(task_id: int) -> ResponseReturnValue:
    case, row = _task_or_404(task_id)
    return _render_task(case, row)


@bp.post("/agency/tasks/<int:task_id>")
@agency_required()
def answer(task_id: int) -> ResponseReturnValue:
    case, row = _task_or_404(task_id)
    user = _user()
    form = _task_form(case, row)
    expected = _int(request.form.get("expected_version"))
    data = normalise(form, request.form, files=request.files)
    errors = validate(form, data)
    errors.update(office.outcome_errors(form, row.outcomes, data))
    if expected is None or expected != case.version_id or row.state != TaskState.OPEN:
        return _conflict(row, expected)
    if errors:
        return _render_task(
            case, row, errors=errors, formdata=request.form, expected_version=expected, status=422
        )
    locked = cases.lock_case(case.id)
    if locked is None:
        abort(404)
    refused = office.store_uploads(locked, row, form, request.files, data, actor=user)
    if refused:
        db.session.rollback()
        case, row = _task_or_404(task_id)
        return _render_task(
            case, row, errors=refused, formdata=request.form, expected_version=expected, status=422
        )
    try:
        cases.complete_task(locked, row.engine_task_id, data, actor=user, expected_version=expected)
        record(
            "agency.answered",
            actor=user,
            case=locked,
            subject=f"task:{row.name}"[:120],
            after={"lane": row.lane, "answers": data},
        )
        db.session.commit()
    except (cases.CaseConflict, cases.TaskNotReady, StaleDataError):
        db.session.rollback()
        return _conflict(row, expected)
    except cases.NotAllowed:
        db.session.rollback()
        abort(403)
    flash(
        _("Your answer for case %(code)s was sent to the municipality.", code=case.tracking_code),
        "success",
    )
    return redirect(url_for(".inbox"))


def _conflict(row: CaseTask, expected: int | None) -> ResponseReturnValue:
    # Nothing was saved; what the agency typed comes back beside the case as it is now.
    db.session.expire_all()
    case, row = _task_or_404(row.id)
    return _render_task(
        case,
        row,
        formdata=request.form,
        conflict=True,
        expected_version=case.version_id,
        status=409,
    )


def _send_version(case: Case, version_id: int) -> ResponseReturnValue:
    version = case_version(case.id, version_id)
    if version is None:
        abort(404)
    response = Response(read_version(version), mimetype=version.content_type)
    response.headers["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(version.file_name)}"
    if version.content_type != "application/pdf":  # Chromium's PDF viewer refuses sandboxing
        response.headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/agency/tasks/<int:task_id>/documents/<int:version_id>")
@agency_required()
def document(task_id: int, version_id: int) -> ResponseReturnValue:
    case, _row = _task_or_404(task_id)
    record_personal_data_view(
        _user(), case=case, subject=f"agency_document:{version_id}", fields=["documents"]
    )
    db.session.commit()
    return _send_version(case, version_id)


# --- Inquiring organisations ----------------------------------------------------------------


def _requester() -> User:
    user = _user()
    if not services.requester_roles(user):
        abort(403)
    return user


@bp.get("/agency/inquiries/")
@agency_required()
def inquiries() -> ResponseReturnValue:
    user = _requester()
    outcome = _payment_outcome(user)
    rows, pages = services.my_inquiries(user, page=_page_number())
    return render_template(
        "agency/inquiries.html",
        rows=rows,
        page=min(_page_number(), pages),
        pages=pages,
        versions=services.requestable_versions(user),
        districts=services.districts(),
        names=service_names(),
        errors={},
        chosen={},
        verify_url=_verification_url,
        valid_until=services.valid_until,
        now=services.utc_now(),
        agency=bool(services.agency_lanes(user)),
        outcome=outcome,
        outcome_case=db.session.get(Case, outcome.invoice.case_id)
        if outcome is not None and outcome.invoice.case_id
        else None,
    )


def _payment_outcome(user: User) -> Payment | None:
    """The payment the organisation just came back from the bank with (?payment=<reference>)."""
    reference = to_ascii_digits(request.args.get("payment", "")).strip()[:40]
    return payments.payment_for(reference, user) if reference.isdigit() else None


@bp.post("/agency/inquiries/")
@agency_required()
def new_inquiry() -> ResponseReturnValue:
    user = _requester()
    districts = services.districts()
    chosen = {
        "service": request.form.get("service", ""),
        "district": request.form.get("district", ""),
    }
    version = services.requestable_version(user, chosen["service"])
    district = next((d for d in districts if str(d.id) == chosen["district"]), None)
    errors: dict[str, str] = {}
    if version is None:
        errors["service"] = _("Choose the service.")
    if district is None and districts:
        errors["district"] = _("Choose the district the property is in.")
    if errors or version is None:
        rows, pages = services.my_inquiries(user, page=1)
        return render_template(
            "agency/inquiries.html",
            rows=rows,
            page=1,
            pages=pages,
            versions=services.requestable_versions(user),
            districts=districts,
            names=service_names(),
            errors=errors,
            chosen=chosen,
            verify_url=_verification_url,
            valid_until=services.valid_until,
            now=services.utc_now(),
            agency=bool(services.agency_lanes(user)),
            outcome=None,
        ), 422
    case = services.start_inquiry(version, user, district)
    db.session.commit()
    return _continue(case)


def _verification_url(number: str) -> str:
    from app.certificates.pdf import verification_url

    return verification_url(number)


def _continue(case: Case) -> ResponseReturnValue:
    tasks = services.applicant_tasks(case)
    if not tasks:
        return redirect(url_for(".inquiries"))
    return redirect(url_for(".inquiry_task", case_id=case.id, task_id=tasks[0].id))


def _inquiry_task_or_404(case_id: int, task_id: int) -> tuple[Case, CaseTask]:
    case = services.inquiry_case(_requester(), case_id)
    task = services.applicant_task(case, task_id) if case is not None else None
    if case is None or task is None:
        abort(404)
    return case, task


def _render_inquiry_task(
    case: Case,
    task: CaseTask,
    *,
    errors: dict[str, str] | None = None,
    formdata: MultiDict[str, str] | None = None,
    data: dict[str, Any] | None = None,
    conflict: bool = False,
    expected_version: int | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    form = _task_form(case, task)
    return render_template(
        "agency/inquiry_task.html",
        case=case,
        task=task,
        form=form,
        fields=render_page(form, None, data=data or {}, formdata=formdata, errors=errors),
        errors=errors or {},
        conflict=conflict,
        expected_version=expected_version if expected_version is not None else case.version_id,
        open=task.state == TaskState.OPEN,
        service_name=localized(case.process_version.card.get("name")) or case.process_key,
    ), status


@bp.get("/agency/inquiries/<int:case_id>/tasks/<int:task_id>")
@agency_required()
def inquiry_task(case_id: int, task_id: int) -> ResponseReturnValue:
    case, row = _inquiry_task_or_404(case_id, task_id)
    return _render_inquiry_task(case, row)


@bp.post("/agency/inquiries/<int:case_id>/tasks/<int:task_id>")
@agency_required()
def inquiry_send(case_id: int, task_id: int) -> ResponseReturnValue:
    case, row = _inquiry_task_or_404(case_id, task_id)
    user = _user()
    form = _task_form(case, row)
    expected = _int(request.form.get("expected_version"))
    action = request.form.get("_action", "")
    if action.startswith(("add:", "remove:")):
        # Another row of a repeating question (no JavaScript): the page comes back with it.
        data = apply_action(form, normalise(form, request.form, files=MultiDict()), action)
        return _render_inquiry_task(case, row, data=data, expected_version=expected)
    data = normalise(form, request.form, files=request.files)
    errors = validate(form, data)
    if expected is None or expected != case.version_id or row.state != TaskState.OPEN:
        return _inquiry_conflict(case_id, task_id)
    if errors:
        return _render_inquiry_task(
            case, row, errors=errors, formdata=request.form, expected_version=expected, status=422
        )
    locked = services.inquiry_case(user, case_id, lock=True)
    if locked is None:
        abort(404)
    refused = office.store_uploads(locked, row, form, request.files, data, actor=user)
    if refused:
        db.session.rollback()
        case, row = _inquiry_task_or_404(case_id, task_id)
        return _render_inquiry_task(
            case, row, errors=refused, formdata=request.form, expected_version=expected, status=422
        )
    try:
        cases.complete_task(locked, row.engine_task_id, data, actor=user, expected_version=expected)
        db.session.commit()
    except (cases.CaseConflict, cases.TaskNotReady, StaleDataError):
        db.session.rollback()
        return _inquiry_conflict(case_id, task_id)
    except cases.NotAllowed:
        db.session.rollback()
        abort(403)
    flash(_("Sent: inquiry %(code)s.", code=locked.tracking_code), "success")
    return _continue(locked)


def _inquiry_conflict(case_id: int, task_id: int) -> ResponseReturnValue:
    db.session.expire_all()
    case, row = _inquiry_task_or_404(case_id, task_id)
    return _render_inquiry_task(
        case,
        row,
        formdata=request.form,
        conflict=True,
        expected_version=case.version_id,
        status=409,
    )


@bp.get("/agency/inquiries/<int:case_id>/documents/<int:version_id>")
@agency_required()
def inquiry_upload(case_id: int, version_id: int) -> ResponseReturnValue:
    case = services.inquiry_case(_requester(), case_id)
    if case is None:
        abort(404)
    return _send_version(case, version_id)


@bp.get("/agency/answers/<number>.pdf")
@agency_required()
def answer_pdf(number: str) -> ResponseReturnValue:
    """The signed answer as a PDF, for the organisation that asked (404 for anyone else)."""
    from app.certificates.pdf import render_pdf  # WeasyPrint loads on first use only

    document = services.case_document(_requester(), number)
    if document is None:
        abort(404)
    return (
        render_pdf(document),
        200,
        {
            "Content-Type": "application/pdf",
            "Content-Disposition": f'attachment; filename="{document.document_number}.pdf"',
            "Cache-Control": "no-store",
        },
    )


# --- Administration -------------------------------------------------------------------------


@bp.cli.command("token")
@click.argument("username")
@click.option("--revoke", is_flag=True, help="Delete the account's tokens instead.")
def token_command(username: str, revoke: bool) -> None:
    """Create an API token for an agency account (replacing its earlier ones), or --revoke them."""
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise click.ClickException(f"no account named {username!r}")
    if revoke:
        count = services.revoke_tokens(user)
        db.session.commit()
        click.echo(f"Revoked {count} token(s) of {user.username}.")
        return
    try:
        token = services.create_token(user, now=services.utc_now())
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    record("agency.token_created", actor=None, subject=f"user:{user.id}")
    db.session.commit()
    click.echo("The token is shown once; keep it secret (Authorization: Bearer <token>):")
    click.echo(token)
