"""Portal use cases: publish services, file a request task by task, show a case, look one up.

Every function takes the citizen as an argument and never commits; the portal's routes do.
Nothing here knows a process's element ids: steps, lanes, forms and texts come from the
deployed version (BPMN, service card, forms) and the case's mirrored rows.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar, cast

from flask import current_app
from lxml import etree
from sqlalchemy import ColumnElement, Date, Integer, Select, bindparam, func, or_, select
from sqlalchemy.orm import defer, joinedload

from app.accounts.models import District, User
from app.cases import services as cases
from app.cases import workflow as bridge
from app.cases.connectors import render_notification
from app.cases.models import Case, CaseEvent, CaseStatus, CaseTask, TaskState
from app.citizens.models import CitizenProfile
from app.citizens.services import represented_owners
from app.db import db
from app.documents.models import Document
from app.documents.services import case_documents
from app.fees.models import Invoice, InvoiceStatus
from app.forms.definitions import FormDefinition, load_form, parse_definition
from app.forms.models import DraftStatus, FormDraft
from app.forms.services import Owner, find_submission, start_draft, submit_draft
from app.i18n import current_locale, localized
from app.notifications.models import Notification
from app.persian.jalali import tehran_today
from app.persian.property import RegistryPlate
from app.portal.models import TaskDraft
from app.processes.models import ProcessVersion
from app.processes.services import latest_version
from app.processes.step_names import card_text, current_steps_text
from app.properties.models import Property
from app.properties.services import plate_of, property_of_case
from app.transparency import services as transparency
from app.transparency.models import ServiceRating
from app.transparency.services import ExpectedCompletion

T = TypeVar("T")

#: The service card's notification sent when a request reaches the municipality, unless the
#: process already sends one itself.
SUBMITTED_EVENT = "submitted"

# Lines of the history a citizen sees; the rest (scripts, decisions) is internal bookkeeping.
PUBLIC_EVENT_KINDS = frozenset(
    {"process_started", "message_received", "timer_fired", "milestone_reached", "process_completed"}
)

# Script tasks are the process's own bookkeeping (counters, defaults), not steps anyone takes.
INTERNAL_STEP_TYPES = frozenset({"scriptTask"})

BPMN_NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}


# --- Cached facts: roles and what the BPMN says about its elements ------------------------------


@dataclass(frozen=True)
class Roles:
    """The role catalogue's names and which lanes are the citizen's."""

    names: dict[str, Any]
    citizen: frozenset[str]

    def name(self, lane: str) -> str:
        """A lane's role name in the page's language (the code when unknown)."""
        return localized(self.names.get(lane, {})) or lane


_roles_cache: dict[tuple[str, int], Roles] = {}


def roles() -> Roles:
    """processes/roles.json, read again only when the file changes (pages ask on every view)."""
    path = os.path.join(current_app.config["PROCESSES_DIR"], "roles.json")
    key = (path, os.stat(path).st_mtime_ns)
    cached = _roles_cache.get(key)
    if cached is None:
        catalogue = bridge.role_catalogue()
        cached = Roles(
            names=catalogue,
            citizen=frozenset(code for code, role in catalogue.items() if role.get("citizen")),
        )
        _roles_cache.clear()
        _roles_cache[key] = cached
    return cached


@dataclass(frozen=True)
class BpmnFacts:
    """Names and documentation of a version's BPMN elements, by element id."""

    names: dict[str, str]
    documentation: dict[str, str]
    #: Element ids by name: the current step is kept as names (`Case.current_step`).
    ids: dict[str, str] = field(default_factory=dict)


_facts_cache: dict[str, BpmnFacts] = {}


def bpmn_facts(version: ProcessVersion) -> BpmnFacts:
    """What the version's BPMN says about its elements, parsed once per version."""
    cached = _facts_cache.get(version.content_hash)
    if cached is None:
        cached = _keep_facts(version.content_hash, version.files.get("process.bpmn", ""))
    return cached


def facts_by_hash(version_id: int, content_hash: str) -> BpmnFacts:
    """The BPMN facts of a version known only by id and content hash (as the lookup knows it)."""
    cached = _facts_cache.get(content_hash)
    if cached is None:
        files = db.session.scalar(
            select(ProcessVersion.files).where(ProcessVersion.id == version_id)
        )
        cached = _keep_facts(content_hash, (files or {}).get("process.bpmn", ""))
    return cached


