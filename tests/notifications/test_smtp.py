"""The real SMTP adapter against a real SMTP server on localhost, started by the test.

The server is a small line-based SMTP implementation on `socketserver` in a thread: it speaks
EHLO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP and QUIT, keeps every message it accepts, and
can be told to answer the next messages with a temporary (4xx) refusal.
"""

from __future__ import annotations

import base64
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from flask import Flask
from freezegun import freeze_time

from app.accounts.models import User
from app.accounts.services import ensure_citizen
from app.citizens.models import CitizenProfile
from app.db import db
from app.notifications.gateways import DeliveryError, SmtpSender, senders
from app.notifications.jobs import deliver_pending
from app.notifications.models import AttemptOutcome, DeliveryState, Notification


@dataclass
class Mailbox:
    """What the server accepted, and what it was told to do."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    refuse_next: int = 0  # answer this many DATA commands with 451


class _SmtpHandler(socketserver.StreamRequestHandler):
    server: _SmtpServer

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode("ascii") + b"\r\n")

    def handle(self) -> None:
        box = self.server.mailbox
        sender, recipients = "", []
        self.reply("220 localhost test SMTP")
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode("utf-8").rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.reply("250-localhost")
                self.reply("250-AUTH PLAIN")
                self.reply("250 8BITMIME")
            elif verb == "HELO":
                self.reply("250 localhost")
            elif verb == "AUTH":
                parts = line.split()
                if len(parts) < 3:
                    self.reply("334 ")
                    parts.append(self.rfile.readline().decode().strip())
                _, user, password = base64.b64decode(parts[2]).decode().split("\x00")
                box.logins.append((user, password))
                self.reply("235 2.7.0 Authentication successful")
            elif verb == "MAIL":
                sender, recipients = line.split(":", 1)[1].strip().strip("<>"), []
                self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(line.split(":", 1)[1].strip().strip("<>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                body = self._read_data()
                if box.refuse_next:
                    box.refuse_next -= 1
                    self.reply("451 4.3.0 Try again later")
                    continue
                box.envelopes.append((sender, recipients))
                box.messages.append(
                    message_from_bytes(body, policy=policy.default)  # type: ignore[arg-type]
                )
                self.reply("250 OK queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")

    def _read_data(self) -> bytes:
        lines = []
        while True:
            raw = self.rfile.readline()
            if raw in (b".\r\n", b".\n", b""):
                return b"".join(lines)
            lines.append(raw[1:] if raw.startswith(b"..") else raw)


class _SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.mailbox = Mailbox()


@pytest.fixture
def smtp_server() -> Iterator[_SmtpServer]:
    server = _SmtpServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def mail_settings(app: Flask, smtp_server: _SmtpServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # The settings an operator gives through the environment (MAIL_BACKEND=smtp, SMTP_*).
    for key, value in {
        "MAIL_BACKEND": "smtp",
        "MAIL_FROM": "parvaneh@shahrdari.example",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp_server.server_address[1],
        "SMTP_USERNAME": "notifier",
        "SMTP_PASSWORD": "s3cret-1404",
        "SMTP_STARTTLS": False,  # the test server has no certificate
    }.items():
        monkeypatch.setitem(app.config, key, value)


@pytest.fixture
def citizen(app: Flask) -> User:
    user = ensure_citizen("09140001001", "علی کریمی", "1360524185")
    db.session.add(CitizenProfile(user_id=user.id, email="ali@example.org"))
    db.session.commit()
    return user


def _note(user: User, key: str) -> Notification:
    note = Notification(
        idempotency_key=key,
        recipient_id=user.id,
        recipient_role="APPLICANT",
        event_key="submitted",
        text_fa="درخواست ۱۲۳ ثبت شد.",
        text_en="Application 123 was received.",
        created_at=datetime.now(UTC),
    )
    db.session.add(note)
    db.session.commit()
    return note


def test_the_environments_settings_choose_the_smtp_adapter(mail_settings: None) -> None:
    sender = senders()["email"]
    assert isinstance(sender, SmtpSender)
    assert (sender.host, sender.username, sender.starttls) == ("127.0.0.1", "notifier", False)


def test_a_message_is_mailed_once_with_a_message_id_from_its_key(
    mail_settings: None, smtp_server: _SmtpServer, citizen: User
) -> None:
    note = _note(citizen, "case:7:stage:abc")
    report = deliver_pending()
    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)

    box = smtp_server.mailbox
    assert box.logins == [("notifier", "s3cret-1404")]
    assert box.envelopes == [("parvaneh@shahrdari.example", ["ali@example.org"])]
    [mail] = box.messages
    assert mail["To"] == "ali@example.org"
    body = mail.get_content()
    assert "درخواست ۱۲۳ ثبت شد." in body
    assert "Application 123 was received." in body
    db.session.refresh(note)
    email = next(a for a in note.delivery_attempts if a.channel == "email")
    assert email.outcome == AttemptOutcome.SENT
    assert email.provider_message_id == mail["Message-ID"]

    # Another run, and a staff resend attempt on a delivered message, mail nothing more.
    assert deliver_pending().sent == 0
    assert len(box.messages) == 1
    # The same key always gives the same Message-ID, so a receiving server can drop a
    # repeat that a worker killed between sending and recording would hand over again.
    again = SmtpSender("127.0.0.1", 25, "parvaneh@shahrdari.example")
    assert again.message_id("case:7:stage:abc:email") == mail["Message-ID"]
    assert again.message_id("case:7:stage:abd:email") != mail["Message-ID"]


def test_a_temporary_refusal_is_retried_after_the_backoff(
    mail_settings: None, smtp_server: _SmtpServer, citizen: User
) -> None:
    box = smtp_server.mailbox
    box.refuse_next = 1
    with freeze_time("2025-09-23 05:00:00+00:00") as clock:
        note = _note(citizen, "case:8:stage:def")
        report = deliver_pending()
        assert (report.sent, report.retrying) == (0, 1)
        db.session.refresh(note)
        assert note.state == DeliveryState.PENDING
        assert "451" in note.last_error
        assert note.next_attempt_at is not None
        assert box.messages == []

        assert deliver_pending().sent == 0  # not before the backoff ends
        clock.tick(timedelta(minutes=10))
        assert deliver_pending().sent == 1
    db.session.refresh(note)
    assert note.state == DeliveryState.SENT
    assert len(box.messages) == 1  # delivered once, after one refusal
    outcomes = sorted(a.outcome.value for a in note.delivery_attempts if a.channel == "email")
    assert outcomes == ["failed", "sent"]


def test_an_unreachable_server_is_a_delivery_error() -> None:
    sender = SmtpSender("127.0.0.1", 9, "parvaneh@shahrdari.example", starttls=False, timeout=2)
    with pytest.raises(DeliveryError):
        sender.send("ali@example.org", "Parvaneh", "text", "case:9:x:email")
