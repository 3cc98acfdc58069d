"""Parvaneh's process engine: BPMN procedures run by SpiffWorkflow, behind plain types.

This package is the only one that imports SpiffWorkflow, and it imports neither Flask,
SQLAlchemy nor ``app``. The app talks only to the names exported here; no SpiffWorkflow
object ever leaves the package. See engine/README.md for conventions.

Packages and versions::

    library = ProcessLibrary("processes", forms_dir="forms")
    package = library.load_package("sample_permit")      # files + forms + content_hash + card
    issues = validate_package(package.files, key=package.key,
                              form_exists=library.form_exists, connectors=registry)
    compiled = compile_package(package.files, key=package.key)   # LRU-cached by content
    compiled.steps(); compiled.bpmn_xml; compiled.card

Running a case (the app stores ``dump()`` bytes, SERIALIZER_VERSION, ``next_timer_at()``)::

    runtime = Runtime(calendar=WorkCalendar(thursday_closed=True), connectors=registry)
    workflow = Workflow.start(compiled, {"applicant_id": 7}, actor="citizen:7", runtime=runtime)
    workflow = Workflow.load(compiled, case.workflow_state, runtime=runtime)
    workflow.human_tasks()                      # -> [HumanTask]
    result = workflow.complete(task_id, answers, actor="expert:3")   # -> StepResult
    workflow.send_message("payment_confirmed", {"amount": 125_400_000, "reference": "..."})
    workflow.fire_due_timers()                  # the sweep; then store next_timer_at()
    workflow.incident; workflow.retry()         # failed step: state before it is kept
    state = workflow.dump()

Migrating a case to a newer version (admin action, dry run first)::

    diff = diff_versions(workflow, new_compiled)      # diff.timers_restarting, diff.blocked_reasons
    workflow = migrate(workflow, new_compiled, actor="admin:1")
"""

from engine.bpmn_xml import ProcessStep
from engine.calendar import IRAN_TIMEZONE, WorkCalendar, add_jalali_months, from_jalali, to_jalali
from engine.card import Duration, LocalizedText, ServiceCard, ServiceCardError, parse_service_card
from engine.connectors import Connector, ConnectorContext, ConnectorRegistry, ConnectorSpec
from engine.errors import (
    ConnectorError,
    EngineError,
    IncidentNotRetryable,
    IncidentOpen,
    InvalidTaskData,
    MigrationBlocked,
    NothingToRetry,
    NotWaitingForMessage,
    PackageError,
    ScriptLimitExceeded,
    ScriptRejected,
    StateFormatError,
    TaskNotFound,
    TaskNotReady,
)
from engine.library import (
    CompiledProcess,
    ProcessLibrary,
    ProcessPackage,
    compile_package,
    content_hash,
)
from engine.migration import MigrationDiff, TimerRestart, diff_versions, migrate
from engine.records import HistoryEntry, HumanTask, Incident, Milestone, PendingTimer, StepResult
from engine.runtime import Runtime
from engine.scripting import RESERVED_DATA_NAMES, SandboxLimits, compile_check
from engine.serializer import SERIALIZER_VERSION
from engine.validation import DEFAULT_ROLES, ValidationIssue, validate_package
from engine.workflow import Workflow

__all__ = [
    "DEFAULT_ROLES",
    "IRAN_TIMEZONE",
    "RESERVED_DATA_NAMES",
    "SERIALIZER_VERSION",
    "CompiledProcess",
    "Connector",
    "ConnectorContext",
    "ConnectorError",
    "ConnectorRegistry",
    "ConnectorSpec",
    "Duration",
    "EngineError",
    "HistoryEntry",
    "HumanTask",
    "Incident",
    "IncidentNotRetryable",
    "IncidentOpen",
    "InvalidTaskData",
    "LocalizedText",
    "MigrationBlocked",
    "MigrationDiff",
    "Milestone",
    "NotWaitingForMessage",
    "NothingToRetry",
    "PackageError",
    "PendingTimer",
    "ProcessLibrary",
    "ProcessPackage",
    "ProcessStep",
    "Runtime",
    "SandboxLimits",
    "ScriptLimitExceeded",
    "ScriptRejected",
    "ServiceCard",
    "ServiceCardError",
    "StateFormatError",
    "StepResult",
    "TaskNotFound",
    "TaskNotReady",
    "TimerRestart",
    "ValidationIssue",
    "WorkCalendar",
    "Workflow",
    "add_jalali_months",
    "compile_check",
    "compile_package",
    "content_hash",
    "diff_versions",
    "from_jalali",
    "migrate",
    "parse_service_card",
    "to_jalali",
    "validate_package",
]
