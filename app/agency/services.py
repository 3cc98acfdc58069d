"""Agency use cases: the questions addressed to an outside agency, the inquiries an
organisation files, and the API tokens of system-to-system inquiries.

Every function takes the user as an argument, may add and flush, and never commits: the
agency's routes and its CLI command commit once. Which lanes are agencies' and which are
inquirers' comes from processes/roles.json ("agency", "requester"); which services an
organisation may start comes from each service card's "requesters" list.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select

from app.accounts.models import District, User, UserKind
from app.agency.models import ApiToken
from app.cases import services as cases
from app.cases import workflow as bridge
from app.cases.models import Case, CaseTask, TaskState
from app.certificates.models import IssuedDocument
from app.db import db
from app.fees.models import Invoice, InvoiceStatus
from app.payments.models import Payment
from app.payments.services import RECEIPT_DOCUMENT
from app.persian.identifiers import check_tracking_code
from app.persian.property import RegistryPlate, plate_in_words
from app.persian.text import normalize_identifier
from app.portal.services import published_versions
from app.processes.models import ProcessVersion

PAGE_SIZE = 25
#: The task property holding the question the agency is asked (Persian text, from the BPMN).
QUESTION_PROPERTY = "question"
#: Token text: a recognisable prefix (secret scanners find leaked ones) and 256 random bits.
TOKEN_PREFIX = "pvn_"  # noqa: S105 - a label, not a secret


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """A stored moment as an aware UTC datetime (SQLite hands back naive ones)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- Who is who -----------------------------------------------------------------------------


def agency_lanes(user: User) -> list[str]:
    """The agency lanes (AGENCY_*) the user answers in: roles marked agency, not requester."""
    catalogue = bridge.role_catalogue()
    return sorted(
        code
        for code in user.role_codes
        if catalogue.get(code, {}).get("agency") and not catalogue[code].get("requester")
    )


def requester_roles(user: User) -> set[str]:
    """The inquirer roles (REQUESTER_*) the user's organisation holds."""
    catalogue = bridge.role_catalogue()
    return {code for code in user.role_codes if catalogue.get(code, {}).get("requester")}


def is_agency_user(user: User) -> bool:
    return user.kind == UserKind.AGENCY


# --- Questions addressed to my agency ---------------------------------------------------------


@dataclass(frozen=True)
class QuestionRow:
    """One open question in the agency's list."""

    task_id: int
    name: str
    properties: dict[str, str]
    created_at: datetime
    due_at: datetime | None
    tracking_code: str
    process_key: str

    @property
    def question(self) -> str:
        return (self.properties or {}).get(QUESTION_PROPERTY, "")

    def overdue(self, now: datetime) -> bool:
        return self.due_at is not None and as_utc(self.due_at) < now


@dataclass(frozen=True)
class QuestionPage:
    rows: list[QuestionRow]
    total: int
    overdue: int
    page: int
    pages: int


def _visible_tasks(user: User) -> list[ColumnElement[bool]]:
    conditions = [CaseTask.state == TaskState.OPEN, CaseTask.lane.in_(agency_lanes(user))]
    if user.districts:
        # An agency office serving some districts; the city-wide offices have none.
        conditions.append(
            or_(
                CaseTask.district_id.in_([d.id for d in user.districts]),
                CaseTask.district_id.is_(None),
            )
        )
    return conditions


def _tracking_search(q: str) -> ColumnElement[bool] | None:
    raw = normalize_identifier(q)
    if not raw:
        return None
    check = check_tracking_code(raw)
    return Case.tracking_code == (check.value if check.ok else raw)


