"""Kiosk use cases: record assisted filing, find a citizen's cases for slips. Never commits."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from app.accounts.models import User
from app.cases.models import Case
from app.citizens.services import represented_owner_ids
from app.db import db
from app.kiosk.models import AssistedSession


def start_assisted_session(clerk: User, citizen: User) -> AssistedSession:
    """Record that the clerk now acts for the citizen, who confirmed with their code."""
    assisted = AssistedSession(
        clerk_id=clerk.id, citizen_id=citizen.id, started_at=datetime.now(UTC)
    )
    db.session.add(assisted)
    db.session.flush()
    return assisted


def end_assisted_session(assisted_id: int | None) -> None:
    """Close the assisted session (finish or timeout); unknown or closed ids are ignored."""
    assisted = db.session.get(AssistedSession, assisted_id) if assisted_id else None
    if assisted is not None and assisted.ended_at is None:
        assisted.ended_at = datetime.now(UTC)
        db.session.flush()


def visible_cases(user: User, limit: int = 20) -> list[Case]:
    """The user's own cases and their represented owners', newest first."""
    owners = {user.id, *represented_owner_ids(user)}
    return list(
        db.session.scalars(
            select(Case)
            .where(Case.applicant_id.in_(owners))
            .order_by(Case.created_at.desc(), Case.id.desc())
            .limit(limit)
        )
    )


def case_for_slip(user: User, tracking_code: str) -> Case | None:
    """The case with this tracking code if the user may see it (their own or an owner's)."""
    owners = {user.id, *represented_owner_ids(user)}
    return db.session.scalar(
        select(Case).where(
            Case.tracking_code == tracking_code,
            Case.applicant_id.in_(owners),
        )
    )
