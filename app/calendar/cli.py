"""`flask calendar …`: seed the working calendar and check a deadline from the shell."""

from __future__ import annotations

from datetime import date

import click
from flask.cli import AppGroup

from app.calendar import services
from app.calendar.working import DeadlineUnit, due_date
from app.db import db
from app.persian.jalali import format_jalali_date, parse_jalali_date
from app.persian.text import to_ascii_digits

calendar_cli = AppGroup("calendar", help="The working calendar (weekly rules and holidays).")


def _jalali(text: str) -> date:
    parts = to_ascii_digits(text).replace("/", "-").split("-")
    if len(parts) != 3:
        raise click.BadParameter("a Jalali date like 1404-07-01")
    return parse_jalali_date(*parts)


@calendar_cli.command("seed")
@click.option(
    "--year", "years", multiple=True, type=int, help="Jalali years (default 1404 and 1405)."
)
@click.option(
    "--thursday",
    type=click.Choice(["closed", "open"]),
    default="closed",
    show_default=True,
    help="For a new calendar only.",
)
def seed_command(years: tuple[int, ...], thursday: str) -> None:
    """Create the calendar if missing and add the official holidays (safe to run again)."""
    calendar = services.ensure_calendar(thursday_closed=thursday == "closed")
    added = services.seed_official_holidays(calendar, years or (1404, 1405))
    db.session.commit()
    click.echo(f"Calendar ready: {added} holidays added.")


@calendar_cli.command("due")
@click.argument("start")
@click.argument("amount", type=int)
@click.argument("unit", type=click.Choice([u.value for u in DeadlineUnit]))
def due_command(start: str, amount: int, unit: str) -> None:
    """Print the due date of AMOUNT UNIT from a Jalali START date (e.g. 1404-07-01 15 working_days)."""
    snapshot = services.calendar_snapshot()
    if snapshot is None:
        raise click.ClickException("no calendar yet: run `flask calendar seed`")
    due = due_date(snapshot, _jalali(start), amount, unit)
    click.echo(format_jalali_date(due, "long", "en"))
