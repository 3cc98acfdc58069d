"""`flask engine tick`: fire due timers, one case per transaction; safe to run concurrently."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from app.cases.jobs import sweep_due_timers

engine_cli = AppGroup("engine", help="The process engine's periodic work.")


@engine_cli.command("tick")
@click.option("--loop", is_flag=True, help="Keep sweeping every --every seconds (no cron needed).")
@click.option(
    "--every", default=30.0, show_default=True, help="Seconds between sweeps with --loop."
)
def tick_command(loop: bool, every: float) -> None:
    """Fire every timer that is due now and advance its case."""
    while True:
        fired, failed = sweep_due_timers()
        click.echo(f"timers: {fired} case(s) advanced, {failed} skipped after a conflict")
        if not loop:
            return
        time.sleep(every)
