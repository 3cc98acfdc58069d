"""Document use cases: issue and sign, verify, revoke or supersede, and find for the owner."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.accounts.models import User
from app.cases.models import Case
from app.certificates.models import DocumentStatus, IssuedDocument
from app.certificates.signing import signing_key, verify_signature
from app.db import db
from app.persian.identifiers import calbit
from app.persian.jalali import tehran_today, to_jalali


class DocumentStateError(ValueError):
    """The document cannot change to that state (already revoked or superseded)."""


def _utc(moment: datetime) -> datetime:
    # SQLite returns naive datetimes for timezone-aware columns; they were stored as UTC.
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def signed_data(document: IssuedDocument) -> dict[str, Any]:
    """What the signature covers: number, type, issue time (UTC, seconds), the facts, and the
    validity date when the document has one (absent otherwise, so older signatures still hold)."""
    data = {
        "document_number": document.document_number,
        "document_type": document.document_type,
        "issued_at": _utc(document.issued_at).replace(microsecond=0).isoformat(),
        "facts": document.facts,
    }
    if document.valid_until is not None:
        data["valid_until"] = document.valid_until.isoformat()
    return data


def valid_until(issued_at: datetime, valid_days: int) -> date:
    """The last valid day of a document valid `valid_days` calendar days from its issue (Tehran)."""
    return tehran_today(issued_at) + timedelta(days=valid_days)


def is_expired(document: IssuedDocument, now: datetime) -> bool:
    """Whether the document's validity period has ended by `now` (Tehran calendar days)."""
    if document.valid_until is None:
        return False
    return tehran_today(now) > document.valid_until


def new_document_number(district_code: str, now: datetime) -> str:
    """A 13-digit document number: Jalali year, district, 6 random digits, check digit."""
    year = to_jalali(now.date())[0]
    body = f"{year}{district_code:0>2}{secrets.randbelow(10**6):06d}"
    return f"{body}{calbit(body)}"


def unused_document_number(district_code: str, now: datetime) -> str:
    """A fresh document number nobody holds yet."""
    while True:
        number = new_document_number(district_code, now)
        taken = db.session.scalar(
            select(IssuedDocument.id).where(IssuedDocument.document_number == number)
        )
        if not taken:
            return number


def sign_document(document: IssuedDocument) -> None:
    """Sign the document's canonical data with the configured key."""
    key = signing_key()
    document.issued_at = _utc(document.issued_at).replace(microsecond=0)
    document.signature = key.sign(signed_data(document))
    document.key_id = key.key_id


def issue_document(
    *,
    document_type: str,
    facts: dict[str, Any],
    idempotency_key: str,
    case: Case | None,
    now: datetime,
    valid_days: int | None = None,
) -> IssuedDocument:
    """Register and sign a document (the same one again for the same idempotency key).

    With `valid_days`, the document is valid that many calendar days from its issue date.
    """
    existing = db.session.scalar(
        select(IssuedDocument).where(IssuedDocument.idempotency_key == idempotency_key)
    )
    if existing is not None:
        return existing
    district = case.district.code if case is not None and case.district is not None else "00"
    document = IssuedDocument(
        document_number=unused_document_number(district, now),
        idempotency_key=idempotency_key,
        case_id=case.id if case is not None else None,
        document_type=document_type,
        facts=facts,
        issued_at=now,
        valid_until=valid_until(now, valid_days) if valid_days is not None else None,
        status=DocumentStatus.VALID,
    )
    sign_document(document)
    db.session.add(document)
    db.session.flush()
    return document


@dataclass(frozen=True)
class Verification:
    """What the public verification page says about a document."""

    document: IssuedDocument
    signature_valid: bool
    #: The document that replaced this one, when superseded.
    successor: IssuedDocument | None
    #: Its validity period (valid_until) has ended.
    expired: bool = False

    @property
    def authentic_and_current(self) -> bool:
        return (
            self.signature_valid
            and self.document.status == DocumentStatus.VALID
            and not self.expired
        )


def verify_document(document: IssuedDocument, now: datetime | None = None) -> Verification:
    """Check the stored facts against the signature with the published key."""
    key = signing_key()
    valid = document.key_id == key.key_id and verify_signature(
        signed_data(document), document.signature, key.public
    )
    successor = (
        db.session.get(IssuedDocument, document.superseded_by_id)
        if document.superseded_by_id
        else None
    )
    expired = is_expired(document, now or datetime.now(UTC))
    return Verification(
        document=document, signature_valid=valid, successor=successor, expired=expired
    )


def find_document(number: str) -> IssuedDocument | None:
    """The document with this public number."""
    return db.session.scalar(select(IssuedDocument).where(IssuedDocument.document_number == number))


def document_for(number: str, citizen: User) -> IssuedDocument | None:
    """The document if it was issued on one of the citizen's cases (else None: not found)."""
    document = find_document(number)
    if document is None or document.case_id is None:
        return None
    case = db.session.get(Case, document.case_id)
    if case is None or case.applicant_id != citizen.id:
        return None
    return document


def case_documents(case_id: int) -> list[IssuedDocument]:
    """The documents issued on a case, oldest first (for the case page's download links)."""
    statement = (
        select(IssuedDocument).where(IssuedDocument.case_id == case_id).order_by(IssuedDocument.id)
    )
    return list(db.session.scalars(statement))


def revoke_document(document: IssuedDocument, *, reason: str, now: datetime) -> None:
    """Revoke a valid document; its verification page says so from now on.

    :raises DocumentStateError: when it is not valid any more.
    """
    if document.status != DocumentStatus.VALID:
        raise DocumentStateError(document.status.value)
    document.status = DocumentStatus.REVOKED
    document.status_reason = reason
    document.status_changed_at = now


def supersede_document(
    document: IssuedDocument, successor: IssuedDocument, *, reason: str, now: datetime
) -> None:
    """Mark a document replaced by a newer one; verifiers are pointed to the successor.

    :raises DocumentStateError: when it is not valid any more.
    """
    if document.status != DocumentStatus.VALID:
        raise DocumentStateError(document.status.value)
    document.status = DocumentStatus.SUPERSEDED
    document.superseded_by_id = successor.id
    document.status_reason = reason
    document.status_changed_at = now