def _keep_facts(content_hash: str, xml: str) -> BpmnFacts:
    facts = _parse_facts(xml)
    if len(_facts_cache) > 64:
        _facts_cache.clear()
    _facts_cache[content_hash] = facts
    return facts


def _parse_facts(xml: str) -> BpmnFacts:
    if not xml:
        return BpmnFacts({}, {})
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.fromstring(xml.encode("utf-8"), parser)
    names: dict[str, str] = {}
    docs: dict[str, str] = {}
    for node in root.iter():
        element_id = node.get("id") if isinstance(node.tag, str) else None
        if element_id and node.get("name"):
            names[element_id] = node.get("name")
    for node in root.iterfind(".//bpmn:documentation", BPMN_NS):
        owner = node.getparent()
        if owner is not None and owner.get("id") and node.text:
            docs[owner.get("id")] = node.text.strip()
    return BpmnFacts(names, docs, {name: element_id for element_id, name in names.items()})


def readable_diagram(version: ProcessVersion, locale: str) -> bytes:
    """The version's BPMN as citizens read it, in `locale`.

    The pool is named as the service, each lane by its role (the file names lanes by role
    code, which the engine needs) and each task and event by the card's name for it, where the
    card has one in that language. Layout and ids are untouched. Analysts get the file as
    deployed from the same address without `labels`.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.fromstring(version.files["process.bpmn"].encode("utf-8"), parser)
    role_names = roles().names
    card = card_of(version)
    step_names = card.get("step_names") or {}
    service_name = card.get("name")
    for pool in root.iterfind(".//bpmn:participant", BPMN_NS):
        if isinstance(service_name, dict) and service_name.get(locale):
            pool.set("name", str(service_name[locale]))  # the service's name, as the page's
    for lane in root.iterfind(".//bpmn:lane", BPMN_NS):
        code = lane.get("name")
        if code:  # roles.json is keyed like a card's texts: {code: {"fa": …, "en": …}}
            lane.set("name", card_text(role_names, code, code, locale))
    for node in root.iter():
        element_id = node.get("id") if isinstance(node.tag, str) else None
        if element_id in step_names and node.get("name"):
            node.set("name", card_text(step_names, element_id, node.get("name"), locale))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def light_version() -> Any:
    """Load a case's process version without files, forms and card (read through caches)."""
    return joinedload(Case.process_version).load_only(
        ProcessVersion.id,
        ProcessVersion.process_key,
        ProcessVersion.number,
        ProcessVersion.content_hash,
    )


_cards: dict[str, dict[str, Any]] = {}


def card_of(version: ProcessVersion, content_hash: str | None = None) -> dict[str, Any]:
    """A version's service card, read once per content: versions never change, and on SQLite
    reading the card means reading past the row's stored BPMN and forms."""
    key = content_hash or version.content_hash
    card = _cards.get(key)
    if card is None:
        card = dict(version.card or {})
        if len(_cards) > 256:
            _cards.clear()
        _cards[key] = card
    return card


def card_by_hash(version_id: int, content_hash: str) -> dict[str, Any]:
    """The card of a version known only by id and content hash (the lookup's single query)."""
    card = _cards.get(content_hash)
    if card is None:
        stored = db.session.scalar(
            select(ProcessVersion.card).where(ProcessVersion.id == version_id)
        )
        card = _cards[content_hash] = dict(stored or {})
    return card


def service_name(version: ProcessVersion) -> str:
    """The service's name in the page's language."""
    return localized(card_of(version).get("name") or version.process_key)


# --- Who sees which case ------------------------------------------------------------------------


def visible_to(user: User) -> ColumnElement[bool]:
    """The condition on cases this citizen may see: their own and their represented owners'.

    A condition inside the case's own statement, so checking access costs no query of its own.
    """
    return or_(Case.applicant_id == user.id, Case.applicant_id.in_(represented_owners(user.id)))


def visible_case(
    user: User, case_id: int, *, lock: bool = False, to_read: bool = False
) -> Case | None:
    """The case if this citizen may see it; None for anyone else's (shown as 404).

    `to_read` leaves the engine state unloaded: pages that only show a case never need it.
    """
    parameters = {"case_id": case_id, "user_id": user.id, "today": tehran_today()}
    return db.session.scalars(_visible_case_statement(lock, to_read), parameters).first()


