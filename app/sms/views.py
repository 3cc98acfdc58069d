"""Development-only pages: the SMS inbox and the HTTP simulator the HTTP adapter can talk to."""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from app.db import db
from app.extensions import csrf
from app.persian.identifiers import check_mobile
from app.sms.gateway import dev_tools_enabled, store_dev_message
from app.sms.models import DevSmsMessage

bp = Blueprint("sms", __name__, template_folder="templates", url_prefix="/dev/sms")

INBOX_SIZE = 50


@bp.before_request
def _development_only() -> None:
    # Outside development these pages do not exist at all, not even as a 403.
    if not dev_tools_enabled():
        abort(404)


@bp.get("/")
def inbox() -> ResponseReturnValue:
    mobile_filter = request.args.get("mobile", "")
    query = select(DevSmsMessage).order_by(DevSmsMessage.id.desc()).limit(INBOX_SIZE)
    check = check_mobile(mobile_filter) if mobile_filter.strip() else None
    if check is not None and check.ok:
        query = query.where(DevSmsMessage.mobile == check.value)
    messages = db.session.scalars(query).all()
    response = current_app.make_response(
        render_template("sms/inbox.html", messages=messages, mobile=mobile_filter)
    )
    response.headers["Cache-Control"] = "no-store"  # codes must not linger in caches
    return response


@bp.post("/api/messages")
@csrf.exempt
def simulator() -> ResponseReturnValue:
    """Accept a message the way a provider's API would, and keep it for the inbox."""
    expected = current_app.config["SMS_HTTP_API_KEY"]
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not given or (expected and not secrets.compare_digest(given, expected)):
        return jsonify(error="unauthorised"), 401
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return jsonify(error="expected a JSON object"), 400
    to, text = payload.get("to"), payload.get("text")
    if not isinstance(to, str) or not isinstance(text, str) or not text:
        return jsonify(error="'to' and 'text' are required strings"), 400
    check = check_mobile(to)
    if not check.ok:
        return jsonify(error="invalid mobile number"), 422
    key = payload.get("idempotency_key") or request.headers.get("Idempotency-Key")
    message_id = store_dev_message(check.value, text, key if isinstance(key, str) else None)
    db.session.commit()
    return jsonify(id=message_id), 200
