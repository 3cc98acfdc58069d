"""The sandbox seen through the app: a deployed package's bad script becomes an incident that
names the element, never runs, and keeps the case; deploy refuses what validation can see."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from app.accounts.services import ensure_citizen
from app.cases import services
from app.cases import workflow as bridge
from app.cases.models import Case, CaseStatus
from app.db import db
from app.processes.models import ProcessVersion
from app.processes.services import InvalidPackage, deploy_package
from engine import ProcessPackage

INIT_SCRIPT = "<bpmn:script>correction_round = 0"


def _package_with_init_script(prefix: str) -> ProcessPackage:
    """The shipped sample permit with lines put in front of its first script (init_case)."""
    package = bridge.library().load_package("sample_permit")
    bpmn = package.files["process.bpmn"].decode("utf-8")
    assert INIT_SCRIPT in bpmn
    changed = bpmn.replace(INIT_SCRIPT, f"<bpmn:script>{prefix}\ncorrection_round = 0", 1)
    files = {**package.files, "process.bpmn": changed.encode("utf-8")}
    return ProcessPackage.from_files(package.key, files, package.forms)


def _start(version: ProcessVersion) -> Case:
    citizen = ensure_citizen("09140001001", "علی کریمی", "1360524185")
    case = services.start_case(version, applicant=citizen, district=None, data={}, actor=citizen)
    db.session.commit()
    return case


def test_deploy_refuses_a_script_that_imports_os(app: Flask) -> None:
    with pytest.raises(InvalidPackage) as refused:
        deploy_package(_package_with_init_script("import os"))
    assert any(
        issue.element_id == "init_case" and "import" in issue.message.lower()
        for issue in refused.value.issues
    ), refused.value.issues
    assert db.session.query(ProcessVersion).count() == 0


def test_an_import_that_slipped_past_deploy_is_an_incident_and_never_runs(
    app: Flask, tmp_path: Path
) -> None:
    # A version stored without validation, as a row written by hand or by an older release.
    escaped = tmp_path / "escaped"
    package = _package_with_init_script(f"import os\nos.makedirs({str(escaped)!r})")
    version = ProcessVersion(
        process_key=package.key,
        number=1,
        content_hash=package.content_hash,
        files={name: data.decode("utf-8") for name, data in package.files.items()},
        forms={key: data.decode("utf-8") for key, data in package.forms.items()},
        card={},
    )
    db.session.add(version)
    db.session.flush()

    case = _start(version)

    assert case.status == CaseStatus.INCIDENT
    assert case.incident is not None
    assert (case.incident["element_id"], case.incident["kind"]) == ("init_case", "sandbox")
    assert not escaped.exists()
    assert case.tasks == []  # the process stopped before the citizen's task


def test_a_runaway_loop_is_stopped_and_reported_on_its_element(app: Flask) -> None:
    deployed = deploy_package(_package_with_init_script("while True:\n    spin = 1"))

    case = _start(deployed.version)

    assert case.status == CaseStatus.INCIDENT
    assert case.incident is not None
    assert (case.incident["element_id"], case.incident["kind"]) == ("init_case", "limit")
    # The incident keeps the state from before the step: a retry runs the same script again.
    workflow = bridge.load_workflow(case)
    assert workflow.dump() == case.workflow_state
    assert workflow.incident is not None
