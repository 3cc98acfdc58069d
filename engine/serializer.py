"""Workflow state <-> bytes: the one configured SpiffWorkflow serializer registry.

Stored state is a compressed JSON envelope::

    {"format": SERIALIZER_VERSION, "spiff": "1.5", "process": key, "spec_hash": ...,
     "workflow": <SpiffWorkflow dict WITHOUT spec/subprocess_specs>, "incident": ..., "replay": ...}

The spec is stored once per process version (as package bytes) and re-attached on load,
so a case keeps only its own task tree. JSON is written with ``ensure_ascii=False`` and
compact separators, then zlib-compressed. On every load the task dicts are reordered
parents-first, because SpiffWorkflow 1.5 restores task data as deltas against the parent
and silently loses data when a database (e.g. PostgreSQL jsonb) reorders keys.

Envelope migrations run lazily on load, keyed by the stored ``format``.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from types import ModuleType
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnWorkflowConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as _SPIFF_VERSION
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from engine.errors import StateFormatError

SERIALIZER_VERSION = "1"
# SpiffWorkflow's own serialization format of the embedded workflow dict.
SPIFF_FORMAT: str = _SPIFF_VERSION

# zlib level 6: ~10x smaller than the JSON for little CPU (measured on the sample process).
_COMPRESSION_LEVEL = 6


class _SpeclessWorkflowConverter(BpmnWorkflowConverter):  # type: ignore[misc]
    """Converts a top-level workflow without its spec; the caller supplies the spec on restore."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(
        self, dct: dict[str, Any], spec: Any = None, subprocess_specs: Any = None
    ) -> BpmnWorkflow:
        if spec is None:
            raise StateFormatError("restoring a workflow needs its compiled spec")
        dct.pop("spec", None)
        dct.pop("subprocess_specs", None)
        workflow = self.target_class(spec, subprocess_specs or {}, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], _uuid, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(_uuid(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _uuid(value: str) -> UUID:
    return UUID(value)


def _build_registry() -> Any:
    # A copy of SPIFF_CONFIG: the global config is never mutated (house-style §10).
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = _SpeclessWorkflowConverter
    registry = BpmnWorkflowSerializer.configure(config)
    registry.register(
        date, lambda v: {"value": v.isoformat()}, lambda d: date.fromisoformat(d["value"])
    )
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda d: Decimal(d["value"]))
    return registry


REGISTRY: Any = _build_registry()


def _json_default(obj: Any) -> Any:
    # Task data deltas keep registered types (date, Decimal, datetime...) unconverted; the
    # registry is read here, never put into "encoder mode", so dumps are thread-safe.
    typename = REGISTRY.typenames.get(type(obj))
    if typename is not None:
        return REGISTRY.convert_to_dict[typename](obj)
    if callable(obj) or isinstance(obj, ModuleType):
        return None
    if isinstance(obj, (set, frozenset)):
        return list(obj)
    raise TypeError(f"{type(obj).__name__} is not serializable in workflow state")


def workflow_to_dict(workflow: BpmnWorkflow) -> dict[str, Any]:
    """Convert a workflow to a dict without its spec."""
    result: dict[str, Any] = REGISTRY.convert(workflow)
    return result


def workflow_from_dict(dct: dict[str, Any], spec: Any, subprocess_specs: Any) -> BpmnWorkflow:
    """Restore a workflow dict (parents-first) against its compiled spec."""
    restored: BpmnWorkflow = REGISTRY.restore(
        parents_first(dct), spec=spec, subprocess_specs=subprocess_specs
    )
    return restored


def parents_first(dct: dict[str, Any]) -> dict[str, Any]:
    """Reorder ``tasks`` so every parent precedes its children (spiffworkflow.md §2.1)."""

    def fix(workflow: dict[str, Any]) -> None:
        tasks = workflow["tasks"]
        order: list[str] = []
        queue = [workflow["root"]]
        while queue:
            task_id = queue.pop()
            if task_id in tasks:
                order.append(task_id)
                queue.extend(reversed(tasks[task_id]["children"]))
        seen = set(order)
        workflow["tasks"] = {
            tid: tasks[tid] for tid in [*order, *(t for t in tasks if t not in seen)]
        }

    fix(dct)
    for sub in dct.get("subprocesses", {}).values():
        fix(sub)
    return dct


def encode_state(envelope: dict[str, Any]) -> bytes:
    """Serialize an envelope to compact, compressed UTF-8 JSON."""
    text = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), default=_json_default)
    return zlib.compress(text.encode("utf-8"), _COMPRESSION_LEVEL)


def decode_state(blob: bytes) -> tuple[dict[str, Any], bool]:
    """Decompress, parse and migrate a stored envelope; also say whether it was migrated.

    :raises StateFormatError: when the bytes are not a state this engine can read.
    """
    try:
        envelope = json.loads(zlib.decompress(blob).decode("utf-8"))
    except (zlib.error, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StateFormatError(f"stored state is not readable: {exc}") from None
    if not isinstance(envelope, dict) or "format" not in envelope:
        raise StateFormatError("stored state has no format marker")
    original = envelope["format"]
    envelope = migrate_envelope(envelope)
    return envelope, envelope["format"] != original


# from-version -> function returning the envelope in the next version (and saying so in "format").
STATE_MIGRATIONS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def migrate_envelope(envelope: dict[str, Any]) -> dict[str, Any]:
    """Apply registered state migrations until the envelope is at SERIALIZER_VERSION."""
    seen: set[str] = set()
    while envelope["format"] != SERIALIZER_VERSION:
        version = str(envelope["format"])
        if version in seen or version not in STATE_MIGRATIONS:
            raise StateFormatError(
                f"no migration from state format {version!r} to {SERIALIZER_VERSION!r}"
            )
        seen.add(version)
        envelope = STATE_MIGRATIONS[version](envelope)
    if envelope.get("spiff") != SPIFF_FORMAT:
        raise StateFormatError(
            f"state was written by SpiffWorkflow format {envelope.get('spiff')!r}; "
            f"add a state migration to {SPIFF_FORMAT!r}"
        )
    return envelope
