"""Fixtures for the agency pages: a tiny package (an organisation files, the fire service
answers, an answer document is issued), agency and requester accounts, and cases at a step."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, g

from app.accounts.models import User, UserKind
from app.accounts.services import ensure_citizen, ensure_district, ensure_staff
from app.cases import services as cases
from app.cases.models import Case, CaseTask, TaskState
from app.db import db
from app.processes.services import deploy_all, latest_version

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = Path(__file__).resolve().parent / "packages"
PASSWORD = "correct horse battery"
KEY = "agency_probe"

REQUEST = {
    "plate": {"section": "3", "main": "125", "sub": "4217"},
    "address": "تهران، خیابان ولیعصر، کوچه یاس، پلاک ۱۲",
    "area": 240.5,
    "land_use": "residential",
}


def use_probe_package(app: Flask, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Point the app at the shipped roles plus the probe package."""
    processes, forms = tmp_path / "processes", tmp_path / "forms"
    processes.mkdir()
    shutil.copy(ROOT / "processes" / "roles.json", processes / "roles.json")
    shutil.copytree(PACKAGES / "processes" / KEY, processes / KEY)
    shutil.copytree(PACKAGES / "forms", forms)
    monkeypatch.setitem(app.config, "PROCESSES_DIR", str(processes))
    monkeypatch.setitem(app.config, "FORMS_DIR", str(forms))


def make_agency_user(username: str, roles: list[str], districts: list[Any] | None = None) -> User:
    return ensure_staff(
        username, f"کاربر {username}", PASSWORD, roles, districts or [], kind=UserKind.AGENCY
    )


@pytest.fixture
def people(app: Flask, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    use_probe_package(app, monkeypatch, tmp_path)
    deploy_all([KEY])
    district = ensure_district("09", "منطقه ۹", "District 9")
    other = ensure_district("05", "منطقه ۵", "District 5")
    return {
        "district": district,
        "other_district": other,
        "fire": make_agency_user("fire", ["AGENCY_FIRE"]),
        "fire_d5": make_agency_user("fire-d5", ["AGENCY_FIRE"], [other]),
        "registry": make_agency_user("registry", ["AGENCY_REGISTRY"]),
        "notary": make_agency_user("notary", ["REQUESTER_NOTARY"]),
        "bank": make_agency_user("bank", ["REQUESTER_BANK"]),
        "utility": make_agency_user("utility", ["REQUESTER_UTILITY"]),
        "staff": ensure_staff("expert", "کارشناس", PASSWORD, ["URB_EXPERT"], [district]),
        "citizen": ensure_citizen("09140001001", "علی کریمی", "1360524185"),
    }


def open_task(case: Case, element_id: str) -> CaseTask:
    rows = [t for t in case.tasks if t.state == TaskState.OPEN and t.element_id == element_id]
    assert len(rows) == 1, [(t.element_id, t.state) for t in case.tasks]
    return rows[0]


@pytest.fixture
def filed(people: dict[str, Any]) -> Callable[..., Case]:
    """An inquiry the notary filed, now waiting for the fire service's answer."""

    def make(requester: str = "notary", district: str = "district", **answers: Any) -> Case:
        version = latest_version(KEY)
        assert version is not None
        user = people[requester]
        case = cases.start_case(
            version, applicant=user, district=people[district], data={}, actor=user
        )
        task = open_task(case, "submit_request")
        cases.complete_task(
            case,
            task.engine_task_id,
            {**REQUEST, **answers},
            actor=user,
            expected_version=case.version_id,
        )
        db.session.flush()
        return case

    return make


@pytest.fixture
def sign_in(login_as: Callable[[User], None]) -> Callable[[User], None]:
    """login_as, also forgetting the user Flask-Login cached in the test's shared app context."""

    def sign(user: User) -> None:
        login_as(user)
        g.pop("_login_user", None)

    return sign