@lru_cache(maxsize=4)
def _visible_case_statement(lock: bool, to_read: bool) -> Select[tuple[Case]]:
    # Built once per variant (every case page asks): only the ids and the day change.
    user_id = bindparam("user_id", type_=Integer)
    owners = represented_owners(user_id, today=bindparam("today", type_=Date))
    statement = (
        select(Case)
        .options(light_version())
        .where(
            Case.id == bindparam("case_id", type_=Integer),
            or_(Case.applicant_id == user_id, Case.applicant_id.in_(owners)),
        )
    )
    if to_read:
        statement = statement.options(defer(Case.workflow_state))
    if lock:
        statement = statement.with_for_update(of=Case.__table__)
    return statement.execution_options(populate_existing=lock)


# --- The catalogue ------------------------------------------------------------------------------


def published_versions() -> list[ProcessVersion]:
    """The newest version of every deployed process, by name."""
    newest = (
        select(ProcessVersion.process_key, func.max(ProcessVersion.number).label("number"))
        .group_by(ProcessVersion.process_key)
        .subquery()
    )
    versions = db.session.scalars(
        select(ProcessVersion).join(
            newest,
            (ProcessVersion.process_key == newest.c.process_key)
            & (ProcessVersion.number == newest.c.number),
        )
    ).all()
    return sorted(versions, key=lambda v: localized(v.card.get("name") or v.process_key))


def published_version(process_key: str) -> ProcessVersion | None:
    """The version new requests for a service start on."""
    return latest_version(process_key)


#: The card's `channels` a citizen files through: the portal on the web, the office's kiosk.
WEB, KIOSK = "web", "kiosk"


def offered_on(version: ProcessVersion, channel: str) -> bool:
    """Whether citizens may file for this service through the channel (the card's `channels`;
    a card that names none offers the service everywhere)."""
    channels = card_of(version).get("channels")
    return channels is None or channel in channels


def offered_versions(channel: str) -> list[ProcessVersion]:
    """The services citizens may file for through the channel, by name."""
    return [v for v in published_versions() if offered_on(v, channel)]


def offered_version(process_key: str, channel: str) -> ProcessVersion | None:
    """The version new requests start on, if citizens may file for it through the channel."""
    version = published_version(process_key)
    return version if version is not None and offered_on(version, channel) else None


@dataclass(frozen=True)
class StepView:
    """One step of a service as the public sees it."""

    id: str
    name: str
    lane: str
    role: str
    kind: str  # citizen | staff | automatic
    documentation: str = ""


def step_name(version: ProcessVersion, element_id: str, fallback: str) -> str:
    """A step's name in the page's language: the card's `step_names`, else the BPMN name."""
    return _in_page_language(card_of(version).get("step_names") or {}, element_id, fallback)


def _in_page_language(card_texts: dict[str, Any], element_id: str, bpmn_text: str) -> str:
    return card_text(card_texts, element_id, bpmn_text, current_locale())


def current_step_text(version: ProcessVersion, current_step: str) -> str:
    """The case's current step(s) in the page's language."""
    return _current_step_text(bpmn_facts(version), card_of(version), current_step)


def _current_step_text(facts: BpmnFacts, card: dict[str, Any], current_step: str) -> str:
    step_names = card.get("step_names") or {}
    return current_steps_text(step_names, facts.ids, current_step, current_locale())


def service_steps(version: ProcessVersion) -> list[StepView]:
    """The tasks of a service in flow order, with who does each."""
    catalogue = roles()
    docs = documentation(version)
    steps = []
    for step in bridge.compiled(version).steps():
        if step.type in INTERNAL_STEP_TYPES:
            continue
        lane = step.lane or ""
        role = catalogue.names.get(lane, {})
        if lane in catalogue.citizen:
            kind = "citizen"
        elif role.get("automatic") or step.type not in ("userTask", "manualTask"):
            kind = "automatic"
        else:
            kind = "staff"
        steps.append(
            StepView(
                id=step.id,
                name=step_name(version, step.id, step.name),
                lane=lane,
                role=localized(role) if role else lane,
                kind=kind,
                documentation=docs.get(step.id, ""),
            )
        )
    return steps


def documentation(version: ProcessVersion) -> dict[str, str]:
    """What each step is about, by element id, in the page's language: the card's
    `step_documentation`, else the BPMN documentation (Persian)."""
    texts = card_of(version).get("step_documentation") or {}
    return {
        element_id: _in_page_language(texts, element_id, bpmn_text)
        for element_id, bpmn_text in bpmn_facts(version).documentation.items()
    }


