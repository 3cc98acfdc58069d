"""Read-only helpers over BPMN/DMN XML (lxml), shared by the library and validation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from engine.errors import PackageError

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core",
}

TASK_TAGS = frozenset(
    {
        "task", "userTask", "manualTask", "serviceTask", "scriptTask", "businessRuleTask",
        "sendTask", "receiveTask", "callActivity", "subProcess", "transaction", "adHocSubProcess",
    }
)  # fmt: skip
HUMAN_TASK_TAGS = frozenset({"userTask", "manualTask"})
EVENT_TAGS = frozenset(
    {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}
)
GATEWAY_TAGS = frozenset(
    {
        "exclusiveGateway",
        "parallelGateway",
        "inclusiveGateway",
        "eventBasedGateway",
        "complexGateway",
    }
)
FLOW_NODE_TAGS = TASK_TAGS | EVENT_TAGS | GATEWAY_TAGS

# No entities, no network: package files come from git, but the parser stays strict anyway.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)


class XmlSyntaxError(PackageError):
    """A package file is not well-formed XML."""

    def __init__(self, filename: str, line: int | None, reason: str) -> None:
        super().__init__(f"{filename}:{line}: XML is not well-formed: {reason}")
        self.filename, self.line, self.reason = filename, line, reason


def parse_xml(data: bytes, filename: str) -> Any:
    """Parse XML bytes into an lxml element.

    :raises XmlSyntaxError: naming the file and line when the XML is not well-formed.
    """
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise XmlSyntaxError(filename, exc.lineno, exc.msg) from None


def local_name(element: Any) -> str:
    """Return an element's tag without its namespace."""
    return str(etree.QName(element).localname)


def is_bpmn(element: Any, *names: str) -> bool:
    """Return True when the element is in the BPMN namespace with one of the given names."""
    qname = etree.QName(element)
    return bool(qname.namespace == NS["bpmn"] and qname.localname in names)


def processes(root: Any) -> list[Any]:
    """Return the bpmn:process elements of a definitions document."""
    return list(root.findall("bpmn:process", NS))


def flow_nodes(container: Any) -> list[Any]:
    """Return every flow node under a process, subprocesses included, in document order."""
    return [
        el for el in container.iter() if isinstance(el.tag, str) and is_bpmn(el, *FLOW_NODE_TAGS)
    ]


def sequence_flows(container: Any) -> list[Any]:
    """Return every bpmn:sequenceFlow under a process, in document order."""
    return list(container.iter(f"{{{NS['bpmn']}}}sequenceFlow"))


def lanes_by_node(process: Any) -> dict[str, str]:
    """Map flow node id -> lane name for every lane of a process."""
    result: dict[str, str] = {}
    for lane in process.iter(f"{{{NS['bpmn']}}}lane"):
        for ref in lane.findall("bpmn:flowNodeRef", NS):
            if ref.text:
                result[ref.text.strip()] = lane.get("name", "")
    return result


def properties(node: Any) -> dict[str, str]:
    """Return the node's spiffworkflow:properties as a dict."""
    found = node.findall(
        "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS
    )
    return {prop.get("name"): prop.get("value", "") for prop in found if prop.get("name")}


def text_of(node: Any, path: str, namespaces: Mapping[str, str] = NS) -> str | None:
    """Return the text of the first element matching ``path`` under ``node``."""
    found = node.find(path, dict(namespaces))
    return None if found is None or found.text is None else str(found.text)


@dataclass(frozen=True)
class ProcessStep:
    """One task of a process, for drawing the service's steps on a public page."""

    id: str
    name: str
    lane: str | None
    type: str


def ordered_steps(process: Any) -> list[ProcessStep]:
    """List the process's tasks in flow order from its start events (then any unreached)."""
    nodes = {node.get("id"): node for node in flow_nodes(process)}
    outgoing: dict[str, list[str]] = {}
    for flow in sequence_flows(process):
        outgoing.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
    for node in nodes.values():
        if is_bpmn(node, "boundaryEvent") and node.get("attachedToRef"):
            outgoing.setdefault(node.get("attachedToRef"), []).append(node.get("id"))
    starts = [node_id for node_id, node in nodes.items() if is_bpmn(node, "startEvent")]
    order: list[str] = []
    seen: set[str] = set()
    queue = list(starts)
    while queue:
        node_id = queue.pop(0)
        if node_id in seen or node_id not in nodes:
            continue
        seen.add(node_id)
        order.append(node_id)
        queue.extend(outgoing.get(node_id, []))
    order.extend(node_id for node_id in nodes if node_id not in seen)
    lanes = lanes_by_node(process)
    return [
        ProcessStep(
            id=node_id,
            name=nodes[node_id].get("name") or node_id,
            lane=lanes.get(node_id),
            type=local_name(nodes[node_id]),
        )
        for node_id in order
        if local_name(nodes[node_id]) in TASK_TAGS
    ]
