"""Citizen use cases: one-time codes, sign-in, profile and representations. Never commits.

Access control elsewhere (cases, documents) asks `represented_owner_ids(user)`: the ids of the
owners (users) this citizen may act for, by a verified power of attorney or as a company's
representative. A citizen's own id is not in it.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import BindParameter, Select, or_, select

from app.accounts.models import User, UserKind
from app.citizens.models import (
    CitizenProfile,
    CodePurpose,
    OneTimeCode,
    PersonKind,
    Representation,
    RepresentationKind,
    RepresentationStatus,
)
from app.db import db
from app.documents import scanning
from app.documents.checks import PDF, UploadRefused, inspect, sanitise_name
from app.documents.services import current_policy
from app.documents.storage import document_storage, key_for
from app.forms.validation import human_size
from app.persian import tehran_today
from app.sms.gateway import SmsGateway

CODE_DIGITS = 6


@dataclass(frozen=True)
class CodePolicy:
    """How long a code lives, how often it may be tried, and how soon another may be sent."""

    secret: str
    ttl: timedelta = timedelta(seconds=120)
    max_tries: int = 5
    resend_after: timedelta = timedelta(seconds=60)


class CodeProblem(Exception):
    """A code cannot be used; subclasses say why, each with its own message."""


class ResendTooSoon(CodeProblem):
    """A code for this number was sent moments ago."""

    def __init__(self, seconds_left: int) -> None:
        super().__init__(f"wait {seconds_left} s")
        self.seconds_left = seconds_left


class CodeUnknown(CodeProblem):
    """No code was asked for in this session (or it belongs to another number or purpose)."""


class CodeExpired(CodeProblem):
    """The code's two minutes are over."""


class CodeUsed(CodeProblem):
    """The code was already used (or replaced by a newer one)."""


class CodeLocked(CodeProblem):
    """The code was tried wrongly too many times."""


class CodeWrong(CodeProblem):
    """The code does not match; `tries_left` more tries remain."""

    def __init__(self, tries_left: int) -> None:
        super().__init__(f"{tries_left} tries left")
        self.tries_left = tries_left


class AccountDisabled(Exception):
    """The account behind this number is switched off."""


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _code_hash(secret: str, token: str, code: str) -> str:
    return hmac.new(secret.encode(), f"{token}:{code}".encode(), hashlib.sha256).hexdigest()


def seconds_until_resend(
    mobile: str, purpose: CodePurpose, policy: CodePolicy, *, now: datetime | None = None
) -> int:
    """Seconds before another code may go to this number (0: now)."""
    now = now or utc_now()
    latest = db.session.scalar(
        select(OneTimeCode.created_at)
        .where(OneTimeCode.mobile == mobile, OneTimeCode.purpose == purpose)
        .order_by(OneTimeCode.created_at.desc())
        .limit(1)
    )
    if latest is None:
        return 0
    wait = as_utc(latest) + policy.resend_after - now
    return max(1, math.ceil(wait.total_seconds())) if wait > timedelta(0) else 0


def issue_code(
    mobile: str, purpose: CodePurpose, policy: CodePolicy, *, now: datetime | None = None
) -> tuple[OneTimeCode, str]:
    """Create a new code for a number, replacing its earlier open ones; returns (row, code).

    The answer is the same whether or not the number has an account: nothing is looked up.

    :raises ResendTooSoon: when the last code for this number went out moments ago.
    """
    now = now or utc_now()
    if wait := seconds_until_resend(mobile, purpose, policy, now=now):
        raise ResendTooSoon(wait)
    for earlier in db.session.scalars(
        select(OneTimeCode).where(
            OneTimeCode.mobile == mobile,
            OneTimeCode.purpose == purpose,
            OneTimeCode.used_at.is_(None),
            OneTimeCode.replaced_at.is_(None),
        )
    ):
        earlier.replaced_at = now
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    token = secrets.token_urlsafe(32)
    row = OneTimeCode(
        token=token,
        mobile=mobile,
        purpose=purpose,
        code_hash=_code_hash(policy.secret, token, code),
        tries=0,
        created_at=now,
        expires_at=now + policy.ttl,
    )
    db.session.add(row)
    db.session.flush()
    return row, code


def send_code(gateway: SmsGateway, mobile: str, text: str) -> str:
    """Hand the code's text to the SMS gateway; returns the message id.

    :raises SmsError: when the gateway cannot send it.
    """
    return gateway.send(mobile, text)


