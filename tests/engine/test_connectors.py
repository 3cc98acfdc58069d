"""Connectors: declared contracts, explicit errors, incidents that keep the state and retry."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from freezegun import freeze_time
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from engine import (
    CompiledProcess,
    ConnectorContext,
    ConnectorError,
    ConnectorRegistry,
    IncidentOpen,
    NothingToRetry,
    Runtime,
    Workflow,
)

from .support import FakeConnectors, only_task, restored

CONTEXT = ConnectorContext("c", "p", "e", "t", "e#1")
APPLICATION = {"applicant_name": "زهرا رضایی", "usage": "commercial", "area": 50}
PAYMENT = {"amount": 25_000_000, "reference": "4850040333"}


def echo_registry(outputs: Any) -> ConnectorRegistry:
    registry = ConnectorRegistry()
    registry.register(
        "lookup",
        lambda inputs, context: outputs,
        inputs={"code": "str", "count": "int", "note": "str"},
        outputs={"found": "bool", "owner": "str"},
        optional=["note"],
    )
    return registry


GOOD = {"found": True, "owner": "x"}


@pytest.mark.parametrize(
    ("inputs", "problem"),
    [
        ({"count": 1}, "missing inputs ['code']"),
        ({"code": "a", "count": 1, "colour": "red"}, "undeclared inputs ['colour']"),
        ({"code": 7, "count": 1}, "input code must be str, got int"),
        ({"code": "a", "count": True}, "input count must be int, got bool"),
    ],
)
def test_inputs_are_checked_against_the_declaration(inputs: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConnectorError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        echo_registry(GOOD).call("lookup", inputs, CONTEXT)


@pytest.mark.parametrize(
    ("outputs", "problem"),
    [
        (["found"], "returned list, not a mapping"),
        ({"found": True}, "did not return outputs"),
        ({**GOOD, "extra": 1}, "returned undeclared outputs"),
        ({"found": "yes", "owner": "x"}, "output found must be bool, got str"),
        ({"found": True, "owner": "x", "note": None}, "undeclared outputs"),
    ],
)
def test_outputs_are_checked_against_the_declaration(outputs: Any, problem: str) -> None:
    with pytest.raises(ConnectorError, match=problem):
        echo_registry(outputs).call("lookup", {"code": "a", "count": 1}, CONTEXT)


def test_optional_inputs_may_be_left_out() -> None:
    assert echo_registry(GOOD).call("lookup", {"code": "a", "count": 1}, CONTEXT) == GOOD


def test_connector_exceptions_are_wrapped_with_their_cause() -> None:
    registry = ConnectorRegistry()

    @registry.connector("explode", inputs={}, outputs={})
    def explode(inputs: Mapping[str, Any], context: ConnectorContext) -> Mapping[str, Any]:
        raise TimeoutError("agency did not answer")

    with pytest.raises(
        ConnectorError, match="explode failed: TimeoutError: agency did not answer"
    ) as info:
        registry.call("explode", {}, CONTEXT)
    assert isinstance(info.value.__cause__, TimeoutError)
    assert registry.names() == ["explode"]
    assert "explode" in registry


def test_declarations_are_checked_when_registering() -> None:
    registry = ConnectorRegistry()
    with pytest.raises(ValueError, match="unknown type"):
        registry.register(
            "x", echo_registry(GOOD).get("lookup").handler, inputs={"a": "text"}, outputs={}
        )
    with pytest.raises(ValueError, match="optional inputs"):
        registry.register(
            "x", echo_registry(GOOD).get("lookup").handler, inputs={}, outputs={}, optional=["a"]
        )
    with pytest.raises(ConnectorError, match="no connector named 'nope'"):
        registry.get("nope")


def test_spiffworkflows_own_call_service_hides_the_real_error() -> None:
    """Control (spiffworkflow.md §2.11): why the engine calls connectors itself."""

    class Failing(TaskDataEnvironment):  # type: ignore[misc]
        def call_service(self, context: Any, **kwargs: Any) -> str:
            raise RuntimeError("the real error")

    with pytest.raises(NameError, match="script"):
        PythonScriptEngine(environment=Failing()).call_service(
            None, operation_name="x", operation_params={}
        )


# ---- a failing connector inside the sample process --------------------------------------


@pytest.fixture
def waiting_for_payment(sample: CompiledProcess, runtime: Runtime) -> Iterator[Workflow]:
    with freeze_time("2025-09-23 05:00:00+00:00"):
        workflow = Workflow.start(sample, runtime=runtime)
        workflow.complete(
            only_task(workflow, "submit_application").id, APPLICATION, actor="citizen"
        )
        workflow.complete(
            only_task(workflow, "review_application").id, {"decision": "approve"}, actor="expert"
        )
        yield workflow


def test_failing_connector_opens_an_incident_and_keeps_the_state_before_the_step(
    waiting_for_payment: Workflow, connectors: FakeConnectors, runtime: Runtime
) -> None:
    connectors.broken.add("issue_document")

    result = waiting_for_payment.send_message("payment_confirmed", PAYMENT)

    incident = result.incident
    assert incident is not None
    assert incident.kind == "connector"
    assert incident.element_id == "issue_certificate"
    assert incident.element_name == "صدور پروانه"
    assert "issue_document service is down" in incident.message
    assert incident.retryable
    # The payment step before the failure is kept; the failed step is ready to run again.
    assert [(e.kind, e.element_id) for e in result.history] == [
        ("message_received", "wait_payment"),
        ("incident_opened", "issue_certificate"),
    ]
    workflow = restored(waiting_for_payment, runtime)
    assert workflow.incident == incident
    assert workflow.data["payment"] == PAYMENT
    assert "certificate" not in workflow.data
    assert workflow.waiting_messages() == []
    assert workflow.current_steps() == ["صدور پروانه"]
    assert not workflow.is_completed


def test_other_operations_wait_for_the_incident(
    waiting_for_payment: Workflow, connectors: FakeConnectors
) -> None:
    connectors.broken.add("issue_document")
    waiting_for_payment.send_message("payment_confirmed", PAYMENT)

    with pytest.raises(IncidentOpen, match="issue_certificate"):
        waiting_for_payment.fire_due_timers()
    with pytest.raises(IncidentOpen):
        waiting_for_payment.send_message("payment_confirmed", PAYMENT)
    with pytest.raises(IncidentOpen):
        waiting_for_payment.complete("00000000-0000-0000-0000-000000000000", {}, actor="x")


def test_retry_after_the_fix_completes_the_case(
    waiting_for_payment: Workflow, connectors: FakeConnectors, runtime: Runtime
) -> None:
    connectors.broken.add("issue_document")
    waiting_for_payment.send_message("payment_confirmed", PAYMENT)
    workflow = restored(waiting_for_payment, runtime)

    still_broken = workflow.retry()
    assert still_broken.incident is not None
    assert still_broken.incident.element_id == "issue_certificate"

    connectors.broken.clear()
    workflow = restored(workflow, runtime)
    fixed = workflow.retry()

    assert fixed.incident is None
    assert fixed.completed
    assert [e.kind for e in fixed.history] == [
        "connector_called",
        "end_reached",
        "process_completed",
    ]
    attempts = [context for name, _, context in connectors.calls if name == "issue_document"]
    assert len(attempts) == 3
    assert {c.idempotency_key for c in attempts} == {"issue_certificate#1"}  # one logical call
    assert len({c.task_id for c in attempts}) == 1
    with pytest.raises(NothingToRetry):
        workflow.retry()


def test_broken_contract_is_an_incident(sample: CompiledProcess) -> None:
    registry = ConnectorRegistry()
    registry.register(
        "create_invoice",
        lambda i, c: {"delivered": True},
        inputs={"lines": "dict", "tariff_year": "int", "event_key": "str"},
        outputs={"amount": "int", "bill_id": "str", "payment_id": "str"},
    )

    workflow = _approved(sample, Runtime(connectors=registry))

    assert workflow.incident is not None
    assert workflow.incident.element_id == "request_payment"
    assert "undeclared outputs ['delivered']" in workflow.incident.message


def test_bpmn_parameter_type_must_match_the_declaration(sample: CompiledProcess) -> None:
    registry = ConnectorRegistry()
    registry.register(
        "create_invoice",
        lambda i, c: {"amount": 1, "bill_id": "", "payment_id": ""},
        inputs={"lines": "dict", "tariff_year": "str", "event_key": "str"},
        outputs={"amount": "int", "bill_id": "str", "payment_id": "str"},
    )

    workflow = _approved(sample, Runtime(connectors=registry))

    assert workflow.incident is not None
    assert "typed 'int' in the BPMN but declared 'str'" in workflow.incident.message


def test_unregistered_connector_is_an_incident(sample: CompiledProcess) -> None:
    workflow = _approved(sample, Runtime())

    assert workflow.incident is not None
    assert workflow.incident.kind == "connector"
    assert "no connector named 'create_invoice'" in workflow.incident.message


def _approved(sample: CompiledProcess, runtime: Runtime) -> Workflow:
    workflow = Workflow.start(sample, runtime=runtime)
    workflow.complete(only_task(workflow, "submit_application").id, APPLICATION, actor="citizen")
    workflow.complete(
        only_task(workflow, "review_application").id, {"decision": "approve"}, actor="expert"
    )
    return workflow
