"""`flask engine incidents` and `flask engine retry`, as an operator runs them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from app.accounts.models import User
from app.accounts.services import ensure_citizen, ensure_district
from app.cases import services
from app.cases import workflow as bridge
from app.cases.models import Case, CaseStatus, TaskState
from app.db import db
from app.processes.services import deploy_all, latest_version

APPLICATION = {
    "applicant_type": "natural",
    "applicant_name": "علی کریمی",
    "national_code": "1360524185",
    "usage": "residential",
    "area": 240.5,
}
PAYMENT = {"amount": 48_100_000, "reference": "12540040704"}


def run(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


@pytest.fixture
def broken_certificates(app: Flask) -> Iterator[Callable[[], None]]:
    """Break the issue_document connector; the yielded function repairs it (as a fix would)."""
    registry = bridge.runtime().connectors
    healthy = registry.get("issue_document")

    def register(handler: Any) -> None:
        registry.register(
            "issue_document",
            handler,
            inputs=healthy.inputs,
            outputs=healthy.outputs,
            optional=healthy.optional_inputs,
        )

    def broken(inputs: Any, context: Any) -> Any:
        raise ConnectionError("the document service is down")

    register(broken)
    try:
        yield lambda: register(healthy.handler)
    finally:
        register(healthy.handler)


@pytest.fixture
def stuck_case(
    app: Flask, make_staff: Callable[..., User], broken_certificates: Callable[[], None]
) -> Case:
    deploy_all(["sample_permit"])
    ensure_district("09", "منطقه ۹", "District 9")
    citizen = ensure_citizen("09140001001", "علی کریمی", "1360524185")
    expert = make_staff("expert", roles=["URB_EXPERT"])
    make_staff("operator", roles=["URB_HEAD"])
    version = latest_version("sample_permit")
    assert version is not None
    case = services.start_case(version, applicant=citizen, district=None, data={}, actor=citizen)
    for element_id, answers, actor in (
        ("submit_application", APPLICATION, citizen),
        ("review_application", {"decision": "approve"}, expert),
    ):
        task = next(
            t for t in case.tasks if t.state == TaskState.OPEN and t.element_id == element_id
        )
        services.complete_task(
            case, task.engine_task_id, answers, actor=actor, expected_version=case.version_id
        )
    services.deliver_message(case, "payment_confirmed", PAYMENT)
    db.session.commit()
    assert case.status == CaseStatus.INCIDENT
    return case


def test_incidents_lists_the_case_with_its_element_and_error(app: Flask, stuck_case: Case) -> None:
    result = run(app, "engine", "incidents")
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if stuck_case.tracking_code in line)
    assert "issue_certificate" in line
    assert "the document service is down" in line
    assert "1 case(s) with an open incident" in result.output


def test_retry_fails_again_while_the_cause_is_not_fixed_and_completes_after(
    app: Flask, stuck_case: Case, broken_certificates: Callable[[], None]
) -> None:
    code = stuck_case.tracking_code
    still_broken = run(app, "engine", "retry", code, "--by", "operator")
    assert still_broken.exit_code == 1
    assert "failed again at issue_certificate" in still_broken.output

    broken_certificates()  # the fix
    fixed = run(app, "engine", "retry", code, "--by", "operator")
    assert fixed.exit_code == 0, fixed.output
    assert f"{code}: retried, now completed" in fixed.output
    db.session.expire_all()
    assert db.session.get(Case, stuck_case.id).status == CaseStatus.COMPLETED  # type: ignore[union-attr]
    assert "0 case(s)" in run(app, "engine", "incidents").output


def test_retry_refuses_unknown_operators_cases_and_cases_without_incident(
    app: Flask, stuck_case: Case, broken_certificates: Callable[[], None]
) -> None:
    assert (
        "no user nobody"
        in run(app, "engine", "retry", stuck_case.tracking_code, "--by", "nobody").output
    )
    assert (
        "no case 000000000000"
        in run(app, "engine", "retry", "000000000000", "--by", "operator").output
    )
    broken_certificates()
    assert run(app, "engine", "retry", stuck_case.tracking_code, "--by", "operator").exit_code == 0
    again = run(app, "engine", "retry", stuck_case.tracking_code, "--by", "operator")
    assert again.exit_code == 1
    assert "no incident" in again.output
