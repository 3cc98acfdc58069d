"""Tell the applicant when their case reaches a new stage ("citizens are told at every step").

The engine's save calls `notify_step_changed` after every operation. When new human tasks
opened or the case completed, it writes one outbox row to the applicant, in the same
transaction, with the package's `notifications.step_changed` text (fa and en, with
`{tracking_code}` and `{step}`). Packages opt in by defining that text; the texts stay in
`processes/`. The row's idempotency key is made from the case and the engine ids of the
open tasks, so a stage is announced once, however often it is saved or retried.

When the BPMN's own `notify` task already wrote the applicant a message in the same
operation (for example "returned for correction"), that more specific message is the
announcement and no generic one is added.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.cases.models import Case
from app.db import db
from app.notifications.models import DeliveryState, Notification

#: The service card's event for a new stage.
EVENT_KEY = "step_changed"


@dataclass(frozen=True)
class PerLanguage:
    """A notification value that differs by language: the new stage's name, for one."""

    fa: str
    en: str


#: The role the stage messages are addressed to (the applicant).
APPLICANT_ROLE = "APPLICANT"
#: session.info key: ids of cases whose applicant was sent a message in this operation.
_TOLD = "parvaneh.applicant_told"


@event.listens_for(Session, "transient_to_pending")
def _remember_applicant_message(session: Session, instance: Any) -> None:
    # Any outbox row to a person about a case (the BPMN's notify connector adds them).
    if isinstance(instance, Notification) and instance.recipient_id is not None:
        session.info.setdefault(_TOLD, set()).add(instance.case_id)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, *args: Any) -> None:
    session.info.pop(_TOLD, None)


def stage_key(case_id: int, ready_task_ids: Sequence[str], completed: bool) -> str:
    """The idempotency key of the stage a case is at: its open tasks, or its completion."""
    stage = "completed" if completed else ",".join(sorted(ready_task_ids))
    digest = hashlib.sha256(stage.encode("utf-8")).hexdigest()[:32]
    return f"case:{case_id}:stage:{digest}"


def notify_step_changed(
    case: Case,
    ready_task_ids: Sequence[str],
    *,
    new_stage: bool,
    completed: bool,
    stage: Callable[[], PerLanguage],
) -> bool:
    """Write the applicant's stage message when the case reached a new stage; True if written.

    Called after every engine operation (it also forgets what this operation already told
    the applicant). Writes nothing for a case without an applicant, a package without a
    `step_changed` text, or a stage the applicant has already been told about. `stage` names
    the new stage in both languages; it is called only when the message is written.
    """
    told = db.session.info.get(_TOLD, set())
    already_told = case.id in told
    told.discard(case.id)
    if not (new_stage or completed) or already_told or case.applicant_id is None:
        return False
    template = case.process_version.card.get("notifications", {}).get(EVENT_KEY)
    if not template:
        return False
    from app.cases.connectors import render_notification

    text_fa, text_en = render_notification(
        template, {"tracking_code": case.tracking_code, "step": stage()}
    )
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Notification.__table__).values(
        idempotency_key=stage_key(case.id, ready_task_ids, completed),
        case_id=case.id,
        recipient_id=case.applicant_id,
        recipient_role=APPLICANT_ROLE,
        event_key=EVENT_KEY,
        channel="sms",
        text_fa=text_fa,
        text_en=text_en,
        state=DeliveryState.PENDING.value,
        created_at=datetime.now(UTC),
        attempts=0,
        last_error="",
    )
    db.session.execute(statement.on_conflict_do_nothing(index_elements=["idempotency_key"]))
    return True
