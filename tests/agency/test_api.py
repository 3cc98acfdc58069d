"""The inbound inquiry API: bearer tokens, the request form's checks, status, rate limits."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.accounts.models import User
from app.agency import services
from app.agency.models import ApiToken
from app.cases import services as cases
from app.cases.models import Case, TaskState
from app.db import db
from app.extensions import limiter

from .conftest import REQUEST, open_task


@pytest.fixture(autouse=True)
def _fresh_limits() -> None:
    limiter.reset()


def token_for(user: User) -> str:
    token = services.create_token(user, now=services.utc_now())
    db.session.flush()
    return token


def post(client: FlaskClient, token: str | None, body: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post("/api/v1/inquiries", json=body, headers=headers)


def body(**answers: Any) -> dict[str, Any]:
    return {"service": "agency_probe", "district": "09", "answers": {**REQUEST, **answers}}


def test_the_cli_creates_a_token_shown_once_and_kept_hashed(
    app: Flask, people: dict[str, Any]
) -> None:
    result = app.test_cli_runner().invoke(args=["agency", "token", "notary"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("pvn_")
    rows = db.session.scalars(select(ApiToken)).all()
    assert len(rows) == 1
    assert token not in rows[0].token_hash
    assert services.token_user(token, now=services.utc_now()) == people["notary"]

    again = app.test_cli_runner().invoke(args=["agency", "token", "notary"])
    assert services.token_user(token, now=services.utc_now()) is None  # replaced
    assert again.output.strip().splitlines()[-1] != token

    revoked = app.test_cli_runner().invoke(args=["agency", "token", "notary", "--revoke"])
    assert "Revoked 1" in revoked.output
    refused = app.test_cli_runner().invoke(args=["agency", "token", "expert"])
    assert refused.exit_code != 0  # staff accounts get no API token


def test_without_a_valid_token_nothing_happens(people: dict[str, Any], client: FlaskClient) -> None:
    for token in (None, "pvn_wrong", "not-even-ours"):
        response = post(client, token, body())
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert set(response.json["error"]["message"]) == {"fa", "en"}
    assert client.get("/api/v1/inquiries/091234567890").status_code == 401
    assert db.session.scalar(select(Case.id)) is None


def test_an_inquiry_is_filed_and_its_status_read(
    people: dict[str, Any], client: FlaskClient
) -> None:
    token = token_for(people["notary"])
    response = post(client, token, body())
    assert response.status_code == 201, response.json
    code = response.json["tracking_code"]
    assert response.json["status"] == "waiting_event" or response.json["status"] == "active"
    assert response.json["answer"] is None
    case = db.session.scalar(select(Case).where(Case.tracking_code == code))
    assert case is not None
    assert case.applicant_id == people["notary"].id
    assert case.district_id == people["district"].id
    fire = open_task(case, "fire_inquiry")
    assert fire.state == TaskState.OPEN

    status = client.get(f"/api/v1/inquiries/{code}", headers={"Authorization": f"Bearer {token}"})
    assert status.status_code == 200
    assert status.json["current_step"] == "استعلام آتش‌نشانی"
    assert status.json["due_at"]

    cases.complete_task(
        case,
        fire.engine_task_id,
        {"answer": "no_objection"},
        actor=people["fire"],
        expected_version=case.version_id,
    )
    db.session.flush()
    status = client.get(f"/api/v1/inquiries/{code}", headers={"Authorization": f"Bearer {token}"})
    answer = status.json["answer"]
    assert status.json["status"] == "completed"
    assert answer["document_number"]
    assert answer["status"] == "valid"
    assert answer["verify_url"].endswith(f"/verify/{answer['document_number']}")

    # Another organisation's token does not see it.
    other = token_for(people["bank"])
    response = client.get(f"/api/v1/inquiries/{code}", headers={"Authorization": f"Bearer {other}"})
    assert response.status_code == 404


def test_answers_are_checked_against_the_request_form_in_both_languages(
    people: dict[str, Any], client: FlaskClient
) -> None:
    token = token_for(people["notary"])
    response = post(client, token, body(area=-3, land_use="farm", address=""))
    assert response.status_code == 422
    errors = response.json["errors"]
    assert {"area", "land_use", "address"} <= set(errors)
    assert set(errors["area"]) == {"fa", "en"}
    assert errors["area"]["fa"] != errors["area"]["en"]
    assert db.session.scalar(select(Case.id)) is None  # nothing was opened

    response = post(client, token, {"service": "nothing", "answers": []})
    assert response.status_code == 422
    assert {"service", "district", "answers"} <= set(response.json["errors"])
    assert post(client, token, ["not", "an", "object"]).status_code == 400


def test_only_requesters_and_only_their_services(
    people: dict[str, Any], client: FlaskClient
) -> None:
    assert post(client, token_for(people["fire"]), body()).status_code == 403
    response = post(client, token_for(people["utility"]), body())
    assert response.status_code == 422
    assert "service" in response.json["errors"]


def test_calls_are_rate_limited(
    app: Flask, people: dict[str, Any], client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "AGENCY_API_LIMIT", "2/minute")
    token = token_for(people["notary"])
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(2):
        assert client.get("/api/v1/inquiries/091234567890", headers=headers).status_code == 404
    response = client.get("/api/v1/inquiries/091234567890", headers=headers)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert set(response.json["error"]["message"]) == {"fa", "en"}
