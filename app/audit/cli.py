"""`flask audit verify`: check the hash chain and name every row that was tampered with."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from app.audit.services import verify_chain

audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Recompute the chain; exit 1 and name the rows when any was edited, inserted or deleted."""
    count, problems = verify_chain()
    if not problems:
        click.echo(f"Audit chain intact: {count} entries.")
        return
    click.echo(f"Audit chain BROKEN ({count} entries read):", err=True)
    for problem in problems:
        click.echo(f"  {problem}", err=True)
    sys.exit(1)
