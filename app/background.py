"""`flask jobs run`: every periodic job in one process, for the embedded default (no Celery).

In production Celery beat schedules each job (timer sweep, outbox delivery, figures fold);
on one machine without Redis, `make demo` starts `flask jobs run --loop` beside the web
server, so timers fire, texts reach /dev/sms and the dashboard moves, as they would there.
Each job is the same command an operator can run alone from cron; each commits at its edge.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import click
from flask import current_app
from flask.cli import AppGroup

from app.db import db

jobs_cli = AppGroup("jobs", help="Run every periodic job (the embedded default's scheduler).")


def _periodic_commands() -> list[tuple[str, Callable[..., None], dict[str, object]]]:
    from app.cases.cli import tick_command
    from app.notifications.cli import deliver_command
    from app.office.cli import remind_command
    from app.payments.cli import reconcile_command
    from app.transparency.cli import fold_command

    return [
        ("timers", tick_command, {"loop": False, "every": 0.0}),
        ("outbox", deliver_command, {"loop": False, "every": 0.0, "limit": 200}),
        ("figures", fold_command, {"loop": False, "every": 0.0}),
        ("visit reminders", remind_command, {"hours": None}),
        ("payments", reconcile_command, {"older_than": None}),
    ]


@jobs_cli.command("run")
@click.option("--loop", is_flag=True, help="Keep running every --every seconds.")
@click.option("--every", default=15.0, show_default=True, help="Seconds between rounds.")
@click.pass_context
def run_command(ctx: click.Context, loop: bool, every: float) -> None:
    """Sweep due timers, deliver the outbox, fold the figures, remind visits, reconcile payments."""
    while True:
        for name, command, options in _periodic_commands():
            # One job's failure is logged and never stops the others (or the next round).
            with current_app.app_context():
                try:
                    ctx.invoke(command, **options)
                except Exception:
                    db.session.rollback()
                    current_app.logger.exception("background job %r failed", name)
        if not loop:
            return
        time.sleep(every)
