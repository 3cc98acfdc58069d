"""Conditional fields: if/then/else, dependentRequired and oneOf branches decide what shows.

A field is conditional when a branch names it (in `required` or `properties`); it shows while
one of those branches applies to the data. The server decides with jsonschema itself; simple
conditions (const or enum tests, "answered") are also compiled for forms.js to mirror.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator


@dataclass(frozen=True)
class Rule:
    """While `applies(object_data)` holds, `fields` of that object show; `required` are required."""

    applies: Callable[[dict[str, Any]], bool]
    fields: frozenset[str]
    required: frozenset[str]
    #: The browser's version of the test, or None when it is too complex to mirror.
    js: dict[str, Any] | None
    #: Properties the test reads (their inputs must be on the same page for JS to decide).
    controllers: frozenset[str]


def _named(branch: dict[str, Any] | None) -> tuple[frozenset[str], frozenset[str]]:
    if not isinstance(branch, dict):
        return frozenset(), frozenset()
    required = frozenset(branch.get("required") or ())
    return frozenset(branch.get("properties") or ()) | required, required


def _js_value(value: Any) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


def compile_test(schema: dict[str, Any]) -> tuple[dict[str, Any] | None, frozenset[str]]:
    """Compile an `if` schema made of const/enum tests on properties into a browser test."""
    properties = schema.get("properties") or {}
    controllers = frozenset(properties) | frozenset(schema.get("required") or ())
    clauses = []
    simple = set(schema) <= {"properties", "required"}
    for name, test in properties.items():
        if not isinstance(test, dict):
            return None, controllers
        if set(test) == {"const"}:
            clauses.append({"field": name, "in": [_js_value(test["const"])]})
        elif set(test) == {"enum"}:
            clauses.append({"field": name, "in": [_js_value(v) for v in test["enum"]]})
        else:
            simple = False
    for name in schema.get("required") or ():
        if name not in properties:
            clauses.append({"field": name, "filled": True})
    if not simple or not clauses:
        return None, controllers
    return {"all": clauses}, controllers


@lru_cache(maxsize=512)
def _validator(schema_json: str) -> Draft202012Validator:
    import json

    return Draft202012Validator(json.loads(schema_json))


def _is_valid(schema: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    import json

    text = json.dumps(schema, sort_keys=True)
    return lambda data: _validator(text).is_valid(data)


def rules_for(schema: dict[str, Any]) -> tuple[Rule, ...]:
    """Every conditional rule of one object schema (the root, a group or a repeatable item)."""
    rules: list[Rule] = []
    conditionals = [schema, *[s for s in schema.get("allOf") or () if isinstance(s, dict)]]
    for holder in conditionals:
        if "if" not in holder or not isinstance(holder["if"], dict):
            continue
        test = holder["if"]
        js, controllers = compile_test(test)
        valid = _is_valid(test)
        fields, required = _named(holder.get("then"))
        if fields:
            rules.append(Rule(valid, fields - controllers, required, js, controllers))
        fields, required = _named(holder.get("else"))
        if fields:

            def invalid(data: dict[str, Any], valid: Callable[..., bool] = valid) -> bool:
                return not valid(data)

            rules.append(
                Rule(invalid, fields - controllers, required, js and {"not": js}, controllers)
            )
    for trigger, dependants in (schema.get("dependentRequired") or {}).items():

        def answered(data: dict[str, Any], trigger: str = trigger) -> bool:
            return trigger in data

        rules.append(
            Rule(
                answered,
                frozenset(dependants),
                frozenset(dependants),
                {"all": [{"field": trigger, "filled": True}]},
                frozenset({trigger}),
            )
        )
    for branch in schema.get("oneOf") or ():
        if not isinstance(branch, dict):
            continue
        # The branch's discriminator: its properties with a const or enum.
        discriminator = {
            name: test
            for name, test in (branch.get("properties") or {}).items()
            if isinstance(test, dict) and ({"const", "enum"} & set(test))
        }
        if not discriminator:
            continue
        test = {"properties": discriminator, "required": sorted(discriminator)}
        js, controllers = compile_test(test)
        fields, required = _named(branch)
        rules.append(Rule(_is_valid(test), fields - controllers, required, js, controllers))
    return tuple(rules)


def conditional_names(schema: dict[str, Any]) -> frozenset[str]:
    """The properties of an object schema that only show under some condition."""
    names: frozenset[str] = frozenset()
    for rule in rules_for(schema):
        names |= rule.fields
    return names


def visible_names(schema: dict[str, Any], data: dict[str, Any]) -> frozenset[str]:
    """The conditional properties that show for this object's data."""
    names: frozenset[str] = frozenset()
    for rule in rules_for(schema):
        if rule.applies(data):
            names |= rule.fields
    return names


def branch_required(schema: dict[str, Any]) -> frozenset[str]:
    """The conditional properties that are required whenever they show."""
    names: frozenset[str] = frozenset()
    for rule in rules_for(schema):
        names |= rule.required
    return names


def js_condition(schema: dict[str, Any], name: str) -> tuple[dict[str, Any] | None, frozenset[str]]:
    """The browser test for one conditional property (any of its rules) and what it reads."""
    tests = []
    controllers: frozenset[str] = frozenset()
    for rule in rules_for(schema):
        if name in rule.fields:
            if rule.js is None:
                return None, controllers | rule.controllers
            tests.append(rule.js)
            controllers |= rule.controllers
    if not tests:
        return None, controllers
    return {"any": tests}, controllers


def prune(schema: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Drop answers to conditional questions that no longer apply (to a fixed point)."""
    conditional = conditional_names(schema)
    if not conditional:
        return data
    pruned = dict(data)
    for _ in range(len(conditional) + 1):
        visible = visible_names(schema, pruned)
        hidden = [name for name in conditional if name in pruned and name not in visible]
        if not hidden:
            break
        for name in hidden:
            del pruned[name]
    return pruned