# --- Filing -------------------------------------------------------------------------------------


def citizen_task_rows(case: Case) -> list[CaseTask]:
    """The case's open tasks the citizen does, oldest first."""
    citizen = roles().citizen
    return [t for t in case.tasks if t.state == TaskState.OPEN and t.lane in citizen]


def is_unsubmitted(case: Case) -> bool:
    """Whether the request has not reached the municipality yet (only citizen steps so far)."""
    citizen = roles().citizen
    return case.status == CaseStatus.WAITING_CITIZEN and all(
        t.lane in citizen and t.state == TaskState.OPEN for t in case.tasks
    )


def unsubmitted_case(citizen: User, process_key: str) -> Case | None:
    """The citizen's request for this service that they started and have not sent yet."""
    candidates = db.session.scalars(
        select(Case)
        .where(
            Case.applicant_id == citizen.id,
            Case.process_key == process_key,
            Case.status == CaseStatus.WAITING_CITIZEN,
        )
        .order_by(Case.id.desc())
    ).all()
    return next((case for case in candidates if is_unsubmitted(case)), None)


def start_request(version: ProcessVersion, citizen: User, district: District | None) -> Case:
    """Open a request (a case with its tracking code), or resume the one not yet sent."""
    existing = unsubmitted_case(citizen, version.process_key)
    if existing is not None:
        return existing
    return cases.start_case(version, applicant=citizen, district=district, data={}, actor=citizen)


def task_form(case: Case, task: CaseTask) -> FormDefinition:
    """The task's form exactly as deployed with the case's process version."""
    key = task.form_key or ""
    text = case.process_version.forms.get(key)
    if text is None:
        return load_form(key)
    return _frozen_form(case.process_version.content_hash, key, text)


@lru_cache(maxsize=128)
def _frozen_form(_content_hash: str, key: str, text: str) -> FormDefinition:
    return parse_definition(key, Path(f"{key}.json"), text)


def task_draft(case: Case, task: CaseTask, citizen: User) -> FormDraft:
    """The draft holding the citizen's answers to a task, started (pre-filled) the first time."""
    link = db.session.scalar(select(TaskDraft).where(TaskDraft.case_task_id == task.id))
    if link is not None:
        draft = db.session.get(FormDraft, link.draft_id)
        if draft is not None:
            return draft
    form = task_form(case, task)
    initial = {**_profile_answers(form, citizen), **_earlier_answers(case, task, form)}
    draft = start_draft(form, Owner(user_id=citizen.id), initial=initial)
    db.session.add(TaskDraft(case_task_id=task.id, draft_id=draft.id))
    db.session.flush()
    return draft


def _profile_answers(form: FormDefinition, citizen: User) -> dict[str, str]:
    """What the citizen already told us, for the questions the form marks with `ui:prefill`:
    nobody should type their own name and national code twice. The answers stay theirs to
    change (someone filing for another owner changes them)."""
    wanted = {f.name: f.prefill for f in form.fields if f.prefill}
    if not wanted:
        return {}
    profile = db.session.get(CitizenProfile, citizen.id)
    facts = {
        "national_code": citizen.national_code,
        "full_name": citizen.full_name,
        "mobile": citizen.mobile,
        "postal_code": profile.postal_code if profile else None,
        "email": profile.email if profile else None,
    }
    return {name: value for name, fact in wanted.items() if (value := facts.get(fact))}


def _earlier_answers(case: Case, task: CaseTask, form: FormDefinition) -> dict[str, Any]:
    # A correction form starts from what the case already holds for its questions.
    workflow = bridge.load_workflow(case)
    ready = next((t for t in workflow.human_tasks() if t.id == task.engine_task_id), None)
    if ready is None:
        return {}
    names = {f.name for f in form.fields}
    return {name: value for name, value in ready.data.items() if name in names}


class TaskAlreadyDone(Exception):
    """The task was completed meanwhile (a second click); the first completion stands."""


@dataclass(frozen=True)
class SentTask:
    """What sending a task did: the next citizen task, if any, and whether filing ended."""

    next_task: CaseTask | None
    filed: bool


