"""The citizens' pages: service catalogue, filing, my cases, the case page, documents, lookup.

Routes parse input, call a use case and commit once. A case or document of someone else is
answered exactly like a missing one (404), so ids reveal nothing.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import Any
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from app.accounts.access import citizen_required
from app.accounts.models import District, User
from app.cases.models import Case, CaseStatus, CaseTask, TaskState
from app.cases.services import CaseConflict, NotAllowed, TaskNotReady
from app.citizens.limits import wait_for_all
from app.db import db
from app.documents.checks import UploadRefused
from app.documents.services import (
    add_version,
    case_documents,
    case_version,
    read_upload,
    read_version,
    version_values,
)
from app.documents.storage import StorageError
from app.extensions import csrf
from app.forms.definitions import FormDefinition
from app.forms.models import DraftStatus, FormDraft
from app.forms.services import (
    FormIncomplete,
    apply_action,
    error_summary,
    field_id,
    normalise,
    render_answers,
    render_page,
    save_draft,
    validate,
)
from app.forms.validation import human_size
from app.i18n import SUPPORTED_LOCALES, current_locale, localized, ngettext
from app.i18n import gettext as _
from app.kiosk import terminal
from app.persian.identifiers import check_mobile, check_national_code, check_tracking_code
from app.persian.jalali import format_jalali_date, format_jalali_datetime
from app.persian.text import normalize_identifier, to_persian_digits
from app.portal import services
from app.processes.models import ProcessVersion

bp = Blueprint(
    "portal",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/portal/static",
)

OTHER_DOCUMENT = {"fa": "مدرک دیگر", "en": "Other document"}


def _citizen() -> User:
    return current_user._get_current_object()  # type: ignore[no-any-return]


def _task_answers(case: Case, task: CaseTask, answers: dict[str, Any]) -> Markup:
    """A staff task's answers (the reviewer's decision and reasons), read-only."""
    return render_answers(services.task_form(case, task), answers)


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"render_task_answers": _task_answers}


# A global, not a context variable: the portal's shared macros use it and are imported without
# the page's context (imported with it, Jinja would run their module again on every page).
bp.add_app_template_global(human_size, "human_size")


@bp.app_template_filter("portal_duration")
def duration_text(value: timedelta | None) -> str:
    """A duration for people: 3 days 4 hours, 25 minutes (Persian digits in Persian)."""
    if value is None:
        return "—"
    minutes = max(0, int(value.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        text = ngettext("%(num)s day", "%(num)s days", days)
        if hours:
            text = _(
                "%(days)s and %(hours)s",
                days=text,
                hours=ngettext("%(num)s hour", "%(num)s hours", hours),
            )
    elif hours:
        text = ngettext("%(num)s hour", "%(num)s hours", hours)
    else:
        text = ngettext("%(num)s minute", "%(num)s minutes", max(1, minutes))
    return to_persian_digits(text) if current_locale() == "fa" else text


@lru_cache(maxsize=4096)
def _jalali_text(moment: date, style: str, language: str) -> str:
    # Memoised: a case's timestamps come back on every view of it, and each conversion to the
    # Jalali calendar costs about as much as a database read on the case page.
    if style == "datetime" and isinstance(moment, datetime):
        return format_jalali_datetime(moment, "short", language)
    return format_jalali_date(moment, "long" if style == "long" else "short", language)


@bp.app_template_filter("portal_when")
def when_text(value: date | None, style: str = "datetime") -> str:
    """The `jalali_datetime` filter (or `jalali` with "short", `jalali_long` with "long")."""
    return "" if value is None else _jalali_text(value, style, current_locale())


@bp.after_request
def _personal_pages_are_not_cached(response: Response) -> Response:
    # Case pages and documents hold personal data: never keep them in shared caches (ASVS 14.3).
    if request.path.startswith(("/my/", "/track")):
        response.headers["Cache-Control"] = "no-store"
    return response


# --- The catalogue ------------------------------------------------------------------------------


def _channel() -> str:
    """Where the citizen files from: an office kiosk terminal or the web portal."""
    return services.KIOSK if terminal.is_kiosk() else services.WEB


def _version(process_key: str) -> ProcessVersion:
    # A service not offered on this channel (an organisations-only inquiry) is not there at all.
    version = services.offered_version(process_key, _channel())
    if version is None:
        abort(404)
    return version


@bp.get("/services")
def index() -> ResponseReturnValue:
    versions = services.offered_versions(_channel())
    return render_template("portal/catalogue.html", versions=versions)


@bp.get("/services/<process_key>")
def service(process_key: str) -> ResponseReturnValue:
    version = _version(process_key)
    return render_template(
        "portal/service.html",
        version=version,
        card=version.card,
        steps=services.service_steps(version),
    )


@bp.get("/services/<process_key>/v<int:number>/process.bpmn")
def diagram(process_key: str, number: int) -> ResponseReturnValue:
    version = db.session.scalar(
        select(ProcessVersion).where(
            ProcessVersion.process_key == process_key, ProcessVersion.number == number
        )
    )
    if version is None or "process.bpmn" not in version.files:
        abort(404)
    labels = request.args.get("labels")
    if labels in SUPPORTED_LOCALES:  # the case and service pages: named for citizens
        response = Response(services.readable_diagram(version, labels), mimetype="application/xml")
        # The role catalogue can be renamed without a new version: keep it for a day.
        response.headers["Cache-Control"] = "public, max-age=86400"
    else:  # the file as deployed, for analysts and their tools
        response = Response(version.files["process.bpmn"], mimetype="application/xml")
        # A deployed version never changes: its diagram can be cached for good.
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- Filing -------------------------------------------------------------------------------------


def _districts() -> list[District]:
    return list(db.session.scalars(select(District).order_by(District.code)))


@bp.route("/services/<process_key>/apply", methods=["GET", "POST"])
@citizen_required
def apply(process_key: str) -> ResponseReturnValue:
    version = _version(process_key)
    citizen = _citizen()
    existing = services.unsubmitted_case(citizen, process_key)
    if existing is not None:
        return _continue(existing)
    districts = _districts()
    errors: dict[str, str] = {}
    chosen = request.form.get("district", "")
    if request.method == "POST":
        district = next((d for d in districts if str(d.id) == chosen), None)
        if district is None and districts:
            errors["district"] = _("Choose the district the property is in.")
        else:
            case = services.start_request(version, citizen, district)
            db.session.commit()
            return _continue(case)
    return render_template(
        "portal/apply.html",
        version=version,
        districts=districts,
        chosen=chosen,
        errors=errors,
    ), 422 if errors else 200


def _continue(case: Case) -> ResponseReturnValue:
    tasks = services.citizen_task_rows(case)
    if not tasks:
        return redirect(url_for(".case", case_id=case.id))
    return redirect(url_for(".task", case_id=case.id, task_id=tasks[0].id))


def _case_or_404(case_id: int, *, lock: bool = False, to_read: bool = False) -> Case:
    case = services.visible_case(_citizen(), case_id, lock=lock, to_read=to_read)
    if case is None:
        abort(404)
    return case


def _task_or_404(case: Case, task_id: int) -> CaseTask:
    task = services.find_task(case, task_id)
    if task is None or not task.form_key:
        abort(404)
    return task


def _page_url(case: Case, task: CaseTask, page: int, anchor: str | None = None) -> str:
    return url_for(".task_page", case_id=case.id, task_id=task.id, number=page + 1, _anchor=anchor)


@bp.get("/my/cases/<int:case_id>/tasks/<int:task_id>")
@citizen_required
def task(case_id: int, task_id: int) -> ResponseReturnValue:
    case = _case_or_404(case_id)
    row = _task_or_404(case, task_id)
    if row.state != TaskState.OPEN:
        return redirect(url_for(".case", case_id=case.id))
    draft = services.task_draft(case, row, _citizen())
    db.session.commit()
    return redirect(_page_url(case, row, draft.page))


def _open_task(case_id: int, task_id: int) -> tuple[Case, CaseTask, FormDraft, FormDefinition]:
    case = _case_or_404(case_id)
    row = _task_or_404(case, task_id)
    if row.state != TaskState.OPEN:
        abort(redirect(url_for(".case", case_id=case.id)))
    draft = services.task_draft(case, row, _citizen())
    if draft.status != DraftStatus.OPEN:
        abort(redirect(url_for(".case", case_id=case.id)))
    return case, row, draft, services.task_form(case, row)


@bp.route("/my/cases/<int:case_id>/tasks/<int:task_id>/<int:number>", methods=["GET", "POST"])
@citizen_required
def task_page(case_id: int, task_id: int, number: int) -> ResponseReturnValue:
    case, row, draft, form = _open_task(case_id, task_id)
    if not 1 <= number <= len(form.pages):
        abort(404)
    if request.method == "POST":
        return _save_page(case, row, draft, form, number - 1)
    return _render_page(case, row, draft, form, number - 1)


def _render_page(
    case: Case,
    row: CaseTask,
    draft: FormDraft,
    form: FormDefinition,
    page: int,
    *,
    errors: dict[str, str] | None = None,
    use_posted: bool = False,
    status: int = 200,
) -> ResponseReturnValue:
    fields_html = render_page(
        form,
        page,
        data=draft.data,
        formdata=request.form if use_posted else None,
        errors=errors,
    )
    multipart = any(
        f.widget == "file"
        for f in form.walk()
        if f.pattern.split(".")[0] in form.pages[page].fields
    )
    return render_template(
        "portal/task_page.html",
        case=case,
        task=row,
        form=form,
        page=page,
        page_title=localized(form.pages[page].title) or localized(form.title),
        fields_html=fields_html,
        action=_page_url(case, row, page),
        back_url=_page_url(case, row, page - 1) if page > 0 else None,
        multipart=multipart,
        errors=errors or {},
        last_page=page == len(form.pages) - 1,
    ), status


def _set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Put a value at a dotted path (owners.0.deed) inside nested answers."""
    parts = path.split(".")
    target: Any = data
    for part, following in pairwise(parts):
        key: Any = int(part) if part.isdigit() else part
        if isinstance(target, list):
            while len(target) <= key:
                target.append({})
            target = target[key]
        else:
            target = target.setdefault(key, [] if following.isdigit() else {})
    last: Any = int(parts[-1]) if parts[-1].isdigit() else parts[-1]
    if isinstance(target, list):
        while len(target) <= last:
            target.append(None)
    target[last] = value


