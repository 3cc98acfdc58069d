"""Check form definition files: what `flask forms validate` reports, every problem at once."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from app.forms.definitions import (
    FORM_KEY,
    PREFILL_FACTS,
    PROPERTY_NAME,
    WIDGETS,
    Field,
    build_fields,
    default_widget,
)
from app.forms.formats import FORMATS, STANDARD_FORMATS

ENVELOPE_KEYS = {"title", "description", "schema", "ui", "messages"}
FIELD_UI_KEYS = {
    "ui:widget",
    "ui:label",
    "ui:help",
    "ui:placeholder",
    "ui:enumLabels",
    "ui:options",
    "ui:order",
    "ui:autocomplete",
    "ui:prefill",
}
#: The JSON types each widget can hold.
WIDGET_TYPES = {
    "text": {"string"},
    "textarea": {"string"},
    "integer": {"integer"},
    "decimal": {"number", "integer"},
    "money": {"integer"},
    "select": {"string", "integer", "number"},
    "radios": {"string", "integer", "number", "boolean"},
    "checkboxes": {"array"},
    "yesno": {"boolean"},
    "jalali-date": {"string"},
    "file": {"object", "array"},
    "group": {"object"},
    "registry-plate": {"object"},
    "repeatable": {"array"},
    "readonly": {"string", "integer", "number", "boolean", "object", "array"},
}
CHOICE_WIDGETS = {"select", "radios", "checkboxes"}
_FORM_KEY_IN_BPMN = re.compile(r'name="formKey"\s+value="([^"]*)"')


@dataclass(frozen=True)
class Problem:
    """One problem in one file, at a field path (or "-" for the file as a whole)."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path or '-'}: {self.message}"


def _bilingual(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(value.get(lang), str) and value[lang].strip() for lang in ("fa", "en")
    )


def process_form_keys(processes_dir: Path) -> dict[str, list[Path]]:
    """formKey values used by the BPMN files in processes/*/, with the files using each."""
    keys: dict[str, list[Path]] = {}
    for bpmn in sorted(processes_dir.glob("*/*.bpmn")):
        for key in _FORM_KEY_IN_BPMN.findall(bpmn.read_text(encoding="utf-8")):
            keys.setdefault(key, []).append(bpmn)
    return keys