def send_task(
    case: Case,
    task: CaseTask,
    draft: FormDraft,
    *,
    token: str,
    citizen: User,
    expected_version: int,
) -> SentTask:
    """Submit the draft and complete the task with its answers; run the process on.

    :raises FormIncomplete: when answers are missing or invalid.
    :raises PermissionError: when the token is not the draft's.
    :raises TaskAlreadyDone: when the task was already completed (a repeated send).
    :raises CaseConflict: when the case changed since the page was loaded.
    """
    form = task_form(case, task)
    if draft.status == DraftStatus.SUBMITTED and task.state != TaskState.OPEN:
        raise TaskAlreadyDone(task.engine_task_id)
    submission = submit_draft(form, draft, token)
    if task.state != TaskState.OPEN:
        raise TaskAlreadyDone(task.engine_task_id)
    first_filing = is_unsubmitted(case)
    cases.complete_task(
        case,
        task.engine_task_id,
        dict(submission.data),
        actor=citizen,
        expected_version=expected_version,
    )
    remaining = citizen_task_rows(case)
    filed = first_filing and not is_unsubmitted(case)
    if filed:
        queue_submitted_notice(case)
    return SentTask(next_task=remaining[0] if remaining else None, filed=filed)


def queue_submitted_notice(case: Case) -> Notification | None:
    """Queue the card's "submitted" SMS to the applicant, unless the process sent one itself."""
    template = (card_of(case.process_version).get("notifications") or {}).get(SUBMITTED_EVENT)
    if template is None or case.applicant_id is None:
        return None
    already = db.session.scalar(
        select(Notification.id).where(
            Notification.case_id == case.id, Notification.event_key == SUBMITTED_EVENT
        )
    )
    if already is not None:
        return None
    text_fa, text_en = render_notification(template, {"tracking_code": case.tracking_code})
    notification = Notification(
        idempotency_key=f"case:{case.id}:portal:{SUBMITTED_EVENT}",
        case_id=case.id,
        recipient_id=case.applicant_id,
        recipient_role="APPLICANT",
        event_key=SUBMITTED_EVENT,
        text_fa=text_fa,
        text_en=text_en,
        created_at=datetime.now(UTC),
    )
    db.session.add(notification)
    db.session.flush()
    return notification


def find_task(case: Case, task_id: int) -> CaseTask | None:
    """One of the case's tasks in a citizen lane (open or not), by its row id."""
    citizen = roles().citizen
    return next((t for t in case.tasks if t.id == task_id and t.lane in citizen), None)


def draft_submission_exists(draft: FormDraft) -> bool:
    """Whether the draft was already sent."""
    return find_submission(draft) is not None


# --- My cases -----------------------------------------------------------------------------------


@dataclass
class CaseSummary:
    """A row of the citizen's case list."""

    case: Case
    service: str
    current_step: str
    holders: list[str]
    unsubmitted: bool
    next_task: CaseTask | None


def my_cases(user: User) -> list[CaseSummary]:
    """The citizen's cases (and those of owners they act for), newest first."""
    rows = db.session.scalars(
        select(Case).where(visible_to(user)).order_by(Case.created_at.desc(), Case.id.desc())
    ).all()
    if not rows:
        return []
    all_tasks = db.session.scalars(
        select(CaseTask).where(CaseTask.case_id.in_([c.id for c in rows])).order_by(CaseTask.id)
    ).all()
    by_case: dict[int, list[CaseTask]] = {}
    for task in all_tasks:
        by_case.setdefault(task.case_id, []).append(task)
    catalogue = roles()
    citizen = catalogue.citizen
    summaries = []
    for case in rows:
        tasks = by_case.get(case.id, [])
        open_tasks = [t for t in tasks if t.state == TaskState.OPEN]
        lanes = list(dict.fromkeys(t.lane for t in open_tasks))
        summaries.append(
            CaseSummary(
                case=case,
                service=service_name(case.process_version),
                current_step=current_step_text(case.process_version, case.current_step),
                holders=[catalogue.name(lane) for lane in lanes],
                unsubmitted=case.status == CaseStatus.WAITING_CITIZEN
                and all(t.lane in citizen and t.state == TaskState.OPEN for t in tasks),
                next_task=next((t for t in open_tasks if t.lane in citizen), None),
            )
        )
    return summaries


# --- The case page ------------------------------------------------------------------------------


@dataclass
class TimelineEntry:
    """One line of the case's timeline."""

    at: datetime
    title: str
    kind: str  # step | event
    holder: str = ""
    ended_at: datetime | None = None
    duration: timedelta | None = None
    citizen: bool = False
    open: bool = False
    due_at: datetime | None = None