def check_code(
    token: str | None,
    purpose: CodePurpose,
    code: str,
    policy: CodePolicy,
    *,
    now: datetime | None = None,
) -> OneTimeCode:
    """Use a code: the row locked, tried, and marked used when it matches.

    A wrong try is counted (flushed) before the exception, so the caller commits either way.

    :raises CodeUnknown, CodeUsed, CodeExpired, CodeLocked, CodeWrong: each its own reason.
    """
    now = now or utc_now()
    row = (
        db.session.scalars(
            select(OneTimeCode)
            .where(OneTimeCode.token == token, OneTimeCode.purpose == purpose)
            .with_for_update()
        ).first()
        if token
        else None
    )
    if row is None:
        raise CodeUnknown
    if row.used_at is not None or row.replaced_at is not None:
        raise CodeUsed
    if row.tries >= policy.max_tries:
        raise CodeLocked
    if now >= as_utc(row.expires_at):
        raise CodeExpired
    if not hmac.compare_digest(row.code_hash, _code_hash(policy.secret, row.token, code)):
        row.tries += 1
        db.session.flush()
        raise CodeWrong(policy.max_tries - row.tries)
    row.used_at = now
    db.session.flush()
    return row


def find_citizen(mobile: str) -> User | None:
    """The account signed in with this mobile number, if there is one."""
    return db.session.scalar(select(User).where(User.mobile == mobile))


def sign_in_citizen(mobile: str) -> User:
    """The citizen with this number, created on the first successful code.

    :raises AccountDisabled: when the account exists but is switched off, or is not a citizen's.
    """
    user = find_citizen(mobile)
    if user is None:
        user = User(kind=UserKind.CITIZEN, mobile=mobile, full_name="")
        db.session.add(user)
        db.session.flush()
    if user.kind != UserKind.CITIZEN or not user.is_active:
        raise AccountDisabled(mobile)
    return user


def profile_of(user: User) -> CitizenProfile:
    """The user's profile row, created empty when missing."""
    profile = db.session.get(CitizenProfile, user.id)
    if profile is None:
        profile = CitizenProfile(user_id=user.id, person_kind=PersonKind.NATURAL)
        db.session.add(profile)
        db.session.flush()
    return profile


def profile_complete(user: User) -> bool:
    """Whether the citizen gave the details filing needs (name, national code, postal code)."""
    profile = db.session.get(CitizenProfile, user.id)
    return bool(
        user.full_name and user.national_code and profile is not None and profile.postal_code
    )


def update_profile(
    user: User, *, full_name: str, national_code: str, postal_code: str, email: str | None
) -> CitizenProfile:
    """Store the citizen's validated details."""
    user.full_name = full_name
    user.national_code = national_code
    profile = profile_of(user)
    profile.postal_code = postal_code
    profile.email = email or None
    db.session.flush()
    return profile


def owner_account(kind: PersonKind, identifier: str, name: str) -> User:
    """The owner's account found by national code or legal ID, created without a mobile if new."""
    if kind == PersonKind.LEGAL:
        profile = db.session.scalar(
            select(CitizenProfile).where(CitizenProfile.legal_id == identifier)
        )
        if profile is not None:
            return profile.user
        owner = User(kind=UserKind.CITIZEN, full_name=name)
        db.session.add(owner)
        db.session.flush()
        db.session.add(
            CitizenProfile(user_id=owner.id, person_kind=PersonKind.LEGAL, legal_id=identifier)
        )
        db.session.flush()
        return owner
    owner = db.session.scalars(
        select(User)
        .where(User.kind == UserKind.CITIZEN, User.national_code == identifier)
        .order_by(User.mobile.is_(None), User.id)  # a signed-in account before a bare record
        .limit(1)
    ).first()
    if owner is None:
        owner = User(kind=UserKind.CITIZEN, full_name=name, national_code=identifier)
        db.session.add(owner)
        db.session.flush()
    return owner


class SelfRepresentation(ValueError):
    """A citizen cannot be their own attorney."""


def declare_representation(
    agent: User,
    *,
    kind: RepresentationKind,
    owner: User,
    reference: str,
    valid_until: date | None,
) -> Representation:
    """Record that the agent says they act for the owner; the counter verifies it later.

    :raises SelfRepresentation: when the owner is the agent.
    """
    if owner.id == agent.id:
        raise SelfRepresentation
    representation = Representation(
        agent_id=agent.id,
        owner_id=owner.id,
        kind=kind,
        status=RepresentationStatus.PENDING,
        reference=reference,
        valid_until=valid_until,
    )
    db.session.add(representation)
    db.session.flush()
    return representation


