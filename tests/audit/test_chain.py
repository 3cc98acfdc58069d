"""The audit chain: appended in order, and `flask audit verify` names every tampered row."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import delete, insert, select, update

from app.accounts.models import User
from app.audit.models import AuditEntry, AuditHead
from app.audit.services import (
    GENESIS_HASH,
    action_label,
    public_entries,
    record,
    record_personal_data_view,
    verify_chain,
)
from app.db import db


@pytest.fixture
def five_entries(app: Flask, make_staff: Callable[..., User]) -> list[AuditEntry]:
    actor = make_staff("auditor")
    entries = [
        record("staff.signed_in", actor=actor, subject=f"user:{actor.id}"),
        record("case.started", actor=actor, case=41, after={"status": "active"}, internal=False),
        record_personal_data_view(
            actor, case=41, subject="user:7", fields=["national_code", "mobile"]
        ),
        record(
            "task.completed",
            actor=actor,
            case=41,
            before={"status": "active"},
            after={"status": "waiting_citizen", "step": "اصلاح مدارک"},
            internal=False,
        ),
        record("case.started", actor=None, case=42, after={"status": "active"}, internal=False),
    ]
    db.session.commit()
    return entries


def problems_of() -> list[tuple[str, int | None, int | None]]:
    db.session.expire_all()
    _count, problems = verify_chain()
    return [(p.kind, p.entry_id, p.seq) for p in problems]


def test_entries_form_a_chain_in_order(five_entries: list[AuditEntry]) -> None:
    assert [e.seq for e in five_entries] == [1, 2, 3, 4, 5]
    assert five_entries[0].prev_hash == GENESIS_HASH
    for previous, entry in itertools.pairwise(five_entries):
        assert entry.prev_hash == previous.entry_hash
    head = db.session.get(AuditHead, 1)
    assert head is not None
    assert (head.last_seq, head.last_hash) == (5, five_entries[-1].entry_hash)
    assert verify_chain() == (5, [])


def test_an_edited_row_is_named(five_entries: list[AuditEntry]) -> None:
    target = five_entries[2]
    db.session.execute(
        update(AuditEntry).where(AuditEntry.id == target.id).values(after={"fields": []})
    )
    assert problems_of() == [("edited", target.id, 3)]


def test_an_edited_row_whose_hash_was_recomputed_is_still_named(
    five_entries: list[AuditEntry],
) -> None:
    # Without the HMAC key a forger cannot make a hash that verifies, so rewriting it too fails.
    target = five_entries[1]
    db.session.execute(
        update(AuditEntry)
        .where(AuditEntry.id == target.id)
        .values(actor_label="someone-else", entry_hash="f" * 64)
    )
    assert problems_of() == [("edited", target.id, 2)]


def test_a_deleted_row_is_named_by_its_position(five_entries: list[AuditEntry]) -> None:
    db.session.execute(delete(AuditEntry).where(AuditEntry.id == five_entries[1].id))
    _count, problems = verify_chain()
    assert [(p.kind, p.seq) for p in problems] == [("deleted", 2)]
    assert f"after row id {five_entries[0].id} and before row id {five_entries[2].id}" in str(
        problems[0]
    )


def test_deleting_the_last_row_is_caught_by_the_head(five_entries: list[AuditEntry]) -> None:
    db.session.execute(delete(AuditEntry).where(AuditEntry.id == five_entries[-1].id))
    assert [(k, s) for k, _id, s in problems_of()] == [("deleted", 5)]


def test_an_inserted_row_is_named(five_entries: list[AuditEntry]) -> None:
    last = five_entries[-1]
    db.session.execute(
        insert(AuditEntry).values(
            seq=6,
            at=last.at,
            actor_id=None,
            actor_label="intruder",
            case_id=41,
            action="case.completed",
            subject="",
            internal=False,
            prev_hash=last.entry_hash,
            entry_hash="0" * 64,
        )
    )
    forged = db.session.scalar(select(AuditEntry.id).where(AuditEntry.actor_label == "intruder"))
    assert problems_of() == [("inserted", forged, 6)]


def test_a_row_inserted_in_the_middle_is_named(five_entries: list[AuditEntry]) -> None:
    # Make room by moving the last row's position: that edit is caught as well.
    db.session.execute(
        insert(AuditEntry).values(
            seq=0,
            at=five_entries[0].at,
            actor_label="intruder",
            action="staff.signed_in",
            subject="",
            internal=True,
            prev_hash=GENESIS_HASH,
            entry_hash="1" * 64,
        )
    )
    forged = db.session.scalar(select(AuditEntry.id).where(AuditEntry.actor_label == "intruder"))
    assert problems_of() == [("inserted", forged, 0)]


def test_flask_audit_verify_exits_non_zero_and_names_the_row(
    app: Flask, five_entries: list[AuditEntry]
) -> None:
    runner = app.test_cli_runner()
    intact = runner.invoke(args=["audit", "verify"])
    assert intact.exit_code == 0
    assert "intact: 5 entries" in intact.output

    target = five_entries[3]
    db.session.execute(
        update(AuditEntry).where(AuditEntry.id == target.id).values(action="task.reassigned")
    )
    db.session.commit()
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1
    assert f"edited: row id {target.id} (seq 4)" in broken.output


def test_citizens_see_only_the_public_entries_of_their_case(
    app: Flask, five_entries: list[AuditEntry]
) -> None:
    assert [e.action for e in public_entries(41)] == ["case.started", "task.completed"]
    assert [e.action for e in public_entries(42)] == ["case.started"]
    with app.test_request_context("/"):
        assert action_label("case.started") == "ثبت درخواست"


def test_a_view_of_personal_data_is_internal_and_lists_the_fields(
    five_entries: list[AuditEntry],
) -> None:
    view = five_entries[2]
    assert view.action == "personal_data.viewed"
    assert view.internal
    assert view.after == {"fields": ["mobile", "national_code"]}
    assert view.actor_label == "auditor"


def test_values_are_stored_exactly_as_hashed(app: Flask) -> None:
    from datetime import date
    from decimal import Decimal

    entry = record(
        "fee.set", actor=None, after={"amount": Decimal("48100000"), "on": date(2025, 9, 23)}
    )
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(AuditEntry, entry.id).after == {"amount": "48100000", "on": "2025-09-23"}  # type: ignore[union-attr]
    assert verify_chain()[1] == []


@pytest.mark.requires_commit
def test_two_concurrent_writers_keep_one_unbroken_chain(app: Flask) -> None:
    # Two workers appending at once (real transactions, committed): the head row hands out
    # each position once, so the chain has no gap, no fork and verifies. On SQLite the
    # writers take turns; on PostgreSQL they contend on the head row.
    import threading

    from tests.conftest import ON_POSTGRES

    def writer(name: str, errors: list[BaseException]) -> None:
        try:
            with app.app_context():
                for n in range(15):
                    record("case.started", actor=None, case=n, subject=f"{name}:{n}")
                    db.session.commit()
                db.session.remove()
        except BaseException as error:  # reported by the test below
            errors.append(error)

    errors: list[BaseException] = []
    workers = [threading.Thread(target=writer, args=(n, errors)) for n in ("a", "b")]
    try:
        if not ON_POSTGRES:
            for worker in workers:  # SQLite allows one writer: run them one after the other
                worker.start()
                worker.join()
        else:
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
        assert errors == []
        db.session.expire_all()
        seqs = list(db.session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))
        assert seqs == list(range(1, 31))
        assert verify_chain() == (30, [])
    finally:
        db.session.rollback()
        db.session.execute(delete(AuditEntry))
        db.session.execute(delete(AuditHead))
        db.session.commit()
