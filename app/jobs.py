"""Background work with Celery: Redis in production, eager and in-process on the embedded default.

Tasks run inside the Flask app context and commit once at their own edge, like a route.
Start a worker with `celery -A wsgi:celery_app worker`, and the timer sweep with
`celery -A wsgi:celery_app beat` (or `flask engine tick --loop` without Celery).
"""

from __future__ import annotations

from typing import Any

from celery import Celery, Task
from flask import Flask

#: How often Celery beat sweeps due timers, in seconds.
TIMER_SWEEP_SECONDS = 30.0


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app bound to this Flask app; eager when no broker is configured."""

    class FlaskTask(Task):  # type: ignore[misc]
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    broker = app.config.get("CELERY_BROKER_URL") or ""
    celery = Celery(app.name, task_cls=FlaskTask)
    celery.conf.update(
        broker_url=broker or "memory://",
        result_backend=None,
        task_ignore_result=True,
        # Without a broker the work runs in the web process, at once: the embedded default.
        task_always_eager=not broker,
        task_eager_propagates=True,
        # A task is acknowledged after it ran, so a killed worker's task is redelivered.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        beat_schedule={
            "sweep-due-timers": {"task": "engine.sweep_due_timers", "schedule": TIMER_SWEEP_SECONDS}
        },
        timezone="UTC",
    )
    celery.set_default()
    app.extensions["celery"] = celery
    return celery
