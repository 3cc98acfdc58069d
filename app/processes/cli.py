"""`flask processes …`: validate, deploy, list and show process versions; migrate a case."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from app.cases.models import Case, CaseStatus
from app.cases.services import lock_case, migrate_case, migration_diff
from app.db import db
from app.processes.models import ProcessVersion
from app.processes.services import InvalidPackage, deploy_all, latest_version, validate_packages
from engine import MigrationBlocked

processes_cli = AppGroup("processes", help="Process packages: validate, deploy, list, migrate.")


def _echo_issues(key: str, issues: list) -> None:  # type: ignore[type-arg]
    for issue in issues:
        where = f"{issue.file}" + (f" [{issue.element_id}]" if issue.element_id else "")
        click.echo(f"{key}/{where}: {issue.message}", err=True)


@processes_cli.command("validate")
@click.argument("keys", nargs=-1)
def validate_command(keys: tuple[str, ...]) -> None:
    """Check packages (all, or the KEYS given); print every problem, exit 1 if any."""
    results = validate_packages(list(keys) or None)
    total = 0
    for key, issues in results.items():
        _echo_issues(key, issues)
        total += len(issues)
        if not issues:
            click.echo(f"{key}: ok")
    if total:
        click.echo(f"{total} problem(s) found.", err=True)
        sys.exit(1)


@processes_cli.command("deploy")
@click.argument("keys", nargs=-1)
def deploy_command(keys: tuple[str, ...]) -> None:
    """Validate, then store each package as an immutable version (unchanged ones are kept)."""
    try:
        deployments = deploy_all(list(keys) or None)
    except InvalidPackage as error:
        _echo_issues(error.key, error.issues)
        click.echo(f"Nothing deployed: {error.key} has {len(error.issues)} problem(s).", err=True)
        sys.exit(1)
    db.session.commit()
    for deployment in deployments:
        state = "deployed" if deployment.created else "unchanged"
        click.echo(f"{deployment.version.label}: {state}")


def _case_counts() -> dict[int, int]:
    rows = db.session.execute(
        select(Case.process_version_id, func.count())
        .where(Case.status != CaseStatus.COMPLETED)
        .group_by(Case.process_version_id)
    )
    return {version_id: count for version_id, count in rows.tuples()}


@processes_cli.command("list")
def list_command() -> None:
    """List every deployed version, newest last, with its open cases."""
    counts = _case_counts()
    versions = db.session.scalars(
        select(ProcessVersion).order_by(ProcessVersion.process_key, ProcessVersion.number)
    )
    for version in versions:
        click.echo(
            f"{version.label}  deployed {version.deployed_at:%Y-%m-%d %H:%M}  "
            f"open cases: {counts.get(version.id, 0)}"
        )


@processes_cli.command("show")
@click.argument("key")
def show_command(key: str) -> None:
    """Show one process: its versions, files and forms."""
    versions = list(
        db.session.scalars(
            select(ProcessVersion)
            .where(ProcessVersion.process_key == key)
            .order_by(ProcessVersion.number)
        )
    )
    if not versions:
        click.echo(f"No deployed version of {key}.", err=True)
        sys.exit(1)
    counts = _case_counts()
    name = versions[-1].card.get("name", {})
    click.echo(f"{key}: {name.get('fa', '')} / {name.get('en', '')}")
    for version in versions:
        latest = "  (latest: new cases start here)" if version is versions[-1] else ""
        click.echo(f"  v{version.number} {version.content_hash[:12]}{latest}")
        click.echo(f"     open cases: {counts.get(version.id, 0)}")
        click.echo(f"     files: {', '.join(sorted(version.files))}")
        click.echo(f"     forms: {', '.join(sorted(version.forms))}")


@processes_cli.command("migrate-case")
@click.argument("tracking_code")
@click.option("--apply", is_flag=True, help="Move the case; without it only the diff is shown.")
def migrate_case_command(tracking_code: str, apply: bool) -> None:
    """Show what moving a case to the latest version changes; --apply moves it."""
    case_id = db.session.scalar(select(Case.id).where(Case.tracking_code == tracking_code))
    case = lock_case(case_id) if case_id else None
    if case is None:
        click.echo(f"No case {tracking_code}.", err=True)
        sys.exit(1)
    target = latest_version(case.process_key)
    if target is None or target.id == case.process_version_id:
        click.echo(f"{tracking_code} already runs on the latest version.")
        return
    diff = migration_diff(case, target)
    click.echo(f"{tracking_code}: {case.process_version.label} -> {target.label}")
    click.echo(f"  added:    {', '.join(diff.added) or '-'}")
    click.echo(f"  removed:  {', '.join(diff.removed) or '-'}")
    for element, aspects in sorted(diff.changed.items()):
        click.echo(f"  changed:  {element} ({', '.join(aspects)})")
    click.echo(f"  reset:    {', '.join(diff.resetting) or '-'}")
    for timer in diff.timers_restarting:
        due = f"{timer.due_before:%Y-%m-%d %H:%M} UTC" if timer.due_before else "unknown"
        click.echo(
            f"  timer restarts: {timer.element_id} ({timer.name}): was due {due}, "
            "restarts from the migration time"
        )
    for reason in diff.blocked_reasons:
        click.echo(f"  BLOCKED: {reason}", err=True)
    if not apply:
        click.echo("Dry run: nothing changed. Add --apply to migrate.")
        return
    try:
        migrate_case(case, target, actor=None)
    except MigrationBlocked as error:
        click.echo(f"Not migrated: {error}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"Migrated {tracking_code} to {target.label}.")
