"""Validate answers with jsonschema, our formats and cross-field keywords; fa/en message per field.

Cross-field keywords (documented in forms/README.md), checked after each field's own rules:
- `x-sum` on an array of objects: {"property": "share", "equals": 6}
- `x-dateOrder` on an object: [{"earlier": "start_date", "later": "end_date"}]
- `x-maxDate` on a Jalali date: "today" (or a YYYY-MM-DD Jalali date)
- `x-accept` and `x-maxSize` on a file field: accepted types and the largest size in bytes
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators

from app.forms import messages
from app.forms.conditions import prune
from app.forms.definitions import Field, FormDefinition
from app.forms.formats import FORMATS, check_jalali, format_checker
from app.forms.normalise import UNKNOWN_TYPE, get_path
from app.i18n import current_locale, localized
from app.persian import InvalidValue, tehran_today, to_jalali

Data = dict[str, Any]

# --- our keywords ---------------------------------------------------------------------------


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return Decimal(str(value))


def _sum(
    validator: Any, spec: dict[str, Any], instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "array") or not isinstance(spec, dict):
        return
    values = [
        _number(item.get(spec.get("property"))) for item in instance if isinstance(item, dict)
    ]
    if not values or any(v is None for v in values):
        return  # a missing or mistyped value is reported on its own field
    total = sum(values, Decimal(0))
    if total != Decimal(str(spec.get("equals"))):
        error = ValidationError(f"sum is {total}")
        error.total = total.normalize()  # type: ignore[attr-defined]
        yield error


def _date_order(validator: Any, spec: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pair in spec if isinstance(spec, list) else [spec]:
        earlier, later = instance.get(pair.get("earlier")), instance.get(pair.get("later"))
        first, second = check_jalali(earlier or ""), check_jalali(later or "")
        if not (first.ok and second.ok):
            continue
        if second.value < first.value or (
            second.value == first.value and not pair.get("allowEqual", True)
        ):
            error = ValidationError("dates out of order", path=[pair["later"]])
            error.earlier = pair["earlier"]  # type: ignore[attr-defined]
            yield error


def today_jalali() -> str:
    """Today's Jalali date in Tehran as YYYY-MM-DD."""
    year, month, day = to_jalali(tehran_today())
    return f"{year:04d}-{month:02d}-{day:02d}"


def _max_date(validator: Any, spec: str, instance: Any, schema: Any) -> Iterator[ValidationError]:
    checked = check_jalali(instance) if isinstance(instance, str) else None
    if checked is None or not checked.ok:
        return
    limit = today_jalali() if spec == "today" else spec
    if checked.value > limit:
        yield ValidationError("date too late")


def _files(instance: Any) -> list[tuple[list[int], dict[str, Any]]]:
    if isinstance(instance, dict):
        return [([], instance)]
    if isinstance(instance, list):
        return [([i], f) for i, f in enumerate(instance) if isinstance(f, dict)]
    return []


def accepts(accepted: list[str], metadata: dict[str, Any]) -> bool:
    """Whether a file's type or extension is in an accept list (image/*, .pdf, application/pdf)."""
    kind = str(metadata.get("type", "")).lower()
    name = str(metadata.get("name", "")).lower()
    for entry in (a.lower() for a in accepted):
        if entry.startswith("."):
            if name.endswith(entry) and kind != UNKNOWN_TYPE:
                return True
        elif entry.endswith("/*"):
            if kind.startswith(entry[:-1]):
                return True
        elif kind == entry:
            return True
    return False


def _accept(
    validator: Any, spec: list[str], instance: Any, schema: Any
) -> Iterator[ValidationError]:
    for path, metadata in _files(instance):
        if not accepts(spec, metadata):
            yield _keyed_error("file.type", path, name=metadata.get("name", ""), accepted=spec)


def _max_size(validator: Any, spec: int, instance: Any, schema: Any) -> Iterator[ValidationError]:
    for path, metadata in _files(instance):
        size = metadata.get("size")
        if isinstance(size, int) and size == 0:
            yield _keyed_error("file.empty", path, name=metadata.get("name", ""))
        elif isinstance(size, int) and size > spec:
            yield _keyed_error(
                "file.size", path, name=metadata.get("name", ""), size=size, limit=spec
            )


def _keyed_error(key: str, path: list[int], **params: Any) -> ValidationError:
    error = ValidationError(key, path=path)
    error.key = key  # type: ignore[attr-defined]
    error.params = params  # type: ignore[attr-defined]
    return error


