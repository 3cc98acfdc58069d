"""Read helpers for the staff property page: a constant number of statements per page.

One statement each for the property, its cases (with their process versions and applicants),
their tasks, documents, violations and the service names, whatever the number of cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import joinedload

from app.accounts.models import User
from app.cases.models import Case, CaseTask, TaskState
from app.certificates.models import DocumentStatus, IssuedDocument
from app.certificates.services import is_expired
from app.db import db
from app.properties.models import Property, PropertyCase, Violation
from app.properties.services import search_condition

INQUIRY = "property_inquiry"
SEARCH_LIMIT = 50


def visible_properties(user: User) -> ColumnElement[bool]:
    """Properties in the user's districts (one not yet placed in a district is everyone's),
    as the office inbox scopes tasks."""
    return or_(
        Property.district_id.in_([d.id for d in user.districts]),
        Property.district_id.is_(None),
    )


def _visible_cases(user: User) -> ColumnElement[bool]:
    return or_(Case.district_id.in_([d.id for d in user.districts]), Case.district_id.is_(None))


def visible_property(user: User, property_id: int) -> Property | None:
    """The property if the user may see it (None: as good as missing)."""
    statement = select(Property).where(Property.id == property_id, visible_properties(user))
    return db.session.scalar(statement)


def search(user: User, q: str) -> list[Property]:
    """Properties matching a plate key, renewal code or postal code, in the user's districts."""
    condition = search_condition(q)
    if condition is None:
        return []
    statement = (
        select(Property)
        .where(condition, visible_properties(user))
        .order_by(Property.key)
        .limit(SEARCH_LIMIT)
    )
    return list(db.session.scalars(statement))


@dataclass(frozen=True)
class CaseRow:
    """A case about the property, with the task page its tracking code links to."""

    case: Case
    linked_at: datetime
    task_id: int | None


@dataclass(frozen=True)
class DocumentRow:
    """An issued document of the property's cases, with its standing today."""

    document: IssuedDocument
    tracking_code: str
    standing: str  # valid, expired, revoked, superseded


@dataclass
class PropertyPage:
    """Everything the property page shows."""

    prop: Property
    cases: list[CaseRow]
    documents: list[DocumentRow]
    violations: list[Violation]

    @property
    def inquiries(self) -> list[CaseRow]:
        """The inquiries (from notaries, banks, utilities) filed about the property."""
        return [row for row in self.cases if row.case.process_key == INQUIRY]

    def answers_of(self, case_id: int) -> list[DocumentRow]:
        """The documents issued on one case (an inquiry's answer)."""
        return [row for row in self.documents if row.document.case_id == case_id]


def _standing(document: IssuedDocument, now: datetime) -> str:
    if document.status != DocumentStatus.VALID:
        return document.status.value
    return "expired" if is_expired(document, now) else "valid"


def property_page(user: User, prop: Property, now: datetime | None = None) -> PropertyPage:
    """The property's cases, documents and violations as the user may see them."""
    moment = now or datetime.now(UTC)
    case_rows = db.session.execute(
        select(Case, PropertyCase.linked_at)
        .join(PropertyCase, PropertyCase.case_id == Case.id)
        .where(PropertyCase.property_id == prop.id, _visible_cases(user))
        .options(joinedload(Case.applicant))
        .order_by(Case.created_at.desc(), Case.id.desc())
    ).all()
    case_ids = [case.id for case, _linked in case_rows]
    # The tracking code links to the case's first open task, else its latest one.
    open_task: dict[int, int] = {}
    latest_task: dict[int, int] = {}
    if case_ids:
        tasks = db.session.execute(
            select(CaseTask.id, CaseTask.case_id, CaseTask.state)
            .where(CaseTask.case_id.in_(case_ids))
            .order_by(CaseTask.id)
        )
        for task_id, case_id, state in tasks:
            latest_task[case_id] = task_id
            if state == TaskState.OPEN:
                open_task.setdefault(case_id, task_id)
    documents: list[DocumentRow] = []
    codes = {case.id: case.tracking_code for case, _linked in case_rows}
    if case_ids:
        for document in db.session.scalars(
            select(IssuedDocument)
            .where(IssuedDocument.case_id.in_(case_ids))
            .order_by(IssuedDocument.issued_at.desc(), IssuedDocument.id.desc())
        ):
            documents.append(
                DocumentRow(
                    document,
                    codes.get(document.case_id or 0, ""),
                    _standing(document, moment),
                )
            )
    violations = list(
        db.session.scalars(
            select(Violation)
            .where(Violation.property_id == prop.id)
            .order_by(Violation.found_at.desc(), Violation.id.desc())
        )
    )
    return PropertyPage(
        prop=prop,
        cases=[
            CaseRow(case, linked_at, open_task.get(case.id) or latest_task.get(case.id))
            for case, linked_at in case_rows
        ],
        documents=documents,
        violations=violations,
    )
