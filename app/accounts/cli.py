"""`flask staff …` and `flask districts …`: manage staff accounts, roles and districts."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup

from app.accounts import services
from app.accounts.models import User
from app.accounts.services import AccountProblem
from app.db import db


class _EnglishGroup(AppGroup):
    """Run each command inside an English request context: messages come from the catalogues."""

    def invoke(self, ctx: click.Context) -> object:
        with current_app.test_request_context("/?lang=en"):
            return super().invoke(ctx)


staff_cli = _EnglishGroup("staff", help="Staff accounts, their roles and districts.")
districts_cli = _EnglishGroup("districts", help="Municipal districts.")


def _staff(username: str) -> User:
    user = services.find_staff(username)
    if user is None:
        raise click.ClickException(f"no staff account {username!r}")
    return user


def _fail(problem: AccountProblem) -> None:
    for field, message in problem.errors.items():
        click.echo(f"{field}: {message}", err=True)
    sys.exit(2)


@staff_cli.command("create")
@click.argument("username")
@click.option("--name", "full_name", required=True, help="Full name, as shown to colleagues.")
@click.option("--role", "roles", multiple=True, help="A role code (repeat for more).")
@click.option("--district", "districts", multiple=True, help="A district code (repeat for more).")
@click.password_option(help="At least 12 characters; prompted for when not given.")
def create_command(
    username: str, full_name: str, roles: tuple[str, ...], districts: tuple[str, ...], password: str
) -> None:
    """Create a staff account."""
    try:
        user = services.create_staff(username, full_name, password, roles, districts, actor=None)
    except AccountProblem as problem:
        _fail(problem)
        return
    db.session.commit()
    click.echo(f"Created {user.username} ({', '.join(sorted(user.role_codes)) or 'no roles'}).")


@staff_cli.command("reset-password")
@click.argument("username")
def reset_password_command(username: str) -> None:
    """Give a one-time password (printed once) to replace at the next sign-in; unlocks too."""
    user = _staff(username)
    password = services.reset_password(user, actor=None)
    db.session.commit()
    click.echo(f"One-time password for {user.username}: {password}")


@staff_cli.command("reset-totp")
@click.argument("username")
def reset_totp_command(username: str) -> None:
    """Remove a staff member's authenticator (lost phone)."""
    services.reset_totp(_staff(username), actor=None)
    db.session.commit()
    click.echo(f"Authenticator removed for {username}.")


@staff_cli.command("unlock")
@click.argument("username")
def unlock_command(username: str) -> None:
    """Lift a lockout after too many failed sign-ins."""
    services.unlock(_staff(username), actor=None)
    db.session.commit()
    click.echo(f"Unlocked {username}.")


@staff_cli.command("grant")
@click.argument("username")
@click.argument("role")
def grant_command(username: str, role: str) -> None:
    """Give a staff member a role (a BPMN lane code from processes/roles.json, or ADMIN)."""
    try:
        services.grant_role(_staff(username), role, actor=None)
    except AccountProblem as problem:
        _fail(problem)
        return
    db.session.commit()
    click.echo(f"{username} now holds {role}.")


@staff_cli.command("revoke")
@click.argument("username")
@click.argument("role")
def revoke_command(username: str, role: str) -> None:
    """Take a role from a staff member."""
    services.revoke_role(_staff(username), role, actor=None)
    db.session.commit()
    click.echo(f"{username} no longer holds {role}.")


@staff_cli.command("list")
def list_command() -> None:
    """List staff accounts with their roles, districts and sign-in state."""
    for user in services.all_staff():
        state = (
            "disabled" if not user.is_active_account else "locked" if user.locked_at else "active"
        )
        totp = "totp" if user.totp_enrolled else "no-totp"
        roles = ",".join(sorted(user.role_codes)) or "-"
        districts = ",".join(sorted(d.code for d in user.districts)) or "-"
        click.echo(
            f"{user.username:<16} {state:<8} {totp:<7} {roles:<32} {districts:<8} {user.full_name}"
        )


@districts_cli.command("list")
def districts_list_command() -> None:
    """List districts."""
    for district in services.all_districts():
        click.echo(f"{district.code}  {district.name_fa}  {district.name_en}")


@districts_cli.command("add")
@click.argument("code")
@click.argument("name_fa")
@click.argument("name_en")
def districts_add_command(code: str, name_fa: str, name_en: str) -> None:
    """Add a district with its two-digit code and its Persian and English names."""
    try:
        services.save_district(None, code, name_fa, name_en, actor=None)
    except AccountProblem as problem:
        _fail(problem)
        return
    db.session.commit()
    click.echo(f"Added district {code}.")


@districts_cli.command("assign")
@click.argument("username")
@click.argument("codes", nargs=-1, required=True)
def districts_assign_command(username: str, codes: tuple[str, ...]) -> None:
    """Set the districts a staff member serves (replacing the previous ones)."""
    try:
        services.set_districts(_staff(username), codes, actor=None)
    except AccountProblem as problem:
        _fail(problem)
        return
    db.session.commit()
    click.echo(f"{username} serves {', '.join(codes)}.")
