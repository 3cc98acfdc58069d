"""The sandbox: every escape is refused (never executed) and surfaces as an incident."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from freezegun import freeze_time
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from engine import (
    InvalidTaskData,
    ProcessLibrary,
    Runtime,
    SandboxLimits,
    WorkCalendar,
    Workflow,
    compile_check,
    compile_package,
)
from engine.scripting import RestrictedEnvironment, rials, script_helpers

from .support import (
    compiled_probe,
    end,
    flow,
    only_task,
    script_task,
    sequence,
    start,
    user_task,
)

# spiffworkflow.md §2.3: this escape runs under the default and the "documented" environments.
ESCAPE = (
    'w = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == "catch_warnings"][0]()\n'
    'w._module.__builtins__["__import__"]("os").system("touch {marker}")'
)


def escapes(marker: Path) -> dict[str, tuple[str, str]]:
    """name -> (script that would create ``marker`` if it ran, expected refusal)."""
    return {
        "import": (f'import os\nos.system("touch {marker}")', "import statements are not allowed"),
        "dunder_import": (
            f'__import__("os").system("touch {marker}")',
            '"__import__" is an invalid',
        ),
        "open": (f'open("{marker}", "w").write("x")', '"open" is not available'),
        "eval": (f'eval(\'open("{marker}", "w")\')', "Eval calls are not allowed"),
        "exec": (f'exec(\'open("{marker}", "w")\')', "Exec calls are not allowed"),
        "getattr": ('f = getattr((), "__class__")', '"getattr" is not available'),
        "subclasses": (
            ESCAPE.format(marker=marker),
            '"__subclasses__" is an invalid attribute name',
        ),
        "globals": ('g = globals()["__builtins__"]', '"globals" is not available'),
        "type": ("t = type(1).mro()", '"type" is not available'),
        "class": ("class Evil:\n    pass", "class definitions are not allowed"),
        "format_escape": ('s = "{0.__class__}".format(1)', "format"),
    }


def probe_with_script(script: str) -> Workflow:
    compiled = compiled_probe(sequence(start(), script_task("risky_script", script), end()))
    return Workflow.start(compiled, runtime=Runtime())


def test_escape_scripts_are_real_attacks_outside_the_sandbox(tmp_path: Path) -> None:
    """Control: with SpiffWorkflow's default environment the escape really runs."""
    marker = tmp_path / "escaped"

    TaskDataEnvironment().execute(ESCAPE.format(marker=marker), {})

    assert marker.exists()


@pytest.mark.parametrize(
    "name",
    [
        "import",
        "dunder_import",
        "open",
        "eval",
        "exec",
        "getattr",
        "subclasses",
        "globals",
        "type",
        "class",
    ],
)
def test_refused_at_compile_time(name: str, tmp_path: Path) -> None:
    script, refusal = escapes(tmp_path / "marker")[name]

    errors = compile_check(script, "exec")

    assert any(refusal in error for error in errors), errors


@pytest.mark.parametrize("name", sorted(escapes(Path("m")).keys()))
def test_escape_becomes_incident_naming_the_element_and_never_runs(
    name: str, tmp_path: Path
) -> None:
    marker = tmp_path / "marker"
    script, _ = escapes(marker)[name]

    workflow = probe_with_script(script)

    incident = workflow.incident
    assert incident is not None
    assert incident.element_id == "risky_script"
    assert incident.kind in ("sandbox", "script")  # str.format is refused when called
    assert not marker.exists()
    assert not workflow.is_completed


def test_escape_incident_is_a_sandbox_refusal_with_the_reason() -> None:
    workflow = probe_with_script("import os")

    assert workflow.incident is not None
    assert workflow.incident.kind == "sandbox"
    assert "import statements are not allowed" in workflow.incident.message