def _store_uploads(
    case: Case, form: FormDefinition, previous: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Keep each file posted for a file question as a case document; errors by field path."""
    data = dict(previous)
    errors: dict[str, str] = {}
    for path in request.files:
        field = form.field_at(path)
        uploads = [f for f in request.files.getlist(path) if f and f.filename]
        if field is None or field.widget != "file" or not uploads:
            continue
        stored = []
        try:
            for index, upload in enumerate(uploads):
                name = upload.filename or ""
                content = read_upload(
                    upload.stream, name, current_app.config["DOCUMENT_MAX_FILE_BYTES"]
                )
                many = field.schema.get("type") == "array"
                version = add_version(
                    case,
                    slot=f"form:{form.key}:{path}" + (f":{index}" if many else ""),
                    title=field.label_text
                    if isinstance(field.label_text, dict)
                    else {"fa": str(field.label_text), "en": str(field.label_text)},
                    data=content,
                    file_name=name,
                    actor=_citizen(),
                    accept=list(field.schema.get("x-accept") or []) or None,
                    max_size=field.schema.get("x-maxSize"),
                )
                stored.append(version_values(version))
        except UploadRefused as refused:
            errors[path] = refused.message()
            continue
        _set_path(data, path, stored if field.schema.get("type") == "array" else stored[0])
    return data, errors


def _save_page(
    case: Case, row: CaseTask, draft: FormDraft, form: FormDefinition, page: int
) -> ResponseReturnValue:
    action = request.form.get("_action", "continue")
    previous, upload_errors = _store_uploads(case, form, draft.data)
    data = normalise(form, request.form, files=MultiDict(), page=page, previous=previous)
    if action.startswith(("add:", "remove:")):
        data = apply_action(form, data, action)
        save_draft(draft, data, page)
        db.session.commit()
        return redirect(_page_url(case, row, page))
    errors = validate(form, data, page=page)
    errors.update(upload_errors)
    save_draft(draft, data, page)
    db.session.commit()
    if action == "draft" and not upload_errors:
        flash(
            _("Your answers are saved. Open this case again to carry on where you left off."),
            "success",
        )
        return redirect(_page_url(case, row, page))
    if errors:
        return _render_page(
            case, row, draft, form, page, errors=errors, use_posted=True, status=422
        )
    if page + 1 < len(form.pages):
        return redirect(_page_url(case, row, page + 1))
    return redirect(url_for(".check", case_id=case.id, task_id=row.id))


def _render_check(
    case: Case,
    row: CaseTask,
    draft: FormDraft,
    form: FormDefinition,
    errors: dict[str, str],
    status: int = 200,
    notice: str | None = None,
) -> ResponseReturnValue:
    def change_url(page: int, target: str) -> str:
        return _page_url(case, row, page, target)

    def error_href(path: str) -> str:
        return _page_url(case, row, form.page_of(path.split(".")[0]), field_id(path))

    return render_template(
        "portal/check.html",
        case=case,
        task=row,
        form=form,
        draft=draft,
        answers=render_answers(form, draft.data, change_url=change_url),
        summary=error_summary(form, errors, error_href),
        documents=case_documents([case.id])[case.id],
        back_url=_page_url(case, row, len(form.pages) - 1),
        notice=notice,
    ), status


@bp.get("/my/cases/<int:case_id>/tasks/<int:task_id>/check")
@citizen_required
def check(case_id: int, task_id: int) -> ResponseReturnValue:
    case, row, draft, form = _open_task(case_id, task_id)
    return _render_check(case, row, draft, form, validate(form, draft.data))


@bp.post("/my/cases/<int:case_id>/tasks/<int:task_id>/send")
@citizen_required
def send(case_id: int, task_id: int) -> ResponseReturnValue:
    case = _case_or_404(case_id, lock=True)
    row = _task_or_404(case, task_id)
    draft = services.task_draft(case, row, _citizen())
    form = services.task_form(case, row)
    try:
        expected = int(request.form.get("case_version", ""))
    except ValueError:
        abort(400)
    try:
        sent = services.send_task(
            case,
            row,
            draft,
            token=request.form.get("submission_token", ""),
            citizen=_citizen(),
            expected_version=expected,
        )
        db.session.commit()
    except services.TaskAlreadyDone:
        db.session.rollback()
        return redirect(url_for(".sent", case_id=case.id), code=303)
    except FormIncomplete as incomplete:
        db.session.rollback()
        return _render_check(case, row, draft, form, incomplete.errors, status=422)
    except (CaseConflict, TaskNotReady):
        db.session.rollback()
        flash(
            _("Your case changed while you were on this page. Please look at it again."), "warning"
        )
        return redirect(url_for(".case", case_id=case_id), code=303)
    except (PermissionError, NotAllowed):
        db.session.rollback()
        abort(403)
    except IntegrityError:
        # A second click raced the first past the lock (SQLite): the first submission stands.
        db.session.rollback()
        return redirect(url_for(".sent", case_id=case_id), code=303)
    if sent.next_task is not None:
        return redirect(url_for(".task", case_id=case.id, task_id=sent.next_task.id), code=303)
    return redirect(url_for(".sent", case_id=case.id), code=303)


@bp.get("/my/cases/<int:case_id>/sent")
@citizen_required
def sent(case_id: int) -> ResponseReturnValue:
    case = _case_or_404(case_id)
    return render_template(
        "portal/sent.html",
        case=case,
        service=services.service_name(case.process_version),
        next_tasks=services.citizen_task_rows(case),
    )


# --- My cases and the case page -----------------------------------------------------------------


@bp.get("/my/cases")
@citizen_required
def my_cases() -> ResponseReturnValue:
    return render_template("portal/my_cases.html", rows=services.my_cases(_citizen()))


@bp.get("/my/cases/<int:case_id>")
@citizen_required
def case(case_id: int) -> ResponseReturnValue:
    page = services.case_page(_case_or_404(case_id, to_read=True), _citizen())
    return render_template("portal/case.html", page=page, case=page.case)


# --- Documents ----------------------------------------------------------------------------------


def _document_choices(case: Case) -> list[tuple[str, dict[str, str]]]:
    required = services.card_of(case.process_version).get("required_documents") or []
    return [(f"card:{i}", text) for i, text in enumerate(required)] + [("other", OTHER_DOCUMENT)]


@bp.route("/my/cases/<int:case_id>/documents/new", methods=["GET", "POST"])
@citizen_required
def add_document(case_id: int) -> ResponseReturnValue:
    case = _case_or_404(case_id, lock=request.method == "POST")
    if case.status == CaseStatus.COMPLETED:
        abort(404)
    choices = _document_choices(case)
    back = _safe_back(request.values.get("next")) or url_for(".case", case_id=case.id)
    errors: dict[str, str] = {}
    chosen = request.form.get("kind", "")
    if request.method == "POST":
        titles = dict(choices)
        upload = request.files.get("file")
        if chosen not in titles:
            errors["kind"] = _("Choose which document this is.")
        if upload is None or not upload.filename:
            errors["file"] = str(UploadRefused("no_file").message())
        if not errors and upload is not None:
            slot = chosen if chosen != "other" else f"other:{_other_count(case) + 1}"
            try:
                content = read_upload(
                    upload.stream,
                    upload.filename or "",
                    current_app.config["DOCUMENT_MAX_FILE_BYTES"],
                )
                add_version(
                    case,
                    slot=slot,
                    title=titles[chosen],
                    data=content,
                    file_name=upload.filename or "",
                    actor=_citizen(),
                )
                db.session.commit()
            except UploadRefused as refused:
                db.session.rollback()
                errors["file"] = refused.message()
            else:
                flash(_("The document was added to your case."), "success")
                return redirect(back, code=303)
    return render_template(
        "portal/add_document.html",
        case=case,
        choices=choices,
        chosen=chosen,
        errors=errors,
        back=back,
    ), 422 if errors else 200


def _other_count(case: Case) -> int:
    return sum(1 for d in case_documents([case.id])[case.id] if d.slot.startswith("other:"))


def _safe_back(target: str | None) -> str | None:
    # Same-site paths only, so the link cannot send the citizen elsewhere.
    if target and target.startswith("/my/") and "//" not in target and "\\" not in target:
        return target
    return None


@bp.get("/my/cases/<int:case_id>/documents/<int:version_id>")
@citizen_required
def document(case_id: int, version_id: int) -> ResponseReturnValue:
    case = _case_or_404(case_id)
    version = case_version(case.id, version_id)
    if version is None:
        abort(404)
    try:
        data = read_version(version)
    except StorageError:
        current_app.logger.exception("document version %s cannot be read", version.id)
        abort(500)
    response = Response(data, mimetype=version.content_type)
    # Images open in the browser; PDFs download, so no viewer runs them in our origin.
    disposition = "inline" if version.content_type.startswith("image/") else "attachment"
    ascii_name = version.file_name.encode("ascii", "ignore").decode() or "document"
    ascii_name = ascii_name.replace('"', "").replace("\\", "")
    if "." not in ascii_name.lstrip("."):
        ascii_name = "document." + version.file_name.rsplit(".", 1)[-1]
    response.headers["Content-Disposition"] = (
        f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(version.file_name)}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response.headers["Cache-Control"] = "no-store"
    return response


# --- Public status lookup -----------------------------------------------------------------------


def _wait_seconds() -> int:
    """Count a lookup per client address and per tracking code; seconds to wait when over."""
    code = normalize_identifier(request.form.get("tracking_code", ""))[:20]
    return wait_for_all(
        [
            ("PORTAL_LOOKUP_LIMIT", "lookup-ip", request.remote_addr or "unknown"),
            ("PORTAL_LOOKUP_CODE_LIMIT", "lookup-code", code),
        ]
    )


def _identifier(raw: str) -> tuple[str | None, str | None, str | None]:
    """The national code and/or mobile the typed value can be, or an error message."""
    plain = normalize_identifier(raw)
    if not plain:
        return None, None, _("Enter the owner's national code or mobile number.")
    national_code, mobile = check_national_code(plain), check_mobile(plain)
    if national_code.ok or mobile.ok:
        return (
            national_code.value if national_code.ok else None,
            mobile.value if mobile.ok else None,
            None,
        )
    looks_mobile = plain.startswith(("09", "+98", "0098")) or len(plain) == 11
    return None, None, (mobile if looks_mobile else national_code).message(current_locale())


@bp.route("/track", methods=["GET", "POST"])
@csrf.exempt  # a read-only query: it changes nothing a forged request could abuse (see below)
def lookup() -> ResponseReturnValue:
    # POST keeps the owner's national code or mobile out of addresses and logs; it is still a
    # query. Without a CSRF token an anonymous visitor gets no session cookie at all, and a
    # forged lookup only spends the rate limits, which anyone can spend from anywhere.
    errors: dict[str, str] = {}
    result = None
    not_found = False
    values = {
        "tracking_code": request.form.get("tracking_code", ""),
        "identifier": request.form.get("identifier", ""),
    }
    status = 200
    if request.method == "POST":
        wait = _wait_seconds()
        if wait:
            minutes = max(1, math.ceil(wait / 60))
            return render_template(
                "portal/lookup.html",
                errors={},
                values=values,
                result=None,
                not_found=False,
                limited=_(
                    "Too many lookups. Please try again in %(minutes)s minutes.", minutes=minutes
                ),
            ), 429
        code = check_tracking_code(values["tracking_code"])
        if not code.ok:
            errors["tracking_code"] = code.message(current_locale()) or ""
        national_code, mobile, problem = _identifier(values["identifier"])
        if problem:
            errors["identifier"] = problem
        if errors:
            status = 422
        else:
            result = services.lookup_status(code.value, national_code=national_code, mobile=mobile)
            not_found = result is None
            status = 404 if not_found else 200
    return render_template(
        "portal/lookup.html",
        errors=errors,
        values=values,
        result=result,
        not_found=not_found,
        limited=None,
    ), status
