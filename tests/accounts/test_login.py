"""Staff sign-in: errors next to the field, typed input kept, safe redirects."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from app.accounts.models import User
from app.accounts.services import ensure_staff


def test_sign_in_and_see_the_account(client: FlaskClient, make_staff: Callable[..., User]) -> None:
    make_staff("reviewer", roles=["URB_EXPERT"])
    response = client.post(
        "/staff/login", data={"username": " Reviewer ", "password": "correct horse battery"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    page = client.get("/account").get_data(as_text=True)
    assert "URB_EXPERT" in page
    assert "منطقه ۹" in page


def test_wrong_password_keeps_the_username_and_says_why(
    client: FlaskClient, make_staff: Callable[..., User]
) -> None:
    make_staff("reviewer")
    response = client.post(
        "/staff/login", data={"username": "reviewer", "password": "wrong password!"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="reviewer"' in html
    assert "نام کاربری یا گذرواژه درست نیست" in html
    assert 'aria-describedby="error-password"' in html
    assert 'href="#field-password"' in html  # the error summary links to the field


def test_empty_fields_get_their_own_messages(client: FlaskClient) -> None:
    html = client.post("/staff/login", data={"username": "", "password": ""}).get_data(as_text=True)
    assert "نام کاربری را وارد کنید" in html
    assert "گذرواژه را وارد کنید" in html


def test_next_redirect_stays_on_this_site(
    client: FlaskClient, make_staff: Callable[..., User]
) -> None:
    make_staff("reviewer")
    response = client.post(
        "/staff/login?next=//evil.example/x",
        data={"username": "reviewer", "password": "correct horse battery"},
    )
    assert response.headers["Location"] == "/account"


def test_pages_for_signed_in_users_redirect_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login?next=")


def test_short_staff_passwords_are_refused() -> None:
    with pytest.raises(ValueError, match="12"):
        ensure_staff("short", "x", "too-short", [], [])


def test_sign_out(
    client: FlaskClient, make_staff: Callable[..., User], login_as: Callable[[User], None]
) -> None:
    login_as(make_staff("reviewer"))
    assert client.get("/account").status_code == 200
    client.post("/logout")
    assert client.get("/account").status_code == 302
