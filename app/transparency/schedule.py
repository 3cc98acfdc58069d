"""Celery beat's entry for the public figures, kept apart so the app factory imports little."""

from __future__ import annotations

from celery import Celery

#: How often Celery beat folds case changes into the figures, in seconds.
FOLD_SECONDS = 60.0


def schedule_folding(celery: Celery) -> None:
    """Add the figures' fold (app.transparency.jobs) to Celery beat's schedule."""
    celery.conf.beat_schedule["fold-transparency-changes"] = {
        "task": "transparency.fold_changes",
        "schedule": FOLD_SECONDS,
    }
    celery.conf.include = [*(celery.conf.include or []), "app.transparency.jobs"]
