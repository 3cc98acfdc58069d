"""A worker killed between sending and recording: after a restart, nothing lost, nothing twice.

The worker is the real `flask notifications deliver` in a subprocess, on a database of its
own. A fault switch makes it SIGKILL itself right after the gateway accepted the first
message and before it recorded that. The development gateway remembers every idempotency
key it received, so a second hand-over of the same message is visible, and must not reach
the phone a second time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from app import create_app
from app.accounts.services import ensure_citizen
from app.db import db
from app.notifications.jobs import FAULT_VARIABLE
from app.notifications.models import AttemptOutcome, DeliveryState, DevReceipt, Notification
from app.sms.models import DevSmsMessage
from tests.conftest import ON_POSTGRES, config_for_tests

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 2


@pytest.fixture
def worker_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database of its own, with the schema and three messages waiting in the outbox."""
    url = f"sqlite:///{tmp_path / 'worker.db'}"
    admin = None
    name = ""
    if ON_POSTGRES:
        name = f"parvaneh_worker_{uuid.uuid4().hex[:8]}"
        admin = create_engine(make_url(database_url), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(database_url).set(database=name).render_as_string(hide_password=False)
    application = create_app(config_for_tests(url))
    with application.app_context():
        db.create_all()
        citizen = ensure_citizen("09140001001", "علی کریمی", "1360524185")
        db.session.flush()
        for n in range(3):
            db.session.add(
                Notification(
                    idempotency_key=f"case:7:event-{n}",
                    recipient_id=citizen.id,
                    recipient_role="APPLICANT",
                    event_key="submitted",
                    text_fa=f"پیام شماره {n}",
                    text_en=f"Message {n}",
                    created_at=datetime.now(UTC),
                )
            )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    try:
        yield url
    finally:
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def _worker(url: str, fault: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret-key",
        "SMS_BACKEND": "dev",
        "NOTIFY_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    env.pop(FAULT_VARIABLE, None)
    if fault:
        env[FAULT_VARIABLE] = fault
    flask = str(Path(sys.executable).with_name("flask"))
    return subprocess.run(
        [flask, "--app", "wsgi", "notifications", "deliver"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.requires_commit
def test_a_worker_killed_after_sending_loses_nothing_and_sends_nothing_twice(
    worker_database: str,
) -> None:
    crashed = _worker(worker_database, fault="after_send")
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr

    application = create_app(config_for_tests(worker_database))
    with application.app_context():
        # The gateway has the first message; our records do not know it yet.
        assert db.session.scalar(select(func.count()).select_from(DevSmsMessage)) == 1
        first = db.session.scalar(select(Notification).order_by(Notification.id))
        assert first is not None
        assert first.state == DeliveryState.PENDING
        assert [a.outcome for a in first.delivery_attempts] == [AttemptOutcome.STARTED]
        db.session.remove()

        # A restarted worker respects the dead one's lease, then takes the message over.
        time.sleep(LEASE_SECONDS + 0.5)
        restarted = _worker(worker_database)
        assert restarted.returncode == 0, restarted.stderr
        assert "3 sent" in restarted.stdout

        notes = db.session.scalars(select(Notification).order_by(Notification.id)).all()
        assert [n.state for n in notes] == [DeliveryState.SENT] * 3  # nothing lost
        texts = db.session.scalars(select(DevSmsMessage.text).order_by(DevSmsMessage.id)).all()
        assert sorted(texts) == ["پیام شماره 0", "پیام شماره 1", "پیام شماره 2"]  # nothing twice
        receipts = {
            r.idempotency_key: r.times_received for r in db.session.scalars(select(DevReceipt))
        }
        # The first message really was handed over twice, and the gateway dropped the repeat.
        assert receipts == {
            "case:7:event-0:sms": 2,
            "case:7:event-1:sms": 1,
            "case:7:event-2:sms": 1,
        }
        outcomes = [a.outcome for a in notes[0].delivery_attempts]
        assert outcomes == [AttemptOutcome.STARTED, AttemptOutcome.SENT]
        db.session.remove()
        db.engine.dispose()