@dataclass
class CasePage:
    """Everything the case page shows, loaded in a fixed number of queries."""

    case: Case
    service: str
    current_step: str
    timeline: list[TimelineEntry]
    municipality_time: timedelta
    citizen_time: timedelta
    done_elements: list[str]
    current_elements: list[str]
    #: Rows of the task columns the page reads (see `_page_statements`), not entities.
    citizen_tasks: list[Any]
    reviewer_notes: list[tuple[Any, dict[str, Any]]]
    messages: list[Any]  # rows: created_at, text_fa, text_en
    documents: list[Document]
    holders: list[str]
    task_docs: dict[str, str] = field(default_factory=dict)
    #: When an open case will probably be done (the transparency figures); None when unknown.
    expected: ExpectedCompletion | None = None
    #: The parcel the case is about, when the property register knows it.
    parcel: Property | None = None
    parcel_plate: RegistryPlate | None = None
    #: For a completed case: whether the applicant may rate the service, and their rating.
    rateable: bool = False
    rating: ServiceRating | None = None
    #: Fees the municipality waits for: each with a link to its invoice and Pay button.
    open_invoices: list[Invoice] = field(default_factory=list)


@dataclass(frozen=True)
class _PageStatements:
    tasks: Select[Any]
    events: Select[Any]
    messages: Select[Any]


@lru_cache(maxsize=1)
def _page_statements() -> _PageStatements:
    """The case page's reads, built once (rows of plain columns, not entities: they are only
    shown). The events come without their data: a completed task's event carries its answers."""
    case_id = bindparam("case_id", type_=Integer)
    return _PageStatements(
        tasks=select(
            CaseTask.id,
            CaseTask.element_id,
            CaseTask.name,
            CaseTask.lane,
            CaseTask.form_key,
            CaseTask.state,
            CaseTask.created_at,
            CaseTask.due_at,
            CaseTask.completed_at,
            CaseTask.completed_by_id,
        )
        .where(CaseTask.case_id == case_id)
        .order_by(CaseTask.id),
        events=select(CaseEvent.kind, CaseEvent.element_id, CaseEvent.title, CaseEvent.created_at)
        .where(CaseEvent.case_id == case_id)
        .order_by(CaseEvent.id),
        messages=select(Notification.created_at, Notification.text_fa, Notification.text_en)
        .where(Notification.case_id == case_id, Notification.recipient_role == "APPLICANT")
        .order_by(Notification.created_at.desc(), Notification.id.desc()),
    )


@dataclass(frozen=True)
class _History:
    """A case version's steps and events, as rows: they change only when the case moves on."""

    tasks: tuple[Any, ...]
    events: tuple[Any, ...]


#: How many case versions each of an app's per-version stores keeps (a few hundred kB at most).
CASE_VERSION_STORE_SIZE = 4096


def _per_case_version(
    store: str, case: Case, make: Callable[[], T], ttl_seconds: float | None = None
) -> T:
    """What `make()` gives for this version of the case, kept per app in the named store (for
    `ttl_seconds` when given). An exception from `make` is not kept.

    Keyed by the tracking code, not the id: SQLite reuses the id of a case whose filing rolled
    back. Every engine step writes the case row, which raises its version.
    """
    kept_values: dict[tuple[str, int], tuple[float | None, Any]]
    kept_values = current_app.extensions.setdefault(store, {})
    key = (case.tracking_code, case.version_id)
    now = time.monotonic()
    kept = kept_values.get(key)
    if kept is not None and (kept[0] is None or kept[0] > now):
        return cast(T, kept[1])
    value = make()
    if len(kept_values) >= CASE_VERSION_STORE_SIZE:
        kept_values.clear()
    kept_values[key] = (None if ttl_seconds is None else now + ttl_seconds, value)
    return value


