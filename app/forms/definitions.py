"""Form definitions: one JSON file per form in FORMS_DIR, read into a tree of fields."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app

from app.i18n import localized

#: A form key is "<process_key>/<name>"; both parts are snake_case file names.
FORM_KEY = re.compile(r"[a-z][a-z0-9_]*/[a-z][a-z0-9_]*")
#: Property names become HTML names and ids (joined with "." and "-"), hence this alphabet.
PROPERTY_NAME = re.compile(r"[a-z][a-z0-9_]*")

WIDGETS = frozenset(
    {
        "text",
        "textarea",
        "integer",
        "decimal",
        "money",
        "select",
        "radios",
        "checkboxes",
        "yesno",
        "jalali-date",
        "file",
        "group",
        "registry-plate",
        "repeatable",
        "readonly",
    }
)


#: What `ui:prefill` may name: the facts a citizen's account and profile hold. A form opts a
#: field in, because the same words mean different people across forms (the applicant's
#: national code in one, the owner's in another; the applicant's postal code or the property's).
PREFILL_FACTS = frozenset({"national_code", "full_name", "mobile", "postal_code", "email"})


class FormNotFound(LookupError):
    """No form definition exists for a key."""


@dataclass(frozen=True)
class Field:
    """One property of a form's schema with its UI hints; `pattern` uses * for item indexes."""

    name: str
    pattern: str
    schema: dict[str, Any]
    ui: dict[str, Any]
    widget: str
    required: bool
    children: tuple[Field, ...] = ()

    @property
    def label_text(self) -> dict[str, str] | str:
        return self.ui.get("ui:label") or self.schema.get("title") or self.name

    def label(self) -> str:
        """The label in the current locale."""
        return localized(self.label_text)

    def help(self) -> str:
        return localized(self.ui.get("ui:help")) if self.ui.get("ui:help") else ""

    def placeholder(self) -> str:
        return localized(self.ui.get("ui:placeholder")) if self.ui.get("ui:placeholder") else ""

    @property
    def prefill(self) -> str | None:
        """The citizen's fact (one of PREFILL_FACTS) a new draft starts this field with."""
        fact = self.ui.get("ui:prefill")
        return fact if isinstance(fact, str) else None

    @property
    def format(self) -> str | None:
        fmt = self.schema.get("format")
        if fmt is None and self.schema.get("type") == "array":
            fmt = (self.schema.get("items") or {}).get("format")
        return fmt

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.ui.get("ui:options") or {})

    def choices(self) -> list[tuple[Any, str]]:
        """The (value, label) pairs of a choice field in the current locale."""
        source = self.schema
        if self.schema.get("type") == "array":
            source = self.schema.get("items") or {}
        labels = self.ui.get("ui:enumLabels") or {}
        pairs: list[tuple[Any, str]] = []
        if "oneOf" in source or "anyOf" in source:
            for option in source.get("oneOf") or source.get("anyOf"):
                if "const" in option:
                    value = option["const"]
                    text = labels.get(str(value)) or option.get("title") or value
                    pairs.append((value, localized(text)))
        for value in source.get("enum", []):
            pairs.append((value, localized(labels.get(str(value)) or value)))
        return pairs

    def child(self, name: str) -> Field | None:
        return next((c for c in self.children if c.name == name), None)


@dataclass(frozen=True)
class FormDefinition:
    """A loaded form: its key, envelope parts, fields and pages."""

    key: str
    path: Path
    version: str
    title: dict[str, str]
    schema: dict[str, Any]
    ui: dict[str, Any]
    description: dict[str, str] | None = None
    messages: dict[str, Any] = field(default_factory=dict)
    fields: tuple[Field, ...] = ()
    pages: tuple[Page, ...] = ()

    @property
    def process_key(self) -> str:
        return self.key.split("/")[0]

    @property
    def name(self) -> str:
        return self.key.split("/")[1]

    def field(self, name: str) -> Field | None:
        """The top-level field with this name."""
        return next((f for f in self.fields if f.name == name), None)

    def field_at(self, path: str) -> Field | None:
        """The field at a concrete path such as owners.1.share."""
        parts = [p for p in path.split(".") if not p.isdigit() and p != "*"]
        current: Field | None = None
        siblings = self.fields
        for part in parts:
            current = next((f for f in siblings if f.name == part), None)
            if current is None:
                return None
            siblings = current.children
        return current

    def page_of(self, name: str) -> int:
        """The index of the page that holds a top-level field (0 when there is one page)."""
        for index, page in enumerate(self.pages):
            if name in page.fields:
                return index
        return 0

    def walk(self) -> Iterator[Field]:
        """Every field, depth first."""

        def visit(fields: tuple[Field, ...]) -> Iterator[Field]:
            for f in fields:
                yield f
                yield from visit(f.children)

        yield from visit(self.fields)


