"""Portal fixtures: a deployed sample permit, two citizens, and helpers that file through the pages."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import select

from app.accounts.models import District, User
from app.accounts.services import ensure_citizen, ensure_district
from app.cases import services as cases
from app.cases.models import Case, CaseTask, TaskState
from app.db import db
from app.extensions import limiter
from app.processes.services import deploy_all
from tests.documents.conftest import a_case, citizen, documents_dir, fake_clamd  # noqa: F401
from tests.documents.samples import pdf
from tests.forms.conftest import APPLICANT, OWNERS, PROPERTY

SERVICE = "/services/sample_permit"


@pytest.fixture
def district(app: Flask) -> District:
    deploy_all(["sample_permit"])
    return ensure_district("09", "منطقه ۹", "District 9")


@pytest.fixture
def other_citizen(app: Flask) -> User:
    return ensure_citizen("09120000002", "مریم احمدی", "0076229645")


@pytest.fixture(autouse=True)
def _fresh_rate_limits(app: Flask) -> Iterator[None]:
    limiter.reset()
    yield
    limiter.reset()


def open_task(case: Case, element_id: str | None = None) -> CaseTask:
    rows = [t for t in case.tasks if t.state == TaskState.OPEN]
    if element_id:
        rows = [t for t in rows if t.element_id == element_id]
    assert rows, [(t.element_id, t.state) for t in case.tasks]
    return rows[0]


def only_case(user: User) -> Case:
    return db.session.scalars(select(Case).where(Case.applicant_id == user.id)).one()


@pytest.fixture
def sign_in(client: FlaskClient, login_as: Callable[[User], None]) -> Callable[[User | None], None]:
    """Sign a user in (None: everyone out) on the test client, forgetting the cached user."""

    def switch(user: User | None) -> None:
        # The suite's app context outlives requests, and Flask-Login caches the user on g.
        g.pop("_login_user", None)
        if user is None:
            with client.session_transaction() as session:
                session.clear()
            return
        login_as(user)

    return switch


@pytest.fixture
def file_request(
    client: FlaskClient,
    sign_in: Callable[[User | None], None],
    district: District,
    documents_dir: Any,  # noqa: F811
) -> Callable[..., Case]:
    """File a sample permit through the pages as `user`; returns the case, sent unless told not to."""

    def file(user: User, *, send: bool = True, deed: bytes | None = None) -> Case:
        sign_in(user)
        response = client.post(f"{SERVICE}/apply", data={"district": str(district.id)})
        assert response.status_code == 302, response.get_data(as_text=True)[:400]
        case = only_case(user)
        task = open_task(case)
        base = f"/my/cases/{case.id}/tasks/{task.id}"
        assert response.headers["Location"] == base
        assert client.get(base).headers["Location"] == f"{base}/1"
        for number, data in ((1, APPLICANT), (2, PROPERTY)):
            response = client.post(f"{base}/{number}", data={**data, "_action": "continue"})
            assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        page3 = {**OWNERS, "_action": "continue"}
        page3["deed_scan"] = (io.BytesIO(deed or pdf("deed")), "سند.pdf")
        response = client.post(f"{base}/3", data=page3, content_type="multipart/form-data")
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        assert response.headers["Location"] == f"{base}/check"
        if send:
            check = client.get(f"{base}/check")
            token = _hidden(check.get_data(as_text=True), "submission_token")
            response = client.post(
                f"{base}/send",
                data={"submission_token": token, "case_version": str(case.version_id)},
            )
            assert response.status_code == 303, response.get_data(as_text=True)[:2000]
        db.session.expire_all()
        return only_case(user)

    return file


def _hidden(page: str, name: str) -> str:
    from lxml import html

    return html.fromstring(page).xpath(f"//input[@name='{name}']")[0].get("value")


def review(case: Case, reviewer: User, answers: dict[str, Any]) -> Case:
    """A reviewer completes the case's review step, as the back office would."""
    fresh = cases.lock_case(case.id)
    assert fresh is not None
    task = open_task(fresh, "review_application")
    cases.complete_task(
        fresh, task.engine_task_id, answers, actor=reviewer, expected_version=fresh.version_id
    )
    db.session.commit()
    db.session.expire_all()
    return fresh
