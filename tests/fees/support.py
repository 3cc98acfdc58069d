"""Drive the sample permit to the point where it asks for payment, through the use cases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import select

from app.accounts.models import District, User
from app.accounts.services import ensure_citizen, ensure_district
from app.cases import services as cases
from app.cases.models import Case, TaskState
from app.db import db
from app.fees.models import Invoice
from app.processes.services import deploy_all, latest_version

APPLICATION = {
    "applicant_type": "natural",
    "applicant_name": "علی کریمی",
    "national_code": "1360524185",
    "usage": "residential",
    "area": 240.5,
}


def people(make_staff: Callable[..., User]) -> dict[str, Any]:
    """A citizen, a second citizen, an expert in district 9, and the district."""
    deploy_all(["sample_permit"])
    district = ensure_district("09", "منطقه ۹", "District 9")
    return {
        "citizen": ensure_citizen("09140001001", "علی کریمی", "1360524185"),
        "stranger": ensure_citizen("09140001002", "مریم نیک‌پور", "1382046170"),
        "expert": make_staff("expert", roles=["URB_EXPERT"]),
        "district": district,
    }


def _complete(case: Case, element_id: str, answers: dict[str, Any], actor: User) -> Case:
    locked = cases.lock_case(case.id)
    assert locked is not None
    [task] = [t for t in locked.tasks if t.state == TaskState.OPEN and t.element_id == element_id]
    cases.complete_task(
        locked, task.engine_task_id, answers, actor=actor, expected_version=locked.version_id
    )
    db.session.commit()
    return locked


def case_awaiting_payment(
    citizen: User, expert: User, district: District, **application: Any
) -> tuple[Case, Invoice]:
    """Start a permit, submit it, approve it: the process raises its invoice and waits."""
    version = latest_version("sample_permit")
    assert version is not None
    case = cases.start_case(version, applicant=citizen, district=district, data={}, actor=citizen)
    db.session.commit()
    case = _complete(case, "submit_application", {**APPLICATION, **application}, citizen)
    case = _complete(case, "review_application", {"decision": "approve"}, expert)
    invoice = db.session.scalar(select(Invoice).where(Invoice.case_id == case.id))
    assert invoice is not None, case.current_step
    return case, invoice


def signed_in(app: Flask, user: User) -> FlaskClient:
    """A fresh client with the user signed in (as tests/conftest.py's login_as does)."""
    # Requests reuse the test's app context, where Flask-Login caches the last user in g.
    g.pop("_login_user", None)
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    return client