@dataclass(frozen=True)
class Page:
    """A page of a multi-page form: a title and the top-level fields it asks for."""

    title: dict[str, str] | str
    fields: tuple[str, ...]


def default_widget(schema: dict[str, Any]) -> str:
    """The widget a schema gets when the UI schema names none."""
    kind = schema.get("type")
    if kind == "object":
        return "group"
    if kind == "array":
        items = schema.get("items") or {}
        if items.get("type") == "object":
            return "repeatable"
        return "checkboxes"
    if kind == "boolean":
        return "yesno"
    if "enum" in schema or "oneOf" in schema or "anyOf" in schema:
        options = schema.get("enum") or schema.get("oneOf") or schema.get("anyOf") or []
        return "radios" if len(options) <= 5 else "select"
    if schema.get("format") == "jalali-date":
        return "jalali-date"
    if kind == "integer":
        return "money" if schema.get("format") == "rial" else "integer"
    if kind == "number":
        return "decimal"
    return "text"


def build_fields(schema: dict[str, Any], ui: dict[str, Any], prefix: str = "") -> tuple[Field, ...]:
    """Build the field tree of an object schema in UI order (ui:order, then schema order)."""
    properties: dict[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    order = [name for name in ui.get("ui:order", []) if name in properties and name != "*"]
    order += [name for name in properties if name not in order]
    fields = []
    for name in order:
        sub_schema = properties[name]
        if not isinstance(sub_schema, dict):
            continue
        sub_ui = ui.get(name) or {}
        widget = sub_ui.get("ui:widget") or default_widget(sub_schema)
        pattern = f"{prefix}{name}"
        children: tuple[Field, ...] = ()
        if widget in ("group", "registry-plate"):
            children = build_fields(sub_schema, sub_ui, f"{pattern}.")
        elif widget == "repeatable":
            children = build_fields(
                sub_schema.get("items") or {}, sub_ui.get("items") or {}, f"{pattern}.*."
            )
        fields.append(
            Field(
                name=name,
                pattern=pattern,
                schema=sub_schema,
                ui=sub_ui,
                widget=widget,
                required=name in required,
                children=children,
            )
        )
    return tuple(fields)


def build_pages(schema: dict[str, Any], ui: dict[str, Any]) -> tuple[Page, ...]:
    """The pages from ui:pages, or one untitled page with every field."""
    fields = build_fields(schema, ui)
    pages = ui.get("ui:pages")
    if not pages:
        return (Page(title="", fields=tuple(f.name for f in fields)),)
    return tuple(
        Page(title=page.get("title") or "", fields=tuple(page.get("fields") or ()))
        for page in pages
    )


def forms_dir() -> Path:
    return Path(current_app.config["FORMS_DIR"])


def path_for(key: str, directory: Path | None = None) -> Path:
    """The file of a form key; the key is checked so it cannot leave the forms folder."""
    if not FORM_KEY.fullmatch(key):
        raise FormNotFound(key)
    return (directory or forms_dir()) / f"{key}.json"


_cache: dict[tuple[str, int, int], FormDefinition] = {}


def parse_definition(key: str, path: Path, text: str) -> FormDefinition:
    """Build a FormDefinition from a file's text (no checks: `flask forms validate` does those).

    :raises ValueError: when the text is not a JSON object with a schema.
    """
    envelope = json.loads(text)
    if not isinstance(envelope, dict) or not isinstance(envelope.get("schema"), dict):
        raise ValueError(f"{path}: not a form definition (a JSON object with a schema)")
    schema = envelope["schema"]
    ui = envelope.get("ui") or {}
    title = envelope.get("title") or {"fa": key, "en": key}
    return FormDefinition(
        key=key,
        path=path,
        version=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        title=title,
        description=envelope.get("description"),
        schema=schema,
        ui=ui,
        messages=envelope.get("messages") or {},
        fields=build_fields(schema, ui),
        pages=build_pages(schema, ui),
    )


def load_form(key: str, directory: Path | None = None) -> FormDefinition:
    """Load a form by key ("sample_permit/application"), cached until its file changes.

    :raises FormNotFound: when no file exists for the key.
    """
    path = path_for(key, directory)
    try:
        stat = path.stat()
    except OSError as error:
        raise FormNotFound(key) from error
    cache_key = (str(path), stat.st_mtime_ns, stat.st_size)
    if cache_key not in _cache:
        _cache[cache_key] = parse_definition(key, path, path.read_text(encoding="utf-8"))
    return _cache[cache_key]


def form_keys(directory: Path | None = None) -> list[str]:
    """Every form key in the forms folder, sorted."""
    root = directory or forms_dir()
    return sorted(
        f"{p.parent.name}/{p.stem}"
        for p in root.glob("*/*.json")
        if FORM_KEY.fullmatch(f"{p.parent.name}/{p.stem}")
    )
