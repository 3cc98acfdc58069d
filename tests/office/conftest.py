"""Fixtures for the back office: deployed sample permit, people, and cases at a given step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask, g

from app.accounts.models import User
from app.accounts.services import ensure_citizen, ensure_district
from app.cases import services as cases
from app.cases.models import Case, CaseTask, TaskState
from app.db import db
from app.processes.services import deploy_all, latest_version

APPLICATION = {
    "applicant_type": "natural",
    "applicant_name": "علی کریمی",
    "national_code": "1360524185",
    "usage": "residential",
    "area": 240.5,
}


@pytest.fixture
def people(app: Flask, make_staff: Callable[..., User]) -> dict[str, Any]:
    deploy_all(["sample_permit"])
    district = ensure_district("09", "منطقه ۹", "District 9")
    elsewhere = make_staff("elsewhere", roles=["URB_EXPERT"])
    elsewhere.districts.clear()
    elsewhere.districts.append(ensure_district("05", "منطقه ۵", "District 5"))
    return {
        "citizen": ensure_citizen("09140001001", "علی کریمی", "1360524185"),
        "expert": make_staff("expert", roles=["URB_EXPERT"]),
        "expert2": make_staff("expert2", roles=["URB_EXPERT"]),
        "head": make_staff("head", roles=["URB_HEAD", "URB_EXPERT"]),
        "inspector": make_staff("inspector", roles=["INSPECTOR"]),
        "elsewhere": elsewhere,
        "district": district,
    }


def open_task(case: Case, element_id: str) -> CaseTask:
    """The one open task of the case at this step."""
    rows = [t for t in case.tasks if t.state == TaskState.OPEN and t.element_id == element_id]
    assert len(rows) == 1, [(t.element_id, t.state) for t in case.tasks]
    return rows[0]


def complete(case: Case, element_id: str, answers: dict[str, Any], actor: User) -> CaseTask:
    """Complete a step through the use case, as a route would (then flush)."""
    task = open_task(case, element_id)
    cases.complete_task(
        case, task.engine_task_id, answers, actor=actor, expected_version=case.version_id
    )
    db.session.flush()
    return task


@pytest.fixture
def filed(people: dict[str, Any]) -> Callable[..., Case]:
    """A case the citizen filed, now waiting in the reviewers' queue."""

    def make(**columns: Any) -> Case:
        version = latest_version("sample_permit")
        assert version is not None
        case = cases.start_case(
            version,
            applicant=people["citizen"],
            district=people["district"],
            data={},
            actor=people["citizen"],
        )
        for name, value in columns.items():
            setattr(case, name, value)
        complete(case, "submit_application", APPLICATION, people["citizen"])
        return case

    return make


@pytest.fixture
def in_request(app: Flask) -> Any:
    """Use cases that render answers or names need a request's locale (Persian here).

    Not for tests that use the client: its requests would share this context's `g`.
    """
    with app.test_request_context("/"):
        yield


@pytest.fixture
def sign_in(login_as: Callable[[User], None]) -> Callable[[User], None]:
    """login_as, also forgetting the user Flask-Login cached in the test's shared app context."""

    def sign(user: User) -> None:
        login_as(user)
        g.pop("_login_user", None)

    return sign
