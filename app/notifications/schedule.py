"""Celery beat's entry for the outbox, kept apart so the app factory imports nothing heavy."""

from __future__ import annotations

from celery import Celery

#: How often Celery beat delivers the outbox, in seconds.
DELIVERY_SECONDS = 15.0


def schedule_delivery(celery: Celery) -> None:
    """Add the outbox delivery (app.notifications.jobs) to Celery beat's schedule."""
    celery.conf.beat_schedule["deliver-notifications"] = {
        "task": "notifications.deliver_pending",
        "schedule": DELIVERY_SECONDS,
    }
    # Import the task module so a worker started from the app knows the task.
    celery.conf.include = [*(celery.conf.include or []), "app.notifications.jobs"]
