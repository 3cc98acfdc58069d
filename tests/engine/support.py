"""Helpers for the engine tests: fake connectors, small BPMN builders, restore checks."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from engine import (
    CompiledProcess,
    ConnectorContext,
    ConnectorRegistry,
    HumanTask,
    Runtime,
    Workflow,
    compile_package,
)

ROOT = Path(__file__).resolve().parents[2]
PROCESSES_DIR = ROOT / "processes"
FORMS_DIR = ROOT / "forms"
FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"


@lru_cache(maxsize=1)
def app_contracts() -> ConnectorRegistry:
    """The app's connectors as registered at start-up (no database is touched)."""
    from app.cases.connectors import register_connectors

    registry = ConnectorRegistry()
    register_connectors(registry)
    return registry


@dataclass
class FakeConnectors:
    """A registry with the sample process's connectors that records every call.

    Each fake keeps the contract (inputs, outputs, optional inputs) the app declares for the
    real connector, so a process that passes here maps its connectors as the app expects.
    """

    registry: ConnectorRegistry = field(default_factory=ConnectorRegistry)
    calls: list[tuple[str, dict[str, Any], ConnectorContext]] = field(default_factory=list)
    broken: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.fake("notify", lambda inputs: {"sent": True})
        self.fake(
            "create_invoice",
            lambda inputs: {
                "amount": sum(inputs["lines"].values()),
                "bill_id": "8600372918060",
                "payment_id": "12540040704",
            },
        )
        self.fake("issue_document", lambda inputs: {"document_number": f"SP-{len(self.calls):04d}"})

    def fake(self, name: str, answer: Any) -> None:
        """Stand in for the app's connector `name`: record each call, answer `answer(inputs)`."""
        contract = app_contracts().get(name)
        self.registry.register(
            name,
            self._handler(name, answer),
            inputs=contract.inputs,
            outputs=contract.outputs,
            optional=contract.optional_inputs,
        )

    def _handler(self, name: str, answer: Any) -> Any:
        def handle(inputs: Mapping[str, Any], context: ConnectorContext) -> Mapping[str, Any]:
            self.calls.append((name, dict(inputs), context))
            if name in self.broken:
                raise RuntimeError(f"{name} service is down")
            result: Mapping[str, Any] = answer(inputs)
            return result

        return handle

    def called(self, name: str) -> list[dict[str, Any]]:
        """Return the inputs of every call to one connector."""
        return [inputs for called, inputs, _ in self.calls if called == name]


def observable(workflow: Workflow) -> dict[str, Any]:
    """Everything the app can read from a workflow, for restore comparisons."""
    return {
        "human_tasks": workflow.human_tasks(),
        "data": workflow.data,
        "pending_timers": workflow.pending_timers(),
        "next_timer_at": workflow.next_timer_at(),
        "waiting_messages": workflow.waiting_messages(),
        "current_steps": workflow.current_steps(),
        "is_completed": workflow.is_completed,
        "incident": workflow.incident,
        "milestone": workflow.milestone,
        "outcome": workflow.outcome,
    }


def restored(workflow: Workflow, runtime: Runtime) -> Workflow:
    """Dump and load a workflow, assert nothing observable changed, return the copy."""
    state = workflow.dump()
    copy = Workflow.load(workflow.compiled, state, runtime=runtime)
    assert observable(copy) == observable(workflow)
    assert copy.dump() == state
    return copy


def only_task(workflow: Workflow, element_id: str) -> HumanTask:
    """Return the single READY human task of an element."""
    matching = [t for t in workflow.human_tasks() if t.element_id == element_id]
    assert len(matching) == 1, [t.element_id for t in workflow.human_tasks()]
    return matching[0]


# ---- tiny BPMN builders for tests that need a process other than the sample ----------

_NAMESPACES = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"'
)


def process_files(body: str, *, key: str = "probe", definitions: str = "") -> dict[str, bytes]:
    """Wrap process elements into a package's files (no diagram: compile, not validate)."""
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<bpmn:definitions {_NAMESPACES} id="{key}_definitions" '
        'targetNamespace="https://parvaneh.example/tests">\n'
        f"{definitions}\n"
        f'<bpmn:process id="{key}" isExecutable="true">\n{body}\n</bpmn:process>\n'
        "</bpmn:definitions>\n"
    )
    return {"process.bpmn": xml.encode("utf-8")}


def start(element_id: str = "start") -> str:
    return f'<bpmn:startEvent id="{element_id}"/>'


def end(element_id: str = "end", definition: str = "") -> str:
    return f'<bpmn:endEvent id="{element_id}">{definition}</bpmn:endEvent>'


def user_task(element_id: str, form_key: str = "probe/form") -> str:
    return (
        f'<bpmn:userTask id="{element_id}" name="{element_id}"><bpmn:extensionElements>'
        f'<spiffworkflow:properties><spiffworkflow:property name="formKey" value="{form_key}"/>'
        "</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>"
    )


def script_task(element_id: str, script: str) -> str:
    return (
        f'<bpmn:scriptTask id="{element_id}" name="{element_id}">'
        f"<bpmn:script>{escape(script)}</bpmn:script></bpmn:scriptTask>"
    )


def flow(source: str, target: str, condition: str | None = None) -> str:
    inner = (
        f"<bpmn:conditionExpression>{escape(condition)}</bpmn:conditionExpression>"
        if condition
        else ""
    )
    return (
        f'<bpmn:sequenceFlow id="{source}__{target}" sourceRef="{source}" '
        f'targetRef="{target}">{inner}</bpmn:sequenceFlow>'
    )


def sequence(*elements: str) -> str:
    """Elements plus flows connecting them in order (ids read from the elements)."""
    ids = [element.split('id="', 1)[1].split('"', 1)[0] for element in elements]
    flows = [flow(a, b) for a, b in itertools.pairwise(ids)]
    return "\n".join([*elements, *flows])


def compiled_probe(body: str, **kwargs: Any) -> CompiledProcess:
    """Compile a probe process built from the snippets above."""
    return compile_package(process_files(body, **kwargs))
