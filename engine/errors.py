"""Exceptions raised by the engine API; callers catch these, never SpiffWorkflow's."""

from __future__ import annotations


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""


class TaskNotFound(EngineError):
    """No human task with this id exists in the workflow."""


class TaskNotReady(EngineError):
    """The task exists but can no longer be completed (stale completion)."""


class InvalidTaskData(EngineError, ValueError):
    """Submitted data is not JSON-native or uses a reserved name."""


class NotWaitingForMessage(EngineError):
    """The workflow has no catch event waiting for this message."""


class IncidentOpen(EngineError):
    """The case has an open incident: only retry() or dismiss_incident() may change it."""


class NothingToRetry(EngineError):
    """retry() was called on a workflow without an incident."""


class IncidentNotRetryable(EngineError):
    """The open incident cannot be fixed by running a step again."""


class StateFormatError(EngineError):
    """Stored state cannot be read: corrupt, wrong process version or unknown format."""


class MigrationBlocked(EngineError):
    """A version migration was refused; ``reasons`` says why."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


class PackageError(EngineError):
    """A process package cannot be read or compiled."""


class ScriptRejected(EngineError):
    """The sandbox refused to compile a script or expression (never executed)."""


class ConnectorError(EngineError):
    """A service-task connector failed, is unknown, or broke its declared contract."""


class ScriptLimitExceeded(EngineError):
    """A script ran out of steps, time or size budget and was stopped."""