@pytest.mark.parametrize(
    ("source", "refusal"),
    [
        ("try:\n    x = 1\nfinally:\n    x = 2", "try/finally is not allowed"),
        ("try:\n    x = 1\nexcept:\n    x = 2", "bare 'except:'"),
        ("x = f'{1:>99999999}'", "format width"),
        ("x = f'{1:>{n}}'", "computed format"),
    ],
)
def test_constructs_that_could_defeat_the_budget_are_refused(source: str, refusal: str) -> None:
    assert any(refusal in error for error in compile_check(source, "exec"))


def test_ordinary_scripts_compile_and_run() -> None:
    script = (
        "squares = [i * i for i in range(5)]\n"
        "label = f'{len(squares):>3}'\n"
        "try:\n    limit = int(limit)\nexcept NameError:\n    limit = 3\n"
        "total = sum(squares) + limit\n"
        "info = {'total': total}\n"
        "info['ok'] = total > 10\n"
    )
    assert compile_check(script, "exec") == []

    workflow = probe_with_script(script)

    assert workflow.incident is None
    assert workflow.data["total"] == 33
    assert workflow.data["info"] == {"total": 33, "ok": True}
    assert workflow.data["label"] == "  5"


# ---- runaway loops and huge allocations ------------------------------------------------

FAST_LIMITS = SandboxLimits(max_steps=20_000, max_seconds=5.0)


#: Far above a stopped script's run time, far below an unstopped one's: a loaded CI machine
#: must not turn "stopped" into a failure (these are not speed tests).
STOPPED_WITHIN_SECONDS = 30


def run_limited(script: str, limits: SandboxLimits = FAST_LIMITS) -> tuple[Workflow, float]:
    compiled = compiled_probe(sequence(start(), script_task("risky_script", script), end()))
    began = time.monotonic()
    workflow = Workflow.start(compiled, runtime=Runtime(limits=limits))
    return workflow, time.monotonic() - began


@pytest.mark.parametrize(
    "script",
    [
        "while True:\n    pass",
        "n = 0\nwhile True:\n    n = n + 1",
        "x = 0\nwhile True:\n    try:\n        x += 1\n    except Exception:\n        x = 0",
        "x = [n for n in range(100000) for m in range(100000)]",
        "def spin():\n    while True:\n        pass\nspin()",
    ],
)
def test_runaway_loops_are_stopped(script: str) -> None:
    workflow, elapsed = run_limited(script)

    assert workflow.incident is not None
    assert workflow.incident.kind == "limit"
    assert workflow.incident.element_id == "risky_script"
    assert "steps" in workflow.incident.message
    assert elapsed < STOPPED_WITHIN_SECONDS


def test_time_budget_stops_slow_loops() -> None:
    limits = SandboxLimits(max_steps=10**9, max_seconds=0.05)

    workflow, elapsed = run_limited("while True:\n    x = sorted(range(2000))", limits)

    assert workflow.incident is not None
    assert workflow.incident.kind == "limit"
    assert "0.05 s" in workflow.incident.message
    assert elapsed < STOPPED_WITHIN_SECONDS


@pytest.mark.parametrize(
    "script",
    [
        "s = 'x' * 10**10",
        "s = [0] * 10**9",
        "n = 10 ** 10 ** 8",
        "n = pow(10, 10**8)",
        "n = 1 << 10**9",
        "s = 'ab'\nfor i in range(64):\n    s = s + s",
        "s = 'ab'\nfor i in range(64):\n    s += s",
        "s = [1]\nfor i in range(64):\n    s.extend(s)",
        "s = 'a' * 1000\nt = s.replace('a', s)\nu = t.replace('a', t)",
        "s = 'a'.ljust(10**10)",
        "s = ','.join(['abc'] * 100000) * 10",
        "total = sum(range(10**12))",
        "s = '%999999999d' % 1",
        "big = 2 ** 1000\nfor i in range(30):\n    big = big * big",
        "s = str.join('x' * 999999, ['a'] * 999999)",
        "s = str.ljust('a', 10**10)",
        "s = [1]\nfor i in range(64):\n    list.extend(s, s)",
    ],
)
def test_huge_allocations_are_refused(script: str) -> None:
    workflow, elapsed = run_limited(script)

    assert workflow.incident is not None
    assert workflow.incident.kind == "limit", workflow.incident.message
    assert workflow.incident.element_id == "risky_script"
    assert elapsed < STOPPED_WITHIN_SECONDS


