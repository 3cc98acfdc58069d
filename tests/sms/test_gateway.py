"""The SMS gateway: the HTTP adapter against the built-in simulator and misbehaving providers."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from app import create_app
from app.db import db
from app.sms.gateway import DevSmsGateway, HttpSmsGateway, SmsError, sms_gateway
from app.sms.models import DevSmsMessage
from tests.conftest import config_for_tests
from tests.sms.servers import provider


def test_the_dev_gateway_keeps_messages_for_the_inbox(app: Flask, client) -> None:  # type: ignore[no-untyped-def]
    message_id = DevSmsGateway().send("09140001001", "پروانه: کد ۱۲۳۴۵۶")
    stored = db.session.scalars(select(DevSmsMessage)).one()
    assert (stored.message_id, stored.mobile, stored.text) == (
        message_id,
        "09140001001",
        "پروانه: کد ۱۲۳۴۵۶",
    )
    page = client.get("/dev/sms/")
    assert page.status_code == 200
    assert "پروانه: کد ۱۲۳۴۵۶" in page.text
    assert page.headers["Cache-Control"] == "no-store"


def test_the_configuration_picks_the_gateway(app: Flask) -> None:
    assert isinstance(sms_gateway(), DevSmsGateway)
    app.config.update(
        SMS_BACKEND="http", SMS_HTTP_URL="https://sms.example/send", SMS_HTTP_API_KEY="k"
    )
    try:
        gateway = sms_gateway()
        assert isinstance(gateway, HttpSmsGateway)
        assert gateway.url == "https://sms.example/send"
        app.config["SMS_BACKEND"] = "carrier-pigeon"
        with pytest.raises(SmsError, match="SMS_BACKEND"):
            sms_gateway()
    finally:
        app.config.update(SMS_BACKEND="dev", SMS_HTTP_URL="", SMS_HTTP_API_KEY="")


@pytest.mark.requires_commit
def test_the_http_adapter_speaks_to_the_built_in_simulator(
    live_server: str, live_db: Flask
) -> None:
    live_db.config["SMS_HTTP_API_KEY"] = "simulator-key"
    try:
        gateway = HttpSmsGateway(f"{live_server}/dev/sms/api/messages", "simulator-key", timeout=5)
        message_id = gateway.send("09140001001", "پروانه: کد ورود ۱۲۳۴۵۶")
        db.session.remove()
        stored = db.session.scalars(select(DevSmsMessage)).one()
        assert stored.message_id == message_id
        assert stored.text == "پروانه: کد ورود ۱۲۳۴۵۶"
        with pytest.raises(SmsError, match="401"):
            HttpSmsGateway(f"{live_server}/dev/sms/api/messages", "wrong", timeout=5).send(
                "09140001001", "x"
            )
        with pytest.raises(SmsError, match="422"):
            gateway.send("12345", "x")
    finally:
        live_db.config["SMS_HTTP_API_KEY"] = ""


@pytest.mark.parametrize(
    ("status", "body", "delay", "match"),
    [
        (500, b'{"error": "down"}', 0, "HTTP 500"),
        (200, b"<html>maintenance</html>", 0, "JSON"),
        (200, b'{"status": "ok"}', 0, "message id"),
        (200, b'{"id": "1"}', 1.5, "unreachable"),
    ],
)
def test_the_http_adapter_reports_provider_failures_clearly(
    status: int, body: bytes, delay: float, match: str
) -> None:
    with provider(status, body, delay) as url, pytest.raises(SmsError, match=match):
        HttpSmsGateway(url, "key", timeout=0.5).send("09140001001", "x")


def test_the_http_adapter_returns_the_providers_id() -> None:
    with provider(200, b'{"id": 981}') as url:
        assert HttpSmsGateway(url, "key").send("09140001001", "x") == "981"


def test_the_http_adapter_refuses_a_non_http_url() -> None:
    with pytest.raises(SmsError, match="http"):
        HttpSmsGateway("file:///etc/passwd", "key")


def test_the_simulator_checks_its_input(client) -> None:  # type: ignore[no-untyped-def]
    headers = {"Authorization": "Bearer any"}
    assert client.post("/dev/sms/api/messages", data="nope", headers=headers).status_code == 400
    assert client.post("/dev/sms/api/messages", json={"to": "09140001001"}).status_code == 401
    response = client.post(
        "/dev/sms/api/messages", json={"to": "09140001001", "text": "hi"}, headers=headers
    )
    assert response.status_code == 200
    assert response.json["id"].startswith("dev-")


@pytest.mark.parametrize("environment", ["production", "staging"])
def test_development_pages_do_not_exist_elsewhere(environment: str, tmp_path: Path) -> None:
    config = {
        **config_for_tests(f"sqlite:///{tmp_path / 'p.db'}"),
        "TESTING": False,
        "PARVANEH_ENV": environment,
    }
    production = create_app(config)
    client = production.test_client()
    assert client.get("/dev/sms/").status_code == 404
    assert (
        client.post("/dev/sms/api/messages", json={"to": "09140001001", "text": "x"}).status_code
        == 404
    )


@pytest.mark.requires_commit
def test_a_repeated_idempotency_key_is_sent_once(live_server: str, live_db: Flask) -> None:
    live_db.config["SMS_HTTP_API_KEY"] = "simulator-key"
    try:
        gateway = HttpSmsGateway(f"{live_server}/dev/sms/api/messages", "simulator-key", timeout=5)
        first = gateway.send("09140001001", "پیام یکم", idempotency_key="notification:7")
        again = gateway.send("09140001001", "پیام یکم", idempotency_key="notification:7")
        other = gateway.send("09140001001", "پیام دوم", idempotency_key="notification:8")
        db.session.remove()
        stored = db.session.scalars(select(DevSmsMessage).order_by(DevSmsMessage.id)).all()
        assert first == again != other
        assert [m.idempotency_key for m in stored] == ["notification:7", "notification:8"]
    finally:
        live_db.config["SMS_HTTP_API_KEY"] = ""