def _history(case: Case) -> _History:
    """The case's tasks and events, read once per case version (per app).

    Every change to a task or an engine event comes with an engine step, which raises the
    case's version. Staff claiming a task add events of the open task only, which the page does
    not show. So a version's history is final, and a citizen who reloads the page while the
    municipality works on it costs two queries fewer.
    """
    statements = _page_statements()
    return _per_case_version(
        "portal_history",
        case,
        lambda: _History(
            tasks=tuple(db.session.execute(statements.tasks, {"case_id": case.id})),
            events=tuple(db.session.execute(statements.events, {"case_id": case.id})),
        ),
    )


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def case_page(case: Case, viewer: User, now: datetime | None = None) -> CasePage:
    """The case's timeline, diagram marks, what is needed from the citizen, messages, documents,
    the parcel, and its expected completion (open) or the viewer's rating (completed)."""
    now = now or datetime.now(UTC)
    version = case.process_version
    catalogue = roles()
    citizen = catalogue.citizen
    history = _history(case)
    tasks, events = history.tasks, history.events
    messages = db.session.execute(_page_statements().messages, {"case_id": case.id}).all()
    documents = case_documents([case.id])[case.id]

    timeline: list[TimelineEntry] = []
    municipality = timedelta()
    citizen_time = timedelta()
    for task in tasks:
        if task.state == TaskState.CANCELLED and task.completed_by_id is None:
            # Withdrawn by a timer or message: it did not happen for the citizen.
            continue
        started = _utc(task.created_at) or now
        ended = _utc(task.completed_at)
        duration = (ended or now) - started
        is_citizen = task.lane in citizen
        if is_citizen:
            citizen_time += duration
        else:
            municipality += duration
        timeline.append(
            TimelineEntry(
                at=started,
                title=step_name(version, task.element_id, task.name),
                kind="step",
                holder=catalogue.name(task.lane),
                ended_at=ended,
                duration=duration,
                citizen=is_citizen,
                open=task.state == TaskState.OPEN,
                due_at=_utc(task.due_at),
            )
        )
    for event in events:
        if event.kind in PUBLIC_EVENT_KINDS:
            timeline.append(
                TimelineEntry(
                    at=_utc(event.created_at) or now,
                    title=step_name(version, event.element_id or "", event.title),
                    kind=event.kind,
                )
            )
    timeline.sort(key=lambda entry: entry.at)

    facts = bpmn_facts(version)
    names = facts.names
    current_names = {name.strip() for name in case.current_step.split("،") if name.strip()}
    current = sorted(
        {t.element_id for t in tasks if t.state == TaskState.OPEN}
        | {element for element, name in names.items() if name in current_names}
    )
    done = sorted(
        ({e.element_id for e in events if e.element_id} | _completed_elements(tasks)) - set(current)
    )
    open_citizen = [t for t in tasks if t.state == TaskState.OPEN and t.lane in citizen]
    completed = case.status == CaseStatus.COMPLETED and case.completed_at is not None
    parcel = property_of_case(case.id)
    return CasePage(
        case=case,
        service=service_name(version),
        current_step=_current_step_text(facts, card_of(version), case.current_step),
        timeline=timeline,
        municipality_time=municipality,
        citizen_time=citizen_time,
        done_elements=done,
        current_elements=current,
        citizen_tasks=open_citizen,
        reviewer_notes=_reviewer_notes(case, tasks, citizen) if open_citizen else [],
        messages=list(messages),
        documents=documents,
        holders=list(
            dict.fromkeys(catalogue.name(t.lane) for t in tasks if t.state == TaskState.OPEN)
        ),
        task_docs=documentation(version),
        expected=_expected(case, tasks),
        parcel=parcel,
        parcel_plate=plate_of(parcel) if parcel is not None else None,
        rateable=completed and case.applicant_id == viewer.id,
        open_invoices=_open_invoices(case),
        rating=transparency.rating_of(case) if completed else None,
    )


def _open_invoices(case: Case) -> list[Invoice]:
    """The fees the case waits for. A procedure waits for a payment with nothing else open (a
    receive task or catch event), so only a case waiting for an event is asked."""
    if case.status != CaseStatus.WAITING_EVENT:
        return []
    return list(
        db.session.scalars(
            select(Invoice)
            .where(Invoice.case_id == case.id, Invoice.status == InvoiceStatus.OPEN)
            .order_by(Invoice.id)
        )
    )


#: How long a case's expected completion is reused while the case does not move. The estimate
#: rests on a year of history (it barely changes in minutes) but costs seven queries.
EXPECTED_TTL_SECONDS = 600


def _expected(case: Case, tasks: Sequence[Any]) -> ExpectedCompletion | None:
    """The transparency domain's estimate, kept per case version for a few minutes (per app)."""
    if case.status == CaseStatus.COMPLETED:
        return None
    try:
        return _per_case_version(
            "portal_expected",
            case,
            lambda: transparency.expected_completion(case, tasks=tasks),
            ttl_seconds=EXPECTED_TTL_SECONDS,
        )
    except Exception:  # an estimate must never break the page that shows the case
        current_app.logger.exception("expected completion failed for case %s", case.id)
        return None


