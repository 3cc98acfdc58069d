"""Fill any form (analysts' preview and test drive) and read definitions as JSON.

The preview keeps drafts for the signed-in user, or for the browser session when anonymous;
the final submit is idempotent: a double click or a refresh shows the same confirmation.
"""

from __future__ import annotations

import secrets

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.db import db
from app.forms.definitions import FormDefinition, FormNotFound
from app.forms.models import DraftStatus, FormDraft
from app.forms.services import (
    FormIncomplete,
    Owner,
    apply_action,
    error_summary,
    field_id,
    find_open_draft,
    find_submission,
    form_keys,
    load_form,
    localised_definition,
    normalise,
    render_answers,
    render_page,
    save_draft,
    start_draft,
    submit_draft,
    validate,
)
from app.i18n import SUPPORTED_LOCALES, localized

bp = Blueprint("forms", __name__, template_folder="templates")

SESSION_OWNER = "forms_owner"


def _form(process_key: str, name: str) -> FormDefinition:
    try:
        return load_form(f"{process_key}/{name}")
    except FormNotFound:
        abort(404)


def _owner() -> Owner:
    if current_user.is_authenticated:
        return Owner(user_id=int(current_user.id))
    return Owner(session_token=session.get(SESSION_OWNER))


def _owner_for_new_draft() -> Owner:
    if current_user.is_authenticated:
        return Owner(user_id=int(current_user.id))
    if SESSION_OWNER not in session:
        session[SESSION_OWNER] = secrets.token_urlsafe(24)
    return Owner(session_token=session[SESSION_OWNER])


def _draft(form: FormDefinition, public_id: str, *, lock: bool = False) -> FormDraft:
    query = select(FormDraft).where(
        FormDraft.public_id == public_id, FormDraft.form_key == form.key
    )
    if lock:
        query = query.with_for_update()
    draft = db.session.scalars(query).first()
    owner = _owner()
    if draft is None or not draft.owned_by(owner.user_id, owner.session_token):
        abort(404)  # someone else's draft is as good as missing
    return draft


def _page_url(form: FormDefinition, draft: FormDraft, page: int, anchor: str | None = None) -> str:
    return url_for(
        "forms.page",
        process_key=form.process_key,
        name=form.name,
        draft_id=draft.public_id,
        number=page + 1,
        _anchor=anchor,
    )


def _urls(form: FormDefinition, draft: FormDraft) -> dict[str, str]:
    common = {"process_key": form.process_key, "name": form.name, "draft_id": draft.public_id}
    return {
        "check": url_for("forms.check", **common),
        "submit": url_for("forms.submit", **common),
        "done": url_for("forms.done", **common),
    }


def _render_page(
    form: FormDefinition,
    draft: FormDraft | None,
    page: int,
    *,
    errors: dict[str, str] | None = None,
    use_posted: bool = False,
    status: int = 200,
) -> ResponseReturnValue:
    data = draft.data if draft is not None else {}
    fields_html = render_page(
        form,
        page,
        data=data,
        formdata=request.form if use_posted else None,
        errors=errors,
    )
    if draft is None:
        action = url_for("forms.start", process_key=form.process_key, name=form.name)
    else:
        action = _page_url(form, draft, page)
    back = _page_url(form, draft, page - 1) if draft is not None and page > 0 else None
    multipart = any(
        f.widget == "file"
        for f in form.walk()
        if f.pattern.split(".")[0] in form.pages[page].fields
    )
    return render_template(
        "forms/page.html",
        form=form,
        page=page,
        page_title=localized(form.pages[page].title) or localized(form.title),
        fields_html=fields_html,
        action=action,
        back_url=back,
        multipart=multipart,
        errors=errors or {},
        last_page=page == len(form.pages) - 1,
    ), status


@bp.get("/forms/")
def index() -> ResponseReturnValue:
    forms = []
    for key in form_keys():
        try:
            forms.append(load_form(key))
        except (FormNotFound, ValueError):
            continue
    return render_template("forms/index.html", forms=forms)


@bp.get("/forms/<process_key>/<name>")
def start(process_key: str, name: str) -> ResponseReturnValue:
    form = _form(process_key, name)
    draft = find_open_draft(form, _owner())
    if draft is not None:
        return redirect(_page_url(form, draft, draft.page))
    return _render_page(form, None, 0)


@bp.post("/forms/<process_key>/<name>")
def start_post(process_key: str, name: str) -> ResponseReturnValue:
    form = _form(process_key, name)
    draft = find_open_draft(form, _owner()) or start_draft(form, _owner_for_new_draft())
    return _handle_page(form, draft, 0)


