"""Staff sign-in security: password policy, argon2, TOTP, backoff, lockout, session rules."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from app.accounts import services
from app.accounts.models import User
from app.accounts.passwords import password_problem
from app.audit.models import AuditEntry
from app.db import db

PASSWORD = "correct horse battery"


def enrolled(user: User) -> pyotp.TOTP:
    """Give the user a confirmed authenticator; returns the TOTP generator the phone would be."""
    secret = pyotp.random_base32(32)
    user.totp_secret, user.totp_enabled_at = secret, datetime.now(UTC)
    db.session.commit()
    return pyotp.TOTP(secret)


def sign_in(client: FlaskClient, username: str = "reviewer", password: str = PASSWORD) -> object:
    return client.post("/staff/login", data={"username": username, "password": password})


def test_password_policy(app: Flask) -> None:
    with app.test_request_context("/"):
        assert password_problem("short") == "دست‌کم ۱۲ نویسه به کار ببرید."
        assert "رایج" in (password_problem("qwertyuiop123") or "")
        assert "رایج" in (password_problem("aaaaaaaaaaaaaa") or "")
        assert "نام کاربری" in (password_problem("m.ahmadi-garden-2024", "m.ahmadi") or "")
        assert password_problem("برگ‌های زرد پاییز تبریز") is None
        assert password_problem(PASSWORD, "reviewer") is None


def test_passwords_are_hashed_with_argon2id_and_old_scrypt_hashes_upgrade(
    client: FlaskClient, make_staff: Callable[..., User]
) -> None:
    user = make_staff("reviewer")
    assert (user.password_hash or "").startswith("$argon2id$")
    user.password_hash = generate_password_hash(PASSWORD, method="scrypt")
    db.session.commit()
    assert sign_in(client).status_code == 302  # type: ignore[attr-defined]
    db.session.refresh(user)
    assert (user.password_hash or "").startswith("$argon2id$")


def test_with_totp_the_password_alone_does_not_sign_in(
    client: FlaskClient, make_staff: Callable[..., User]
) -> None:
    phone = enrolled(make_staff("reviewer"))
    response = sign_in(client)
    assert response.headers["Location"] == "/staff/login/code"  # type: ignore[attr-defined]
    assert client.get("/account").status_code == 302  # not signed in yet

    wrong = client.post("/staff/login/code", data={"code": "۱۲۳۴۵۶"})
    html = wrong.get_data(as_text=True)
    assert wrong.status_code == 422
    assert "کد درست نیست" in html
    assert 'value="۱۲۳۴۵۶"' in html  # what was typed stays

    persian = phone.now().translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    right = client.post("/staff/login/code", data={"code": persian})
    assert right.status_code == 302
    assert client.get("/account").status_code == 200


def test_a_totp_code_works_once(client: FlaskClient, make_staff: Callable[..., User]) -> None:
    phone = enrolled(make_staff("reviewer"))
    code = phone.now()
    sign_in(client)
    assert client.post("/staff/login/code", data={"code": code}).status_code == 302
    client.post("/logout")
    sign_in(client)
    replay = client.post("/staff/login/code", data={"code": code})
    assert replay.status_code == 422


def test_the_code_step_expires(client: FlaskClient, make_staff: Callable[..., User]) -> None:
    enrolled(make_staff("reviewer"))
    sign_in(client)
    with client.session_transaction() as session:
        session["pending_at"] = time.time() - 301
    response = client.get("/staff/login/code")
    assert response.headers["Location"] == "/staff/login"


def test_unknown_users_get_the_same_answer(client: FlaskClient) -> None:
    response = sign_in(client, username="nobody")
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "نام کاربری یا گذرواژه درست نیست" in response.get_data(as_text=True)  # type: ignore[attr-defined]


def test_failures_back_off_then_lock(
    app: Flask,
    client: FlaskClient,
    make_staff: Callable[..., User],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.config, "STAFF_LOGIN_LOCK_AFTER", 7)
    user = make_staff("reviewer")
    with freeze_time("2025-09-23 05:00:00") as clock:
        for _ in range(5):
            assert sign_in(client, password="wrong password!").status_code == 422  # type: ignore[attr-defined]
        # Five failures: even the right password waits 30 seconds now.
        waiting = sign_in(client)
        assert waiting.status_code == 422  # type: ignore[attr-defined]
        assert "دوباره تلاش کنید" in waiting.get_data(as_text=True)  # type: ignore[attr-defined]
        clock.tick(31)
        sign_in(client, password="wrong password!")  # the 6th failure: one minute
        clock.tick(61)
        sign_in(client, password="wrong password!")  # the 7th: locked
        clock.tick(3600)
        locked = sign_in(client)
        assert "قفل" in locked.get_data(as_text=True)  # type: ignore[attr-defined]
        db.session.refresh(user)
        assert user.locked_at is not None
        assert user.failed_logins == 7

        services.unlock(user, actor=None)
        db.session.commit()
        assert sign_in(client).status_code == 302  # type: ignore[attr-defined]
    db.session.refresh(user)
    assert user.failed_logins == 0
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()
    assert actions.count("staff.sign_in_failed") == 7
    assert {"staff.locked", "staff.unlocked", "staff.signed_in"} <= set(actions)


def test_wrong_codes_count_as_failures(
    client: FlaskClient, make_staff: Callable[..., User]
) -> None:
    user = make_staff("reviewer")
    enrolled(user)
    sign_in(client)
    for _ in range(3):
        client.post("/staff/login/code", data={"code": "000000"})
    db.session.refresh(user)
    assert user.failed_logins == 3


def test_idle_sessions_end(
    app: Flask, client: FlaskClient, make_staff: Callable[..., User]
) -> None:
    make_staff("reviewer")
    sign_in(client)
    assert client.get("/account").status_code == 200
    with client.session_transaction() as session:
        session["seen_at"] = time.time() - app.config["STAFF_IDLE_MINUTES"] * 60 - 5
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login")
    assert "عدم فعالیت" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_sessions_have_an_absolute_limit(
    app: Flask, client: FlaskClient, make_staff: Callable[..., User]
) -> None:
    make_staff("reviewer")
    sign_in(client)
    with client.session_transaction() as session:
        session["signed_in_at"] = time.time() - app.config["STAFF_SESSION_HOURS"] * 3600 - 5
    assert client.get("/account").status_code == 302


def test_an_admin_reset_ends_sessions_and_forces_a_new_password(
    app: Flask, client: FlaskClient, make_staff: Callable[..., User]
) -> None:
    user = make_staff("reviewer")
    sign_in(client)
    assert client.get("/account").status_code == 200
    temporary = services.reset_password(user, actor=None)
    db.session.commit()
    assert client.get("/account").status_code == 302  # the open session ended

    response = sign_in(client, password=temporary)
    assert response.headers["Location"] == "/staff/password"  # type: ignore[attr-defined]
    refused = client.post(
        "/staff/password",
        data={"current": temporary, "new": "password1234", "repeat": "password1234"},
    )
    assert refused.status_code == 422
    assert "رایج" in refused.get_data(as_text=True)
    mismatch = client.post(
        "/staff/password",
        data={"current": temporary, "new": "باغ ارم در بهار", "repeat": "باغ ارم در پاییز"},
    )
    assert mismatch.status_code == 422
    done = client.post(
        "/staff/password",
        data={"current": temporary, "new": "باغ ارم در بهار", "repeat": "باغ ارم در بهار"},
    )
    assert done.status_code == 302
    db.session.refresh(user)
    assert not user.must_change_password
    assert user.check_password("باغ ارم در بهار")


def test_admins_must_enrol_totp_before_working(
    client: FlaskClient, make_staff: Callable[..., User]
) -> None:
    admin = make_staff("admin", roles=["ADMIN"])
    response = sign_in(client, "admin")
    assert response.headers["Location"] == "/staff/totp"  # type: ignore[attr-defined]
    assert client.get("/admin/staff").headers["Location"] == "/staff/totp"

    start = client.post("/staff/totp", data={"action": "start"})
    html = start.get_data(as_text=True)
    assert start.headers["Cache-Control"] == "no-store"
    assert "<svg" in html
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html)
    assert secret is not None
    phone = pyotp.TOTP(secret.group(1).replace(" ", ""))

    wrong = client.post("/staff/totp", data={"action": "confirm", "code": "000000"})
    assert wrong.status_code == 422
    assert (
        client.post("/staff/totp", data={"action": "confirm", "code": phone.now()}).status_code
        == 302
    )
    db.session.refresh(admin)
    assert admin.totp_enrolled
    assert client.get("/admin/staff").status_code == 200


def test_other_staff_may_work_without_totp_until_they_enrol(
    app: Flask,
    client: FlaskClient,
    make_staff: Callable[..., User],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_staff("reviewer")
    assert sign_in(client).headers["Location"] == "/account"  # type: ignore[attr-defined]
    monkeypatch.setitem(app.config, "STAFF_TOTP_REQUIRED_ROLES", "*")
    with app.test_request_context("/"):
        user = services.find_staff("reviewer")
        assert user is not None
        assert services.totp_required(user)


def test_staff_see_only_their_districts(make_staff: Callable[..., User]) -> None:
    user = make_staff("reviewer")
    other = services.ensure_district("05", "منطقه ۵", "District 5")
    assert services.visible_district_ids(user) == frozenset(d.id for d in user.districts)
    assert other.id not in services.visible_district_ids(user)
    services.set_districts(user, ["05", "09"], actor=None)
    assert other.id in services.visible_district_ids(user)
    citizen = services.ensure_citizen("09140001001", "علی کریمی", "1360524185")
    assert services.visible_district_ids(citizen) == frozenset()


def test_disabling_an_account_ends_its_sessions(
    client: FlaskClient, make_staff: Callable[..., User]
) -> None:
    user = make_staff("reviewer")
    sign_in(client)
    services.update_staff(
        user,
        full_name=user.full_name,
        roles=["URB_EXPERT"],
        district_codes=["09"],
        active=False,
        actor=None,
    )
    db.session.commit()
    assert client.get("/account").status_code == 302
    assert sign_in(client).status_code == 422  # type: ignore[attr-defined]


def test_backoff_times_are_bounded(app: Flask, make_staff: Callable[..., User]) -> None:
    user = make_staff("reviewer")
    now = datetime(2025, 9, 23, tzinfo=UTC)
    with app.test_request_context("/"):
        for _ in range(20):
            services.register_failure(user, now, "password")
    assert user.retry_after is not None
    assert user.retry_after - now <= timedelta(hours=1)
