"""Connectors: the Python functions service tasks call, with declared inputs and outputs.

A BPMN service task names its connector and maps inputs with SpiffWorkflow's extension::

    <spiffworkflow:serviceTaskOperator id="issue_document" resultVariable="certificate">
      <spiffworkflow:parameters>
        <spiffworkflow:parameter id="applicant_name" type="str" value="applicant_name"/>
      </spiffworkflow:parameters>
    </spiffworkflow:serviceTaskOperator>

Parameter values are sandboxed expressions over the task data. The connector's outputs
land in task data under ``resultVariable``. The app registers the real connectors; the
engine only defines the registry and checks every call against the declaration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine.errors import ConnectorError, InvalidTaskData
from engine.scripting import check_json_native

# Type names usable in a declaration and in the BPMN parameter's ``type`` attribute.
TYPE_NAMES: Mapping[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
    "dict": (dict,),
    "list": (list,),
    "any": (object,),
}


@dataclass(frozen=True)
class ConnectorContext:
    """What a connector may know about the call besides its inputs."""

    connector: str
    process_key: str
    element_id: str
    task_id: str
    # Stable across retries of the same step; prefix it with the case id for external calls.
    idempotency_key: str


class Connector(Protocol):
    """A callable that performs one external action."""

    def __call__(self, inputs: Mapping[str, Any], context: ConnectorContext) -> Mapping[str, Any]:
        """Perform the action and return the declared outputs."""
        ...


@dataclass(frozen=True)
class ConnectorSpec:
    """A registered connector and its contract."""

    name: str
    handler: Connector
    inputs: Mapping[str, str]
    outputs: Mapping[str, str]
    optional_inputs: frozenset[str] = field(default_factory=frozenset)
    description: str = ""

    def check_inputs(self, inputs: Mapping[str, Any]) -> None:
        """Raise ConnectorError unless ``inputs`` match the declaration."""
        unknown = sorted(set(inputs) - set(self.inputs))
        if unknown:
            raise ConnectorError(f"connector {self.name} got undeclared inputs {unknown}")
        missing = sorted(set(self.inputs) - set(inputs) - self.optional_inputs)
        if missing:
            raise ConnectorError(f"connector {self.name} is missing inputs {missing}")
        for name, value in inputs.items():
            _check_type(self.name, "input", name, self.inputs[name], value)

    def check_outputs(self, outputs: Any) -> dict[str, Any]:
        """Return the outputs as a dict, or raise ConnectorError if they break the contract."""
        if not isinstance(outputs, Mapping):
            raise ConnectorError(
                f"connector {self.name} returned {type(outputs).__name__}, not a mapping"
            )
        unknown = sorted(set(outputs) - set(self.outputs))
        if unknown:
            raise ConnectorError(f"connector {self.name} returned undeclared outputs {unknown}")
        missing = sorted(set(self.outputs) - set(outputs))
        if missing:
            raise ConnectorError(f"connector {self.name} did not return outputs {missing}")
        for name, value in outputs.items():
            _check_type(self.name, "output", name, self.outputs[name], value)
        result = dict(outputs)
        try:
            check_json_native(result, f"{self.name} outputs")
        except InvalidTaskData as exc:
            raise ConnectorError(str(exc)) from None
        return result


def _check_type(connector: str, kind: str, name: str, type_name: str, value: Any) -> None:
    expected = TYPE_NAMES[type_name]
    # bool is an int subclass; a flag passed as an amount is a modelling error.
    is_bool_for_number = isinstance(value, bool) and type_name in ("int", "float")
    if not isinstance(value, expected) or is_bool_for_number:
        raise ConnectorError(
            f"connector {connector} {kind} {name} must be {type_name}, got {type(value).__name__}"
        )


class ConnectorRegistry:
    """Connectors by name; the app fills one at start-up and hands it to the Runtime."""

    def __init__(self) -> None:
        self._specs: dict[str, ConnectorSpec] = {}

    def register(
        self,
        name: str,
        handler: Connector,
        *,
        inputs: Mapping[str, str],
        outputs: Mapping[str, str],
        optional: Iterable[str] = (),
        description: str = "",
    ) -> ConnectorSpec:
        """Register ``handler`` under ``name`` with its declared inputs and outputs."""
        for type_name in [*inputs.values(), *outputs.values()]:
            if type_name not in TYPE_NAMES:
                raise ValueError(f"unknown type {type_name!r}; use one of {sorted(TYPE_NAMES)}")
        optional_inputs = frozenset(optional)
        if not optional_inputs <= set(inputs):
            raise ValueError("optional inputs must be declared inputs")
        spec = ConnectorSpec(
            name, handler, dict(inputs), dict(outputs), optional_inputs, description
        )
        self._specs[name] = spec
        return spec

    def connector(
        self,
        name: str,
        *,
        inputs: Mapping[str, str],
        outputs: Mapping[str, str],
        optional: Iterable[str] = (),
        description: str = "",
    ) -> Callable[[Connector], Connector]:
        """Register the decorated function as a connector."""

        def decorate(handler: Connector) -> Connector:
            self.register(
                name,
                handler,
                inputs=inputs,
                outputs=outputs,
                optional=optional,
                description=description,
            )
            return handler

        return decorate

    def get(self, name: str) -> ConnectorSpec:
        """Return the connector's spec.

        :raises ConnectorError: when no connector has this name.
        """
        try:
            return self._specs[name]
        except KeyError:
            raise ConnectorError(f"no connector named {name!r} is registered") from None

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def names(self) -> list[str]:
        """Return the registered connector names, sorted."""
        return sorted(self._specs)

    def call(
        self, name: str, inputs: Mapping[str, Any], context: ConnectorContext
    ) -> dict[str, Any]:
        """Validate inputs, call the connector, validate and return its outputs.

        :raises ConnectorError: for an unknown connector, a contract violation or any
            exception the connector raises (chained as ``__cause__``).
        """
        spec = self.get(name)
        spec.check_inputs(inputs)
        try:
            outputs = spec.handler(dict(inputs), context)
        except ConnectorError:
            raise
        except Exception as exc:
            raise ConnectorError(f"connector {name} failed: {type(exc).__name__}: {exc}") from exc
        return spec.check_outputs(outputs)
