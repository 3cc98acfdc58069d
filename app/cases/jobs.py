"""Background jobs for cases: the timer sweep. Each case commits (or rolls back) on its own."""

from __future__ import annotations

from celery import shared_task
from sqlalchemy.orm.exc import StaleDataError

from app.cases.services import due_case_ids, fire_due_timers, lock_case
from app.cases.workflow import utc_now
from app.db import db


def sweep_due_timers() -> tuple[int, int]:
    """Fire due timers case by case; returns (cases advanced, cases skipped after a conflict).

    Every case is locked, stepped and committed alone, so one broken case never holds back
    the others and two sweeps running at once never fire the same timer twice.
    """
    advanced = skipped = 0
    now = utc_now()
    for case_id in due_case_ids(now):
        try:
            case = lock_case(case_id)
            if case is not None and fire_due_timers(case, now) is not None:
                advanced += 1
            db.session.commit()
        except StaleDataError:
            db.session.rollback()  # another sweep advanced this case first: nothing to do
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
