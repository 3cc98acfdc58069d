"""`flask office remind`: queue reminder texts for site visits coming up soon (cron/beat)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from app.db import db
from app.inspections.services import send_reminders

office_cli = AppGroup("office", help="Back-office sweeps.")


@office_cli.command("remind")
@click.option("--hours", type=int, default=None, help="How far ahead to remind (default: config).")
def remind_command(hours: int | None) -> None:
    """Queue one reminder SMS per booked site visit starting within the next hours."""
    ahead = timedelta(hours=hours or current_app.config["INSPECTION_REMINDER_HOURS"])
    sent = send_reminders(datetime.now(UTC), ahead)
    db.session.commit()
    click.echo(f"{sent} reminder(s) queued")
