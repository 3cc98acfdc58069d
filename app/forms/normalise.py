"""Turn posted form data into answers: Persian normalised, typed, conditional answers pruned.

Invalid input is kept as typed (so the page can show it again and the validator can name the
problem); valid input is stored in canonical form (ASCII digits, 09XXXXXXXXX, YYYY-MM-DD).
"""

from __future__ import annotations

import copy
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from werkzeug.datastructures import FileStorage, MultiDict

from app.forms.conditions import prune
from app.forms.definitions import Field, FormDefinition
from app.forms.formats import FORMATS, canonical
from app.persian.text import normalize_text, to_ascii_digits

Data = dict[str, Any]
FormData = MultiDict[str, str]

_INTEGER = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_THOUSANDS = re.compile("[٬,'\u00a0\u2009\u202f ]")
#: Bytes read from an upload to recognise its real type; the rest is only counted.
_SNIFF = {
    b"%PDF-": "application/pdf",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
}
_CHUNK = 64 * 1024
UNKNOWN_TYPE = "application/octet-stream"


def _text(raw: str, multiline: bool = False) -> str:
    return normalize_text(raw, multiline=multiline)


def parse_number(raw: str, integer: bool) -> Any:
    """12 or 240.5 from what people type (Persian digits, ٫ or / as the decimal point)."""
    s = to_ascii_digits(_text(raw))
    if integer:
        s = _THOUSANDS.sub("", s)
        return int(s) if _INTEGER.fullmatch(s) else s
    s = s.replace("٫", ".").replace("/", ".")
    s = s.replace("٬", "").replace(" ", "")
    if s.count(",") == 1 and "." not in s:
        s = s.replace(",", ".")  # a decimal comma
    if not _DECIMAL.fullmatch(s):
        return _text(raw)
    try:
        value = Decimal(s)
    except InvalidOperation:  # pragma: no cover - the pattern admits decimals only
        return _text(raw)
    return int(value) if value == value.to_integral_value() else float(value)


def _choice(field: Field, raw: str) -> Any:
    for value, _label in field.choices():
        if str(value) == raw or (isinstance(value, bool) and raw == ("yes" if value else "no")):
            return value
    return raw


def _upload_metadata(storage: FileStorage) -> dict[str, Any]:
    """Name, real type and size of an upload; the content is read to count it and not kept."""
    head = storage.stream.read(_CHUNK)
    size = len(head)
    while chunk := storage.stream.read(_CHUNK):
        size += len(chunk)
    sniffed = next((kind for magic, kind in _SNIFF.items() if head.startswith(magic)), None)
    declared = storage.mimetype or UNKNOWN_TYPE
    if sniffed is None and declared in _SNIFF.values():
        declared = UNKNOWN_TYPE  # it claims to be a PDF or an image, and its bytes say otherwise
    name = _text((storage.filename or "").replace("\\", "/").rsplit("/", 1)[-1])[:200]
    return {"name": name, "type": sniffed or declared, "size": size}


def _value(
    field: Field,
    path: str,
    formdata: FormData,
    files: MultiDict[str, FileStorage] | None,
    previous: Any,
) -> Any:
    """The answer for one field at a concrete path, or None when it was left empty."""
    widget = field.widget
    if widget == "readonly":
        return previous
    if widget in ("group", "registry-plate"):
        obj = _object(field.children, f"{path}.", formdata, files, previous or {})
        obj = prune(field.schema, obj)
        return obj or None
    if widget == "repeatable":
        return _items(field, path, formdata, files, previous)
    if widget == "file":
        return _file(field, path, files, formdata, previous)
    if widget == "checkboxes":
        chosen = [_choice(field, v) for v in formdata.getlist(path) if v]
        return chosen or None
    if widget == "jalali-date":
        parts = {
            part: formdata.get(f"{path}__{part}", "").strip() for part in ("day", "month", "year")
        }
        if not any(parts.values()):
            return None
        value, _key = canonical(FORMATS["jalali-date"], parts)
        return value
    raw = formdata.get(path, "")
    if not raw.strip():
        return None
    if widget == "yesno":
        return {"yes": True, "no": False}.get(raw, raw)
    if widget in ("select", "radios"):
        return _choice(field, raw)
    fmt = FORMATS.get(field.format or "")
    if widget == "money":
        value, _key = canonical(FORMATS["rial"], raw)
        return value if _key is None else _text(raw)
    if fmt is not None:
        value, key = canonical(fmt, raw)
        return value if key is None else _text(raw)
    if widget == "integer":
        return parse_number(raw, integer=True)
    if widget == "decimal":
        return parse_number(raw, integer=False)
    return _text(raw, multiline=widget == "textarea") or None


