"""Fold the marked case changes into the public figures, a batch per transaction.

Run by Celery beat (`transparency.fold_changes`, see schedule.py) or `flask transparency
fold [--loop]` on the embedded default. Safe to run often and concurrently: each batch locks
the cases it folds (skipping cases another fold or a step holds) and commits the rollups,
the metrics rows and the removal of the marks together.
"""

from __future__ import annotations

import logging

from celery import shared_task

from app.db import db
from app.transparency.recording import fold_changes

logger = logging.getLogger(__name__)

#: Cases folded per transaction: small, so a step waiting on one of them waits briefly.
BATCH = 100


def fold_pending(limit: int = 10_000, batch: int = BATCH) -> int:
    """Fold marked cases batch by batch (at most `limit`); returns how many were folded."""
    folded = 0
    while folded < limit:
        try:
            count = fold_changes(min(batch, limit - folded))
            db.session.commit()
        except Exception:
            db.session.rollback()  # nothing of the batch counted; its marks stay for next time
            raise
        if count == 0:
            break
        folded += count
    return folded


@shared_task(name="transparency.fold_changes")
def fold_changes_task() -> int:
    """Celery beat's entry point: fold what the steps marked since the last run."""
    return fold_pending()
