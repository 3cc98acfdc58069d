"""Sign-in with a mobile number and a one-time code: every failure has its own message."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import func, select

from app.accounts.models import User, UserKind
from app.accounts.services import ensure_citizen
from app.citizens.models import OneTimeCode
from app.citizens.services import utc_now
from app.db import db
from app.sms.models import DevSmsMessage
from tests.citizens.conftest import field_errors

MOBILE = "09140001001"


def ask_code(client: FlaskClient, mobile: str = MOBILE) -> None:
    response = client.post("/login", data={"mobile": mobile})
    assert response.status_code == 302, field_errors(response.text)
    assert response.location.endswith("/login/code")


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def test_a_new_number_signs_in_and_gets_an_account(
    client: FlaskClient, last_code: Callable[[str], str]
) -> None:
    ask_code(client, "۰۹۱۴۰۰۰۱۰۰۹")  # Persian digits are accepted
    code = last_code("09140001009")
    response = client.post("/login/code", data={"code": code})
    assert response.status_code == 302
    assert response.location.endswith("/profile")  # a new account completes its details first
    user = db.session.scalar(select(User).where(User.mobile == "09140001009"))
    assert user is not None
    assert user.kind == UserKind.CITIZEN
    assert client.get("/profile").status_code == 200


def test_codes_are_stored_hashed_and_sent_by_sms(
    client: FlaskClient, last_code: Callable[[str], str]
) -> None:
    ask_code(client)
    code = last_code(MOBILE)
    row = db.session.scalars(select(OneTimeCode).where(OneTimeCode.mobile == MOBILE)).one()
    assert code not in row.code_hash
    assert len(row.code_hash) == 64
    assert row.expires_at.replace(tzinfo=None) - row.created_at.replace(tzinfo=None) == timedelta(
        seconds=120
    )


def test_a_bad_number_keeps_what_was_typed_with_a_persian_message(client: FlaskClient) -> None:
    response = client.post("/login", data={"mobile": "۰۹۱۲۳"})
    assert response.status_code == 422
    assert (
        field_errors(response.text)["mobile"]
        == "شماره تلفن همراه باید ۱۱ رقم باشد و با ۰۹ شروع شود."
    )
    assert 'value="۰۹۱۲۳"' in response.text
    assert db.session.scalar(select(func.count()).select_from(DevSmsMessage)) == 0


def test_registered_and_unknown_numbers_get_the_same_answer(app: Flask) -> None:
    ensure_citizen(MOBILE, "علی کریمی", "1360524185")
    answers = []
    for mobile in (MOBILE, "09140001777"):
        client = app.test_client()
        first = client.post("/login", data={"mobile": mobile})
        page = client.get("/login/code")
        answers.append(
            (first.status_code, first.location, page.status_code, page.text.replace(mobile, "N"))
        )
    assert answers[0][:3] == answers[1][:3]
    assert answers[0][3].replace("۰۹۱۴۰۰۰۱۰۰۱", "N") == answers[1][3].replace("۰۹۱۴۰۰۰۱۷۷۷", "N")


def test_an_expired_code_is_refused(client: FlaskClient, last_code: Callable[[str], str]) -> None:
    with freeze_time(utc_now()) as frozen:
        ask_code(client)
        code = last_code(MOBILE)
        frozen.tick(timedelta(seconds=121))
        response = client.post("/login/code", data={"code": code})
    assert response.status_code == 422
    assert field_errors(response.text)["code"] == (
        "این کد منقضی شده است: هر کد فقط ۲ دقیقه اعتبار دارد. کد تازه بخواهید."
    )
    assert client.get("/profile").status_code == 302  # not signed in


def test_a_used_code_cannot_sign_in_again(
    client: FlaskClient, last_code: Callable[[str], str]
) -> None:
    ask_code(client)
    code = last_code(MOBILE)
    with client.session_transaction() as session:
        replay = dict(session)  # an old copy of the session cookie, replayed later
    assert client.post("/login/code", data={"code": code}).status_code == 302
    other = client.application.test_client()
    with other.session_transaction() as session:
        session.update(replay)
    response = other.post("/login/code", data={"code": code})
    assert response.status_code == 422
    assert field_errors(response.text)["code"] == (
        "این کد پیش‌تر به کار رفته یا کد تازه‌تری جای آن را گرفته است. کد تازه بخواهید."
    )


def test_five_wrong_codes_lock_the_code(
    client: FlaskClient, last_code: Callable[[str], str]
) -> None:
    ask_code(client)
    code = last_code(MOBILE)
    messages = []
    for _ in range(5):
        response = client.post("/login/code", data={"code": wrong(code)})
        assert response.status_code == 422
        messages.append(field_errors(response.text)["code"])
    assert messages[0] == "کد درست نیست. ۴ بار دیگر می‌توانید امتحان کنید."
    assert messages[3] == "کد درست نیست. ۱ بار دیگر می‌توانید امتحان کنید."
    assert messages[4] == "کد درست نیست و بیش از اندازه امتحان شده است. کد تازه بخواهید."
    response = client.post("/login/code", data={"code": code})  # even the right one now
    assert response.status_code == 422
    assert field_errors(response.text)["code"] == (
        "این کد بیش از اندازه نادرست وارد شده و دیگر کار نمی‌کند. کد تازه بخواهید."
    )
    assert 'value="' + code + '"' in response.text  # what was typed is kept


def test_a_new_code_too_soon_is_refused_then_allowed(
    client: FlaskClient, last_code: Callable[[str], str]
) -> None:
    with freeze_time(utc_now()) as frozen:
        ask_code(client)
        first = last_code(MOBILE)
        frozen.tick(timedelta(seconds=20))
        response = client.post("/login/resend")
        assert response.status_code == 429
        assert field_errors(response.text)["code"] == (
            "همین چند لحظه پیش کدی به این شماره فرستاده شد. ۴۰ ثانیه دیگر می‌توانید کد تازه بخواهید."
        )
        response = client.post("/login", data={"mobile": MOBILE})  # the same, from the first page
        assert response.status_code == 429
        frozen.tick(timedelta(seconds=41))
        assert client.post("/login/resend").status_code == 302
        second = last_code(MOBILE)
        if second != first:  # the older code was replaced by the newer one
            response = client.post("/login/code", data={"code": first})
            assert "کد درست نیست" in field_errors(response.text)["code"]
        assert client.post("/login/code", data={"code": second}).status_code == 302


def test_too_many_codes_from_one_address_are_refused(app: Flask, client: FlaskClient) -> None:
    app.config["OTP_LIMIT_PER_IP"] = "3 per hour"
    for n in range(3):
        ask_code(client, f"0914000200{n}")
    response = client.post("/login", data={"mobile": "09140002009"})
    assert response.status_code == 429
    assert field_errors(response.text)["mobile"] == (
        "از این دستگاه بیش از اندازه کد درخواست شده است. ۶۰ دقیقه دیگر دوباره تلاش کنید."
    )
    assert (
        db.session.scalar(
            select(func.count()).select_from(OneTimeCode).where(OneTimeCode.mobile == "09140002009")
        )
        == 0
    )
    # Another address is not held back by this one.
    other = app.test_client()
    response = other.post(
        "/login", data={"mobile": "09140002009"}, environ_base={"REMOTE_ADDR": "10.0.0.8"}
    )
    assert response.status_code == 302


def test_too_many_codes_to_one_number_are_refused(app: Flask, client: FlaskClient) -> None:
    app.config.update(OTP_LIMIT_PER_MOBILE="2 per hour", OTP_RESEND_SECONDS=0)
    ask_code(client)
    ask_code(client)
    response = client.post("/login", data={"mobile": MOBILE})
    assert response.status_code == 429
    assert field_errors(response.text)["mobile"] == (
        "بیش از اندازه کد به این شماره فرستاده شده است. ۶۰ دقیقه دیگر دوباره تلاش کنید."
    )


def test_too_many_code_checks_from_one_address_are_refused(
    app: Flask, client: FlaskClient, last_code: Callable[[str], str]
) -> None:
    app.config["OTP_VERIFY_LIMIT_PER_IP"] = "2 per hour"
    ask_code(client)
    code = last_code(MOBILE)
    for _ in range(2):
        client.post("/login/code", data={"code": wrong(code)})
    response = client.post("/login/code", data={"code": code})
    assert response.status_code == 429
    assert field_errors(response.text)["code"] == (
        "از این دستگاه بیش از اندازه کد امتحان شده است. ۶۰ دقیقه دیگر دوباره تلاش کنید."
    )


def test_code_format_is_checked_before_any_try_counts(
    client: FlaskClient, last_code: Callable[[str], str]
) -> None:
    ask_code(client)
    empty = field_errors(client.post("/login/code", data={"code": ""}).text)["code"]
    short = field_errors(client.post("/login/code", data={"code": "۱۲۳"}).text)["code"]
    assert empty == "کد ۶ رقمی پیامک را وارد کنید."
    assert short == "کد ۶ رقم دارد؛ پیامک را ببینید و دوباره وارد کنید."
    row = db.session.scalars(select(OneTimeCode).where(OneTimeCode.mobile == MOBILE)).one()
    assert row.tries == 0
    # Persian digits in the code itself work.
    persian = last_code(MOBILE).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert client.post("/login/code", data={"code": persian}).status_code == 302


def test_the_code_page_without_a_pending_code_goes_back_to_the_number(
    client: FlaskClient,
) -> None:
    response = client.get("/login/code")
    assert response.status_code == 302
    assert response.location.endswith("/login")


def test_sign_in_renews_the_session_and_follows_next(
    app: Flask, client: FlaskClient, last_code: Callable[[str], str]
) -> None:
    user = ensure_citizen(MOBILE, "علی کریمی", "1360524185")
    from app.citizens.services import profile_of

    profile_of(user).postal_code = "5166614776"
    client.get("/login?next=/profile")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    ask_code(client)
    response = client.post("/login/code", data={"code": last_code(MOBILE)})
    assert response.status_code == 302
    assert response.location.endswith("/profile")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == str(user.id)


def test_an_outside_next_is_ignored(client: FlaskClient, last_code: Callable[[str], str]) -> None:
    client.get("/login?next=https://evil.example/")
    ask_code(client)
    response = client.post("/login/code", data={"code": last_code(MOBILE)})
    assert "evil" not in response.location


def test_a_switched_off_account_cannot_sign_in(
    client: FlaskClient, last_code: Callable[[str], str]
) -> None:
    user = ensure_citizen(MOBILE, "علی کریمی", "1360524185")
    user.is_active_account = False
    ask_code(client)
    response = client.post("/login/code", data={"code": last_code(MOBILE)})
    assert response.status_code == 403
    assert "غیرفعال" in field_errors(response.text)["code"]


def test_the_citizen_guard_sends_strangers_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/profile")
    assert response.status_code == 302
    assert "/login?next=" in response.location


def test_a_failed_sms_keeps_no_code_and_says_so(app: Flask, client: FlaskClient) -> None:
    from tests.sms.servers import provider

    with provider(503, b'{"error": "busy"}') as url:
        app.config.update(SMS_BACKEND="http", SMS_HTTP_URL=url, SMS_HTTP_API_KEY="k")
        response = client.post("/login", data={"mobile": MOBILE})
    assert response.status_code == 503
    assert field_errors(response.text)["mobile"] == (
        "اکنون فرستادن پیامک ممکن نشد. لطفاً یک دقیقه دیگر دوباره تلاش کنید."
    )
    assert 'value="09140001001"' in response.text
    assert db.session.scalar(select(func.count()).select_from(OneTimeCode)) == 0
    # Nothing blocks an immediate retry once the provider is back.
    app.config.update(SMS_BACKEND="dev")
    assert client.post("/login", data={"mobile": MOBILE}).status_code == 302
