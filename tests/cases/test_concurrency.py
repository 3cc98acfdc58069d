"""Two workers advancing the same case never both win: real processes on PostgreSQL.

Contenders are separate OS processes (tests/cases/race_worker.py) released together from an
advisory-lock barrier, and a real Celery worker consuming from the local Redis. Each test
commits for real and empties the tables afterwards. SQLite serialises writers itself; the
locking that matters in production is PostgreSQL's, so these run in the PostgreSQL pass.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from freezegun import freeze_time
from sqlalchemy import func, select, text

from app.accounts.models import User
from app.accounts.services import ensure_citizen, ensure_district, ensure_staff
from app.cases import services
from app.cases import workflow as bridge
from app.cases.models import Case, CaseEvent, CaseStatus, CaseTask, TaskState
from app.certificates.models import IssuedDocument
from app.db import db
from app.notifications.models import Notification
from app.processes.services import deploy_all, latest_version
from tests.conftest import MISSING_SERVICE_PREFIX, ON_POSTGRES

pytestmark = [
    pytest.mark.requires_commit,
    pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL pass only"),
]

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("race_worker.py")
APPLICATION = {
    "applicant_type": "natural",
    "applicant_name": "علی کریمی",
    "national_code": "1360524185",
    "usage": "residential",
    "area": 240.5,
}
PAYMENT = {"amount": 48_100_000, "reference": "12540040704"}
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
#: How long a contender or the Celery worker may take before the test gives up on it.
PATIENCE = 60.0


@pytest.fixture
def committed(app: Flask) -> Iterator[None]:
    """Let the test commit for real, and empty every table afterwards."""
    yield
    db.session.remove()
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def people(committed: None) -> dict[str, int]:
    deploy_all(["sample_permit"])
    district = ensure_district("09", "منطقه ۹", "District 9")
    users = {
        "citizen": ensure_citizen("09140001001", "علی کریمی", "1360524185"),
        "expert_a": ensure_staff(
            "expert_a", "کارشناس الف", "race-password-1", ["URB_EXPERT"], [district]
        ),
        "expert_b": ensure_staff(
            "expert_b", "کارشناس ب", "race-password-2", ["URB_EXPERT"], [district]
        ),
    }
    db.session.commit()
    return {role: user.id for role, user in users.items()}


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    assert user is not None
    return user


def _case_at_review(people: dict[str, int]) -> Case:
    version = latest_version("sample_permit")
    assert version is not None
    citizen = _user(people["citizen"])
    case = services.start_case(version, applicant=citizen, district=None, data={}, actor=citizen)
    db.session.commit()
    submit = _open(case, "submit_application")
    services.complete_task(
        case, submit.engine_task_id, APPLICATION, actor=citizen, expected_version=case.version_id
    )
    db.session.commit()
    return case


def _open(case: Case, element_id: str) -> CaseTask:
    rows = [t for t in case.tasks if t.state == TaskState.OPEN and t.element_id == element_id]
    assert len(rows) == 1, [(t.element_id, t.state) for t in case.tasks]
    return rows[0]


def _count(kind: str, case_id: int) -> int:
    statement = select(func.count(CaseEvent.id)).where(
        CaseEvent.case_id == case_id, CaseEvent.kind == kind
    )
    return db.session.scalar(statement) or 0


def _fresh(case_id: int) -> Case:
    """The case as stored now, checked to restore exactly."""
    db.session.expire_all()
    case = db.session.get(Case, case_id)
    assert case is not None
    assert bridge.load_workflow(case).dump() == case.workflow_state
    return case


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.05)


class Barrier:
    """An advisory lock the test holds; contenders queue on it and start together on release."""

    def __init__(self) -> None:
        self.key = int(uuid.uuid4().int % 2**31)
        self._connection = db.engine.connect()
        self._connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": self.key})

    def waiting(self) -> int:
        with db.engine.connect() as connection:
            statement = text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                "AND NOT granted AND objid = :key"
            )
            return connection.execute(statement, {"key": self.key}).scalar_one()

    def release(self) -> None:
        self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
        self._connection.close()


def _contenders(database_url: str, barrier: Barrier, *commands: list[str]) -> list[dict[str, Any]]:
    """Run race_worker.py commands as processes, start them together, and read their outcomes."""
    env = {**os.environ, "DATABASE_URL": database_url, "BARRIER": str(barrier.key)}
    processes = [
        subprocess.Popen(
            [sys.executable, str(WORKER), *command],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    try:
        _wait_for(
            lambda: (
                barrier.waiting() == len(processes) or any(p.poll() is not None for p in processes)
            ),
            "the contenders to reach the barrier",
        )
        barrier.release()
        outputs = [p.communicate(timeout=PATIENCE) for p in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    for process, (_, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
    return [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]


#: What the losing process may see. With the row lock (as routes do it) the loser waits and
#: then finds a newer version. Without it, the version column refuses the second save, or
#: before that a connector's idempotency key refuses its duplicate side effect (a unique
#: index, which leaves the transaction to be rolled back).
LOSING = {
    "row": {"CaseConflict", "TaskNotReady"},
    "optimistic": {
        "CaseConflict",
        "TaskNotReady",
        "StaleDataError",
        "IntegrityError",
        "PendingRollbackError",
    },
}


@pytest.mark.parametrize("mode", ["row", "optimistic"])
def test_two_processes_completing_the_same_task_never_both_win(
    people: dict[str, int], database_url: str, mode: str
) -> None:
    case = _case_at_review(people)
    case_id, version = case.id, case.version_id
    review = _open(case, "review_application")
    before = _count("task_completed", case_id)
    db.session.remove()

    barrier = Barrier()
    results = _contenders(
        database_url,
        barrier,
        *(
            ["complete", str(case_id), review.engine_task_id, str(version), str(people[who]), mode]
            for who in ("expert_a", "expert_b")
        ),
    )

    winners = [r for r in results if r["outcome"] == "completed"]
    losers = [r["outcome"] for r in results if r["outcome"] != "completed"]
    assert len(winners) == 1, results
    assert losers[0] in LOSING[mode], results
    winner = winners[0]["actor_id"]
    case = _fresh(case_id)
    assert case.version_id > version
    assert _count("task_completed", case_id) == before + 1
    completion = db.session.scalar(
        select(CaseEvent)
        .where(CaseEvent.case_id == case_id, CaseEvent.kind == "task_completed")
        .order_by(CaseEvent.id.desc())
    )
    assert completion is not None
    assert (completion.element_id, completion.actor_id) == ("review_application", winner)
    row = next(t for t in case.tasks if t.engine_task_id == review.engine_task_id)
    assert (row.state, row.completed_by_id) == (TaskState.COMPLETED, winner)
    # The loser's side effects (notifications its engine steps wrote) were rolled back too.
    keys = db.session.scalars(select(Notification.event_key).where(Notification.case_id == case_id))
    keys_list = list(keys)
    assert len(keys_list) == len(set(keys_list)), keys_list


def test_two_concurrent_sweeps_fire_each_timer_once(
    people: dict[str, int], database_url: str
) -> None:
    with freeze_time("2025-09-23 05:00:00+00:00"):  # the 5-working-day review timers are long due
        case_ids = [_case_at_review(people).id for _ in range(6)]
    db.session.remove()

    barrier = Barrier()
    results = _contenders(database_url, barrier, ["sweep"], ["sweep"])

    assert sum(r["advanced"] for r in results) == len(case_ids), results
    assert [r["skipped"] for r in results] == [0, 0], results
    for case_id in case_ids:
        case = _fresh(case_id)
        assert _count("timer_fired", case_id) == 1
        assert _open(case, "escalate_review").lane == "URB_HEAD"


# --- A real Celery worker on the local Redis ---------------------------------------------------


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis database nobody uses (empty), flushed afterwards."""
    import redis

    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"{MISSING_SERVICE_PREFIX} no Redis at {REDIS_HOST}:{REDIS_PORT} ({exc})")
    free = next(
        (
            n
            for n in range(15, 0, -1)
            if redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=n).dbsize() == 0
        ),
        None,
    )
    if free is None:
        pytest.fail("every Redis database 1-15 holds keys; none is free for the test")
    try:
        yield f"redis://{REDIS_HOST}:{REDIS_PORT}/{free}"
    finally:
        redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=free).flushdb()
        client.close()


