"""One contender in a concurrency test, run as its own OS process by test_concurrency.py.

    python tests/cases/race_worker.py complete CASE_ID TASK_ID VERSION ACTOR_ID row|optimistic
    python tests/cases/race_worker.py sweep

DATABASE_URL names the (PostgreSQL) database and BARRIER an advisory lock key the test holds:
the worker connects, then waits on that lock, so every contender starts at the same moment
when the test releases it. The worker prints one JSON line with its outcome.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app import create_app
from app.accounts.models import User
from app.cases import services
from app.cases.jobs import sweep_due_timers
from app.cases.models import Case
from app.db import db
from engine import TaskNotReady

#: What a losing contender may see (the test says which, per mode); anything else fails.
#: Database errors include StaleDataError (the version column) and IntegrityError.
LOSING = (services.CaseConflict, TaskNotReady, SQLAlchemyError)


def wait_at_barrier() -> None:
    """Block until the test releases its advisory lock (held only by this transaction)."""
    db.session.execute(text("SELECT pg_advisory_xact_lock_shared(:key)"), {"key": BARRIER})


def complete(case_id: int, task_id: str, version: int, actor_id: int, mode: str) -> dict[str, Any]:
    actor = db.session.get(User, actor_id)
    assert actor is not None
    wait_at_barrier()
    try:
        # "row" locks the row first, as routes do; "optimistic" relies on the version column alone.
        case = services.lock_case(case_id) if mode == "row" else db.session.get(Case, case_id)
        assert case is not None
        services.complete_task(
            case, task_id, {"decision": "approve"}, actor=actor, expected_version=version
        )
        db.session.commit()
    except LOSING as exc:
        db.session.rollback()
        return {"outcome": type(exc).__name__}
    return {"outcome": "completed", "actor_id": actor_id}


def sweep() -> dict[str, Any]:
    wait_at_barrier()
    db.session.commit()  # end the barrier's transaction: each case gets its own
    advanced, skipped = sweep_due_timers()
    return {"advanced": advanced, "skipped": skipped}


BARRIER = int(os.environ["BARRIER"])

if __name__ == "__main__":
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": os.environ["DATABASE_URL"],
            "CELERY_BROKER_URL": "",
            "SECRET_KEY": "race-worker",
        }
    )
    with app.app_context():
        if sys.argv[1] == "complete":
            case_id, task_id, version, actor_id, mode = sys.argv[2:7]
            result = complete(int(case_id), task_id, int(version), int(actor_id), mode)
        else:
            result = sweep()
    print(json.dumps(result))
