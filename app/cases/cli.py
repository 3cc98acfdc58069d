"""`flask engine …`: the timer sweep, and incidents for operators.

`tick` fires due timers one case per transaction and is safe to run concurrently (cron, a
loop and Celery beat at once); `incidents` lists cases stopped on a failed step and `retry`
runs that step again once its cause is fixed.
"""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.accounts.models import User
from app.cases.jobs import sweep_due_timers
from app.cases.models import Case, CaseStatus
from app.cases.services import lock_case, retry_incident
from app.db import db
from engine import EngineError

engine_cli = AppGroup("engine", help="The process engine's periodic work and incidents.")


@engine_cli.command("tick")
@click.option("--loop", is_flag=True, help="Keep sweeping every --every seconds (no cron needed).")
@click.option(
    "--every", default=30.0, show_default=True, help="Seconds between sweeps with --loop."
)
def tick_command(loop: bool, every: float) -> None:
    """Fire every timer that is due now and advance its case."""
    while True:
        # A fresh app context per sweep, so a long-running loop sees calendar edits.
        with current_app.app_context():
            fired, failed = sweep_due_timers()
        click.echo(
            f"timers: {fired} case(s) advanced, {failed} skipped (a conflict or an error, logged)"
        )
        if not loop:
            return
        time.sleep(every)


@engine_cli.command("incidents")
def incidents_command() -> None:
    """List the cases stopped on a failed step, with the element and the error."""
    cases = db.session.scalars(
        select(Case).where(Case.status == CaseStatus.INCIDENT).order_by(Case.updated_at)
    ).all()
    for case in cases:
        incident = case.incident or {}
        click.echo(
            f"{case.tracking_code}  {case.process_key}  {incident.get('element_id')}  "
            f"[{incident.get('kind')}] {incident.get('message')}"
        )
    click.echo(f"{len(cases)} case(s) with an open incident")


@engine_cli.command("retry")
@click.argument("tracking_code")
@click.option("--by", "username", required=True, help="The operator's staff username (audited).")
def retry_command(tracking_code: str, username: str) -> None:
    """Run a case's failed step again, after its cause (connector, script) was fixed."""
    operator = db.session.scalar(select(User).where(User.username == username))
    if operator is None:
        raise click.ClickException(f"no user {username}")
    case_id = db.session.scalar(select(Case.id).where(Case.tracking_code == tracking_code))
    case = lock_case(case_id) if case_id is not None else None
    if case is None:
        raise click.ClickException(f"no case {tracking_code}")
    try:
        result = retry_incident(case, actor=operator)
    except EngineError as error:
        raise click.ClickException(str(error)) from None
    if result.incident is not None:
        db.session.commit()  # the failed attempt is part of the case's history too
        raise click.ClickException(
            f"{tracking_code} failed again at {result.incident.element_id}: "
            f"{result.incident.message}"
        )
    db.session.commit()
    click.echo(f"{tracking_code}: retried, now {case.status.value}")