def test_memory_growing_step_by_step_is_stopped() -> None:
    """Each line stays under the size guards; the resident-memory budget stops the total."""
    limits = SandboxLimits(max_steps=1_000_000, max_memory_mb=32)

    workflow, elapsed = run_limited("rows = [[0] * 100000 for i in range(5000)]", limits)

    assert workflow.incident is not None
    assert workflow.incident.kind == "limit"
    assert "more than 32 MB" in workflow.incident.message
    assert elapsed < STOPPED_WITHIN_SECONDS


def test_non_json_values_left_by_a_script_are_an_incident() -> None:
    workflow = probe_with_script("pair = (1, 2)")

    assert workflow.incident is not None
    assert workflow.incident.kind == "data"
    assert "pair" in workflow.incident.message


# ---- conditions, timers and DMN cells run in the same sandbox --------------------------


def test_gateway_condition_is_sandboxed() -> None:
    body = "\n".join(
        [
            start(),
            '<bpmn:exclusiveGateway id="choose" default="choose__end"/>',
            end(),
            end("other"),
            flow("start", "choose"),
            flow("choose", "other", "().__class__ is None"),
            flow("choose", "end"),
        ]
    )
    workflow = Workflow.start(compiled_probe(body), runtime=Runtime())

    assert workflow.incident is not None
    assert workflow.incident.kind == "sandbox"
    assert workflow.incident.element_id == "choose"


def test_timer_expression_is_sandboxed(tmp_path: Path) -> None:
    marker = tmp_path / "timer"
    timer = (
        '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition>'
        f"<bpmn:timeDuration>open('{marker}', 'w')</bpmn:timeDuration>"
        "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
    )
    workflow = Workflow.start(compiled_probe(sequence(start(), timer, end())), runtime=Runtime())

    assert workflow.incident is not None
    assert workflow.incident.kind == "sandbox"
    assert workflow.incident.element_id == "wait"
    assert not marker.exists()


def test_dmn_cells_are_sandboxed(library: ProcessLibrary, runtime: Runtime) -> None:
    files = library.read_files("sample_permit")
    files["fee.dmn"] = files["fee.dmn"].replace(b"rials(area * 150000)", b"().__class__")
    workflow = Workflow.start(compile_package(files, key="sample_permit"), runtime=runtime)
    workflow.complete(
        only_task(workflow, "submit_application").id,
        {"applicant_name": "x", "usage": "residential", "area": 100},
        actor="citizen",
    )

    workflow.complete(
        only_task(workflow, "review_application").id, {"decision": "approve"}, actor="expert"
    )

    assert workflow.incident is not None
    assert workflow.incident.kind == "sandbox"
    assert workflow.incident.element_id == "compute_fee"


# ---- a restored workflow is still sandboxed --------------------------------------------


def test_restored_workflow_still_rejects_the_escape(tmp_path: Path) -> None:
    marker = tmp_path / "escaped"
    runtime = Runtime()
    compiled = compiled_probe(
        sequence(
            start(),
            user_task("ask"),
            script_task("risky_script", ESCAPE.format(marker=marker)),
            end(),
        )
    )
    stored = Workflow.start(compiled, runtime=runtime).dump()

    restored = Workflow.load(compiled, stored, runtime=runtime)
    restored.complete(restored.human_tasks()[0].id, {}, actor="citizen")

    assert restored.incident is not None
    assert restored.incident.kind == "sandbox"
    assert restored.incident.element_id == "risky_script"
    assert not marker.exists()