def _multiple_of(
    validator: Any, step: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    # Decimal arithmetic: float division says 240.5 is not a multiple of 0.01.
    value = _number(instance)
    if value is not None and value % Decimal(str(step)) != 0:
        yield ValidationError("not a multiple")


def _required(
    validator: Any, required: list[str], instance: Any, schema: Any
) -> Iterator[ValidationError]:
    # The missing property goes into the error's path, so the message lands on its field.
    if validator.is_type(instance, "object"):
        for name in required:
            if name not in instance:
                yield ValidationError("required", path=[name])


def _dependent_required(
    validator: Any, spec: dict[str, list[str]], instance: Any, schema: Any
) -> Iterator[ValidationError]:
    if validator.is_type(instance, "object"):
        for trigger, dependants in spec.items():
            if trigger in instance:
                for name in dependants:
                    if name not in instance:
                        error = ValidationError("required", path=[name])
                        yield error


CUSTOM_KEYWORDS = {
    "x-sum": _sum,
    "x-dateOrder": _date_order,
    "x-maxDate": _max_date,
    "x-accept": _accept,
    "x-maxSize": _max_size,
}

FormValidator = validators.extend(
    Draft202012Validator,
    validators={
        **CUSTOM_KEYWORDS,
        "multipleOf": _multiple_of,
        "required": _required,
        "dependentRequired": _dependent_required,
    },
)


_validators: dict[tuple[str, str], Any] = {}


def _validator_for(form: FormDefinition) -> Any:
    key = (form.key, form.version)
    if key not in _validators:
        _validators[key] = FormValidator(form.schema, format_checker=format_checker())
    return _validators[key]


# --- errors to messages ---------------------------------------------------------------------


def _path(error: ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path)


def _leaves(error: ValidationError, data: Any) -> Iterator[ValidationError]:
    """The errors worth showing: oneOf/anyOf failures are replaced by their matching branch's."""
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        yield error
        return
    branches = error.validator_value
    if all(isinstance(b, dict) and "const" in b for b in branches):
        yield error  # a choice list: "choose one of the options"
        return
    instance = error.instance
    chosen = None
    for index, branch in enumerate(branches):
        discriminator = {
            k: v
            for k, v in (branch.get("properties") or {}).items()
            if isinstance(v, dict) and {"const", "enum"} & set(v)
        }
        if discriminator and Draft202012Validator(
            {"properties": discriminator, "required": list(discriminator)}
        ).is_valid(instance):
            chosen = index
            break
    names = {
        name
        for branch in branches
        for name, test in (branch.get("properties") or {}).items()
        if isinstance(test, dict) and {"const", "enum"} & set(test)
    }
    for sub in error.context:
        if chosen is None:
            # No branch matches: only the choosing question itself is wrong or missing.
            if (
                sub.absolute_path
                and sub.absolute_path[-1] in names
                and sub.validator in ("const", "enum", "required")
            ):
                yield sub
        elif sub.relative_schema_path[0] == chosen:
            yield from _leaves(sub, data)


_PRIORITY = {
    "format": 0,
    "required": 1,
    "dependentRequired": 1,
    "file.empty": 1,
    "file.type": 2,
    "file.size": 3,
    "type": 9,
}


def _label(form: FormDefinition, path: str) -> str:
    field = form.field_at(path)
    return field.label() if field else path


def message_for(form: FormDefinition, error: ValidationError, path: str) -> str:
    """A specific message for one error: the form's own text, a format's, or a keyword's."""
    field = form.field_at(path)
    keyword = str(error.validator)
    if keyword == "dependentRequired":
        keyword = "required"
    key = None
    if keyword == "format" and isinstance(error.cause, InvalidValue):
        key = error.cause.key
    elif hasattr(error, "key"):
        key = error.key
    elif keyword == "type" and field is not None and field.format in FORMATS:
        value = error.instance
        key = FORMATS[field.format].check(value if isinstance(value, dict) else str(value)).error

    custom = _custom_message(form, path, [k for k in (key, keyword) if k])
    if custom:
        if keyword == "x-sum":
            custom = custom.replace("{total}", messages.number(getattr(error, "total", "")))
        return custom.replace("{label}", field.label() if field else path)
    if keyword == "required" and field is not None:
        fmt = FORMATS.get(field.format or "")
        if fmt and fmt.empty_key and field.widget not in ("checkboxes", "repeatable"):
            return messages.keyed(fmt.empty_key)
    if key:
        params = dict(getattr(error, "params", {}))
        if key.startswith("file."):
            params = _file_params(params)
        return messages.keyed(key, **params)
    label = field.label() if field else path
    widget = field.widget if field else "text"
    params: dict[str, Any] = {"limit": error.validator_value}
    if keyword == "x-sum":
        params = {
            "total": getattr(error, "total", ""),
            "expected": error.validator_value.get("equals"),
        }
    elif keyword == "x-dateOrder":
        earlier = getattr(error, "earlier", "")
        parent = path.rpartition(".")[0]
        params = {"earlier": _label(form, f"{parent}.{earlier}" if parent else earlier)}
    return messages.for_keyword(keyword, widget, label, **params)


def accepted_names(accepted: list[str]) -> str:
    """An accept list for people: PDF, JPEG, PNG."""
    names = [a.rsplit("/", 1)[-1].lstrip(".").upper() for a in accepted]
    return ("، " if current_locale() == "fa" else ", ").join(dict.fromkeys(names))


def _file_params(params: dict[str, Any]) -> dict[str, Any]:
    out = dict(params)
    if "accepted" in out:
        out["accepted"] = accepted_names(out["accepted"])
    for name in ("size", "limit"):
        if name in out:
            out[name] = human_size(int(out[name]))
    return out


def human_size(size: int) -> str:
    """A file size for people: 120 KB, 4.5 MB (Persian digits in Persian)."""
    fa = current_locale() == "fa"
    if size < 1024 * 1024:
        text = f"{max(1, round(size / 1024))} " + ("کیلوبایت" if fa else "KB")
    else:
        text = (
            f"{size / (1024 * 1024):.1f}".rstrip("0").rstrip(".")
            + " "
            + ("مگابایت" if fa else "MB")
        )
    return messages.number(text)


def _custom_message(form: FormDefinition, path: str, keys: list[str]) -> str | None:
    template = ".".join("*" if p.isdigit() else p for p in path.split("."))
    texts = form.messages.get(template) or {}
    for key in [*keys, "*"]:
        if key in texts:
            return localized(texts[key])
    return None


def _prune_all(form: FormDefinition, data: Data) -> Data:
    def prune_object(fields: tuple[Field, ...], schema: dict[str, Any], obj: Data) -> Data:
        out = prune(schema, obj)
        for field in fields:
            value = out.get(field.name)
            if field.widget in ("group", "registry-plate") and isinstance(value, dict):
                out[field.name] = prune_object(field.children, field.schema, value)
            elif field.widget == "repeatable" and isinstance(value, list):
                item_schema = field.schema.get("items") or {}
                out[field.name] = [
                    prune_object(field.children, item_schema, item)
                    if isinstance(item, dict)
                    else item
                    for item in value
                ]
        return out

    return prune_object(form.fields, form.schema, data)


def validate(form: FormDefinition, data: Data, page: int | None = None) -> dict[str, str]:
    """Check answers against the form; return {field path: message} in the current locale.

    With `page`, only errors of that page's fields are returned. Paths are concrete
    (owners.1.share) and ordered as the fields appear on the form.
    """
    data = _prune_all(form, data)
    found: dict[str, tuple[int, str]] = {}
    for top in _validator_for(form).iter_errors(data):
        for error in _leaves(top, data):
            path = _path(error)
            field = form.field_at(path)
            if field is not None and field.widget in ("checkboxes", "file") and path[-1:].isdigit():
                path = path.rpartition(".")[0]  # one input holds every item: report it there
            if page is not None and path.split(".")[0] not in form.pages[page].fields:
                continue
            if page is not None and not path:
                continue
            priority = _PRIORITY.get(getattr(error, "key", str(error.validator)), 5)
            if path not in found or priority < found[path][0]:
                found[path] = (priority, message_for(form, error, path))
    order = {name: i for i, name in enumerate(f.pattern for f in form.walk())}

    def position(path: str) -> tuple[int, ...]:
        key, template = [], []
        for part in path.split("."):
            template.append("*" if part.isdigit() else part)
            key.append(int(part) if part.isdigit() else order.get(".".join(template), len(order)))
        return tuple(key)

    return {path: found[path][1] for path in sorted(found, key=position)}


def pages_with_errors(form: FormDefinition, errors: dict[str, str]) -> list[int]:
    """The pages (indexes) that hold the fields with errors, in order."""
    return sorted({form.page_of(path.split(".")[0]) for path in errors})


__all__ = ["FormValidator", "get_path", "human_size", "pages_with_errors", "validate"]
