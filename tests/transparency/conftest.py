"""Fixtures: the sample permit deployed, its people, and helpers that step a case as routes do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from app.accounts.models import User
from app.accounts.services import ensure_citizen, ensure_district
from app.cases import services
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
    return {
        "district": ensure_district("09", "منطقه ۹", "District 9"),
        "citizen": ensure_citizen("09140001001", "علی کریمی", "1360524185"),
        "expert": make_staff("expert", roles=["URB_EXPERT"]),
    }


def start(people: dict[str, Any]) -> Case:
    """Open a sample permit case for the citizen and commit, as the portal does."""
    version = latest_version("sample_permit")
    assert version is not None
    case = services.start_case(
        version,
        applicant=people["citizen"],
        district=people["district"],
        data={},
        actor=people["citizen"],
    )
    db.session.commit()
    return case


def fold() -> int:
    """Run the figures' background fold to the end, as Celery beat would (it commits)."""
    from app.transparency.jobs import fold_pending

    return fold_pending()


def open_task(case: Case, element_id: str) -> CaseTask:
    rows = [t for t in case.tasks if t.state == TaskState.OPEN and t.element_id == element_id]
    assert len(rows) == 1, [(t.element_id, t.state) for t in case.tasks]
    return rows[0]


def step(
    case: Case, element_id: str, answers: dict[str, Any], actor: User, commit: bool = True
) -> Case:
    """Complete an open task through the use case, then commit (or not)."""
    locked = services.lock_case(case.id)
    assert locked is not None
    task = open_task(locked, element_id)
    services.complete_task(
        locked, task.engine_task_id, answers, actor=actor, expected_version=locked.version_id
    )
    if commit:
        db.session.commit()
    return locked