def attach_power_of_attorney(representation: Representation, data: bytes, file_name: str) -> None:
    """Check the uploaded power of attorney by its content and keep it in the document storage.

    :raises UploadRefused: when the file is empty, too large, not a PDF/JPEG/PNG, hides other
        content or fails the virus check; then nothing is stored.
    """
    policy = current_policy()
    shown = sanitise_name(file_name, PDF).removesuffix(".pdf") or "document"
    if not data:
        raise UploadRefused("empty", name=shown)
    if len(data) > policy.max_file_bytes:
        raise UploadRefused(
            "too_large",
            name=shown,
            size=human_size(len(data)),
            limit=human_size(policy.max_file_bytes),
        )
    inspection = inspect(data, shown, policy.images)
    if policy.clamd_address:
        client = scanning.ClamdClient(policy.clamd_address, policy.clamd_timeout)
        try:
            verdict = client.instream(data)
        except scanning.ScannerUnavailable as error:
            raise UploadRefused("scan_failed", name=shown) from error
        if not verdict.clean:
            raise UploadRefused("infected", name=shown)
    digest = hashlib.sha256(data).hexdigest()
    key = key_for(digest)
    document_storage().put(key, data, inspection.content_type)
    representation.document_key = key
    representation.document_name = sanitise_name(file_name, inspection.content_type)
    representation.document_type = inspection.content_type
    representation.document_sha256 = digest
    representation.document_size = len(data)
    db.session.flush()


def read_power_of_attorney(representation: Representation) -> bytes:
    """The stored power of attorney's bytes.

    :raises StorageError: when the storage cannot return them.
    """
    if not representation.document_key:
        raise LookupError("no document")
    return document_storage().get(representation.document_key)


def decide_representation(
    representation: Representation, *, approve: bool, actor: User, note: str = ""
) -> None:
    """The counter accepts or rejects a declared representation after seeing its documents."""
    if representation.status != RepresentationStatus.PENDING:
        raise ValueError("only a pending representation can be decided")
    representation.status = (
        RepresentationStatus.VERIFIED if approve else RepresentationStatus.REJECTED
    )
    representation.decided_by_id = actor.id
    representation.decided_at = utc_now()
    representation.decision_note = note
    db.session.flush()


def withdraw_representation(representation: Representation) -> None:
    """The agent no longer acts for the owner."""
    representation.status = RepresentationStatus.REVOKED
    db.session.flush()


def representations_of(agent: User) -> list[Representation]:
    """The agent's representations, newest first."""
    return list(
        db.session.scalars(
            select(Representation)
            .where(Representation.agent_id == agent.id)
            .order_by(Representation.id.desc())
        )
    )


def represented_owners(
    user_id: int | BindParameter[int], *, today: date | BindParameter[date] | None = None
) -> Select[tuple[int]]:
    """The query of the owners' ids this user may act for now: verified, not past their end date.

    A query rather than ids, so access checks can put it inside their own statement (the
    user and the day may be bound parameters of a statement built once).
    """
    today = today if today is not None else tehran_today()
    return select(Representation.owner_id).where(
        Representation.agent_id == user_id,
        Representation.status == RepresentationStatus.VERIFIED,
        or_(Representation.valid_until.is_(None), Representation.valid_until >= today),
    )


def represented_owner_ids(user: User, *, today: date | None = None) -> set[int]:
    """Ids of the owners this user may act for now: verified and not past their end date."""
    return set(db.session.scalars(represented_owners(user.id, today=today)))


def may_act_for(user: User, owner_id: int | None, *, today: date | None = None) -> bool:
    """Whether the user is the owner or acts for them now (a verified representation)."""
    if owner_id is None:
        return False
    if owner_id == user.id:
        return True
    query = represented_owners(user.id, today=today).where(Representation.owner_id == owner_id)
    return db.session.scalar(query.limit(1)) is not None


def pending_representations() -> list[Representation]:
    """Representations waiting for the counter, oldest first."""
    return list(
        db.session.scalars(
            select(Representation)
            .where(Representation.status == RepresentationStatus.PENDING)
            .order_by(Representation.id)
        )
    )