def test_spiffworkflow_restores_an_unrestricted_engine_so_load_must_replace_it() -> None:
    """Control for the test above: the serializer alone gives a plain PythonScriptEngine."""
    from engine.serializer import decode_state, workflow_from_dict

    runtime = Runtime()
    compiled = compiled_probe(sequence(start(), user_task("ask"), end()))
    stored = Workflow.start(compiled, runtime=runtime).dump()

    raw = workflow_from_dict(decode_state(stored)[0]["workflow"], compiled._spec, {})
    loaded = Workflow.load(compiled, stored, runtime=runtime)

    assert type(raw.script_engine) is PythonScriptEngine
    assert not isinstance(raw.script_engine.environment, RestrictedEnvironment)
    assert isinstance(loaded._wf.script_engine.environment, RestrictedEnvironment)


# ---- the helper whitelist -------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "expected"),
    [(2.5, 3), (3.5, 4), (-2.5, -3), (36075000.0, 36075000), (Decimal("10.49"), 10), ("7.5", 8)],
)
def test_rials_rounds_half_up(amount: object, expected: int) -> None:
    assert rials(amount) == expected


@pytest.mark.parametrize("amount", [True, None, [1]])
def test_rials_refuses_non_numbers(amount: object) -> None:
    with pytest.raises(TypeError):
        rials(amount)


def test_date_helpers_use_the_calendar_and_the_clock() -> None:
    with freeze_time("2025-09-22 23:00:00+00:00"):  # Tuesday 1404-07-01 03:30 in Tehran
        helpers = script_helpers(WorkCalendar(), lambda: datetime.now(UTC))

        assert helpers["jalali_today"]() == "1404-07-01"
        assert helpers["today"]() == "2025-09-23"
        assert helpers["working_days"](5) == "2025-09-30T14:00:00+03:30"
        assert helpers["add_working_days"]("2025-09-23", 15) == "2025-10-14"  # 1404-07-22
        assert helpers["working_days_between"]("2025-09-23", "2025-10-14") == 15
        assert helpers["to_jalali"]("2025-10-14T10:00:00+00:00") == "1404-07-22"
        assert helpers["add_months"]("2025-10-07", 3) == "2026-01-05"  # 1404-07-15 -> 1404-10-15
        assert helpers["timedelta"] is timedelta
        assert helpers["date"] is date
        assert helpers["Decimal"] is Decimal


def test_helpers_are_callable_from_scripts() -> None:
    with freeze_time("2025-09-22 23:00:00+00:00"):
        workflow = probe_with_script(
            "deadline = working_days(5)\nfee = rials(240.5 * 150000)\ntoday_fa = jalali_today()"
        )

    assert workflow.incident is None
    assert workflow.data["deadline"] == "2025-09-30T14:00:00+03:30"
    assert workflow.data["fee"] == 36075000
    assert workflow.data["today_fa"] == "1404-07-01"


@pytest.mark.parametrize(
    "data",
    [{"date": "2025-01-01"}, {"rials": 1}, {"_hidden": 1}, {"items": {1, 2}}, {"pair": (1, 2)}],
)
def test_submitted_data_may_not_shadow_helpers_or_be_non_json(data: dict[str, object]) -> None:
    compiled = compiled_probe(sequence(start(), user_task("ask"), end()))
    workflow = Workflow.start(compiled, runtime=Runtime())

    with pytest.raises(InvalidTaskData):
        workflow.complete(workflow.human_tasks()[0].id, data, actor="citizen")

    assert [t.element_id for t in workflow.human_tasks()] == ["ask"]


def test_restricted_environment_is_a_spiffworkflow_environment() -> None:
    environment = RestrictedEnvironment(script_helpers(WorkCalendar(), lambda: datetime.now(UTC)))
    context: dict[str, object] = {"amount": 10}

    environment.execute("total = amount * 3", context)

    assert context == {"amount": 10, "total": 30}
    assert environment.evaluate("total > amount", context) is True
