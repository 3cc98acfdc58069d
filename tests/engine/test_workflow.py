"""Workflow mechanics beyond the sample's happy paths: incidents, replay, events, parallel data."""

from __future__ import annotations

from datetime import date

import pytest
from freezegun import freeze_time

from engine import (
    CompiledProcess,
    IncidentNotRetryable,
    InvalidTaskData,
    NothingToRetry,
    Runtime,
    WorkCalendar,
    Workflow,
)

from .support import (
    FakeConnectors,
    compiled_probe,
    end,
    flow,
    only_task,
    restored,
    script_task,
    sequence,
    start,
    user_task,
)

APPLICATION = {"applicant_name": "فاطمه حسینی", "usage": "residential", "area": 120}


class ClosedCalendar(WorkCalendar):
    """A misconfigured calendar: no day is ever a working day."""

    def is_working_day(self, day: date) -> bool:
        return False


def test_failure_while_a_step_completes_rolls_back_the_operation_and_replays_it(
    sample: CompiledProcess, connectors: FakeConnectors
) -> None:
    broken = Runtime(calendar=ClosedCalendar(), connectors=connectors.registry)
    with freeze_time("2025-09-23 05:00:00+00:00"):
        workflow = Workflow.start(sample, runtime=broken)
        submit = only_task(workflow, "submit_application")

        result = workflow.complete(submit.id, APPLICATION, actor="citizen:7")

        # The review's deadline cannot be computed: the case is back before the submission...
        incident = result.incident
        assert incident is not None
        assert incident.element_id == "review_deadline"
        assert "no 5 working days" in incident.message
        assert [e.kind for e in result.history] == ["incident_opened"]
        assert only_task(workflow, "submit_application").id == submit.id
        assert "applicant_name" not in workflow.data

        # ...and the submission is not lost: after the fix, retry() replays it.
        fixed = Workflow.load(
            sample, workflow.dump(), runtime=Runtime(connectors=connectors.registry)
        )
        replayed = fixed.retry()

    assert replayed.incident is None
    first = replayed.history[0]
    assert (first.kind, first.element_id, first.actor) == (
        "task_completed",
        "submit_application",
        "citizen:7",
    )
    assert first.data == APPLICATION
    assert only_task(fixed, "review_application").data["applicant_name"] == "فاطمه حسینی"


def test_an_automatic_loop_without_a_wait_state_is_stopped() -> None:
    body = "\n".join(
        [
            start(),
            script_task("init", "n = 0"),
            script_task("bump", "n = n + 1"),
            '<bpmn:exclusiveGateway id="again" default="again__bump"/>',
            flow("start", "init"),
            flow("init", "bump"),
            flow("bump", "again"),
            flow("again", "bump"),
        ]
    )

    workflow = Workflow.start(compiled_probe(body), runtime=Runtime(max_engine_steps=25))

    assert workflow.incident is not None
    assert workflow.incident.kind == "engine"
    assert "more than 25 automatic steps" in workflow.incident.message
    assert workflow.retry().incident is not None  # still looping: still an incident


BPMN_ERROR = '<bpmn:error id="docs_error" name="documents_invalid" errorCode="DOCS"/>'
ESCALATION = '<bpmn:escalation id="head_escalation" name="needs_head" escalationCode="HEAD"/>'


def test_uncaught_bpmn_error_end_event_is_an_incident_to_dismiss() -> None:
    compiled = compiled_probe(
        sequence(start(), end("fail", '<bpmn:errorEventDefinition errorRef="docs_error"/>')),
        definitions=BPMN_ERROR,
    )
    workflow = Workflow.start(compiled, runtime=Runtime())

    incident = workflow.incident
    assert incident is not None
    assert incident.kind == "bpmn_error"
    assert incident.element_id == "fail"
    assert "documents_invalid" in incident.message
    assert not incident.retryable
    with pytest.raises(IncidentNotRetryable):
        workflow.retry()

    result = restored(workflow, Runtime()).dismiss_incident(actor="admin:1")

    assert result.incident is None
    assert [(e.kind, e.actor) for e in result.history] == [("incident_dismissed", "admin:1")]


def test_retryable_incidents_are_not_dismissed_and_no_incident_is_not_retried() -> None:
    workflow = Workflow.start(
        compiled_probe(sequence(start(), script_task("s", "x = y"), end())), runtime=Runtime()
    )
    assert workflow.incident is not None
    assert workflow.incident.kind == "script"
    assert "NameError" in workflow.incident.message

    with pytest.raises(IncidentNotRetryable):
        workflow.dismiss_incident(actor="admin")

    clean = Workflow.start(
        compiled_probe(sequence(start(), user_task("ask"), end())), runtime=Runtime()
    )
    with pytest.raises(NothingToRetry):
        clean.retry()


def test_escalation_throw_is_recorded_in_history() -> None:
    throw = '<bpmn:intermediateThrowEvent id="raise"><bpmn:escalationEventDefinition escalationRef="head_escalation"/></bpmn:intermediateThrowEvent>'
    compiled = compiled_probe(sequence(start(), throw, end()), definitions=ESCALATION)

    workflow = Workflow.start(compiled, runtime=Runtime())

    assert workflow.incident is None
    assert workflow.is_completed
    assert ("escalation_raised", "raise") in [
        (e.kind, e.element_id) for e in workflow.last_result.history
    ]


def parallel_reviews() -> CompiledProcess:
    body = "\n".join(
        [
            start(),
            '<bpmn:parallelGateway id="split"/>',
            user_task("fire_review"),
            user_task("urban_review"),
            '<bpmn:parallelGateway id="join"/>',
            user_task("decide"),
            end(),
            flow("start", "split"),
            flow("split", "fire_review"),
            flow("split", "urban_review"),
            flow("fire_review", "join"),
            flow("urban_review", "join"),
            flow("join", "decide"),
            flow("decide", "end"),
        ]
    )
    return compiled_probe(body)


def test_parallel_branches_keep_namespaced_data() -> None:
    """spiffworkflow.md §2.8: one key per branch survives the join; a shared key would not."""
    workflow = Workflow.start(parallel_reviews(), runtime=Runtime())
    assert sorted(t.element_id for t in workflow.human_tasks()) == ["fire_review", "urban_review"]
    assert sorted(workflow.current_steps()) == ["fire_review", "urban_review"]

    workflow.complete(
        only_task(workflow, "fire_review").id,
        {"review": {"fire": "reject"}, "decision": "reject"},
        actor="fire",
    )
    workflow.complete(
        only_task(workflow, "urban_review").id,
        {"review": {"urban": "ok"}, "decision": "approve"},
        actor="urban",
    )

    data = only_task(workflow, "decide").data
    assert data["review"] == {"fire": "reject", "urban": "ok"}
    assert data["decision"] == "approve"  # last writer wins: never share a key across branches


def test_human_task_lookup_and_lane_filter(sample: CompiledProcess, runtime: Runtime) -> None:
    workflow = Workflow.start(sample, runtime=runtime)
    task = workflow.human_tasks()[0]

    assert workflow.human_task(task.id) == task
    assert workflow.human_tasks(lane="APPLICANT") == [task]
    assert workflow.human_tasks(lane="URB_EXPERT") == []


def test_start_data_must_be_json_native(sample: CompiledProcess, runtime: Runtime) -> None:
    with pytest.raises(InvalidTaskData):
        Workflow.start(sample, {"tags": {"a"}}, runtime=runtime)
