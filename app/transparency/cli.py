"""`flask transparency rebuild`: recompute the public figures from the cases themselves."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.db import db
from app.transparency.recording import rebuild

transparency_cli = AppGroup("transparency", help="The public performance figures.")


@transparency_cli.command("rebuild")
def rebuild_command() -> None:
    """Recompute every figure (after an upgrade onto existing cases, or to repair drift)."""
    count = rebuild()
    db.session.commit()
    click.echo(f"figures rebuilt from {count} case(s)")
