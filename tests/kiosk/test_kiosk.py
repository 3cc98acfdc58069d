"""Kiosk mode: the start screen, finish and timeout leave nothing behind, assisted filing, slips."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import html
from sqlalchemy import select

from app.accounts.models import User
from app.accounts.services import ensure_citizen, ensure_district
from app.cases import services as cases
from app.cases.models import Case
from app.citizens.models import PersonKind, RepresentationKind
from app.citizens.services import (
    decide_representation,
    declare_representation,
    owner_account,
    profile_of,
)
from app.db import db
from app.kiosk.models import AssistedSession
from app.kiosk.terminal import KIOSK_KEY, SEEN_KEY
from app.processes.services import deploy_all, latest_version
from app.sms.models import DevSmsMessage
from tests.kiosk.conftest import field_errors

MOBILE = "09140001001"


def complete_citizen(
    mobile: str = MOBILE, name: str = "علی کریمی", code: str = "1360524185"
) -> User:
    user = ensure_citizen(mobile, name, code)
    profile_of(user).postal_code = "5166614776"
    return user


def kiosk_signed_in(client: FlaskClient, switch_to: Callable[[User], None], user: User) -> None:
    client.get("/kiosk/")
    switch_to(user)


def file_case(applicant: User) -> Case:
    deploy_all(["sample_permit"])
    version = latest_version("sample_permit")
    assert version is not None
    return cases.start_case(
        version,
        applicant=applicant,
        district=ensure_district("09", "منطقه ۹", "District 9"),
        data={"applicant_name": applicant.full_name},
        actor=applicant,
    )


def test_the_start_screen_marks_the_terminal_and_offers_sign_in(client: FlaskClient) -> None:
    response = client.get("/kiosk/")
    assert response.status_code == 200
    assert 'class="kiosk-bar"' in response.text
    # The bar is a landmark of its own, named by its title, like the header and main beside it.
    bar = html.fromstring(response.text).xpath("//*[@class='kiosk-bar']")[0]
    assert bar.get("role") == "region"
    title = bar.xpath(f"//*[@id='{bar.get('aria-labelledby')}']")[0]
    assert title.text_content() == "پایانه خودخدمت"
    assert "/login" in response.text
    assert "kiosk.css" in response.text
    assert 'http-equiv="refresh"' in response.text
    assert response.headers["Cache-Control"] == "no-store"
    with client.session_transaction() as session:
        assert session[KIOSK_KEY] is True


def test_outside_a_kiosk_nothing_changes(client: FlaskClient) -> None:
    response = client.get("/login")
    assert "kiosk-bar" not in response.text
    assert "no-store" in response.headers.get("Cache-Control", "no-store")


def test_finish_forgets_the_citizen(client: FlaskClient, switch_to: Callable[[User], None]) -> None:
    citizen = complete_citizen()
    kiosk_signed_in(client, switch_to, citizen)
    home = client.get("/kiosk/home")
    assert home.status_code == 200
    assert "علی کریمی" in home.text
    response = client.post("/kiosk/finish")
    assert response.status_code == 302
    assert response.location.endswith("/kiosk/?ended=finish")
    with client.session_transaction() as session:
        assert set(session) <= {KIOSK_KEY, SEEN_KEY, "_flashes"}
    # Going back to a citizen's page shows the start screen, not the citizen.
    for path in ("/kiosk/home", "/profile"):
        back = client.get(path)
        assert back.status_code == 302
        assert back.location.endswith("/kiosk/")
    start = client.get("/kiosk/?ended=finish")
    assert "علی کریمی" not in start.text
    assert "نشست شما پایان یافت" in start.text


def test_inactivity_ends_the_session_on_the_server(
    app: Flask, client: FlaskClient, switch_to: Callable[[User], None]
) -> None:
    citizen = complete_citizen()
    kiosk_signed_in(client, switch_to, citizen)
    assert client.get("/profile").status_code == 200
    with client.session_transaction() as session:
        session[SEEN_KEY] = int(time.time()) - app.config["KIOSK_IDLE_SECONDS"] - 1
    response = client.get("/profile")
    assert response.status_code == 302
    assert response.location.endswith("/kiosk/?ended=timeout")
    with client.session_transaction() as session:
        assert "_user_id" not in session
    assert client.get("/profile").location.endswith("/kiosk/")
    assert "پس از مدتی بی‌کاری" in client.get("/kiosk/?ended=timeout").text


def test_activity_keeps_the_session(
    app: Flask, client: FlaskClient, switch_to: Callable[[User], None]
) -> None:
    citizen = complete_citizen()
    kiosk_signed_in(client, switch_to, citizen)
    with client.session_transaction() as session:
        session[SEEN_KEY] = int(time.time()) - app.config["KIOSK_IDLE_SECONDS"] + 5
    assert client.get("/kiosk/ping").status_code == 204
    with client.session_transaction() as session:
        assert session[SEEN_KEY] >= int(time.time()) - 1
    assert client.get("/kiosk/home").status_code == 200


def test_anonymous_visitors_stay_inside_the_kiosk(client: FlaskClient) -> None:
    client.get("/kiosk/")
    assert client.get("/login").status_code == 200
    response = client.get("/")
    assert response.status_code == 302
    assert response.location.endswith("/kiosk/")


def test_sign_in_at_the_kiosk_lands_on_its_menu(
    client: FlaskClient, last_code: Callable[[str], str]
) -> None:
    complete_citizen()
    client.get("/kiosk/")
    assert client.post("/login", data={"mobile": MOBILE}).status_code == 302
    response = client.post("/login/code", data={"code": last_code(MOBILE)})
    assert response.status_code == 302
    assert response.location.endswith("/kiosk/home")
    with client.session_transaction() as session:
        assert session[KIOSK_KEY] is True  # still a terminal after the session was renewed


def test_assisted_filing_needs_the_citizens_code(
    client: FlaskClient,
    switch_to: Callable[[User], None],
    make_staff: Callable[..., User],
    last_code: Callable[[str], str],
) -> None:
    citizen = complete_citizen()
    clerk = make_staff("counter", roles=["COUNTER"])
    switch_to(clerk)
    assert client.get("/kiosk/assist").status_code == 200
    response = client.post("/kiosk/assist", data={"mobile": "۰۹۱۴۰۰۰۱۰۰۱"})
    assert response.status_code == 302
    assert response.location.endswith("/kiosk/assist/confirm")
    code = last_code(MOBILE)
    wrong = client.post(
        "/kiosk/assist/confirm", data={"code": "000000" if code != "000000" else "1"}
    )
    assert wrong.status_code == 422
    assert "code" in field_errors(wrong.text)
    response = client.post("/kiosk/assist/confirm", data={"code": code})
    assert response.status_code == 302
    assert response.location.endswith("/kiosk/home")
    home = client.get("/kiosk/home")
    assert "کارمند پیشخوان از طرف علی کریمی" in home.text
    assisted = db.session.scalars(select(AssistedSession)).one()
    assert (assisted.clerk_id, assisted.citizen_id, assisted.ended_at) == (
        clerk.id,
        citizen.id,
        None,
    )
    with client.session_transaction() as session:
        assert session["_user_id"] == str(citizen.id)
    client.post("/kiosk/finish")
    db.session.refresh(assisted)
    assert assisted.ended_at is not None
    with client.session_transaction() as session:
        assert "_user_id" not in session  # the clerk is signed out too


def test_a_login_code_does_not_confirm_assisted_filing(
    client: FlaskClient,
    switch_to: Callable[[User], None],
    make_staff: Callable[..., User],
    last_code: Callable[[str], str],
) -> None:
    complete_citizen()
    switch_to(make_staff("counter", roles=["COUNTER"]))
    client.post("/kiosk/assist", data={"mobile": MOBILE})
    assist_code = last_code(MOBILE)
    sent = db.session.scalars(select(DevSmsMessage.text).order_by(DevSmsMessage.id.desc())).first()
    assert sent is not None
    assert "کارمند پیشخوان" in sent
    other = client.application.test_client()
    assert other.post("/login", data={"mobile": MOBILE}).status_code == 302
    response = other.post("/login/code", data={"code": assist_code})
    assert response.status_code == 422  # codes are bound to their purpose and session


def test_only_counter_clerks_assist(
    client: FlaskClient, switch_to: Callable[[User], None], make_staff: Callable[..., User]
) -> None:
    switch_to(make_staff("reviewer", roles=["URB_EXPERT"]))
    assert client.get("/kiosk/assist").status_code == 403
    switch_to(complete_citizen())
    assert client.get("/kiosk/assist").status_code == 403


@pytest.mark.parametrize("who", ["applicant", "attorney", "stranger"])
def test_the_tracking_slip_is_only_for_the_applicant_and_their_attorneys(
    client: FlaskClient, switch_to: Callable[[User], None], who: str
) -> None:
    applicant = complete_citizen()
    case = file_case(applicant)
    attorney = complete_citizen("09140001002", "مریم نیک‌پور", "1382046170")
    stranger = complete_citizen("09140001003", "زهرا رضایی", "1380335124")
    owner = owner_account(PersonKind.NATURAL, "1360524185", "")
    assert owner.id == applicant.id
    representation = declare_representation(
        attorney, kind=RepresentationKind.ATTORNEY, owner=owner, reference="۱", valid_until=None
    )
    decide_representation(representation, approve=True, actor=stranger)
    viewer = {"applicant": applicant, "attorney": attorney, "stranger": stranger}[who]
    switch_to(viewer)
    response = client.get(f"/kiosk/slip/{case.tracking_code}")
    if who == "stranger":
        assert response.status_code == 404
        assert client.get("/kiosk/home").text.count(case.tracking_code[:4]) == 0
        return
    assert response.status_code == 200
    digits = case.tracking_code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert digits in response.text
    assert "slip.css" in response.text
    assert "رسید کد رهگیری" in client.get("/kiosk/home").text