def questions(user: User, *, q: str, page: int, now: datetime) -> QuestionPage:
    """The open questions in the user's agency lanes, overdue first (three statements)."""
    conditions = _visible_tasks(user)
    search = _tracking_search(q)
    counting = select(func.count(), func.count().filter(CaseTask.due_at < now)).select_from(
        CaseTask
    )
    if search is not None:
        conditions.append(search)
        counting = counting.join(Case, Case.id == CaseTask.case_id)
    total, overdue = db.session.execute(counting.where(*conditions)).one()
    pages = max(1, -(-int(total) // PAGE_SIZE))
    page = min(page, pages)
    statement = (
        select(
            CaseTask.id,
            CaseTask.name,
            CaseTask.properties,
            CaseTask.created_at,
            CaseTask.due_at,
            Case.tracking_code,
            Case.process_key,
        )
        .join(Case, Case.id == CaseTask.case_id)
        .where(*conditions)
        .order_by(CaseTask.due_at.asc().nulls_last(), CaseTask.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    rows = [QuestionRow(*row) for row in db.session.execute(statement)]
    return QuestionPage(rows=rows, total=int(total), overdue=int(overdue), page=page, pages=pages)


def may_answer(user: User, task: CaseTask) -> bool:
    """Whether the task is in one of the user's agency lanes (and districts, when they have any)."""
    if task.lane not in agency_lanes(user):
        return False
    district_ids = {d.id for d in user.districts}
    return not district_ids or task.district_id is None or task.district_id in district_ids


def agency_task(user: User, task_id: int) -> CaseTask | None:
    """A task of the user's agency (open or answered), else None: another's is as good as missing."""
    task = db.session.get(CaseTask, task_id)
    return task if task is not None and may_answer(user, task) else None


# --- What the agency may know of the case -------------------------------------------------------


@dataclass(frozen=True)
class PropertyFacts:
    """The property keys the agency needs to answer, and no more."""

    plate: str
    renewal_code: str
    postal_code: str
    address: str
    area: Any
    land_use: str

    @property
    def shown_fields(self) -> list[str]:
        """The personal-data fields the page shows (for the audit trail)."""
        names = ("plate", "renewal_code", "postal_code", "address", "area", "land_use")
        return [name for name in names if getattr(self, name) not in ("", None)]


def property_facts(case: Case, locale: str) -> PropertyFacts:
    """The property keys from the case's data (the application form's answers)."""
    data = bridge.load_workflow(case).data
    plate = RegistryPlate.from_answers(data.get("plate"))
    return PropertyFacts(
        plate=plate_in_words(plate, locale) if plate else (case.registry_plate or ""),
        renewal_code=str(data.get("renewal_code") or case.renewal_code or ""),
        postal_code=str(data.get("postal_code") or ""),
        address=str(data.get("address") or ""),
        area=data.get("area"),
        land_use=str(data.get("land_use") or data.get("usage") or ""),
    )


# --- Inquiring organisations ----------------------------------------------------------------


def requestable_versions(user: User, channel: str | None = None) -> list[ProcessVersion]:
    """The newest versions of the services the user's organisation may start (card "requesters")."""
    roles = requester_roles(user)
    chosen = []
    for version in published_versions():
        card = version.card or {}
        if not roles & set(card.get("requesters") or []):
            continue
        if channel is not None and channel not in (card.get("channels") or []):
            continue
        chosen.append(version)
    return chosen


def requestable_version(
    user: User, process_key: str, channel: str | None = None
) -> ProcessVersion | None:
    return next(
        (v for v in requestable_versions(user, channel) if v.process_key == process_key), None
    )


def districts() -> list[District]:
    return list(db.session.scalars(select(District).order_by(District.code)))


def start_inquiry(version: ProcessVersion, user: User, district: District | None) -> Case:
    """Open an inquiry case: the organisation's account is the applicant (it does the APPLICANT steps)."""
    return cases.start_case(version, applicant=user, district=district, data={}, actor=user)


def inquiry_case(user: User, case_id: int, *, lock: bool = False) -> Case | None:
    """One of the organisation's own cases, else None (shown as 404)."""
    case = cases.lock_case(case_id) if lock else db.session.get(Case, case_id)
    return case if case is not None and case.applicant_id == user.id else None


def applicant_tasks(case: Case) -> list[CaseTask]:
    """The case's open tasks in the applicant's lanes, oldest first."""
    lanes = bridge.citizen_lanes()
    return [t for t in case.tasks if t.state == TaskState.OPEN and t.lane in lanes]


def applicant_task(case: Case, task_id: int) -> CaseTask | None:
    lanes = bridge.citizen_lanes()
    return next((t for t in case.tasks if t.id == task_id and t.lane in lanes), None)


@dataclass(frozen=True)
class InquiryInvoice:
    """An invoice of one of the organisation's inquiries, with the payment that settled it."""

    invoice: Invoice
    paid_by: Payment | None

    @property
    def payable(self) -> bool:
        return self.invoice.status == InvoiceStatus.OPEN


@dataclass(frozen=True)
class InquiryRow:
    """One of the organisation's inquiries in its list."""

    case: Case
    open_task: CaseTask | None
    answers: list[IssuedDocument]
    invoices: list[InquiryInvoice] = field(default_factory=list)


def my_inquiries(user: User, *, page: int) -> tuple[list[InquiryRow], int]:
    """The organisation's cases, newest first, with their open step and issued answers."""
    total = db.session.scalar(select(func.count(Case.id)).where(Case.applicant_id == user.id)) or 0
    pages = max(1, -(-int(total) // PAGE_SIZE))
    found = db.session.scalars(
        select(Case)
        .where(Case.applicant_id == user.id)
        .order_by(Case.id.desc())
        .limit(PAGE_SIZE)
        .offset((min(page, pages) - 1) * PAGE_SIZE)
    ).all()
    ids = [case.id for case in found]
    lanes = sorted(bridge.citizen_lanes())
    open_tasks: dict[int, CaseTask] = {}
    answers: dict[int, list[IssuedDocument]] = {case_id: [] for case_id in ids}
    if ids:
        for task in db.session.scalars(
            select(CaseTask)
            .where(
                CaseTask.case_id.in_(ids),
                CaseTask.state == TaskState.OPEN,
                CaseTask.lane.in_(lanes),
            )
            .order_by(CaseTask.id)
        ):
            open_tasks.setdefault(task.case_id, task)
        for document in db.session.scalars(
            select(IssuedDocument)
            .where(
                IssuedDocument.case_id.in_(ids),
                # Receipts are shown beside their invoice, not as answers.
                IssuedDocument.document_type != RECEIPT_DOCUMENT,
            )
            .order_by(IssuedDocument.id)
        ):
            answers[document.case_id or 0].append(document)
    invoices = _case_invoices(ids)
    rows = [
        InquiryRow(
            case, open_tasks.get(case.id), answers.get(case.id, []), invoices.get(case.id, [])
        )
        for case in found
    ]
    return rows, pages


def _case_invoices(case_ids: list[int]) -> dict[int, list[InquiryInvoice]]:
    """The cases' invoices, oldest first, each with its settling payment (two queries)."""
    if not case_ids:
        return {}
    found = list(
        db.session.scalars(
            select(Invoice).where(Invoice.case_id.in_(case_ids)).order_by(Invoice.id)
        )
    )
    paid_ids = [i.paid_payment_id for i in found if i.paid_payment_id is not None]
    payments = (
        {p.id: p for p in db.session.scalars(select(Payment).where(Payment.id.in_(paid_ids)))}
        if paid_ids
        else {}
    )
    result: dict[int, list[InquiryInvoice]] = {}
    for invoice in found:
        paid_by = payments.get(invoice.paid_payment_id) if invoice.paid_payment_id else None
        result.setdefault(invoice.case_id or 0, []).append(InquiryInvoice(invoice, paid_by))
    return result


def answer_documents(case: Case) -> list[IssuedDocument]:
    return list(
        db.session.scalars(
            select(IssuedDocument)
            .where(IssuedDocument.case_id == case.id)
            .order_by(IssuedDocument.id)
        )
    )


def case_document(user: User, number: str) -> IssuedDocument | None:
    """A document issued on one of the organisation's own cases, else None."""
    document = db.session.scalar(
        select(IssuedDocument).where(IssuedDocument.document_number == number)
    )
    if document is None or document.case_id is None:
        return None
    return document if inquiry_case(user, document.case_id) is not None else None


def valid_until(document: IssuedDocument) -> date | None:
    """The last day the document is valid on, when it expires (a column, or a signed fact)."""
    value = getattr(document, "valid_until", None) or (document.facts or {}).get("valid_until")
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


# --- API tokens -----------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(user: User, *, now: datetime) -> str:
    """A new API token for the account, replacing its earlier ones; returned once, kept hashed.

    :raises ValueError: when the account is not an agency's.
    """
    if user.kind != UserKind.AGENCY:
        raise ValueError("API tokens are for agency accounts only")
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(
        ApiToken(user_id=user.id, token_hash=_digest(token), prefix=token[:10], created_at=now)
    )
    db.session.flush()
    return token


def revoke_tokens(user: User) -> int:
    """Delete the account's API tokens; how many there were."""
    result = db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    return int(getattr(result, "rowcount", 0) or 0)


def token_user(token: str, *, now: datetime) -> User | None:
    """The active agency account holding this token, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or not row.user.is_active or row.user.kind != UserKind.AGENCY:
        return None
    row.last_used_at = now
    return row.user


def case_by_code(user: User, tracking_code: str) -> Case | None:
    """The organisation's case with this tracking code, else None."""
    check = check_tracking_code(tracking_code)
    if not check.ok:
        return None
    case = db.session.scalar(select(Case).where(Case.tracking_code == check.value))
    return case if case is not None and case.applicant_id == user.id else None
