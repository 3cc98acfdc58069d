"""Audit use cases: append an entry, record a view of personal data, verify the chain.

`record` may add and flush, never commits: the caller's edge commit makes the entry part of the
same transaction as the change it describes, so a rolled-back change leaves no audit row.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.audit.models import AuditEntry, AuditHead
from app.db import db

#: The prev_hash of the first entry.
GENESIS_HASH = "0" * 64
HEAD_ID = 1

#: Actions citizens see on their case timeline, with the text they read.
PUBLIC_ACTIONS = {
    "case.started": _l("Application filed"),
    "task.completed": _l("Step completed"),
    "message.received": _l("Information received"),
    "case.completed": _l("Case closed"),
}


class Actor(Protocol):
    id: int
    username: str | None
    kind: Any


def audit_key() -> bytes:
    """The HMAC key: AUDIT_KEY, or one derived from SECRET_KEY when it is not set."""
    configured = current_app.config.get("AUDIT_KEY") or ""
    if configured:
        return str(configured).encode("utf-8")
    secret = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    return hashlib.sha256(b"parvaneh-audit\x00" + secret).digest()


def _plain(value: Any) -> Any:
    # Store exactly what is hashed: dates, decimals and enums become their text.
    if value is None:
        return None
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


def _canonical_time(moment: datetime) -> str:
    # SQLite hands back naive datetimes for UTC values; PostgreSQL aware ones.
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="microseconds")


def entry_digest(entry: AuditEntry, key: bytes) -> str:
    """The HMAC-SHA256 of an entry's content and its link to the previous entry."""
    content = {
        "seq": entry.seq,
        "at": _canonical_time(entry.at),
        "actor_id": entry.actor_id,
        "actor_label": entry.actor_label,
        "case_id": entry.case_id,
        "action": entry.action,
        "subject": entry.subject or "",
        "before": entry.before,
        "after": entry.after,
        "internal": bool(entry.internal),
        "prev_hash": entry.prev_hash,
    }
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def actor_label(actor: Actor | None) -> str:
    """How an actor is named in the log: the username, citizen:<id>, or system."""
    if actor is None:
        return "system"
    return actor.username or f"{getattr(actor.kind, 'value', actor.kind)}:{actor.id}"


def _advance_head() -> tuple[int, str]:
    """Take the next position in the chain: (seq, previous hash), the head row locked.

    One UPDATE … RETURNING both locks the head row until the caller commits and hands out
    the position, so two transactions can never link to the same predecessor.
    """
    advance = (
        update(AuditHead)
        .where(AuditHead.id == HEAD_ID)
        .values(last_seq=AuditHead.last_seq + 1)
        .returning(AuditHead.last_seq, AuditHead.last_hash)
        .execution_options(synchronize_session=False)
    )
    row = db.session.execute(advance).first()
    if row is None:
        # The very first entry: create the head (a concurrent first writer may win; then
        # this insert does nothing and the UPDATE below waits for that writer's commit).
        dialect = db.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        db.session.execute(
            insert(AuditHead.__table__)
            .values(id=HEAD_ID, last_seq=0, last_hash=GENESIS_HASH)
            .on_conflict_do_nothing(index_elements=["id"])
        )
        row = db.session.execute(advance).one()
    return int(row[0]), str(row[1])


def record(
    action: str,
    *,
    actor: Actor | None,
    case: Any = None,
    subject: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    internal: bool = True,
) -> AuditEntry:
    """Append an entry to the audit chain (in the caller's transaction); returns it.

    `case` is a Case or a case id; `internal=False` shows the entry on the citizen's timeline.
    The chain's head row stays locked until the caller commits: take row locks (lock_case)
    before recording, never after, so two transactions cannot wait on each other.

    Two statements on PostgreSQL (advance the head; write the entry and the head's new hash
    together), three on SQLite. The entry is written with Core, not added to the session:
    the returned object carries its values and id but is not tracked.
    """
    # Write the caller's pending changes first, so the head stays locked only briefly.
    db.session.flush()
    seq, prev_hash = _advance_head()
    entry = AuditEntry(
        seq=seq,
        at=datetime.now(UTC),
        actor_id=actor.id if actor is not None else None,
        actor_label=actor_label(actor)[:80],
        case_id=case if isinstance(case, int) or case is None else case.id,
        action=action[:60],
        subject=subject[:120],
        before=_plain(before),
        after=_plain(after),
        internal=internal,
        prev_hash=prev_hash,
    )
    entry.entry_hash = entry_digest(entry, audit_key())
    values = {column: getattr(entry, column) for column in _ENTRY_COLUMNS}
    link = (
        update(AuditHead)
        .where(AuditHead.id == HEAD_ID)
        .values(last_hash=entry.entry_hash)
        .execution_options(synchronize_session=False)
    )
    write = insert(AuditEntry).values(values).returning(AuditEntry.id)
    if db.session.get_bind().dialect.name == "postgresql":
        # One round trip: the INSERT and the head's UPDATE in one statement.
        moved = link.cte("moved_head")
        write = write.add_cte(moved)
        entry.id = db.session.execute(write).scalar_one()
    else:
        entry.id = db.session.execute(write).scalar_one()
        db.session.execute(link)
    return entry


