"""Stored workflow state: compact, exact, reorder-proof, migratable, and small."""

from __future__ import annotations

import json
import zlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from engine import (
    SERIALIZER_VERSION,
    CompiledProcess,
    ProcessLibrary,
    Runtime,
    StateFormatError,
    Workflow,
    compile_package,
)
from engine.serializer import REGISTRY, STATE_MIGRATIONS

from .support import (
    FIXTURES_DIR,
    compiled_probe,
    end,
    observable,
    only_task,
    restored,
    sequence,
    start,
    user_task,
)

APPLICATION = {
    "applicant_name": "علی کریمی",
    "national_code": "1360524185",
    "usage": "residential",
    "area": 240.5,
}


def envelope_of(state: bytes) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(zlib.decompress(state).decode("utf-8"))
    return decoded


def encoded(envelope: dict[str, Any], **dumps: Any) -> bytes:
    return zlib.compress(json.dumps(envelope, ensure_ascii=False, **dumps).encode("utf-8"))


def at_review(sample: CompiledProcess, runtime: Runtime) -> Workflow:
    workflow = Workflow.start(sample, {"max_correction_rounds": 20}, runtime=runtime)
    workflow.complete(only_task(workflow, "submit_application").id, APPLICATION, actor="citizen")
    return workflow


def correction_rounds(workflow: Workflow, rounds: int) -> Workflow:
    for _ in range(rounds):
        workflow.complete(
            only_task(workflow, "review_application").id,
            {"decision": "return_for_correction", "reason": "نقشه ناقص است"},
            actor="expert",
        )
        workflow.complete(
            only_task(workflow, "correct_application").id,
            {"correction_note": "اصلاح شد"},
            actor="citizen",
        )
    return workflow


def test_state_is_compact_utf8_json_without_the_spec(
    sample: CompiledProcess, runtime: Runtime
) -> None:
    state = at_review(sample, runtime).dump()

    text = zlib.decompress(state).decode("utf-8")
    envelope = json.loads(text)

    assert "علی کریمی" in text
    assert "\\u0639" not in text  # ensure_ascii=False: Persian is stored as UTF-8, not escaped
    assert text == json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
    assert envelope["format"] == SERIALIZER_VERSION
    assert envelope["process"] == "sample_permit"
    assert envelope["spec_hash"] == sample.spec_hash
    assert "spec" not in envelope["workflow"]
    assert "subprocess_specs" not in envelope["workflow"]


def test_restore_is_exact(sample: CompiledProcess, runtime: Runtime) -> None:
    workflow = correction_rounds(at_review(sample, runtime), 2)

    copy = restored(workflow, runtime)

    assert copy.dump() == workflow.dump()
    assert copy.human_tasks()[0].data["correction_round"] == 2


def test_jsonb_style_key_reordering_still_restores_task_data(
    sample: CompiledProcess, runtime: Runtime
) -> None:
    workflow = correction_rounds(at_review(sample, runtime), 1)
    # PostgreSQL jsonb reorders object keys; equal-length UUID keys end up sorted bytewise.
    reordered = encoded(envelope_of(workflow.dump()), sort_keys=True)

    loaded = Workflow.load(sample, reordered, runtime=runtime)

    assert observable(loaded) == observable(workflow)
    assert loaded.human_tasks()[0].data["applicant_name"] == "علی کریمی"


def test_parents_first_reordering_is_what_saves_the_data(
    sample: CompiledProcess, runtime: Runtime
) -> None:
    """Control: SpiffWorkflow itself loses task data when children precede their parents."""
    workflow = at_review(sample, runtime)
    dct = envelope_of(workflow.dump())["workflow"]
    dct["tasks"] = dict(reversed(list(dct["tasks"].items())))

    raw = REGISTRY.restore(json.loads(json.dumps(dct)), spec=sample._spec, subprocess_specs={})
    review = only_task(workflow, "review_application")
    raw_review = next(t for t in raw.tasks.values() if str(t.id) == review.id)

    assert raw_review.data == {}  # the 1.5 delta format lost everything
    reloaded = Workflow.load(
        sample, encoded({**envelope_of(workflow.dump()), "workflow": dct}), runtime=runtime
    )
    assert reloaded.human_tasks()[0].data == review.data


