"""Validate a process package before it is deployed, reporting every problem at once.

Checks (each issue names the file, the element id and the problem):

* BPMN and DMN files are well-formed and valid against SpiffWorkflow's XSDs;
* the package has exactly one executable process, whose id is the package key;
* every user/manual task sits in a lane and has a ``formKey`` property naming an
  existing form; every lane name is a known role code (or ``AGENCY_*``);
* every script, condition, timer expression, service-task parameter and DMN cell
  compiles under the sandbox; timer literals are quoted;
* every exclusive gateway has a default flow or provably exhaustive conditions;
* every cycle of sequence flows (a correction loop) is bounded: it contains an
  exclusive gateway whose flow leaving the loop is guarded by a comparison of a counter
  with a ``max_*`` name or a number, and a script in the loop assigns that counter;
* service tasks name a registered connector with the declared parameters and types;
* business rule tasks reference a decision of the package; DMN hit policies are
  UNIQUE or COLLECT, one decision table per file;
* every flow node, sequence flow and lane has BPMNDI layout;
* no event-based gateways or timer start events (unreliable in SpiffWorkflow 3.2);
* service.json is a complete service card.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.spiff.parser import VALIDATOR

from engine.bpmn_xml import (
    HUMAN_TASK_TAGS,
    NS,
    XmlSyntaxError,
    flow_nodes,
    is_bpmn,
    lanes_by_node,
    local_name,
    parse_xml,
    processes,
    properties,
    sequence_flows,
    text_of,
)
from engine.card import ServiceCardError, parse_service_card
from engine.connectors import ConnectorRegistry
from engine.errors import PackageError
from engine.library import CARD_FILE, FORM_KEY_PROPERTY, PROCESS_FILE, compile_package
from engine.scripting import Mode, compile_check

DEFAULT_ROLES: frozenset[str] = frozenset(
    {
        "APPLICANT", "COUNTER", "SECRETARIAT", "INSPECTOR", "URB_EXPERT", "URB_HEAD", "DEPUTY",
        "DISTRICT_MAYOR", "REVENUE", "ARCHIVE", "C100_SEC", "ENFORCEMENT", "SYSTEM",
    }
)  # fmt: skip
AGENCY_ROLE_PREFIX = "AGENCY_"

SUPPORTED_HIT_POLICIES = frozenset({"UNIQUE", "COLLECT"})

# A bare ISO-8601 duration or date in a timer is evaluated as a Python name and fails.
_UNQUOTED_TIMER = re.compile(r"^(R\d*/)?(P[0-9YMWDTHS.,]+|\d{4}-\d{2}-\d{2}\S*)$")


@dataclass(frozen=True)
class ValidationIssue:
    """One problem in a package: where it is and what is wrong."""

    file: str
    element_id: str | None
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        element = f" [{self.element_id}]" if self.element_id else ""
        return f"{where}{element}: {self.message}"


class _Report:
    def __init__(self) -> None:
        self.issues: list[ValidationIssue] = []

    def add(self, file: str, element: Any, message: str, line: int | None = None) -> None:
        element_id = element if isinstance(element, str) or element is None else element.get("id")
        if line is None and element is not None and not isinstance(element, str):
            line = element.sourceline
        self.issues.append(ValidationIssue(file, element_id, message, line))


def validate_package(
    files: Mapping[str, bytes],
    *,
    key: str,
    form_exists: Callable[[str], bool] | None = None,
    known_roles: Iterable[str] = DEFAULT_ROLES,
    connectors: ConnectorRegistry | None = None,
) -> list[ValidationIssue]:
    """Return every problem found in a package (an empty list means it may be deployed).

    ``form_exists`` checks form keys (skipped when None); ``connectors`` checks service
    tasks against the registry (skipped when None).
    """
    report = _Report()
    roles = frozenset(known_roles)
    bpmn_roots: dict[str, Any] = {}
    decisions: set[str] = set()
    for name in sorted(files):
        if name.endswith(".bpmn"):
            root = _parse(files[name], name, report)
            if root is not None and _xsd_valid(VALIDATOR, files[name], name, report):
                bpmn_roots[name] = root
        elif name.endswith(".dmn"):
            root = _parse(files[name], name, report)
            if root is not None:
                decisions |= _check_dmn(root, files[name], name, report)
    if PROCESS_FILE not in files:
        report.add(PROCESS_FILE, None, "package has no process.bpmn")
    elif PROCESS_FILE in bpmn_roots:
        _check_process_ids(bpmn_roots[PROCESS_FILE], key, report)
    for name, root in bpmn_roots.items():
        _check_bpmn(root, name, report, roles, form_exists, connectors, decisions)
    _check_card(files, report)
    if not report.issues:
        _check_compiles(files, key, report)
    return report.issues


def _parse(data: bytes, name: str, report: _Report) -> Any:
    try:
        return parse_xml(data, name)
    except XmlSyntaxError as exc:
        report.add(name, None, f"XML is not well-formed: {exc.reason}", line=exc.line)
        return None


def _xsd_valid(validator: BpmnValidator, data: bytes, name: str, report: _Report) -> bool:
    tree = parse_xml(data, name)  # a fresh tree: preprocess() edits it in place
    validator.preprocess(tree)
    schema = validator.validator
    if schema.validate(tree):
        return True
    for error in schema.error_log:
        report.add(name, None, f"XSD: {error.message}", line=error.line)
    return False


def _check_process_ids(root: Any, key: str, report: _Report) -> None:
    executable = [p for p in processes(root) if p.get("isExecutable", "true") != "false"]
    if len(executable) != 1:
        report.add(
            PROCESS_FILE, None, f"expected exactly one executable process, found {len(executable)}"
        )
    for process in executable:
        if process.get("id") != key:
            report.add(PROCESS_FILE, process, f"process id must equal the package key {key!r}")


def _check_bpmn(
    root: Any,
    name: str,
    report: _Report,
    roles: frozenset[str],
    form_exists: Callable[[str], bool] | None,
    connectors: ConnectorRegistry | None,
    decisions: set[str],
) -> None:
    messages = {m.get("id"): m for m in root.findall("bpmn:message", NS)}
    for process in processes(root):
        lanes = lanes_by_node(process)
        _check_lanes(process, name, report, roles)
        nodes = flow_nodes(process)
        for node in nodes:
            _check_human_task(node, lanes, name, report, form_exists)
            _check_node_code(node, name, report)
            _check_unreliable(node, name, report)
            _check_service_task(node, name, report, connectors)
            _check_business_rule(node, name, report, decisions)
            _check_message_refs(node, name, report, messages)
        flows = sequence_flows(process)
        for flow in flows:
            condition = text_of(flow, "bpmn:conditionExpression")
            if condition is not None:
                _compile(condition, "eval", name, flow, report, "condition")
        _check_gateways(nodes, flows, name, report)
        _check_loops(nodes, flows, name, report)
    _check_layout(root, name, report)


def _check_lanes(process: Any, name: str, report: _Report, roles: frozenset[str]) -> None:
    for lane in process.iter(f"{{{NS['bpmn']}}}lane"):
        role = lane.get("name")
        if not role:
            report.add(name, lane, "lane has no name; lane names must be role codes")
        elif role not in roles and not role.startswith(AGENCY_ROLE_PREFIX):
            report.add(name, lane, f"lane name {role!r} is not a known role code")


def _check_human_task(
    node: Any,
    lanes: Mapping[str, str],
    name: str,
    report: _Report,
    form_exists: Callable[[str], bool] | None,
) -> None:
    if not is_bpmn(node, *HUMAN_TASK_TAGS):
        return
    if node.get("id") not in lanes:
        report.add(
            name, node, f"{local_name(node)} is not in any lane (lanes assign tasks to roles)"
        )
    form_key = properties(node).get(FORM_KEY_PROPERTY)
    if not form_key:
        report.add(name, node, f"{local_name(node)} has no formKey in spiffworkflow:properties")
    elif form_exists is not None and not form_exists(form_key):
        report.add(name, node, f"formKey {form_key!r} does not name an existing form")


def _compile(
    source: str | None, mode: Mode, file: str, element: Any, report: _Report, what: str
) -> None:
    for error in compile_check(source, mode):
        report.add(file, element, f"{what} does not compile in the sandbox: {error}")


def _check_unreliable(node: Any, name: str, report: _Report) -> None:
    # SpiffWorkflow 3.2 behaviours that failed in practice (spiffworkflow.md §2.11).
    if is_bpmn(node, "eventBasedGateway"):
        report.add(
            name,
            node,
            "event-based gateways are unreliable in SpiffWorkflow 3.2; use boundary events",
        )
    if is_bpmn(node, "startEvent") and node.find("bpmn:timerEventDefinition", NS) is not None:
        report.add(
            name, node, "timer start events are not supported; start cases from the app's scheduler"
        )


def _check_node_code(node: Any, name: str, report: _Report) -> None:
    if is_bpmn(node, "scriptTask"):
        _compile(text_of(node, "bpmn:script"), "exec", name, node, report, "script")
    for tag in ("preScript", "postScript"):
        script = text_of(node, f"bpmn:extensionElements/spiffworkflow:{tag}")
        if script is not None:
            _compile(script, "exec", name, node, report, tag)
    for timer in node.findall("bpmn:timerEventDefinition", NS):
        for tag in ("timeDate", "timeDuration", "timeCycle"):
            expression = text_of(timer, f"bpmn:{tag}")
            if expression is None:
                continue
            if _UNQUOTED_TIMER.match(expression.strip()):
                report.add(
                    name,
                    node,
                    f'timer {tag} {expression.strip()!r} is not quoted: write "{expression.strip()}"',
                )
            else:
                _compile(expression, "eval", name, node, report, f"timer {tag}")
    for definition in node.findall("bpmn:messageEventDefinition", NS):
        payload = text_of(definition, "bpmn:extensionElements/spiffworkflow:messagePayload")
        if payload is not None:
            _compile(payload, "eval", name, node, report, "message payload")


def _check_service_task(
    node: Any, name: str, report: _Report, connectors: ConnectorRegistry | None
) -> None:
    if not is_bpmn(node, "serviceTask"):
        return
    operator = node.find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", NS)
    if operator is None:
        report.add(
            name, node, "service task has no spiffworkflow:serviceTaskOperator naming its connector"
        )
        return
    connector = operator.get("id")
    if connector and connector == node.get("id"):
        # SpiffWorkflow's parser then finds the operator instead of the task by that id and
        # fails with "no support implemented for this task type".
        report.add(
            name, node, f"the service task's id must differ from its connector's ({connector!r})"
        )
    if not operator.get("resultVariable"):
        report.add(name, node, "service task has no resultVariable for the connector's outputs")
    params = operator.findall("spiffworkflow:parameters/spiffworkflow:parameter", NS)
    given: dict[str, str] = {}
    for param in params:
        param_id, param_type, value = param.get("id"), param.get("type"), param.get("value")
        if not param_id or param_type is None or value is None:
            report.add(name, node, "every connector parameter needs id, type and value attributes")
            continue
        given[param_id] = param_type
        _compile(value, "eval", name, node, report, f"parameter {param_id}")
    if connectors is None:
        return
    if not connector or connector not in connectors:
        report.add(name, node, f"connector {connector!r} is not registered")
        return
    spec = connectors.get(connector)
    for missing in sorted(set(spec.inputs) - set(given) - spec.optional_inputs):
        report.add(name, node, f"connector {connector} input {missing!r} is not mapped")
    for param_id, param_type in given.items():
        declared = spec.inputs.get(param_id)
        if declared is None:
            report.add(name, node, f"connector {connector} has no input {param_id!r}")
        elif declared != param_type:
            report.add(
                name,
                node,
                f"parameter {param_id} is typed {param_type!r}, connector declares {declared!r}",
            )


def _check_business_rule(node: Any, name: str, report: _Report, decisions: set[str]) -> None:
    if not is_bpmn(node, "businessRuleTask"):
        return
    decision = text_of(node, "bpmn:extensionElements/spiffworkflow:calledDecisionId")
    if not decision:
        report.add(name, node, "business rule task has no spiffworkflow:calledDecisionId")
    elif decision not in decisions:
        report.add(name, node, f"decision {decision!r} is not defined in the package's DMN files")


def _check_message_refs(node: Any, name: str, report: _Report, messages: Mapping[str, Any]) -> None:
    for definition in node.findall("bpmn:messageEventDefinition", NS):
        ref = definition.get("messageRef")
        if ref not in messages or not messages[ref].get("name"):
            report.add(name, node, f"messageRef {ref!r} does not name a bpmn:message with a name")


def _check_gateways(nodes: list[Any], flows: list[Any], name: str, report: _Report) -> None:
    by_source: dict[str, list[Any]] = {}
    for flow in flows:
        by_source.setdefault(flow.get("sourceRef"), []).append(flow)
    for node in nodes:
        if not is_bpmn(node, "exclusiveGateway"):
            continue
        outgoing = by_source.get(node.get("id"), [])
        if len(outgoing) < 2:
            continue
        default = node.get("default")
        if default and default not in {f.get("id") for f in outgoing}:
            report.add(
                name, node, f"default flow {default!r} is not an outgoing flow of this gateway"
            )
        conditions: list[str] = []
        for flow in outgoing:
            if flow.get("id") == default:
                continue
            condition = text_of(flow, "bpmn:conditionExpression")
            if condition is None or not condition.strip():
                report.add(
                    name,
                    flow,
                    f"flow from gateway {node.get('id')} has no condition and is not the default",
                )
            else:
                conditions.append(condition)
        if not default and not _exhaustive(conditions):
            report.add(
                name,
                node,
                "exclusive gateway has no default flow and its conditions are not provably exhaustive",
            )


_NEGATED = {
    ast.Lt: ast.GtE,
    ast.GtE: ast.Lt,
    ast.Gt: ast.LtE,
    ast.LtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
}


def _exhaustive(conditions: list[str]) -> bool:
    trees = []
    for condition in conditions:
        try:
            trees.append(ast.parse(condition.strip(), mode="eval").body)
        except SyntaxError:
            return False
    if any(isinstance(t, ast.Constant) and t.value is True for t in trees):
        return True
    dumped = [ast.dump(t) for t in trees]
    for tree in trees:
        if (
            isinstance(tree, ast.UnaryOp)
            and isinstance(tree.op, ast.Not)
            and ast.dump(tree.operand) in dumped
        ):
            return True
        if isinstance(tree, ast.Compare) and len(tree.ops) == 1 and type(tree.ops[0]) in _NEGATED:
            negated = ast.Compare(tree.left, [_NEGATED[type(tree.ops[0])]()], tree.comparators)
            if ast.dump(negated) in dumped:
                return True
    return False


def _check_loops(nodes: list[Any], flows: list[Any], name: str, report: _Report) -> None:
    ids = [n.get("id") for n in nodes]
    by_id = {n.get("id"): n for n in nodes}
    edges: dict[str, list[str]] = {node_id: [] for node_id in ids}
    flow_of: dict[tuple[str, str], list[Any]] = {}
    for flow in flows:
        source, target = flow.get("sourceRef"), flow.get("targetRef")
        if source in edges:
            edges[source].append(target)
            flow_of.setdefault((source, target), []).append(flow)
    for node in nodes:
        if is_bpmn(node, "boundaryEvent") and node.get("attachedToRef") in edges:
            edges[node.get("attachedToRef")].append(node.get("id"))
    for component in _strongly_connected(ids, edges):
        looping = len(component) > 1 or component[0] in edges.get(component[0], [])
        if looping and not _loop_bounded(component, by_id, edges, flow_of):
            first = min(component, key=ids.index)
            report.add(
                name,
                by_id[first],
                f"loop through {sorted(component)} has no bound: add an exclusive gateway in the loop "
                "whose flow out of the loop is taken on a condition such as "
                "'correction_round > max_correction_rounds', and a script in the loop that increments the counter",
            )


def _loop_bounded(
    component: list[str],
    by_id: Mapping[str, Any],
    edges: Mapping[str, list[str]],
    flow_of: Mapping[tuple[str, str], list[Any]],
) -> bool:
    members = set(component)
    incremented: set[str] = set()
    for node_id in component:
        for script in _scripts_of(by_id[node_id]):
            incremented |= _incremented_names(script)
    for node_id in component:
        if not is_bpmn(by_id[node_id], "exclusiveGateway"):
            continue
        for target in edges.get(node_id, []):
            if target in members:
                continue
            for flow in flow_of.get((node_id, target), []):
                counters = _bound_counters(text_of(flow, "bpmn:conditionExpression"))
                if counters & incremented:
                    return True
    return False


def _scripts_of(node: Any) -> list[str]:
    scripts = [text_of(node, "bpmn:script")] if is_bpmn(node, "scriptTask") else []
    scripts += [
        text_of(node, f"bpmn:extensionElements/spiffworkflow:{tag}")
        for tag in ("preScript", "postScript")
    ]
    return [s for s in scripts if s]


def _incremented_names(script: str) -> set[str]:
    """Return names a script increments: ``n += k`` or ``n = n + k`` (any expression using n)."""
    try:
        tree = ast.parse(script)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            used = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
            names |= {t.id for t in node.targets if isinstance(t, ast.Name) and t.id in used}
    return names


def _bound_counters(condition: str | None) -> set[str]:
    """Return counter names compared with a max_* name or a number in ``condition``."""
    if not condition:
        return set()
    try:
        tree = ast.parse(condition.strip(), mode="eval")
    except SyntaxError:
        return set()
    counters: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare) or len(node.ops) != 1:
            continue
        if not isinstance(node.ops[0], (ast.Gt, ast.GtE, ast.Lt, ast.LtE)):
            continue
        left, right = node.left, node.comparators[0]
        for counter, bound in ((left, right), (right, left)):
            is_bound = (isinstance(bound, ast.Name) and bound.id.startswith("max_")) or (
                isinstance(bound, ast.Constant) and isinstance(bound.value, int)
            )
            if isinstance(counter, ast.Name) and is_bound:
                counters.add(counter.id)
    return counters


def _strongly_connected(ids: list[str], edges: Mapping[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (process graphs are small, but recursion limits are not)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    result: list[list[str]] = []
    counter = 0
    for root in ids:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, child_index = work.pop()
            if child_index == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            children = [c for c in edges.get(node, []) if c in edges]
            if child_index < len(children):
                work.append((node, child_index + 1))
                child = children[child_index]
                if child not in index:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                result.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return result


def _check_layout(root: Any, name: str, report: _Report) -> None:
    drawn = {
        shape.get("bpmnElement")
        for tag in ("BPMNShape", "BPMNEdge")
        for shape in root.iter(f"{{{NS['bpmndi']}}}{tag}")
    }
    for process in processes(root):
        for node in flow_nodes(process):
            if node.get("id") not in drawn:
                report.add(name, node, f"{local_name(node)} has no diagram shape (BPMNDI)")
        for flow in sequence_flows(process):
            if flow.get("id") not in drawn:
                report.add(name, flow, "sequence flow has no diagram edge (BPMNDI)")
        for lane in process.iter(f"{{{NS['bpmn']}}}lane"):
            if lane.get("id") not in drawn:
                report.add(name, lane, "lane has no diagram shape (BPMNDI)")


@lru_cache(maxsize=8)
def _dmn_validator(schema_path: str) -> BpmnValidator:
    return BpmnValidator(schema_path)


def _check_dmn(root: Any, data: bytes, name: str, report: _Report) -> set[str]:
    namespace = root.nsmap.get(None) or root.nsmap.get("dmn")
    schema = DMN_SCHEMAS.get(namespace or "")
    if schema is None:
        report.add(name, None, f"unsupported DMN namespace {namespace!r}")
        return set()
    if not _xsd_valid(_dmn_validator(schema), data, name, report):
        return set()
    ns = {"dmn": namespace}
    decisions = root.findall("dmn:decision", ns)
    found: set[str] = set()
    if len(decisions) != 1:
        report.add(
            name,
            None,
            f"a DMN file must hold exactly one decision (SpiffWorkflow), found {len(decisions)}",
        )
    for decision in decisions:
        found.add(decision.get("id"))
        tables = decision.findall("dmn:decisionTable", ns)
        if len(tables) != 1:
            report.add(name, decision, "a decision must hold exactly one decision table")
        for table in tables:
            policy = table.get("hitPolicy", "UNIQUE").upper()
            if policy not in SUPPORTED_HIT_POLICIES:
                report.add(
                    name, table, f"hit policy {policy} is not supported (it behaves as first match)"
                )
            _check_dmn_cells(table, ns, name, report)
    return found


def _check_dmn_cells(table: Any, ns: Mapping[str, str], name: str, report: _Report) -> None:
    inputs = [
        text_of(i, "dmn:inputExpression/dmn:text", ns) for i in table.findall("dmn:input", ns)
    ]
    for position, expression in enumerate(inputs):
        if not expression:
            report.add(
                name, table.findall("dmn:input", ns)[position], "DMN input has no expression"
            )
        else:
            _compile(
                expression,
                "eval",
                name,
                table.findall("dmn:input", ns)[position],
                report,
                "DMN input",
            )
    for rule in table.findall("dmn:rule", ns):
        for position, entry in enumerate(rule.findall("dmn:inputEntry", ns)):
            text = text_of(entry, "dmn:text", ns)
            if (
                text is None
                or text.strip() in ("", "-")
                or position >= len(inputs)
                or not inputs[position]
            ):
                continue
            _compile(
                _dmn_test(inputs[position] or "", text.strip()),
                "eval",
                name,
                entry,
                report,
                "DMN input entry",
            )
        for entry in rule.findall("dmn:outputEntry", ns):
            text = text_of(entry, "dmn:text", ns)
            if text is not None and text.strip():
                _compile(text, "eval", name, entry, report, "DMN output entry")


def _dmn_test(input_expression: str, entry: str) -> str:
    """Build the expression SpiffWorkflow's DMNEngine evaluates for an input entry."""
    if "?" in entry:
        return re.sub(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)", "dmninputexpr", entry)
    try:
        ast.parse(entry, mode="eval")
        return f"({input_expression}) == ({entry})"
    except SyntaxError:
        return f"{input_expression} {entry}"


def _check_card(files: Mapping[str, bytes], report: _Report) -> None:
    if CARD_FILE not in files:
        report.add(CARD_FILE, None, "package has no service.json (service card)")
        return
    try:
        parse_service_card(files[CARD_FILE])
    except ServiceCardError as exc:
        for problem in exc.problems:
            field_name = problem.split(":", 1)[0]
            report.add(CARD_FILE, field_name, problem.split(": ", 1)[-1])


def _check_compiles(files: Mapping[str, bytes], key: str, report: _Report) -> None:
    try:
        compile_package(files, key=key)
    except PackageError as exc:
        report.add(PROCESS_FILE, None, f"SpiffWorkflow cannot compile the package: {exc}")
