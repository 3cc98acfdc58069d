"""Document use cases: check and keep an upload as a new version, list and read a case's documents.

Never commits: the route that called them commits once. Bytes are written to the storage
before the rows; their key is the SHA-256, so a rolled-back request leaves only a harmless copy.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import IO, Any

from flask import current_app
from sqlalchemy import Select, bindparam, func, select

from app.accounts.models import User
from app.cases.models import Case
from app.db import db
from app.documents import scanning
from app.documents.checks import (
    TYPE_NAMES,
    ImageLimits,
    UploadRefused,
    accepts,
    inspect,
    sanitise_name,
)
from app.documents.models import Document, DocumentVersion
from app.documents.storage import StorageError, document_storage, key_for
from app.forms.validation import human_size

__all__ = [
    "Policy",
    "UploadRefused",
    "add_version",
    "case_documents",
    "case_version",
    "read_upload",
    "read_version",
    "scan_upload",
    "version_values",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Policy:
    """The limits an upload must keep, from the configuration."""

    max_file_bytes: int
    max_case_bytes: int
    images: ImageLimits
    clamd_address: str
    clamd_timeout: float


def current_policy() -> Policy:
    """The limits configured for this app."""
    config = current_app.config
    return Policy(
        max_file_bytes=config["DOCUMENT_MAX_FILE_BYTES"],
        max_case_bytes=config["DOCUMENT_MAX_CASE_BYTES"],
        images=ImageLimits(
            min_side=config["DOCUMENT_MIN_IMAGE_SIDE"],
            max_pixels=config["DOCUMENT_MAX_IMAGE_PIXELS"],
        ),
        clamd_address=config["CLAMD_ADDRESS"],
        clamd_timeout=float(config["CLAMD_TIMEOUT"]),
    )


def read_upload(stream: IO[bytes], name: str, limit: int) -> bytes:
    """Read an upload's bytes, stopping one byte past the limit.

    :raises UploadRefused: when the file is larger than the limit.
    """
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise UploadRefused("too_large", name=name, size=_more_than(limit), limit=human_size(limit))
    return data


def _more_than(limit: int) -> str:
    return "> " + human_size(limit)


def scan_upload(data: bytes, name: str, policy: Policy) -> str:
    """Scan bytes with clamd when configured: clean, or not_configured without a scanner.

    :raises UploadRefused: when the file is infected or the scanner cannot answer.
    """
    if not policy.clamd_address:
        return scanning.NOT_CONFIGURED
    client = scanning.ClamdClient(policy.clamd_address, policy.clamd_timeout)
    try:
        verdict = client.instream(data)
    except scanning.ScannerUnavailable as error:
        log.warning("virus scan failed for an upload: %s", error)
        raise UploadRefused("scan_failed", name=name) from error
    if not verdict.clean:
        log.warning("upload refused by the virus scanner: %s", verdict.signature)
        raise UploadRefused("infected", name=name)
    return scanning.CLEAN


def case_bytes(case: Case) -> int:
    """Bytes of every version of every document of a case (earlier versions count too)."""
    total = db.session.scalar(
        select(func.coalesce(func.sum(DocumentVersion.size), 0))
        .join(Document, DocumentVersion.document_id == Document.id)
        .where(Document.case_id == case.id)
    )
    return int(total or 0)


def add_version(
    case: Case,
    *,
    slot: str,
    title: dict[str, str],
    data: bytes,
    file_name: str,
    actor: User | None,
    accept: list[str] | None = None,
    max_size: int | None = None,
    policy: Policy | None = None,
) -> DocumentVersion:
    """Check an upload and keep it as the newest version of the case's document in `slot`.

    `accept` and `max_size` narrow the limits for one question (a form's x-accept, x-maxSize).

    :raises UploadRefused: when the file breaks any rule; then nothing is stored.
    """
    policy = policy or current_policy()
    shown = sanitise_name(file_name, "application/pdf").removesuffix(".pdf") or "document"
    limit = min(policy.max_file_bytes, max_size or policy.max_file_bytes)
    if not data:
        raise UploadRefused("empty", name=shown)
    if len(data) > limit:
        raise UploadRefused(
            "too_large", name=shown, size=human_size(len(data)), limit=human_size(limit)
        )
    inspection = inspect(data, shown, policy.images)
    stored_name = sanitise_name(file_name, inspection.content_type)
    if not accepts(accept, inspection.content_type, stored_name):
        raise UploadRefused(
            "not_accepted_here",
            name=shown,
            kind=TYPE_NAMES[inspection.content_type],
            accepted=_accepted_names(accept or []),
        )
    total = case_bytes(case) + len(data)
    if total > policy.max_case_bytes:
        raise UploadRefused(
            "case_full", limit=human_size(policy.max_case_bytes), total=human_size(total)
        )
    scan_status = scan_upload(data, shown, policy)
    digest = hashlib.sha256(data).hexdigest()
    key = key_for(digest)
    document_storage().put(key, data, inspection.content_type)
    now = datetime.now(UTC)
    document = db.session.scalar(
        select(Document).where(Document.case_id == case.id, Document.slot == slot)
    )
    if document is None:
        document = Document(case_id=case.id, slot=slot, title=dict(title), created_at=now)
        db.session.add(document)
    version = DocumentVersion(
        number=len(document.versions) + 1,
        storage_key=key,
        file_name=stored_name,
        content_type=inspection.content_type,
        size=len(data),
        sha256=digest,
        width=inspection.width,
        height=inspection.height,
        scan_status=scan_status,
        uploaded_by_id=actor.id if actor else None,
        uploaded_at=now,
    )
    document.versions.append(version)
    db.session.flush()
    return version


def _accepted_names(accept: list[str]) -> str:
    names = []
    for item in accept:
        lowered = item.lower()
        if lowered in TYPE_NAMES:
            names.append(TYPE_NAMES[lowered])
        elif lowered == "image/*":
            names.extend(["JPEG", "PNG"])
        elif lowered.startswith("."):
            names.append(lowered[1:].upper())
    return "، ".join(dict.fromkeys(names)) or "—"


@lru_cache(maxsize=1)
def _case_documents_statement() -> Select[tuple[Document]]:
    # Built once: every case page and list of cases asks.
    ids = bindparam("case_ids", expanding=True)
    return select(Document).where(Document.case_id.in_(ids)).order_by(Document.id)


def case_documents(case_ids: list[int]) -> dict[int, list[Document]]:
    """The documents of some cases with all their versions, in two queries."""
    if not case_ids:
        return {}
    rows = db.session.scalars(_case_documents_statement(), {"case_ids": case_ids}).all()
    grouped: dict[int, list[Document]] = {case_id: [] for case_id in case_ids}
    for document in rows:
        grouped[document.case_id].append(document)
    return grouped


def case_version(case_id: int, version_id: int) -> DocumentVersion | None:
    """A version of one of the case's documents, or None when it belongs to another case."""
    return db.session.scalar(
        select(DocumentVersion)
        .join(Document, DocumentVersion.document_id == Document.id)
        .where(DocumentVersion.id == version_id, Document.case_id == case_id)
    )


def read_version(version: DocumentVersion) -> bytes:
    """The stored bytes of a version, checked against its SHA-256.

    :raises StorageError: when the bytes are missing or were altered.
    """
    data = document_storage().get(version.storage_key)
    if hashlib.sha256(data).hexdigest() != version.sha256:
        raise StorageError(f"document version {version.id}: stored bytes do not match")
    return data


def version_values(version: DocumentVersion) -> dict[str, Any]:
    """What a form answer keeps of an uploaded file (the forms' file metadata plus its id)."""
    return {
        "name": version.file_name,
        "type": version.content_type,
        "size": version.size,
        "sha256": version.sha256,
        "document_version_id": version.id,
    }
