"""The SMS gateway interface, its HTTP adapter and the development backend.

The HTTP protocol is a plain JSON POST, which the built-in simulator (`/dev/sms/api/messages`)
also speaks, so the adapter can be exercised end to end without an outside provider:

    POST <SMS_HTTP_URL>   Authorization: Bearer <SMS_HTTP_API_KEY>
    {"to": "09140001001", "text": "…"}   →   200 {"id": "<message id>"}
"""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Protocol

from flask import current_app
from sqlalchemy import select

from app.db import db
from app.sms.models import DevSmsMessage


class SmsError(Exception):
    """The message could not be handed to the SMS provider."""


class SmsGateway(Protocol):
    """Anything that can send one text to one mobile number."""

    def send(self, mobile: str, text: str, idempotency_key: str | None = None) -> str:
        """Send `text` to `mobile` and return the provider's message id.

        A repeated `idempotency_key` (a retry after a crash) is answered with the first
        message's id and sends nothing again.

        :raises SmsError: when the provider refuses or cannot be reached.
        """
        ...


def new_message_id() -> str:
    """A random message id, as the simulator hands out."""
    return "dev-" + secrets.token_hex(8)


def store_dev_message(mobile: str, text: str, idempotency_key: str | None = None) -> str:
    """Keep a message for the development inbox (added and flushed; the caller commits).

    A key seen before returns the first message's id and stores nothing, as a provider does.
    """
    if idempotency_key:
        seen = db.session.scalar(
            select(DevSmsMessage.message_id).where(DevSmsMessage.idempotency_key == idempotency_key)
        )
        if seen is not None:
            return seen
    message = DevSmsMessage(
        message_id=new_message_id(),
        idempotency_key=idempotency_key or None,
        mobile=mobile,
        text=text,
        created_at=datetime.now(UTC),
    )
    db.session.add(message)
    db.session.flush()
    return message.message_id


class DevSmsGateway:
    """The embedded default: writes each message to the database for the /dev/sms inbox."""

    def send(self, mobile: str, text: str, idempotency_key: str | None = None) -> str:
        """Store the message in the same transaction as the change that caused it."""
        return store_dev_message(mobile, text, idempotency_key)


class HttpSmsGateway:
    """Sends through a provider's HTTP API: a JSON POST with a bearer key and a timeout."""

    def __init__(self, url: str, api_key: str, timeout: float = 10) -> None:
        if not url.startswith(("https://", "http://")):
            raise SmsError("SMS_HTTP_URL must be an http(s) URL")
        self.url = url
        self.api_key = api_key
        self.timeout = timeout

    def send(self, mobile: str, text: str, idempotency_key: str | None = None) -> str:
        """POST the message and return the id the provider answers with."""
        message: dict[str, str] = {"to": mobile, "text": text}
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
            "Authorization": f"Bearer {self.api_key}",
        }
        if idempotency_key:
            # The provider drops a repeat of the same key: a retry never texts twice.
            message["idempotency_key"] = idempotency_key
            headers["Idempotency-Key"] = idempotency_key
        body = json.dumps(message, ensure_ascii=False).encode()
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            self.url,
            data=body,
            method="POST",
            headers=headers,
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                payload = json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            raise SmsError(f"SMS provider answered HTTP {error.code}") from error
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise SmsError(f"SMS provider unreachable: {error}") from error
        except ValueError as error:
            raise SmsError("SMS provider answered with something other than JSON") from error
        if not isinstance(payload, dict) or not isinstance(payload.get("id"), str | int):
            raise SmsError("SMS provider's answer has no message id")
        return str(payload["id"])


def sms_gateway() -> SmsGateway:
    """The gateway the configuration selects (SMS_BACKEND: dev or http)."""
    config = current_app.config
    backend = config["SMS_BACKEND"]
    if backend == "http":
        return HttpSmsGateway(
            config["SMS_HTTP_URL"], config["SMS_HTTP_API_KEY"], config["SMS_HTTP_TIMEOUT"]
        )
    if backend == "dev":
        return DevSmsGateway()
    raise SmsError(f"unknown SMS_BACKEND {backend!r}: use dev or http")


def dev_tools_enabled() -> bool:
    """Whether development pages (the SMS inbox) may be shown: never in production."""
    app = current_app
    if app.config.get("PARVANEH_ENV") == "production":
        return False
    return bool(app.config.get("PARVANEH_ENV") == "development" or app.debug or app.testing)
