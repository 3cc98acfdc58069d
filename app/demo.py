"""`flask demo seed`: sample districts and demo accounts, safe to run again."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.accounts.services import ensure_citizen, ensure_district, ensure_staff
from app.db import db

demo_cli = AppGroup("demo", help="Demo data for trying Parvaneh out.")

#: Demo staff: (username, full name, roles). Every demo password is DEMO_PASSWORD.
DEMO_STAFF = [
    ("counter", "زهره اسدی", ["COUNTER", "SECRETARIAT"]),
    ("inspector", "رضا قاسمی", ["INSPECTOR"]),
    ("reviewer", "مریم احمدی", ["URB_EXPERT"]),
    ("head", "علی‌رضا محمدی", ["URB_HEAD", "URB_EXPERT"]),
    ("revenue", "سارا حسینی", ["REVENUE"]),
    ("mayor", "حسن نوری", ["DISTRICT_MAYOR", "DEPUTY"]),
    ("admin", "مدیر سامانه", ["ADMIN"]),
]
DEMO_PASSWORD = "parvaneh-demo-1404"  # noqa: S105 - printed on screen for the demo, on purpose
DEMO_CITIZENS = [("09140001001", "علی کریمی", "1360524185")]


@demo_cli.command("seed")
def seed_command() -> None:
    """Create the demo districts and accounts (existing ones are kept) and print them."""
    district9 = ensure_district("09", "منطقه ۹", "District 9")
    ensure_district("05", "منطقه ۵", "District 5")
    for username, name, roles in DEMO_STAFF:
        ensure_staff(username, name, DEMO_PASSWORD, roles, [district9])
    for mobile, name, national_code in DEMO_CITIZENS:
        ensure_citizen(mobile, name, national_code)
    db.session.commit()
    click.echo("Demo accounts (staff sign-in at /staff/login):")
    for username, name, roles in DEMO_STAFF:
        click.echo(f"  {username:<10} {DEMO_PASSWORD}   {', '.join(roles)}   {name}")
    for mobile, name, _code in DEMO_CITIZENS:
        click.echo(f"  citizen   {mobile}   {name}")
