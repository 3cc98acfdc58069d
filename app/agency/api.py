"""The inbound API for system-to-system inquiries (domain.md §2.3): a notary's, bank's or
utility's system files an inquiry and reads its status with a per-account bearer token.

    POST /api/v1/inquiries              {"service", "district", "answers": {...}} -> 201
    GET  /api/v1/inquiries/<tracking>   status, current step, the answer document when issued

The answers are checked against the same request form the web pages show; errors come back
per field in Persian and English. Calls are rate-limited per account (AGENCY_API_LIMIT).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _
from limits import parse_many

from app.accounts.models import User
from app.accounts.services import district_by_code
from app.agency import services
from app.cases import services as cases
from app.cases.models import Case
from app.db import db
from app.extensions import csrf, limiter
from app.forms.services import validate
from app.i18n import localized
from app.office import services as office

#: Calls per account (or, before a token is recognised, per address) unless configured.
DEFAULT_LIMIT = "60/minute;1000/hour"


def _both(text: Callable[[], str]) -> dict[str, str]:
    """A message in both languages (API clients show whichever their users read)."""
    out = {}
    for lang in ("fa", "en"):
        with force_locale(lang):
            out[lang] = text()
    return out


def _error(
    status: int, code: str, message: dict[str, str], headers: dict[str, str] | None = None
) -> Response:
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    response.headers.update(headers or {})
    return response


def _wait_seconds(key: str) -> int:
    strategy = limiter.limiter
    for item in parse_many(str(current_app.config.get("AGENCY_API_LIMIT") or DEFAULT_LIMIT)):
        if not strategy.hit(item, "parvaneh", "agency-api", key):
            reset_at, _remaining = strategy.get_window_stats(item, "parvaneh", "agency-api", key)
            return max(1, math.ceil(reset_at - time.time()))
    return 0


def _caller() -> User | Response:
    """The token's account, or the error response (401, 403, or 429 over the rate limit)."""
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    user = None
    if scheme.lower() == "bearer" and token.strip():
        user = services.token_user(token.strip(), now=services.utc_now())
    key = f"user:{user.id}" if user is not None else f"ip:{request.remote_addr or 'unknown'}"
    wait = _wait_seconds(key)
    if wait:
        db.session.rollback()
        return _error(
            429,
            "rate_limited",
            _both(lambda: _("Too many requests. Try again in %(seconds)d seconds.", seconds=wait)),
            {"Retry-After": str(wait)},
        )
    if user is None:
        return _error(
            401,
            "unauthorised",
            _both(lambda: _("Send a valid API token: Authorization: Bearer <token>.")),
            {"WWW-Authenticate": 'Bearer realm="parvaneh"'},
        )
    if not services.requester_roles(user):
        db.session.commit()
        return _error(
            403, "not_a_requester", _both(lambda: _("This account may not file inquiries."))
        )
    return user


def _status(case: Case) -> dict[str, Any]:
    from app.certificates.pdf import verification_url  # WeasyPrint loads on first use only

    documents = services.answer_documents(case)
    answer = None
    if documents:
        document = documents[-1]
        until = services.valid_until(document)
        answer = {
            "document_number": document.document_number,
            "document_type": document.document_type,
            "issued_at": services.as_utc(document.issued_at).isoformat(),
            "valid_until": until.isoformat() if until else None,
            "status": document.status.value,
            "verify_url": verification_url(document.document_number),
        }
    return {
        "tracking_code": case.tracking_code,
        "service": case.process_key,
        "service_name": _both(lambda: localized(case.process_version.card.get("name"))),
        "status": case.status.value,
        "outcome": case.outcome,
        "current_step": case.current_step,
        "due_at": services.as_utc(case.due_at).isoformat() if case.due_at else None,
        "filed_at": services.as_utc(case.created_at).isoformat() if case.created_at else None,
        "completed_at": services.as_utc(case.completed_at).isoformat()
        if case.completed_at
        else None,
        "answer": answer,
        "status_url": url_for(
            "agency.api_status", tracking_code=case.tracking_code, _external=True
        ),
    }


def file_inquiry() -> ResponseReturnValue:
    caller = _caller()
    if not isinstance(caller, User):
        return caller
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        db.session.commit()
        return _error(
            400, "bad_json", _both(lambda: _("Send a JSON object with the service and answers."))
        )
    errors: dict[str, dict[str, str]] = {}
    version = services.requestable_version(caller, str(body.get("service") or ""), channel="api")
    if version is None:
        errors["service"] = _both(
            lambda: _("Name a service this account may file through the API.")
        )
    district = district_by_code(str(body.get("district") or ""))
    if district is None and services.districts():
        errors["district"] = _both(lambda: _("Give the two-digit code of the property's district."))
    answers = body.get("answers")
    if not isinstance(answers, dict):
        errors["answers"] = _both(lambda: _("Give the request form's answers as a JSON object."))
    if errors or version is None or not isinstance(answers, dict):
        db.session.commit()  # the token's last use
        return jsonify({"errors": errors}), 422
    # The case opens inside a savepoint: a request whose answers do not pass leaves nothing
    # behind (no tracking code, no history) but the token's last use.
    tentative = db.session.begin_nested()
    case = services.start_inquiry(version, caller, district)
    tasks = services.applicant_tasks(case)
    if tasks:
        task = tasks[0]
        form = office.frozen_form(version, task.form_key or "")
        if form is not None:
            for lang in ("fa", "en"):
                with force_locale(lang):
                    for path, message in validate(form, answers).items():
                        errors.setdefault(path, {})[lang] = message
        if errors:
            tentative.rollback()
            db.session.commit()
            return jsonify({"errors": errors, "form": form.key if form else None}), 422
        cases.complete_task(
            case, task.engine_task_id, dict(answers), actor=caller, expected_version=case.version_id
        )
    tentative.commit()
    db.session.commit()
    return jsonify(_status(case)), 201


def api_status(tracking_code: str) -> ResponseReturnValue:
    caller = _caller()
    if not isinstance(caller, User):
        return caller
    case = services.case_by_code(caller, tracking_code)
    db.session.commit()  # the token's last use
    if case is None:
        return _error(
            404, "not_found", _both(lambda: _("No inquiry of yours has this tracking code."))
        )
    return jsonify(_status(case))


def register(bp: Blueprint) -> None:
    """Add the API's routes to the agency blueprint; bearer tokens, not cookies: no CSRF."""
    bp.add_url_rule("/api/v1/inquiries", view_func=csrf.exempt(file_inquiry), methods=["POST"])
    bp.add_url_rule(
        "/api/v1/inquiries/<tracking_code>", view_func=csrf.exempt(api_status), methods=["GET"]
    )