#: The columns of an audit row its writer fills (the id comes from the database).
_ENTRY_COLUMNS = (
    "seq",
    "at",
    "actor_id",
    "actor_label",
    "case_id",
    "action",
    "subject",
    "before",
    "after",
    "internal",
    "prev_hash",
    "entry_hash",
)


def record_personal_data_view(
    actor: Actor, *, case: Any = None, subject: str = "", fields: Iterable[str] = ()
) -> AuditEntry:
    """Record that a staff member saw someone's personal data (call it from the page that shows it)."""
    return record(
        "personal_data.viewed",
        actor=actor,
        case=case,
        subject=subject,
        after={"fields": sorted(fields)},
        internal=True,
    )


def case_entries(case: Any) -> list[AuditEntry]:
    """Every entry about a case, oldest first (the staff view)."""
    case_id = case if isinstance(case, int) else case.id
    statement = select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.seq)
    return list(db.session.scalars(statement))


def public_entries(case: Any) -> list[AuditEntry]:
    """The entries a citizen may see on their case timeline: no internal ones, oldest first."""
    return [entry for entry in case_entries(case) if not entry.internal]


def action_label(action: str) -> str:
    """The citizen-facing text for a public action code."""
    label = PUBLIC_ACTIONS.get(action)
    return str(label) if label is not None else action


# --- Verification -----------------------------------------------------------------------------

ProblemKind = Literal["edited", "inserted", "deleted"]


@dataclass(frozen=True)
class ChainProblem:
    """A break in the chain, naming the row concerned."""

    kind: ProblemKind
    entry_id: int | None
    seq: int | None
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


def verify_chain() -> tuple[int, list[ChainProblem]]:
    """Walk the whole chain; return the number of rows read and every problem found."""
    key = audit_key()
    head = db.session.get(AuditHead, HEAD_ID)
    rows = list(
        db.session.execute(select(AuditEntry).order_by(AuditEntry.seq, AuditEntry.id)).scalars()
    )
    return len(rows), _walk(rows, head, key)


def _walk(rows: Sequence[AuditEntry], head: AuditHead | None, key: bytes) -> list[ChainProblem]:
    problems: list[ChainProblem] = []
    expected_prev, expected_seq, previous_id = GENESIS_HASH, 1, None
    for index, row in enumerate(rows):
        following = rows[index + 1] if index + 1 < len(rows) else None
        intact = hmac.compare_digest(entry_digest(row, key), row.entry_hash)
        linked = row.prev_hash == expected_prev
        if not intact and not _belongs_to_chain(row, following, head, expected_prev, expected_seq):
            problems.append(
                ChainProblem(
                    "inserted",
                    row.id,
                    row.seq,
                    f"row id {row.id} (seq {row.seq}) was never part of the chain",
                )
            )
            continue  # the next genuine row still links to the one before this
        if not intact:
            problems.append(
                ChainProblem(
                    "edited",
                    row.id,
                    row.seq,
                    f"row id {row.id} (seq {row.seq}) no longer matches its hash",
                )
            )
        elif not linked:
            problems.append(_deletion(expected_seq, row.seq - 1, previous_id, row.id))
        expected_prev, expected_seq, previous_id = row.entry_hash, row.seq + 1, row.id
        if not intact and following is not None and following.prev_hash != row.entry_hash:
            expected_prev = following.prev_hash  # the hash was rewritten: follow the original
    if head is not None and head.last_seq >= expected_seq:
        problems.append(_deletion(expected_seq, head.last_seq, previous_id, None))
    return problems


def _belongs_to_chain(
    row: AuditEntry,
    following: AuditEntry | None,
    head: AuditHead | None,
    expected_prev: str,
    expected_seq: int,
) -> bool:
    # A row whose hash fails was edited if the chain still runs through it: the next row (or
    # the head) points at its stored hash, or the next row points at a hash no row has and
    # this row sits where that row belongs (hash rewritten along with the content).
    if following is not None:
        if following.prev_hash == row.entry_hash:
            return True
        return following.prev_hash != expected_prev and row.seq == expected_seq
    return head is not None and head.last_hash == row.entry_hash


def _deletion(first: int, last: int, before_id: int | None, after_id: int | None) -> ChainProblem:
    missing = f"seq {first}" if first >= last else f"seq {first}–{last}"
    where = f"after row id {before_id}" if before_id is not None else "at the start"
    if after_id is not None:
        where += f" and before row id {after_id}"
    else:
        where += " at the end of the chain"
    return ChainProblem("deleted", None, first, f"{missing} missing {where}")
