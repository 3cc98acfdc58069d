"""validate_package: every problem reported at once, each naming file, element and problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import ConnectorRegistry, ProcessLibrary, ValidationIssue, validate_package

from .support import FIXTURES_DIR, FakeConnectors

KEY = "fixture"


def card_bytes(library: ProcessLibrary) -> bytes:
    return library.read_files("sample_permit")["service.json"]


def validate_fixture(
    name: str, library: ProcessLibrary, registry: ConnectorRegistry
) -> list[ValidationIssue]:
    files = {
        "process.bpmn": (FIXTURES_DIR / name).read_bytes(),
        "service.json": card_bytes(library),
    }
    return validate_package(
        files, key=KEY, form_exists=lambda key: key == "fixture/form", connectors=registry
    )


@pytest.fixture
def registry() -> ConnectorRegistry:
    return FakeConnectors().registry


@pytest.mark.parametrize(
    "name",
    ["valid.bpmn", "quoted_timer.bpmn", "exhaustive_conditions.bpmn", "bounded_loop.bpmn"],
)
def test_valid_fixtures_have_no_issues(
    name: str, library: ProcessLibrary, registry: ConnectorRegistry
) -> None:
    assert validate_fixture(name, library, registry) == []


# fixture -> [(element id, message fragment)], exactly the issues expected.
BROKEN = {
    "missing_form_key.bpmn": [("fill_form", "has no formKey")],
    "unknown_form.bpmn": [("fill_form", "'fixture/no_such_form' does not name an existing form")],
    "task_outside_lane.bpmn": [("fill_form", "is not in any lane")],
    "unknown_role.bpmn": [("lane_system", "'JANITOR' is not a known role code")],
    "script_escape.bpmn": [
        ("compute_total", '"__subclasses__" is an invalid attribute name'),
        ("compute_total", '"__base__" is an invalid attribute name'),
        ("compute_total", '"__class__" is an invalid attribute name'),
    ],
    "script_import.bpmn": [("compute_total", "import statements are not allowed")],
    "bad_condition.bpmn": [("flow_large", "condition does not compile in the sandbox")],
    "unquoted_timer.bpmn": [("reminder", "timer timeDuration 'P5D' is not quoted")],
    "no_default.bpmn": [
        ("check_total", "no default flow and its conditions are not provably exhaustive")
    ],
    "unbounded_loop.bpmn": [("fill_form", "has no bound")],
    "loop_counter_not_incremented.bpmn": [("fill_form", "has no bound")],
    "missing_layout.bpmn": [
        ("compute_total", "has no diagram shape"),
        ("flow_large", "sequence flow has no diagram edge"),
    ],
    "wrong_process_id.bpmn": [
        ("something_else", "process id must equal the package key 'fixture'")
    ],
    "unknown_connector.bpmn": [("compute_total", "connector 'teleport' is not registered")],
    "connector_named_like_task.bpmn": [
        ("compute_total", "id must differ from its connector's"),
        ("compute_total", "connector 'compute_total' is not registered"),
    ],
    "connector_parameters.bpmn": [
        ("compute_total", "input 'recipient_role' is not mapped"),
        ("compute_total", "parameter amount is typed 'str', connector declares 'int'"),
    ],
    "many_errors.bpmn": [
        ("lane_system", "'JANITOR' is not a known role code"),
        ("fill_form", "has no formKey"),
        ("compute_total", '"__class__" is an invalid attribute name'),
        ("check_total", "has no diagram shape"),
    ],
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_fixture_reports_exactly_its_problems(
    name: str, library: ProcessLibrary, registry: ConnectorRegistry
) -> None:
    issues = validate_fixture(name, library, registry)

    assert len(issues) == len(BROKEN[name]), [str(i) for i in issues]
    for (element_id, fragment), issue in zip(BROKEN[name], issues, strict=True):
        assert issue.file == "process.bpmn"
        assert issue.element_id == element_id
        assert fragment in issue.message
        assert issue.line is not None
        assert f"[{element_id}]" in str(issue)


def test_xsd_errors_name_the_file_and_line(
    library: ProcessLibrary, registry: ConnectorRegistry
) -> None:
    issues = validate_fixture("invalid_xsd.bpmn", library, registry)

    assert len(issues) == 1
    assert issues[0].file == "process.bpmn"
    assert issues[0].line == 26
    assert "frobnicate" in issues[0].message
    assert str(issues[0]).startswith("process.bpmn:26: XSD:")


def test_malformed_xml_is_reported_not_raised(
    library: ProcessLibrary, registry: ConnectorRegistry
) -> None:
    issues = validate_fixture("not_well_formed.bpmn", library, registry)

    assert [(i.file, i.line) for i in issues] == [("process.bpmn", 16)]
    assert "not well-formed" in issues[0].message


def test_sample_package_validates_clean(
    library: ProcessLibrary, registry: ConnectorRegistry
) -> None:
    files = library.read_files("sample_permit")

    issues = validate_package(
        files, key="sample_permit", form_exists=library.form_exists, connectors=registry
    )

    assert issues == []


def test_sample_forms_exist_for_every_form_key(library: ProcessLibrary) -> None:
    package = library.load_package("sample_permit")

    assert sorted(package.forms) == [
        "sample_permit/application",
        "sample_permit/correction",
        "sample_permit/escalation",
        "sample_permit/inspection",
        "sample_permit/review",
    ]
    assert all(library.form_exists(key) for key in package.form_keys())


def test_sample_without_registry_or_forms_skips_those_checks(library: ProcessLibrary) -> None:
    assert validate_package(library.read_files("sample_permit"), key="sample_permit") == []


def test_unregistered_connectors_of_the_sample_are_reported(library: ProcessLibrary) -> None:
    issues = validate_package(
        library.read_files("sample_permit"), key="sample_permit", connectors=ConnectorRegistry()
    )

    assert [(i.element_id, i.message) for i in issues] == [
        ("notify_correction", "connector 'notify' is not registered"),
        ("request_payment", "connector 'create_invoice' is not registered"),
        ("issue_certificate", "connector 'issue_document' is not registered"),
    ]


def test_dmn_problems_are_reported_per_cell(library: ProcessLibrary) -> None:
    files = library.read_files("sample_permit")
    files["fee.dmn"] = (
        files["fee.dmn"]
        .replace(b'hitPolicy="UNIQUE"', b'hitPolicy="FIRST"')
        .replace(b"rials(area * 500000)", b'__import__("os")')
        .replace(b"<text>&lt;= 200</text>", b"<text>&lt;= open(1)</text>")
    )

    issues = validate_package(files, key="sample_permit")

    assert [(i.file, i.element_id) for i in issues] == [
        ("fee.dmn", "fee_table"),
        ("fee.dmn", "rule_residential_small_area"),
        ("fee.dmn", "rule_commercial_fee"),
    ]
    assert "hit policy FIRST is not supported" in issues[0].message
    assert '"open" is not available' in issues[1].message
    assert '"__import__" is an invalid variable name' in issues[2].message


def test_business_rule_task_must_reference_a_package_decision(library: ProcessLibrary) -> None:
    files = library.read_files("sample_permit")
    files["process.bpmn"] = files["process.bpmn"].replace(b">fee_decision<", b">no_such_decision<")

    issues = validate_package(files, key="sample_permit")

    assert [(i.element_id, i.message) for i in issues] == [
        ("compute_fee", "decision 'no_such_decision' is not defined in the package's DMN files")
    ]


def test_service_card_problems_are_all_reported(library: ProcessLibrary) -> None:
    files = library.read_files("sample_permit")
    files["service.json"] = (
        '{"name": {"fa": "پروانه"}, "legal_deadline": {"value": 15, "unit": "weeks"}}'.encode()
    )

    issues = validate_package(files, key="sample_permit")

    assert {i.element_id for i in issues} == {
        "name",
        "description",
        "who_may_apply",
        "fee_description",
        "required_documents",
        "notifications",
        "service_id",
        "legal_deadline",
        "typical_duration",
    }
    assert all(i.file == "service.json" for i in issues)


@pytest.mark.parametrize(
    ("old", "new", "element_id", "fragment"),
    [
        (
            '<bpmn:startEvent id="start" name="شروع"/>',
            '<bpmn:startEvent id="start"><bpmn:timerEventDefinition><bpmn:timeDuration>"P1D"'
            "</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:startEvent>",
            "start",
            "timer start events are not supported",
        ),
        (
            '<bpmn:exclusiveGateway id="check_total" name="مبلغ زیاد است؟" default="flow_small"/>',
            '<bpmn:eventBasedGateway id="check_total"/>',
            "check_total",
            "event-based gateways are unreliable",
        ),
    ],
)
def test_constructs_spiffworkflow_runs_unreliably_are_refused(
    old: str, new: str, element_id: str, fragment: str, library: ProcessLibrary
) -> None:
    valid = (FIXTURES_DIR / "valid.bpmn").read_text(encoding="utf-8")
    assert old in valid
    files = {
        "process.bpmn": valid.replace(old, new).encode("utf-8"),
        "service.json": card_bytes(library),
    }

    issues = validate_package(files, key=KEY)

    assert any(i.element_id == element_id and fragment in i.message for i in issues), issues


def test_every_fixture_is_covered() -> None:
    covered = set(BROKEN) | {
        "valid.bpmn",
        "quoted_timer.bpmn",
        "exhaustive_conditions.bpmn",
        "bounded_loop.bpmn",
        "invalid_xsd.bpmn",
        "not_well_formed.bpmn",
    }
    assert {p.name for p in Path(FIXTURES_DIR).glob("*.bpmn")} == covered
