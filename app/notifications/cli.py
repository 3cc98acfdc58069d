"""`flask notifications deliver`: send the outbox without Celery (the embedded default)."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from app.notifications.jobs import deliver_pending

notifications_cli = AppGroup("notifications", help="The notification outbox.")


@notifications_cli.command("deliver")
@click.option("--loop", is_flag=True, help="Keep delivering every --every seconds.")
@click.option("--every", default=15.0, show_default=True, help="Seconds between runs with --loop.")
@click.option("--limit", default=200, show_default=True, help="Most messages per run.")
def deliver_command(loop: bool, every: float, limit: int) -> None:
    """Send every due message by SMS (and e-mail), retrying failures with backoff."""
    while True:
        report = deliver_pending(limit)
        click.echo(
            f"notifications: {report.sent} sent, {report.retrying} to retry, "
            f"{report.failed} failed, {report.in_app} in-app only"
        )
        if not loop:
            return
        time.sleep(every)