class CeleryWorker:
    """`celery -A wsgi:celery_app worker` as a subprocess on its own queue, logging to a file."""

    def __init__(self, broker: str, database_url: str, log: Path) -> None:
        self.queue = f"parvaneh-test-{uuid.uuid4().hex[:8]}"
        self.log = log
        env = {**os.environ, "CELERY_BROKER_URL": broker, "DATABASE_URL": database_url}
        self._output = log.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "wsgi:celery_app",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                "2",
                "--loglevel",
                "INFO",
                "--queues",
                self.queue,
                "--hostname",
                f"{self.queue}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._output,
            stderr=subprocess.STDOUT,
        )

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self) -> None:
        _wait_for(lambda: " ready." in self.text() or self.process.poll() is not None, "the worker")
        assert self.process.poll() is None, self.text()

    def outcomes(self, task_ids: list[str]) -> dict[str, str]:
        """Wait until every task ran; its logged return value (or failure) by task id."""
        pattern = re.compile(
            r"Task engine\.deliver_message\[([0-9a-f-]+)\] (succeeded in \S+: (\w+)|raised .*)"
        )

        def finished() -> dict[str, str]:
            found = {m.group(1): m.group(3) or m.group(2) for m in pattern.finditer(self.text())}
            return {task_id: found[task_id] for task_id in task_ids if task_id in found}

        _wait_for(lambda: len(finished()) == len(task_ids), "the worker to run both messages")
        return finished()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=PATIENCE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._output.close()


