"""Case use cases leave an audit trail; citizens see its public part."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from freezegun import freeze_time
from sqlalchemy import select

from app.accounts.models import User
from app.accounts.services import ensure_citizen, ensure_district
from app.audit.models import AuditEntry
from app.audit.services import public_entries, verify_chain
from app.cases import services
from app.cases.models import TaskState
from app.db import db
from app.processes.services import deploy_all, latest_version

APPLICATION = {
    "applicant_type": "natural",
    "applicant_name": "علی کریمی",
    "national_code": "1360524185",
    "usage": "residential",
    "area": 240.5,
}


@freeze_time("2025-09-23 05:00:00")
def test_starting_and_completing_tasks_is_audited(
    app: Flask, make_staff: Callable[..., User]
) -> None:
    deploy_all(["sample_permit"])
    citizen = ensure_citizen("09140001001", "علی کریمی", "1360524185")
    district = ensure_district("09", "منطقه ۹", "District 9")
    expert = make_staff("expert", roles=["URB_EXPERT"])
    version = latest_version("sample_permit")
    assert version is not None
    case = services.start_case(
        version, applicant=citizen, district=district, data={}, actor=citizen
    )
    db.session.commit()
    task = next(t for t in case.tasks if t.state == TaskState.OPEN)
    services.complete_task(
        case, task.engine_task_id, APPLICATION, actor=citizen, expected_version=case.version_id
    )
    db.session.commit()
    review = next(t for t in case.tasks if t.state == TaskState.OPEN)
    # A reviewer opening the case sees personal data: an internal entry.
    from app.audit.services import record_personal_data_view

    record_personal_data_view(
        expert, case=case, subject=f"user:{citizen.id}", fields=["national_code"]
    )
    db.session.commit()

    rows = list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.case_id == case.id).order_by(AuditEntry.seq)
        )
    )
    assert [r.action for r in rows] == ["case.started", "task.completed", "personal_data.viewed"]
    started, completed, viewed = rows
    assert started.actor_label == f"citizen:{citizen.id}"
    assert completed.before == {"status": "waiting_citizen", "step": "ثبت درخواست", "outcome": None}
    assert completed.after is not None
    assert completed.after["status"] == "active"
    assert completed.after["step"] == review.name
    assert [e.action for e in public_entries(case)] == ["case.started", "task.completed"]
    assert viewed.internal
    assert verify_chain()[1] == []
