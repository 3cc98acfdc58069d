"""`flask transparency fold` and `rebuild`: bring the public figures up to date."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from app.db import db
from app.transparency.jobs import fold_pending
from app.transparency.recording import rebuild

transparency_cli = AppGroup("transparency", help="The public performance figures.")


@transparency_cli.command("fold")
@click.option("--loop", is_flag=True, help="Keep folding every --every seconds.")
@click.option("--every", default=60.0, show_default=True, help="Seconds between runs with --loop.")
def fold_command(loop: bool, every: float) -> None:
    """Add the case changes marked since the last run to the figures (cron, or --loop)."""
    while True:
        click.echo(f"figures: {fold_pending()} case change(s) folded")
        if not loop:
            return
        time.sleep(every)


@transparency_cli.command("rebuild")
def rebuild_command() -> None:
    """Recompute every figure (after an upgrade onto existing cases, or to repair drift)."""
    count = rebuild()
    db.session.commit()
    click.echo(f"figures rebuilt from {count} case(s)")
