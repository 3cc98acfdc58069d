"""`flask jobs run`: every periodic job in one round, and one job's failure stops no other."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import select

from app.accounts.services import ensure_citizen
from app.db import db
from app.notifications.models import DeliveryState, Notification


def _pending_note() -> int:
    citizen = ensure_citizen("09140001001", "علی کریمی", "1360524185")
    note = Notification(
        idempotency_key="background-test",
        recipient_id=citizen.id,
        recipient_role="APPLICANT",
        event_key="submitted",
        text_fa="درخواست ثبت شد.",
        text_en="Application received.",
        created_at=datetime.now(UTC),
    )
    db.session.add(note)
    db.session.commit()
    return note.id


def _state(note_id: int) -> DeliveryState:
    db.session.expire_all()
    return db.session.scalars(select(Notification.state).where(Notification.id == note_id)).one()


def test_one_round_runs_every_job(app: Flask) -> None:
    note_id = _pending_note()
    result = app.test_cli_runner().invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    for line in ("timers:", "notifications:", "figures:", "reminder(s) queued"):
        assert line in result.output
    assert _state(note_id) == DeliveryState.SENT


def test_a_failing_job_does_not_stop_the_others(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    note_id = _pending_note()

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the timer sweep broke")

    monkeypatch.setattr("app.cases.cli.sweep_due_timers", broken)
    result = app.test_cli_runner().invoke(args=["jobs", "run"])
    assert result.exit_code == 0, result.output
    assert "timers:" not in result.output
    assert _state(note_id) == DeliveryState.SENT
