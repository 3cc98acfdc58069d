"""How a notification leaves: one small interface per channel, real adapters and a dev backend.

Every gateway receives the notification's idempotency key. Delivery is at-least-once (a
worker that dies after handing a message over hands it over again), so the provider's side
must drop a key it has seen: the development backend does exactly that and counts the
repeats, e-mail carries the key in a stable Message-ID, and the SMS adapter sends it to the
provider, which answers a repeated key with the first message's id.
"""

from __future__ import annotations

import hashlib
import secrets
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Protocol

from flask import current_app
from sqlalchemy import select

from app.db import db
from app.notifications.models import DevReceipt
from app.sms.gateway import SmsError, SmsGateway, sms_gateway, store_dev_message


class DeliveryError(Exception):
    """The gateway did not accept the message; the delivery worker tries again later."""


class Sender(Protocol):
    """One channel's gateway: hand over a text for an address, get the provider's id back."""

    channel: str

    def send(self, address: str, subject: str, text: str, idempotency_key: str) -> str:
        """Hand the message over and return the provider's message id.

        :raises DeliveryError: when the gateway refuses or cannot be reached.
        """
        ...


class DevSender:
    """The embedded default: keeps messages in the database and drops repeated keys.

    SMS texts also land in the development SMS inbox (/dev/sms). The delivery worker commits
    right after `send`, as a real provider's acceptance is durable the moment it answers.
    """

    def __init__(self, channel: str) -> None:
        self.channel = channel

    def send(self, address: str, subject: str, text: str, idempotency_key: str) -> str:
        """Keep the message once per key; a repeat is counted and answered with the same id."""
        seen = db.session.scalar(
            select(DevReceipt).where(DevReceipt.idempotency_key == idempotency_key)
        )
        if seen is not None:
            seen.times_received += 1
            return seen.message_id
        if self.channel == "sms":
            message_id = store_dev_message(address, text)
        else:
            message_id = "mail-" + secrets.token_hex(8)
        db.session.add(
            DevReceipt(
                idempotency_key=idempotency_key,
                channel=self.channel,
                address=address,
                subject=subject,
                text=text,
                message_id=message_id,
                times_received=1,
                received_at=datetime.now(UTC),
            )
        )
        db.session.flush()
        return message_id


class SmsSender:
    """Sends through the SMS gateway of app/sms (the provider's HTTP API)."""

    channel = "sms"

    def __init__(self, gateway: SmsGateway) -> None:
        self.gateway = gateway

    def send(self, address: str, subject: str, text: str, idempotency_key: str) -> str:
        """Send the text with the notification's key, so the provider drops a repeat."""
        del subject
        try:
            return self.gateway.send(address, text, idempotency_key)
        except SmsError as error:
            raise DeliveryError(str(error)) from error


class SmtpSender:
    """Sends e-mail over SMTP, with STARTTLS when configured, and a Message-ID from the key."""

    channel = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        username: str = "",
        password: str = "",
        starttls: bool = True,
        timeout: float = 15,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password = username, password
        self.starttls, self.timeout = starttls, timeout

    def message_id(self, idempotency_key: str) -> str:
        """A Message-ID that is the same every time the same notification is sent."""
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
        domain = self.sender.rpartition("@")[2] or "parvaneh.local"
        return f"<{digest}@{domain}>"

    def send(self, address: str, subject: str, text: str, idempotency_key: str) -> str:
        """Send one plain-text mail and return its Message-ID."""
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = self.sender, address, subject
        mail["Message-ID"] = self.message_id(idempotency_key)
        mail.set_content(text)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(mail)
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryError(f"SMTP: {error}") from error
        return str(mail["Message-ID"])


def senders() -> dict[str, Sender]:
    """The configured gateway of each channel (SMS_BACKEND and MAIL_BACKEND: dev or real)."""
    config = current_app.config
    chosen: dict[str, Sender] = {}
    if config["SMS_BACKEND"] == "dev":
        chosen["sms"] = DevSender("sms")
    else:
        try:
            chosen["sms"] = SmsSender(sms_gateway())
        except SmsError as error:
            raise DeliveryError(str(error)) from error
    if config["MAIL_BACKEND"] == "smtp":
        chosen["email"] = SmtpSender(
            config["SMTP_HOST"],
            config["SMTP_PORT"],
            config["MAIL_FROM"],
            username=config["SMTP_USERNAME"],
            password=config["SMTP_PASSWORD"],
            starttls=config["SMTP_STARTTLS"],
        )
    else:
        chosen["email"] = DevSender("email")
    return chosen
