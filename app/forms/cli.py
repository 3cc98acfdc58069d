"""`flask forms validate`: check every form definition and the formKeys of the processes."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.forms.checks import check_forms

forms_cli = AppGroup("forms", help="Form definitions in forms/.")


@forms_cli.command("validate")
@click.option(
    "--forms-dir", type=click.Path(file_okay=False, path_type=Path), help="Default: FORMS_DIR."
)
@click.option(
    "--processes-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Default: PROCESSES_DIR.",
)
def validate_command(forms_dir: Path | None, processes_dir: Path | None) -> None:
    """Check every form file; print one line per problem (file: field: problem)."""
    forms_dir = forms_dir or Path(current_app.config["FORMS_DIR"])
    processes_dir = processes_dir or Path(current_app.config["PROCESSES_DIR"])
    problems = check_forms(forms_dir, processes_dir)
    for problem in problems:
        click.echo(str(problem))
    if problems:
        raise click.exceptions.Exit(1)
    count = len(list(forms_dir.glob("**/*.json")))
    click.echo(f"{count} form definitions checked: no problems.")