@bp.route("/forms/<process_key>/<name>/<draft_id>/<int:number>", methods=["GET", "POST"])
def page(process_key: str, name: str, draft_id: str, number: int) -> ResponseReturnValue:
    form = _form(process_key, name)
    if not 1 <= number <= len(form.pages):
        abort(404)
    draft = _draft(form, draft_id)
    if draft.status != DraftStatus.OPEN:
        return redirect(_urls(form, draft)["done"])
    if request.method == "POST":
        return _handle_page(form, draft, number - 1)
    return _render_page(form, draft, number - 1)


def _handle_page(form: FormDefinition, draft: FormDraft, page: int) -> ResponseReturnValue:
    action = request.form.get("_action", "continue")
    data = normalise(form, request.form, files=request.files, page=page, previous=draft.data)
    if action.startswith(("add:", "remove:")):
        data = apply_action(form, data, action)
        save_draft(draft, data, page)
        db.session.commit()
        anchor = None
        if action.startswith("add:"):
            target = action[4:]
            items = data.get(target.split(".")[0])
            if isinstance(items, list) and items:
                anchor = field_id(f"{target}.{len(items) - 1}")
        return redirect(_page_url(form, draft, page, anchor))
    errors = validate(form, data, page=page)
    save_draft(draft, data, page)
    db.session.commit()
    if action == "draft":
        flash(
            _("Your answers are saved. Open this form again to carry on where you left off."),
            "success",
        )
        return redirect(_page_url(form, draft, page))
    if errors:
        return _render_page(form, draft, page, errors=errors, use_posted=True, status=422)
    if page + 1 < len(form.pages):
        return redirect(_page_url(form, draft, page + 1))
    return redirect(_urls(form, draft)["check"])


def _render_check(
    form: FormDefinition, draft: FormDraft, errors: dict[str, str], status: int = 200
) -> ResponseReturnValue:
    def change_url(page: int, target: str) -> str:
        return _page_url(form, draft, page, target)

    def error_href(path: str) -> str:
        return _page_url(form, draft, form.page_of(path.split(".")[0]), field_id(path))

    return render_template(
        "forms/check.html",
        form=form,
        draft=draft,
        answers=render_answers(form, draft.data, change_url=change_url),
        summary=error_summary(form, errors, error_href),
        urls=_urls(form, draft),
        back_url=_page_url(form, draft, len(form.pages) - 1),
    ), status


@bp.get("/forms/<process_key>/<name>/<draft_id>/check")
def check(process_key: str, name: str, draft_id: str) -> ResponseReturnValue:
    form = _form(process_key, name)
    draft = _draft(form, draft_id)
    if draft.status != DraftStatus.OPEN:
        return redirect(_urls(form, draft)["done"])
    return _render_check(form, draft, validate(form, draft.data))


@bp.post("/forms/<process_key>/<name>/<draft_id>/submit")
def submit(process_key: str, name: str, draft_id: str) -> ResponseReturnValue:
    form = _form(process_key, name)
    draft = _draft(form, draft_id, lock=True)
    done = _urls(form, draft)["done"]
    try:
        submit_draft(form, draft, request.form.get("submission_token", ""))
        db.session.commit()
    except FormIncomplete as incomplete:
        return _render_check(form, draft, incomplete.errors, status=422)
    except PermissionError:
        abort(400)
    except IntegrityError:
        # A second click raced the first one past the lock (SQLite has no row locks): the
        # unique draft_id refused the duplicate, and the first submission stands.
        db.session.rollback()
    return redirect(done, code=303)


@bp.get("/forms/<process_key>/<name>/<draft_id>/done")
def done(process_key: str, name: str, draft_id: str) -> ResponseReturnValue:
    form = _form(process_key, name)
    draft = _draft(form, draft_id)
    submission = find_submission(draft)
    if submission is None:
        return redirect(_urls(form, draft)["check"])
    return render_template("forms/done.html", form=form, submission=submission)


# --- JSON for other clients -------------------------------------------------------------------


@bp.get("/api/v1/forms")
def api_index() -> ResponseReturnValue:
    return {"forms": form_keys()}


@bp.get("/api/v1/forms/<process_key>/<name>")
def api_definition(process_key: str, name: str) -> ResponseReturnValue:
    form = _form(process_key, name)
    lang = request.args.get("lang", "fa")
    if lang not in SUPPORTED_LOCALES:
        abort(400)
    with force_locale(lang):
        return localised_definition(form, lang)