def _completed_elements(tasks: Sequence[Any]) -> set[str]:
    return {t.element_id for t in tasks if t.state == TaskState.COMPLETED}


def _reviewer_notes(
    case: Case, tasks: Sequence[Any], citizen: frozenset[str]
) -> list[tuple[Any, dict[str, Any]]]:
    """The answers of the last staff step before the citizen's open task: the reasons for it."""
    staff_done = [t for t in tasks if t.state == TaskState.COMPLETED and t.lane not in citizen]
    if not staff_done:
        return []
    last = max(staff_done, key=lambda t: _utc(t.completed_at) or datetime.min.replace(tzinfo=UTC))
    answers = db.session.scalar(
        select(CaseEvent.data)
        .where(
            CaseEvent.case_id == case.id,
            CaseEvent.kind == "task_completed",
            CaseEvent.element_id == last.element_id,
        )
        .order_by(CaseEvent.id.desc())
        .limit(1)
    )
    return [(last, dict(answers))] if answers and last.form_key else []


# --- Public status lookup -----------------------------------------------------------------------


@dataclass(frozen=True)
class PublicStatus:
    """What anyone holding the tracking code and the owner's identifier may learn: no names."""

    service: str
    status: CaseStatus
    steps: list[str]
    holders: list[str]
    since: datetime | None
    due_at: datetime | None


def _last_change(case_id: int) -> datetime | None:
    # Only for a case with no open task (waiting for a payment or finished): when it last moved.
    return _utc(
        db.session.scalar(
            select(func.max(CaseEvent.created_at)).where(CaseEvent.case_id == case_id)
        )
    )


# Compared against when no case has the code, so a wrong code costs what a wrong owner costs.
_NO_OWNER = ("-" * 10, "-" * 11)


def _same(typed: str | None, stored: str) -> bool:
    return hmac.compare_digest((typed or "?").encode(), stored.encode())


@lru_cache(maxsize=1)
def _lookup_query() -> Select[Any]:
    """The lookup's single statement: the case, its owner's identifiers and its open tasks (one
    row per open task). Built once: it is the same for every lookup, only the code changes."""
    return (
        select(
            Case.id,
            Case.status,
            Case.current_step,
            Case.due_at,
            Case.process_key,
            Case.process_version_id,
            ProcessVersion.content_hash,
            User.national_code,
            User.mobile,
            CaseTask.element_id,
            CaseTask.name,
            CaseTask.lane,
            CaseTask.created_at,
        )
        .join(User, Case.applicant_id == User.id)
        .join(ProcessVersion, Case.process_version_id == ProcessVersion.id)
        .outerjoin(CaseTask, (CaseTask.case_id == Case.id) & (CaseTask.state == TaskState.OPEN))
        .where(Case.tracking_code == bindparam("code"))
        .order_by(CaseTask.id)
    )


def lookup_status(
    tracking_code: str, *, national_code: str | None, mobile: str | None
) -> PublicStatus | None:
    """The public status of the case with this code whose owner has this national code or mobile.

    A wrong code and a wrong owner give the same None after the same work.
    """
    rows = db.session.connection().execute(_lookup_query(), {"code": tracking_code}).all()
    row = rows[0] if rows else None
    owner_code, owner_mobile = (row.national_code or "", row.mobile or "") if row else _NO_OWNER
    matched = _same(national_code, owner_code) | _same(mobile, owner_mobile)
    if row is None or not matched:
        return None
    open_tasks = [r for r in rows if r.element_id is not None]
    catalogue = roles()
    card = card_by_hash(row.process_version_id, row.content_hash)
    step_names = card.get("step_names") or {}
    steps = [_in_page_language(step_names, t.element_id, t.name) for t in open_tasks]
    if not steps and row.current_step:  # waiting for a payment or a message: no task
        facts = facts_by_hash(row.process_version_id, row.content_hash)
        steps = [_current_step_text(facts, card, row.current_step)]
    since = min((_utc(t.created_at) for t in open_tasks if t.created_at), default=None)
    return PublicStatus(
        service=localized(card.get("name") or row.process_key),
        status=CaseStatus(row.status),
        steps=steps,
        holders=list(dict.fromkeys(catalogue.name(t.lane) for t in open_tasks)),
        since=since or _last_change(row.id),
        due_at=_utc(row.due_at),
    )