class _FileChecker:
    def __init__(self, shown: str) -> None:
        self.shown = shown
        self.problems: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(self.shown, path, message))

    def envelope(self, envelope: Any) -> None:
        if not isinstance(envelope, dict):
            self.add("", "the file must hold a JSON object (title, schema, ui)")
            return
        for key in sorted(set(envelope) - ENVELOPE_KEYS):
            self.add(key, f"unknown key {key!r} (allowed: {', '.join(sorted(ENVELOPE_KEYS))})")
        if not _bilingual(envelope.get("title")):
            self.add("title", "the title needs both fa and en texts")
        if "description" in envelope and not _bilingual(envelope["description"]):
            self.add("description", "the description needs both fa and en texts")
        schema = envelope.get("schema")
        ui = envelope.get("ui", {})
        if not isinstance(schema, dict):
            self.add("schema", "the schema is missing or not an object")
            return
        if not isinstance(ui, dict):
            self.add("ui", "ui must be an object")
            ui = {}
        self.schema(schema)
        if schema.get("type") != "object":
            self.add("schema", 'the schema\'s top level must be {"type": "object", ...}')
        try:
            fields = build_fields(schema, ui)
        except (AttributeError, TypeError) as error:
            self.add("schema", f"cannot read the fields: {error}")
            return
        self.object(schema, ui, fields, "")
        self.pages(ui, fields)
        self.messages(envelope.get("messages", {}), fields)

    def schema(self, schema: dict[str, Any]) -> None:
        meta = Draft202012Validator(Draft202012Validator.META_SCHEMA)
        for error in sorted(meta.iter_errors(schema), key=lambda e: list(map(str, e.path))):
            location = "/".join(str(p) for p in error.absolute_path)
            self.add(
                f"schema/{location}" if location else "schema",
                f"not valid JSON Schema: {error.message}",
            )

    def object(
        self, schema: dict[str, Any], ui: dict[str, Any], fields: tuple[Field, ...], prefix: str
    ) -> None:
        names = {f.name for f in fields}
        for name in ui.get("ui:order", []):
            if name not in names:
                self.add(f"{prefix}{name}", "ui:order names a field that is not in the schema")
        for key in ui:
            if not key.startswith("ui:") and key != "items" and key not in names:
                self.add(f"{prefix}{key}", "the ui schema names a field that is not in the schema")
        for name in schema.get("required") or []:
            if name not in names:
                self.add(f"{prefix}{name}", "required names a field that is not in the schema")
        self.conditions(schema, names, prefix)
        for field in fields:
            self.field(field)

    def conditions(self, schema: dict[str, Any], names: set[str], prefix: str) -> None:
        holders = [schema, *[s for s in schema.get("allOf") or [] if isinstance(s, dict)]]
        for holder in holders:
            test = holder.get("if")
            if isinstance(test, dict) and test.get("properties") and not test.get("required"):
                self.add(
                    prefix.rstrip(".") or "schema",
                    "an `if` that tests properties must list them in `required` too, or it holds while they are unanswered",
                )
            for branch in ("if", "then", "else"):
                part = holder.get(branch)
                if isinstance(part, dict):
                    for name in [*(part.get("required") or []), *(part.get("properties") or {})]:
                        if name not in names:
                            self.add(
                                f"{prefix}{name}",
                                f"`{branch}` names a field that is not in the schema",
                            )
        for trigger, dependants in (schema.get("dependentRequired") or {}).items():
            for name in [trigger, *dependants]:
                if name not in names:
                    self.add(
                        f"{prefix}{name}",
                        "dependentRequired names a field that is not in the schema",
                    )
        for pair in schema.get("x-dateOrder") or []:
            for role in ("earlier", "later"):
                if not isinstance(pair, dict) or pair.get(role) not in names:
                    self.add(
                        prefix.rstrip(".") or "schema",
                        f"x-dateOrder: {role!r} must name a date field",
                    )

    def prefill(self, field: Field) -> None:
        fact = field.ui["ui:prefill"]
        if fact not in PREFILL_FACTS:
            known = ", ".join(sorted(PREFILL_FACTS))
            self.add(field.pattern, f"ui:prefill {fact!r} is not a citizen's fact (known: {known})")
        elif "." in field.pattern:
            self.add(field.pattern, "ui:prefill goes on a question of the form, not inside a group")
        elif field.widget not in ("text", "textarea"):
            self.add(field.pattern, "ui:prefill fills text questions only")

    def field(self, field: Field) -> None:
        path = field.pattern
        schema, ui = field.schema, field.ui
        if not PROPERTY_NAME.fullmatch(field.name):
            self.add(path, "field names are snake_case: lower-case letters, digits and _")
        if field.widget not in WIDGETS:
            self.add(path, f"unknown widget {field.widget!r} (known: {', '.join(sorted(WIDGETS))})")
        else:
            kinds = schema.get("type")
            kinds = set(kinds) if isinstance(kinds, list) else {kinds}
            if not kinds & WIDGET_TYPES[field.widget]:
                self.add(path, f"widget {field.widget!r} cannot hold type {schema.get('type')!r}")
        fmt = field.format
        if fmt is not None and fmt not in FORMATS and fmt not in STANDARD_FORMATS:
            self.add(path, f"unknown format {fmt!r} (known: {', '.join(sorted(FORMATS))})")
        if not _bilingual(ui.get("ui:label")):
            self.add(path, "the label (ui:label) needs both fa and en texts")
        for key in ("ui:help", "ui:placeholder"):
            if key in ui and not _bilingual(ui[key]):
                self.add(path, f"{key} needs both fa and en texts")
        for key in ui:
            if key.startswith("ui:") and key not in FIELD_UI_KEYS and key != "ui:pages":
                self.add(path, f"unknown ui key {key!r}")
        if "ui:prefill" in ui:
            self.prefill(field)
        if field.widget in CHOICE_WIDGETS or (field.widget == "radios"):
            self.choices(field)
        if field.widget == "file":
            accepted = schema.get("x-accept")
            if not (
                isinstance(accepted, list)
                and accepted
                and all(isinstance(a, str) for a in accepted)
            ):
                self.add(
                    path,
                    "a file field needs x-accept: a list of types such as application/pdf or .pdf",
                )
            size = schema.get("x-maxSize")
            if not (isinstance(size, int) and size > 0):
                self.add(path, "a file field needs x-maxSize: the largest size in bytes")
        if "x-sum" in schema:
            spec = schema["x-sum"]
            child = field.child(spec.get("property", "")) if isinstance(spec, dict) else None
            if (
                field.widget != "repeatable"
                or child is None
                or not isinstance(spec.get("equals"), (int, float))
            ):
                self.add(
                    path,
                    'x-sum goes on a repeatable group: {"property": <a number field of its items>, "equals": <number>}',
                )
        if field.widget in ("group", "registry-plate"):
            self.object(schema, ui, field.children, f"{path}.")
            if field.widget == "registry-plate" and not {"section", "main"} <= {
                c.name for c in field.children
            }:
                self.add(path, "a registry-plate group needs section and main (and may have sub)")
        if field.widget == "repeatable":
            items = schema.get("items")
            if not isinstance(items, dict) or items.get("type") != "object":
                self.add(path, "a repeatable group's items must be objects")
            else:
                self.object(items, ui.get("items") or {}, field.children, f"{path}.*.")
        if "ui:widget" not in ui and default_widget(schema) != field.widget:  # pragma: no cover
            self.add(path, "internal: widget mismatch")

    def choices(self, field: Field) -> None:
        source = field.schema.get("items") if field.widget == "checkboxes" else field.schema
        source = source or {}
        values = list(source.get("enum") or [])
        values += [o.get("const") for o in source.get("oneOf") or [] if isinstance(o, dict)]
        if not values:
            self.add(field.pattern, f"a {field.widget} field needs enum or oneOf options")
        labels = field.ui.get("ui:enumLabels") or {}
        for value in values:
            if not _bilingual(labels.get(str(value))):
                self.add(
                    field.pattern, f"option {value!r} needs a label in ui:enumLabels with fa and en"
                )

    def pages(self, ui: dict[str, Any], fields: tuple[Field, ...]) -> None:
        pages = ui.get("ui:pages")
        if pages is None:
            return
        names = [f.name for f in fields]
        seen: dict[str, int] = {}
        if not isinstance(pages, list) or not pages:
            self.add("ui:pages", "ui:pages must be a list of {title, fields}")
            return
        for number, page in enumerate(pages, start=1):
            if not isinstance(page, dict):
                self.add(f"ui:pages/{number}", "a page is {title, fields}")
                continue
            if not _bilingual(page.get("title")):
                self.add(f"ui:pages/{number}", "the page title needs both fa and en texts")
            for name in page.get("fields") or []:
                if name not in names:
                    self.add(name, f"page {number} names a field that is not in the schema")
                elif name in seen:
                    self.add(name, f"the field is on pages {seen[name]} and {number}")
                else:
                    seen[name] = number
        for name in names:
            if name not in seen:
                self.add(name, "the field is on no page (add it to ui:pages)")

    def messages(self, messages: Any, fields: tuple[Field, ...]) -> None:
        if not isinstance(messages, dict):
            self.add("messages", "messages must be an object: {field path: {keyword: {fa, en}}}")
            return
        patterns = set()

        def collect(fs: tuple[Field, ...]) -> None:
            for f in fs:
                patterns.add(f.pattern)
                collect(f.children)

        collect(fields)
        for path, texts in messages.items():
            if path not in patterns:
                self.add(
                    path,
                    "messages names a field that is not in the schema (use * for item numbers)",
                )
            if not isinstance(texts, dict):
                self.add(path, "messages of a field are {keyword: {fa, en}}")
                continue
            for keyword, text in texts.items():
                if not _bilingual(text):
                    self.add(path, f"the message for {keyword!r} needs both fa and en texts")


