"""`flask properties …`: load the parcels' detailed-plan data into the property register."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from app.db import db
from app.properties.zoning import BadRow, import_csv

properties_cli = AppGroup("properties", help="The property register.")


@properties_cli.command("import-zoning")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_zoning_command(csv_file: Path) -> None:
    """Put parcels' zoning on record from CSV_FILE (safe to run again; bad rows are listed).

    Columns: plate (3/125/4217) or renewal_code, district (code, optional), zone, land_use,
    max_floors, max_density_pct, max_coverage_pct, setback_m, street_width_m.
    """
    try:
        report = import_csv(csv_file)
    except BadRow as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    for line, reason in report.errors:
        click.echo(f"line {line}: {reason}", err=True)
    click.echo(
        f"Zoning imported: {report.created} new, {report.updated} updated, "
        f"{report.unchanged} unchanged, {len(report.errors)} bad rows."
    )
    if report.errors:
        raise SystemExit(1)