def test_date_decimal_datetime_timedelta_round_trip_exactly(runtime: Runtime) -> None:
    compiled = compiled_probe(sequence(start(), user_task("ask"), end()))
    values = {
        "due": date(2025, 3, 20),
        "amount": Decimal("125400000.50"),
        "paid_at": datetime(2025, 3, 20, 8, 30, tzinfo=UTC),
        "grace": timedelta(days=2, seconds=30),
    }
    workflow = Workflow.start(compiled, values, runtime=runtime)

    copy = restored(workflow, runtime)

    data = copy.human_tasks()[0].data
    assert data == values
    assert [type(data[key]) for key in values] == [date, Decimal, datetime, timedelta]


def test_state_migrations_run_lazily_on_load(
    sample: CompiledProcess, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    workflow = at_review(sample, runtime)
    current = envelope_of(workflow.dump())
    legacy = {key: value for key, value in current.items() if key != "workflow"}
    legacy.update(format="0", wf=current["workflow"])  # an imagined older layout
    stored = encoded(legacy)

    with pytest.raises(StateFormatError, match="no migration from state format '0'"):
        Workflow.load(sample, stored, runtime=runtime)

    def upgrade(envelope: dict[str, Any]) -> dict[str, Any]:
        envelope = dict(envelope)
        envelope["workflow"] = envelope.pop("wf")
        envelope["format"] = "1"
        return envelope

    monkeypatch.setitem(STATE_MIGRATIONS, "0", upgrade)
    loaded = Workflow.load(sample, stored, runtime=runtime)

    assert observable(loaded) == observable(workflow)
    assert envelope_of(loaded.dump())["format"] == SERIALIZER_VERSION


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"spiff": "1.4"}, "SpiffWorkflow format '1.4'"),
        ({"spec_hash": "0" * 64}, "state belongs to sample_permit version 000000000000"),
        ({"process": "other"}, "state belongs to other"),
    ],
)
def test_state_of_another_format_or_version_is_refused(
    sample: CompiledProcess, runtime: Runtime, change: dict[str, str], message: str
) -> None:
    envelope = envelope_of(at_review(sample, runtime).dump())

    with pytest.raises(StateFormatError, match=message):
        Workflow.load(sample, encoded({**envelope, **change}), runtime=runtime)


@pytest.mark.parametrize(
    "state", [b"", b"not zlib", zlib.compress(b"[1, 2]"), zlib.compress(b"\xff")]
)
def test_corrupt_state_is_refused(sample: CompiledProcess, runtime: Runtime, state: bytes) -> None:
    with pytest.raises(StateFormatError):
        Workflow.load(sample, state, runtime=runtime)


def test_ten_correction_rounds_take_at_most_half_of_spiffworkflows_size(
    sample: CompiledProcess, runtime: Runtime
) -> None:
    workflow = correction_rounds(at_review(sample, runtime), 10)
    spiff = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))

    ours = len(workflow.dump())
    theirs = len(spiff.serialize_json(workflow._wf))

    assert workflow.human_tasks()[0].data["correction_round"] == 10
    assert ours * 2 <= theirs, (ours, theirs)


def test_global_spiff_config_is_never_mutated() -> None:
    assert SPIFF_CONFIG[BpmnWorkflow] is BpmnWorkflowConverter
    assert REGISTRY.typenames[BpmnWorkflow] == "BpmnWorkflow"
    assert date in REGISTRY.typenames
    assert Decimal in REGISTRY.typenames


def test_state_stored_by_serializer_version_1_still_loads(runtime: Runtime) -> None:
    """A case stored by this release (frozen fixture): later releases must keep reading it."""
    files = ProcessLibrary(FIXTURES_DIR).read_files("sample_permit_v2")
    compiled = compile_package(files, key="sample_permit")
    stored = (FIXTURES_DIR / "states" / "sample_permit_v2_serializer_1.state").read_bytes()

    workflow = Workflow.load(compiled, stored, runtime=runtime)

    review = only_task(workflow, "review_application")
    assert review.id == "86aff2a6-0e24-496a-a244-caa4f8247cf0"
    assert review.data["applicant_name"] == "مریم نیک\u200cپور"
    assert review.data["correction_round"] == 1
    assert workflow.next_timer_at() == datetime(2025, 10, 4, 10, 30, tzinfo=UTC)
    workflow.complete(review.id, {"decision": "approve"}, actor="expert")
    assert only_task(workflow, "site_inspection").lane == "URB_EXPERT"
