"""Moving a running v1 case of sample_permit to v2 (tests/engine/fixtures/sample_permit_v2)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from freezegun.api import FrozenDateTimeFactory

from engine import (
    CompiledProcess,
    MigrationBlocked,
    ProcessLibrary,
    Runtime,
    StateFormatError,
    TimerRestart,
    WorkCalendar,
    Workflow,
    compile_package,
    diff_versions,
    migrate,
    validate_package,
)

from .support import FIXTURES_DIR, FakeConnectors, only_task, restored

REVIEW_DUE_V1 = datetime(2025, 9, 30, 10, 30, tzinfo=UTC)  # 1404-07-08 14:00 Tehran
APPLICATION = {"applicant_name": "حسین رضایی", "usage": "residential", "area": 100}


@pytest.fixture(scope="module")
def v2_files() -> dict[str, bytes]:
    return ProcessLibrary(FIXTURES_DIR).read_files("sample_permit_v2")


@pytest.fixture(scope="module")
def v2(v2_files: dict[str, bytes]) -> CompiledProcess:
    return compile_package(v2_files, key="sample_permit")


@pytest.fixture
def clock() -> Iterator[FrozenDateTimeFactory]:
    with freeze_time("2025-09-23 05:00:00+00:00") as frozen:
        yield frozen


@pytest.fixture
def at_review(sample: CompiledProcess, runtime: Runtime, clock: FrozenDateTimeFactory) -> Workflow:
    workflow = Workflow.start(sample, runtime=runtime)
    workflow.complete(only_task(workflow, "submit_application").id, APPLICATION, actor="citizen")
    return workflow


def test_v2_is_a_valid_package(
    v2_files: dict[str, bytes], v2: CompiledProcess, sample: CompiledProcess
) -> None:
    assert (
        validate_package(v2_files, key="sample_permit", connectors=FakeConnectors().registry) == []
    )
    assert v2.spec_hash != sample.spec_hash


def test_dry_run_diff_shows_changes_and_restarting_timers(
    at_review: Workflow, v2: CompiledProcess, clock: FrozenDateTimeFactory
) -> None:
    clock.tick(timedelta(days=2))
    before = at_review.dump()

    diff = diff_versions(at_review, v2)

    assert diff.allowed
    assert diff.blocked_reasons == ()
    assert diff.added == ("site_inspection",)
    # v2 branched off before the sample gained its correction SMS and site visit: a case that
    # has not reached them yet may move, and simply never meets them.
    assert diff.removed == (
        "check_site_visit",
        "inspect_site",
        "inspection_result",
        "notify_correction",
        "site_visit_needed",
    )
    assert "compute_fee" in diff.changed
    assert "review_deadline" in diff.changed
    assert "application_approved" in diff.changed  # its outgoing flow now leads elsewhere
    assert "review_application" in diff.resetting
    assert diff.timers_restarting == (
        TimerRestart("review_deadline", "مهلت ۵ روز کاری", REVIEW_DUE_V1),
    )
    assert diff.from_version == at_review.compiled.spec_hash
    assert diff.to_version == v2.spec_hash
    assert at_review.dump() == before  # a dry run changes nothing


def test_migration_restarts_the_timer_and_runs_the_new_version(
    at_review: Workflow, v2: CompiledProcess, runtime: Runtime, clock: FrozenDateTimeFactory
) -> None:
    review = only_task(at_review, "review_application")
    clock.tick(timedelta(days=2))
    migrated_at = datetime.now(UTC)

    migrated = migrate(at_review, v2, actor="admin:1")

    # The old Workflow object is untouched; the copy runs v2.
    assert at_review.compiled.spec_hash != v2.spec_hash
    assert at_review.next_timer_at() == REVIEW_DUE_V1
    assert migrated.compiled is v2
    # The deadline restarted at the migration time, with v2's 7 working days.
    restarted = WorkCalendar().deadline(migrated_at, 7)
    assert migrated.next_timer_at() == restarted
    assert restarted > REVIEW_DUE_V1
    new_review = only_task(migrated, "review_application")
    assert new_review.id == review.id
    assert new_review.data["applicant_name"] == "حسین رضایی"
    entry = migrated.last_result.history[0]
    assert (entry.kind, entry.actor) == ("migrated", "admin:1")
    assert entry.data["timers_restarted"] == [
        {"element_id": "review_deadline", "due_before": REVIEW_DUE_V1.isoformat()}
    ]

    state = restored(migrated, runtime).dump()
    with pytest.raises(StateFormatError):
        Workflow.load(at_review.compiled, state, runtime=runtime)

    migrated.complete(new_review.id, {"decision": "approve"}, actor="expert")
    inspection = only_task(migrated, "site_inspection")
    assert inspection.lane == "URB_EXPERT"
    migrated.complete(inspection.id, {"inspection_note": "مطابق مدارک"}, actor="expert")
    assert migrated.data["fee"] == 17_500_000  # v2's rate


def test_migration_is_refused_when_a_changed_step_already_ran(
    at_review: Workflow, v2: CompiledProcess
) -> None:
    at_review.complete(
        only_task(at_review, "review_application").id, {"decision": "approve"}, actor="expert"
    )
    assert at_review.waiting_messages() == ["payment_confirmed"]

    diff = diff_versions(at_review, v2)

    assert not diff.allowed
    assert any(reason.startswith("compute_fee changed") for reason in diff.blocked_reasons)
    with pytest.raises(MigrationBlocked) as blocked:
        migrate(at_review, v2)
    assert blocked.value.reasons == list(diff.blocked_reasons)


def test_migration_is_refused_during_an_incident(
    at_review: Workflow, v2: CompiledProcess, connectors: FakeConnectors
) -> None:
    connectors.broken.add("create_invoice")
    at_review.complete(
        only_task(at_review, "review_application").id, {"decision": "approve"}, actor="expert"
    )
    assert at_review.incident is not None

    diff = diff_versions(at_review, v2)

    assert any("open incident" in reason for reason in diff.blocked_reasons)