def check_forms(forms_dir: Path, processes_dir: Path) -> list[Problem]:
    """Check every form file under forms_dir and the formKeys of the processes; all problems."""
    problems: list[Problem] = []
    used = process_form_keys(processes_dir)
    base = forms_dir.parent
    found = set()
    for path in sorted(forms_dir.glob("**/*.json")):
        shown = str(path.relative_to(base)) if path.is_relative_to(base) else str(path)
        checker = _FileChecker(shown)
        key = "/".join(path.relative_to(forms_dir).with_suffix("").parts)
        if not FORM_KEY.fullmatch(key):
            checker.add(
                "", f"the file must be forms/<process_key>/<name>.json in snake_case, not {key}"
            )
        found.add(key)
        try:
            envelope = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            checker.add("", f"not valid JSON: {error}")
        else:
            checker.envelope(envelope)
        if key not in used:
            checker.add(
                "",
                f'no process uses this form: no formKey "{key}" in {processes_dir.name}/*/*.bpmn',
            )
        problems += checker.problems
    for key, files in sorted(used.items()):
        if key not in found:
            for bpmn in files:
                shown = (
                    str(bpmn.relative_to(processes_dir.parent))
                    if bpmn.is_relative_to(processes_dir.parent)
                    else str(bpmn)
                )
                problems.append(
                    Problem(shown, f"formKey {key}", f"no form file {forms_dir.name}/{key}.json")
                )
    return problems