def _waiting_for_lock() -> int:
    with db.engine.connect() as connection:
        statement = text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return connection.execute(statement).scalar_one()


def test_a_celery_worker_delivers_a_duplicated_payment_message_once(
    people: dict[str, int], database_url: str, redis_url: str, tmp_path: Path
) -> None:
    from celery import Celery

    case = _case_at_review(people)
    review = _open(case, "review_application")
    services.complete_task(
        case,
        review.engine_task_id,
        {"decision": "approve"},
        actor=_user(people["expert_a"]),
        expected_version=case.version_id,
    )
    db.session.commit()
    assert case.status == CaseStatus.WAITING_EVENT, case.current_step
    case_id, key, version = case.id, case.tracking_code, case.version_id
    db.session.remove()

    worker = CeleryWorker(redis_url, database_url, tmp_path / "worker.log")
    # Not made the current app: shared tasks in later tests must keep running in-process.
    sender = Celery("parvaneh-test-sender", broker=redis_url, set_as_current=False)
    holder = db.engine.connect()
    try:
        worker.wait_ready()
        # Hold the case row, so both deliveries are inside the worker, queued on it, at once.
        holder.execute(text("SELECT id FROM cases WHERE id = :id FOR UPDATE"), {"id": case_id})
        task_ids = [
            sender.send_task(
                "engine.deliver_message",
                args=["payment_confirmed", key, PAYMENT],
                queue=worker.queue,
            ).id
            for _ in range(2)
        ]
        _wait_for(lambda: _waiting_for_lock() == 2, "both deliveries to wait for the case row")
        holder.rollback()
        outcomes = worker.outcomes(task_ids)
    finally:
        holder.close()
        sender.close()
        worker.stop()

    # One delivery advanced the case; the other found no case waiting any more.
    assert sorted(outcomes.values()) == ["False", "True"], worker.text()
    case = _fresh(case_id)
    assert case.version_id > version
    assert _count("message_received", case_id) == 1
    assert case.status == CaseStatus.COMPLETED
    documents = db.session.scalars(select(IssuedDocument).where(IssuedDocument.case_id == case_id))
    assert len(documents.all()) == 1


def test_concurrent_folds_and_steps_count_every_step_once(
    app: Flask, people: dict[str, int]
) -> None:
    import threading

    from app.transparency.models import CaseMetrics, DailyCounts
    from app.transparency.recording import fold_changes

    first, second = _case_at_review(people), _case_at_review(people)
    first_id, second_id = first.id, second.id
    db.session.remove()
    folded, finish = threading.Event(), threading.Event()
    counts: dict[str, int] = {}

    def slow_fold() -> None:
        # Another worker's fold that has locked and summed both cases, not yet committed.
        with app.app_context():
            counts["slow"] = fold_changes()
            folded.set()
            finish.wait(PATIENCE)
            db.session.commit()
            db.session.remove()

    worker = threading.Thread(target=slow_fold)
    worker.start()
    try:
        assert folded.wait(PATIENCE)
        db.session.execute(text("SET LOCAL lock_timeout = '5s'"))
        assert fold_changes() == 0  # both cases are held: skipped, not waited for, not doubled
        db.session.rollback()
    finally:
        finish.set()
        worker.join(PATIENCE)
    assert counts["slow"] == 2
    assert fold_changes() == 0
    db.session.commit()

    # A step in progress holds its case: the fold leaves it and takes it on its next run.
    case = services.lock_case(first_id)
    assert case is not None
    review = _open(case, "review_application")
    expert = _user(people["expert_a"])
    returned = {"decision": "return_for_correction", "reason": "سند ناخواناست"}
    services.complete_task(
        case, review.engine_task_id, returned, actor=expert, expected_version=case.version_id
    )
    db.session.flush()

    def other_fold() -> None:
        with app.app_context():
            counts["during"] = fold_changes()
            db.session.commit()
            db.session.remove()

    worker = threading.Thread(target=other_fold)
    worker.start()
    worker.join(PATIENCE)
    assert counts["during"] == 0
    db.session.commit()
    assert fold_changes() == 1
    db.session.commit()

    assert db.session.scalar(select(func.count()).where(Case.figures_changed_at.is_not(None))) == 0
    metrics = {m.case_id: m for m in db.session.scalars(select(CaseMetrics))}
    assert set(metrics) == {first_id, second_id}
    assert len(metrics[first_id].counted_tasks) == 2  # submitted, then reviewed: each once
    assert len(metrics[second_id].counted_tasks) == 1
    received = db.session.scalar(
        select(func.sum(DailyCounts.received)).where(
            DailyCounts.process_key == "*", DailyCounts.district_id == 0
        )
    )
    assert received == 2
