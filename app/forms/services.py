"""Generated forms as a service: load, render, normalise and validate a form; keep drafts.

Other routes (the citizen portal, reviewers' task pages) render a user task's form with:

    form = load_form(task.form)                         # "sample_permit/review"
    html = render_page(form, page, data=answers, formdata=request.form, errors=errors)
    data = normalise(form, request.form, files=request.files, page=page, previous=answers)
    errors = validate(form, data, page=page)            # {"owners.1.share": "…"}, current locale
    html = render_answers(form, data)                   # read-only answers for reviewers

Draft use cases below take the owner as arguments and never commit; the route does.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.db import db
from app.forms.definitions import FormDefinition, FormNotFound, form_keys, load_form
from app.forms.models import DraftStatus, FormDraft, FormSubmission
from app.forms.normalise import apply_action, normalise
from app.forms.rendering import error_summary, field_id, render_answers, render_page
from app.forms.validation import pages_with_errors, validate
from app.i18n import localized

__all__ = [
    "FormDefinition",
    "FormIncomplete",
    "FormNotFound",
    "Owner",
    "apply_action",
    "error_summary",
    "field_id",
    "find_open_draft",
    "find_submission",
    "form_keys",
    "load_form",
    "localised_definition",
    "normalise",
    "pages_with_errors",
    "render_answers",
    "render_page",
    "save_draft",
    "start_draft",
    "submit_draft",
    "validate",
]


@dataclass(frozen=True)
class Owner:
    """Who fills a draft in: a signed-in user, or an anonymous browser session's token."""

    user_id: int | None = None
    session_token: str | None = None


class FormIncomplete(Exception):
    """The answers do not pass validation; `errors` maps field paths to messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(f"{len(errors)} answers need attention")
        self.errors = errors


def find_open_draft(form: FormDefinition, owner: Owner) -> FormDraft | None:
    """The owner's latest open draft of this form, if any."""
    query = select(FormDraft).where(
        FormDraft.form_key == form.key, FormDraft.status == DraftStatus.OPEN
    )
    if owner.user_id is not None:
        query = query.where(FormDraft.owner_user_id == owner.user_id)
    elif owner.session_token:
        query = query.where(FormDraft.owner_session == owner.session_token)
    else:
        return None
    return db.session.scalars(query.order_by(FormDraft.id.desc()).limit(1)).first()


def start_draft(
    form: FormDefinition, owner: Owner, initial: dict[str, Any] | None = None
) -> FormDraft:
    """Open a new draft of a form, optionally with earlier answers (shown by readonly fields)."""
    if owner.user_id is None and not owner.session_token:
        raise ValueError("a draft needs an owner")
    draft = FormDraft(
        public_id=secrets.token_urlsafe(16),
        form_key=form.key,
        form_version=form.version,
        owner_user_id=owner.user_id,
        owner_session=None if owner.user_id is not None else owner.session_token,
        data=dict(initial or {}),
        page=0,
        status=DraftStatus.OPEN,
        submission_token=secrets.token_urlsafe(32),
    )
    db.session.add(draft)
    db.session.flush()
    return draft


def save_draft(draft: FormDraft, data: dict[str, Any], page: int) -> None:
    """Keep the answers so far (valid or not) and the page the person is on."""
    if draft.status != DraftStatus.OPEN:
        raise ValueError("a submitted draft cannot change")
    draft.data = dict(data)  # a new dict: JSON columns do not track edits in place
    draft.page = page
    db.session.flush()


def _reference() -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
    return "F-" + "".join(secrets.choice(alphabet) for _ in range(8))


def find_submission(draft: FormDraft) -> FormSubmission | None:
    """The submission made from a draft, if it was submitted."""
    return db.session.scalars(
        select(FormSubmission).where(FormSubmission.draft_id == draft.id)
    ).first()


def submit_draft(form: FormDefinition, draft: FormDraft, token: str) -> FormSubmission:
    """Submit a draft once: a repeated submit (same token) returns the first submission.

    The caller locks the draft row first (`with_for_update`) and commits; the unique
    draft_id and token make a racing duplicate fail rather than submit twice.

    :raises FormIncomplete: when some answers are missing or invalid.
    :raises PermissionError: when the token is not this draft's.
    """
    if not secrets.compare_digest(token, draft.submission_token):
        raise PermissionError("stale or foreign submission token")
    existing = find_submission(draft)
    if existing is not None:
        return existing
    errors = validate(form, draft.data)
    if errors:
        raise FormIncomplete(errors)
    submission = FormSubmission(
        draft_id=draft.id,
        token=draft.submission_token,
        reference=_reference(),
        form_key=form.key,
        form_version=form.version,
        data=dict(draft.data),
    )
    draft.status = DraftStatus.SUBMITTED
    db.session.add(submission)
    db.session.flush()
    return submission


def _localise(value: Any) -> Any:
    """Replace every {"fa": …, "en": …} text in a JSON value with the current locale's text."""
    if isinstance(value, dict):
        if value and set(value) <= {"fa", "en"} and all(isinstance(v, str) for v in value.values()):
            return localized(value)
        return {k: _localise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_localise(v) for v in value]
    return value


def localised_definition(form: FormDefinition, lang: str) -> dict[str, Any]:
    """The definition for other clients, in one language.

    `schema` gets each field's label as `title` and its help as `description` (and option
    labels as oneOf titles) so tools that read plain JSON Schema show the right words.
    """
    schema = _with_titles(form.schema, form.ui)
    return {
        "key": form.key,
        "version": form.version,
        "lang": lang,
        "dir": "rtl" if lang == "fa" else "ltr",
        "title": localized(form.title),
        "description": localized(form.description) if form.description else None,
        "schema": _localise(schema),
        "ui": _localise(form.ui),
        "messages": _localise(form.messages),
    }


def _with_titles(schema: dict[str, Any], ui: dict[str, Any]) -> dict[str, Any]:
    out = dict(schema)
    if isinstance(schema.get("properties"), dict):
        out["properties"] = {}
        for name, sub in schema["properties"].items():
            sub_ui = ui.get(name) or {}
            if not isinstance(sub, dict):
                out["properties"][name] = sub
                continue
            sub = _with_titles(sub, sub_ui)
            if sub_ui.get("ui:label"):
                sub["title"] = localized(sub_ui["ui:label"])
            if sub_ui.get("ui:help"):
                sub["description"] = localized(sub_ui["ui:help"])
            labels = sub_ui.get("ui:enumLabels") or {}
            if "oneOf" in sub and labels:
                sub["oneOf"] = [
                    {**o, "title": localized(labels[str(o["const"])])}
                    if isinstance(o, dict) and str(o.get("const")) in labels
                    else o
                    for o in sub["oneOf"]
                ]
            out["properties"][name] = sub
    if isinstance(schema.get("items"), dict):
        out["items"] = _with_titles(schema["items"], ui.get("items") or {})
    return out
