"""The public status lookup: no sign-in, no personal data, one answer for every mismatch, rate-limited."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from lxml import html
from sqlalchemy import event

from app.accounts.models import User
from app.cases.models import Case
from app.db import db
from app.persian.identifiers import new_tracking_code


def lookup(client: FlaskClient, code: str, identifier: str) -> tuple[int, str]:
    response = client.post("/track", data={"tracking_code": code, "identifier": identifier})
    return response.status_code, response.get_data(as_text=True)


def result_text(page: str) -> str:
    found = html.fromstring(page).xpath("//*[@id='lookup-result']")
    return found[0].text_content() if found else ""


def test_the_owner_sees_the_status_with_a_national_code_or_a_mobile(
    client: FlaskClient,
    file_request: Callable[..., Case],
    citizen: User,
    sign_in: Callable[[User | None], None],
) -> None:
    case = file_request(citizen)
    sign_in(None)
    assert client.get("/track").status_code == 200
    persian_code = case.tracking_code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    for identifier in ("1360524185", "۰۹۱۴۰۰۰۱۰۰۱", "+989140001001"):
        status, page = lookup(client, persian_code, identifier)
        assert status == 200, page[:300]
        text = result_text(page)
        assert "صدور پروانه نمونه" in text
        assert "بررسی مدارک" in text
        assert "کارشناس شهرسازی" in text
        # No personal data: no name, no national code, no mobile.
        assert "علی کریمی" not in page
        assert "1360524185" not in text
        assert "۱۳۶۰۵۲۴۱۸۵" not in text


def test_a_wrong_code_and_a_wrong_owner_get_the_same_answer_with_the_same_work(
    app: Flask,
    client: FlaskClient,
    file_request: Callable[..., Case],
    citizen: User,
    other_citizen: User,
) -> None:
    case = file_request(citizen)
    other = "2" + case.tracking_code[1:]
    unknown = new_tracking_code("09")
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    engine = db.engines[None]
    event.listen(engine.engine, "before_cursor_execute", record)
    try:
        wrong_owner = lookup(client, case.tracking_code, "0076229645")
        owner_queries = list(statements)
        statements.clear()
        wrong_code = lookup(client, unknown, "1360524185")
        code_queries = list(statements)
    finally:
        event.remove(engine.engine, "before_cursor_execute", record)
    assert wrong_owner[0] == wrong_code[0] == 404
    assert result_text(wrong_owner[1]) == result_text(wrong_code[1])
    assert "پرونده‌ای با این کد رهگیری" in result_text(wrong_code[1])
    assert len(owner_queries) == len(code_queries)
    del other


def test_bad_input_is_explained_next_to_the_fields(client: FlaskClient, app: Flask) -> None:
    status, page = lookup(client, "12345", "abc")
    assert status == 422
    root = html.fromstring(page)
    assert root.xpath("//*[@id='error-tracking_code']")
    assert root.xpath("//*[@id='error-identifier']")
    assert root.xpath("//input[@name='tracking_code']")[0].get("value") == "12345"
    assert root.xpath("//div[@class='error-summary']")


def test_lookups_are_rate_limited_per_address(app: Flask, client: FlaskClient) -> None:
    saved = app.config["PORTAL_LOOKUP_LIMIT"]
    app.config["PORTAL_LOOKUP_LIMIT"] = "3/minute"
    try:
        codes = [lookup(client, new_tracking_code("09"), "1360524185")[0] for _ in range(3)]
        status, page = lookup(client, new_tracking_code("09"), "1360524185")
    finally:
        app.config["PORTAL_LOOKUP_LIMIT"] = saved
    assert codes == [404, 404, 404]
    assert status == 429
    assert "دقیقه دیگر دوباره تلاش کنید" in page


def test_lookups_are_rate_limited_per_tracking_code(app: Flask, client: FlaskClient) -> None:
    saved = app.config["PORTAL_LOOKUP_CODE_LIMIT"]
    app.config["PORTAL_LOOKUP_CODE_LIMIT"] = "2/hour"
    code = new_tracking_code("09")
    try:
        codes = [lookup(client, code, "1360524185")[0] for _ in range(3)]
        fresh = lookup(client, new_tracking_code("09"), "1360524185")[0]
    finally:
        app.config["PORTAL_LOOKUP_CODE_LIMIT"] = saved
    assert codes == [404, 404, 429]
    assert fresh == 404


def test_the_lookup_is_a_query_that_needs_no_session(
    app: Flask,
    client: FlaskClient,
    file_request: Callable[..., Case],
    citizen: User,
    sign_in: Callable[[User | None], None],
) -> None:
    case = file_request(citizen)
    sign_in(None)
    client.delete_cookie("session")
    app.config["WTF_CSRF_ENABLED"] = True  # as in production
    try:
        page = client.get("/track")
        assert "csrf_token" not in page.get_data(as_text=True)
        response = client.post(
            "/track", data={"tracking_code": case.tracking_code, "identifier": "1360524185"}
        )
        assert response.status_code == 200
        assert "بررسی مدارک" in result_text(response.get_data(as_text=True))
        # An anonymous visitor is given no session cookie, and nothing is kept for them.
        assert not [c for c in response.headers.getlist("Set-Cookie") if "session=" in c]
        assert response.headers["Cache-Control"] == "no-store"
        # Every other form still needs its token.
        assert client.post("/login", data={"mobile": "09140001001"}).status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
