"""Background jobs for cases: the timer sweep. Each case commits (or rolls back) on its own."""

from __future__ import annotations

import logging

from celery import shared_task
from sqlalchemy.orm.exc import StaleDataError

from app.cases.services import fire_due_timers, lock_next_due_case
from app.cases.workflow import utc_now
from app.db import db

logger = logging.getLogger(__name__)


def sweep_due_timers(limit: int = 500) -> tuple[int, int]:
    """Fire due timers case by case; returns (cases advanced, cases skipped after an error).

    Every case is locked, stepped and committed alone, so one broken case never holds back
    the others, and sweeps running at once (cron, a loop, Celery beat) share the due cases
    and never fire the same timer twice.
    """
    advanced = skipped = 0
    passed: set[int] = set()
    now = utc_now()
    while len(passed) < limit:
        case = lock_next_due_case(now, passed)
        if case is None:
            break
        case_id = case.id
        passed.add(case_id)
        try:
            if fire_due_timers(case, now) is not None:
                advanced += 1
            db.session.commit()
        except StaleDataError:
            db.session.rollback()  # another worker advanced this case first: nothing to do
            skipped += 1
        except Exception:
            # Logged and left for an operator; the next due case still gets its turn.
            logger.exception("timer sweep failed on case %s", case_id)
            db.session.rollback()
            skipped += 1
    return advanced, skipped


@shared_task(name="engine.sweep_due_timers")
def sweep_due_timers_task() -> tuple[int, int]:
    """Celery beat's entry point for the timer sweep."""
    return sweep_due_timers()


@shared_task(
    name="engine.deliver_message",
    autoretry_for=(StaleDataError,),
    retry_backoff=True,
    max_retries=5,
)
def deliver_message_task(message_name: str, correlation_key: str, payload: dict) -> bool:  # type: ignore[type-arg]
    """Hand a message to the case waiting for it; False when no case waits (already delivered)."""
    from app.cases.services import NoWaitingCase, deliver_message, waiting_case

    try:
        case = waiting_case(message_name, correlation_key)
    except NoWaitingCase:
        db.session.rollback()
        return False
    deliver_message(case, message_name, payload)
    db.session.commit()
    return True
