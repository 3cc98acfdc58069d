"""`flask processes …` and `flask engine tick`, as an operator runs them."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from freezegun import freeze_time
from sqlalchemy import select

from app.accounts.models import User
from app.accounts.services import ensure_citizen, ensure_district
from app.cases import services
from app.cases.models import Case
from app.db import db
from app.processes.models import ProcessVersion
from app.processes.services import latest_version

ROOT = Path(__file__).resolve().parents[2]
V2 = ROOT / "tests/engine/fixtures/sample_permit_v2"


@pytest.fixture
def analysts_files(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of processes/ and forms/ the test may edit, as an analyst would."""
    processes = tmp_path / "processes"
    forms = tmp_path / "forms"
    shutil.copytree(ROOT / "processes", processes)
    shutil.copytree(ROOT / "forms", forms)
    monkeypatch.setitem(app.config, "PROCESSES_DIR", str(processes))
    monkeypatch.setitem(app.config, "FORMS_DIR", str(forms))
    return tmp_path


def run(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


def test_validate_passes_the_shipped_packages(app: Flask) -> None:
    result = run(app, "processes", "validate")
    assert result.exit_code == 0, result.output
    assert "sample_permit: ok" in result.output


def test_validate_names_file_element_and_problem_for_every_error(
    app: Flask, analysts_files: Path
) -> None:
    bpmn = analysts_files / "processes/sample_permit/process.bpmn"
    text = bpmn.read_text(encoding="utf-8")
    text = text.replace('name="URB_HEAD"', 'name="NIGHT_WATCH"')
    text = text.replace('value="sample_permit/escalation"', 'value="sample_permit/missing"')
    bpmn.write_text(text, encoding="utf-8")
    result = run(app, "processes", "validate", "sample_permit")
    assert result.exit_code == 1
    assert "sample_permit/process.bpmn [lane_urb_head]" in result.output
    assert "NIGHT_WATCH" in result.output
    assert "[escalate_review]" in result.output
    assert "sample_permit/missing" in result.output
    assert "2 problem(s) found" in result.output


def test_deploy_is_keyed_by_content(app: Flask, analysts_files: Path) -> None:
    first = run(app, "processes", "deploy")
    assert "sample_permit v1" in first.output
    assert "deployed" in first.output
    again = run(app, "processes", "deploy")
    assert "sample_permit v1" in again.output
    assert "unchanged" in again.output
    card = analysts_files / "processes/sample_permit/service.json"
    card.write_text(card.read_text(encoding="utf-8").replace("نمونه", "آزمایشی"), encoding="utf-8")
    changed = run(app, "processes", "deploy")
    assert "sample_permit v2" in changed.output
    versions = db.session.scalars(
        select(ProcessVersion)
        .where(ProcessVersion.process_key == "sample_permit")
        .order_by(ProcessVersion.number)
    ).all()
    assert [v.number for v in versions] == [1, 2]
    assert "building_permit v1" in first.output  # every package deploys, each keyed by its own
    assert versions[0].files != versions[1].files
    assert "sample_permit/application" in versions[0].forms


def test_a_changed_form_is_a_new_version(app: Flask, analysts_files: Path) -> None:
    run(app, "processes", "deploy")
    form = analysts_files / "forms/sample_permit/review.json"
    form.write_text(form.read_text(encoding="utf-8").replace("2000", "3000"), encoding="utf-8")
    assert "sample_permit v2" in run(app, "processes", "deploy").output


def test_an_invalid_package_deploys_nothing(app: Flask, analysts_files: Path) -> None:
    bpmn = analysts_files / "processes/sample_permit/process.bpmn"
    bpmn.write_text(bpmn.read_text(encoding="utf-8").replace('name="URB_HEAD"', 'name="X"'))
    result = run(app, "processes", "deploy")
    assert result.exit_code == 1
    assert "Nothing deployed" in result.output
    assert db.session.scalar(select(ProcessVersion.id)) is None


def test_list_and_show(app: Flask, analysts_files: Path) -> None:
    run(app, "processes", "deploy")
    listing = run(app, "processes", "list")
    assert "sample_permit v1" in listing.output
    assert "open cases: 0" in listing.output
    shown = run(app, "processes", "show", "sample_permit")
    assert "صدور پروانه نمونه" in shown.output
    assert "latest" in shown.output
    assert "process.bpmn" in shown.output
    assert run(app, "processes", "show", "nothing").exit_code == 1


def _start_case(citizen: User) -> Case:
    version = latest_version("sample_permit")
    assert version is not None
    district = ensure_district("09", "منطقه ۹", "District 9")
    case = services.start_case(
        version, applicant=citizen, district=district, data={}, actor=citizen
    )
    db.session.commit()
    return case


def test_running_cases_stay_on_their_version_and_migrate_only_on_request(
    app: Flask, analysts_files: Path, make_staff: Callable[..., User]
) -> None:
    run(app, "processes", "deploy")
    citizen = ensure_citizen("09140001001", "علی کریمی", "1360524185")
    with freeze_time("2025-09-23 05:00:00+00:00"):
        case = _start_case(citizen)
        task = case.tasks[0]
        services.complete_task(
            case,
            task.engine_task_id,
            {"applicant_name": "علی", "usage": "residential", "area": 100},
            actor=citizen,
            expected_version=case.version_id,
        )
        db.session.commit()
    # The analyst adds a site inspection (v2) and its form; the running case is not moved.
    for name in ("process.bpmn", "fee.dmn", "service.json"):
        shutil.copy(V2 / name, analysts_files / "processes/sample_permit" / name)
    forms = analysts_files / "forms/sample_permit"
    shutil.copy(forms / "escalation.json", forms / "inspection.json")
    assert "sample_permit v2" in run(app, "processes", "deploy").output
    db.session.refresh(case)
    assert case.process_version.number == 1

    dry = run(app, "processes", "migrate-case", case.tracking_code)
    assert "sample_permit v1" in dry.output
    assert "site_inspection" in dry.output
    assert "timer restarts: review_deadline" in dry.output
    assert "Dry run: nothing changed" in dry.output
    db.session.refresh(case)
    assert case.process_version.number == 1

    applied = run(app, "processes", "migrate-case", case.tracking_code, "--apply")
    assert applied.exit_code == 0, applied.output
    db.session.expire_all()
    moved = db.session.get(Case, case.id)
    assert moved is not None
    assert moved.process_version.number == 2
    assert [t.element_id for t in moved.tasks if t.state.value == "open"] == ["review_application"]


def test_engine_tick_fires_due_timers(app: Flask, analysts_files: Path) -> None:
    run(app, "processes", "deploy")
    citizen = ensure_citizen("09140001001", "علی کریمی", "1360524185")
    with freeze_time("2025-09-23 05:00:00+00:00") as clock:
        case = _start_case(citizen)
        services.complete_task(
            case,
            case.tasks[0].engine_task_id,
            {"applicant_name": "علی", "usage": "residential", "area": 100},
            actor=citizen,
            expected_version=case.version_id,
        )
        db.session.commit()
        assert "0 case(s) advanced" in run(app, "engine", "tick").output
        clock.move_to("2025-10-01 00:00:00+00:00")
        assert "1 case(s) advanced" in run(app, "engine", "tick").output
        assert "0 case(s) advanced" in run(app, "engine", "tick").output