def _file(
    field: Field,
    path: str,
    files: MultiDict[str, FileStorage] | None,
    formdata: FormData,
    previous: Any,
) -> Any:
    uploads = [f for f in (files.getlist(path) if files else []) if f and f.filename]
    if uploads:
        metadata = [_upload_metadata(f) for f in uploads]
        return metadata if field.schema.get("type") == "array" else metadata[0]
    if formdata.get(f"{path}__remove"):
        return None
    return previous


def _items(
    field: Field,
    path: str,
    formdata: FormData,
    files: MultiDict[str, FileStorage] | None,
    previous: Any,
) -> list[Data]:
    prefix = f"{path}."
    indexes = sorted(
        {
            int(key[len(prefix) :].split(".", 1)[0])
            for key in [*formdata.keys(), *(files.keys() if files else [])]
            if key.startswith(prefix) and key[len(prefix) :].split(".", 1)[0].isdigit()
        }
    )
    old = previous if isinstance(previous, list) else []
    items = []
    item_schema = field.schema.get("items") or {}
    for index in indexes:
        before = old[index] if index < len(old) and isinstance(old[index], dict) else {}
        item = _object(field.children, f"{path}.{index}.", formdata, files, before)
        items.append(prune(item_schema, item))
    return items


def _object(
    fields: tuple[Field, ...],
    prefix: str,
    formdata: FormData,
    files: MultiDict[str, FileStorage] | None,
    previous: Data,
) -> Data:
    obj: Data = {}
    for field in fields:
        value = _value(field, f"{prefix}{field.name}", formdata, files, previous.get(field.name))
        if value is not None:
            obj[field.name] = value
    return obj


def normalise(
    form: FormDefinition,
    formdata: FormData,
    *,
    files: MultiDict[str, FileStorage] | None = None,
    page: int | None = None,
    previous: Data | None = None,
) -> Data:
    """Read the answers of one page (or the whole form) into data, over the earlier answers.

    Fields of other pages keep their earlier answers; answers to conditional questions that no
    longer apply are dropped.
    """
    data: Data = copy.deepcopy(previous or {})
    names = set(form.pages[page].fields) if page is not None else {f.name for f in form.fields}
    for field in form.fields:
        if field.name not in names:
            continue
        value = _value(field, field.name, formdata, files, data.get(field.name))
        if value is None:
            data.pop(field.name, None)
        else:
            data[field.name] = value
    return prune(form.schema, data)


def get_path(data: Any, path: str) -> Any:
    """The value at a dotted path (owners.1.share), or None."""
    current = data
    for part in path.split("."):
        if isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        elif isinstance(current, dict) and part in current:
            current = current[part]
        else:
            return None
    return current


def apply_action(form: FormDefinition, data: Data, action: str) -> Data:
    """Add an empty item to a repeatable group ("add:owners") or remove one ("remove:owners.1")."""
    verb, _, target = action.partition(":")
    result = copy.deepcopy(data)
    if verb == "add":
        field = form.field_at(target)
        parent_path, _, name = target.rpartition(".")
        parent = get_path(result, parent_path) if parent_path else result
        if field is None or field.widget != "repeatable" or not isinstance(parent, dict):
            return result
        items = parent.setdefault(name, [])
        if not isinstance(items, list):
            items = parent[name] = []
        limit = field.schema.get("maxItems")
        if limit is None or len(items) < limit:
            items.append({})
    elif verb == "remove":
        list_path, _, index = target.rpartition(".")
        items = get_path(result, list_path)
        field = form.field_at(list_path)
        minimum = (field.schema.get("minItems") or 0) if field else 0
        if isinstance(items, list) and index.isdigit() and int(index) < len(items):
            if len(items) > max(minimum, 1) or field is None:
                del items[int(index)]
            else:
                items[int(index)] = {}
    return result
