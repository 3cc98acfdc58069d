"""`flask staff …` and `flask districts …` manage accounts from the shell."""

from __future__ import annotations

from flask import Flask

from app.accounts.services import ensure_district, find_staff


def test_staff_commands(app: Flask) -> None:
    ensure_district("09", "منطقه ۹", "District 9")
    runner = app.test_cli_runner()
    weak = runner.invoke(
        args=[
            "staff",
            "create",
            "m.ahmadi",
            "--name",
            "مریم احمدی",
            "--role",
            "URB_EXPERT",
            "--password",
            "password1234",
        ]
    )
    assert weak.exit_code == 2
    assert "password" in weak.output
    created = runner.invoke(
        args=[
            "staff",
            "create",
            "m.ahmadi",
            "--name",
            "مریم احمدی",
            "--role",
            "URB_EXPERT",
            "--district",
            "09",
            "--password",
            "باغ ارم در بهار",
        ]
    )
    assert created.exit_code == 0, created.output
    assert runner.invoke(args=["staff", "grant", "m.ahmadi", "URB_HEAD"]).exit_code == 0
    assert runner.invoke(args=["staff", "grant", "m.ahmadi", "NO_SUCH"]).exit_code == 2
    assert runner.invoke(args=["staff", "revoke", "m.ahmadi", "URB_EXPERT"]).exit_code == 0
    listing = runner.invoke(args=["staff", "list"]).output
    assert "m.ahmadi" in listing
    assert "URB_HEAD" in listing
    assert "URB_EXPERT" not in listing

    reset = runner.invoke(args=["staff", "reset-password", "m.ahmadi"])
    temporary = reset.output.rsplit(": ", 1)[1].strip()
    user = find_staff("m.ahmadi")
    assert user is not None
    assert user.check_password(temporary)
    assert user.must_change_password
    assert runner.invoke(args=["staff", "unlock", "m.ahmadi"]).exit_code == 0
    assert runner.invoke(args=["staff", "reset-totp", "m.ahmadi"]).exit_code == 0
    assert runner.invoke(args=["staff", "grant", "nobody", "URB_HEAD"]).exit_code == 1


def test_district_commands(app: Flask) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["districts", "add", "07", "منطقه ۷", "District 7"]).exit_code == 0
    assert runner.invoke(args=["districts", "add", "7", "منطقه ۷", "District 7"]).exit_code == 2
    assert "07  منطقه ۷" in runner.invoke(args=["districts", "list"]).output
    ensure_district("09", "منطقه ۹", "District 9")
    runner.invoke(
        args=[
            "staff",
            "create",
            "head1",
            "--name",
            "رئیس",
            "--role",
            "URB_HEAD",
            "--password",
            "باغ ارم در بهار",
        ]
    )
    assert runner.invoke(args=["districts", "assign", "head1", "07", "09"]).exit_code == 0
    user = find_staff("head1")
    assert user is not None
    assert sorted(d.code for d in user.districts) == ["07", "09"]
    assert runner.invoke(args=["districts", "assign", "head1", "99"]).exit_code == 2
