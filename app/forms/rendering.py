"""Server-side rendering of generated forms: field views for the templates, answers for review.

Everything here only prepares values; the templates in templates/forms/ write the HTML, and
Jinja's autoescaping covers every value a user or an analyst typed.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import render_template
from flask_babel import gettext as _
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict

from app.forms.conditions import branch_required, conditional_names, js_condition, visible_names
from app.forms.definitions import Field, FormDefinition
from app.forms.formats import FORMATS, check_jalali
from app.forms.messages import number
from app.forms.normalise import get_path
from app.forms.validation import accepted_names, human_size
from app.i18n import current_locale, localized
from app.persian import (
    RegistryPlate,
    format_dang,
    format_jalali_date,
    format_postal_code,
    format_rial,
    parse_jalali_date,
    plate_in_words,
    rial_in_words,
    to_persian_digits,
)

Data = dict[str, Any]
INDEX_PLACEHOLDER = "__INDEX__"


def field_id(path: str) -> str:
    """The id of a field's (first) input: field-owners-1-share."""
    return "field-" + path.replace(".", "-")


@dataclass
class FieldView:
    """What a template needs to draw one field."""

    field: Field
    path: str
    id: str
    widget: str
    label: str
    hint: str
    placeholder: str
    required: bool
    error: str | None
    value: Any = ""
    choices: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    input_type: str = "text"
    inputmode: str | None = None
    autocomplete: str | None = None
    ltr: bool = False
    css_class: str = ""
    unit: str = ""
    words: str = ""
    display: Markup | str = ""
    accept: str = ""
    multiple: bool = False
    capture: str = ""  # "environment": phones open the rear camera for a file field
    current_files: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    children: list[FieldView] = dataclasses.field(default_factory=list)
    items: list[ItemView] = dataclasses.field(default_factory=list)
    template: ItemView | None = None
    can_add: bool = False
    add_label: str = ""
    condition: str | None = None
    inactive: bool = False
    condition_note: str = ""

    @property
    def described_by(self) -> str:
        ids = []
        if self.hint:
            ids.append("hint-" + self.id[len("field-") :])
        if self.error:
            ids.append("error-" + self.id[len("field-") :])
        return " ".join(ids)

    @property
    def suffix(self) -> str:
        return self.id[len("field-") :]


@dataclass
class ItemView:
    """One entry of a repeatable group."""

    index: str
    path: str
    legend: str
    children: list[FieldView]
    removable: bool


class _Source:
    """Where input values come from: what was just posted (as typed) or the saved answers."""

    def __init__(self, formdata: MultiDict[str, str] | None, data: Data) -> None:
        self.formdata = formdata
        self.data = data

    def raw(self, path: str) -> str | None:
        if self.formdata is None:
            return None
        return self.formdata.get(path, "")

    def value(self, path: str) -> Any:
        return get_path(self.data, path)


def input_text(field: Field, value: Any) -> str:
    """A saved answer as it goes back into a text input."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if field.widget == "money" and isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return (
            format(value, "f").rstrip("0").rstrip(".") if "." in format(value, "f") else str(value)
        )
    if isinstance(value, (dict, list)):
        return ""
    return str(value)


def _date_parts(value: Any) -> dict[str, str]:
    if isinstance(value, dict):
        return {part: str(value.get(part, "")) for part in ("day", "month", "year")}
    checked = check_jalali(value) if isinstance(value, str) else None
    if checked is not None and checked.ok:
        year, month, day = checked.value.split("-")
        return {"day": str(int(day)), "month": str(int(month)), "year": year}
    return {"day": "", "month": "", "year": ""}


def _item_label(field: Field) -> str:
    label = field.options.get("itemLabel")
    return localized(label) if label else field.label()


def _view(
    form: FormDefinition,
    field: Field,
    path: str,
    source: _Source,
    errors: dict[str, str],
    required: bool,
) -> FieldView:
    fmt = FORMATS.get(field.format or "")
    view = FieldView(
        field=field,
        path=path,
        id=field_id(path),
        widget=field.widget,
        label=field.label(),
        hint=field.help(),
        placeholder=field.placeholder(),
        required=required,
        error=errors.get(path),
    )
    saved = source.value(path)
    raw = source.raw(path)
    widget = field.widget
    if fmt is not None:
        view.inputmode = fmt.inputmode
        view.autocomplete = fmt.autocomplete
        view.ltr = fmt.ltr
        view.input_type = fmt.input_type
        view.css_class = "input--code" if fmt.ltr else ""
    view.autocomplete = field.ui.get("ui:autocomplete", view.autocomplete)
    if field.options.get("unit"):
        view.unit = localized(field.options["unit"])
    if widget in ("select", "radios", "checkboxes", "yesno"):
        if widget == "yesno":
            view.choices = [("yes", _("Yes")), ("no", _("No"))]
        else:
            view.choices = [
                (str(v) if not isinstance(v, bool) else ("yes" if v else "no"), label)
                for v, label in field.choices()
            ]
        if widget == "checkboxes":
            posted = source.formdata.getlist(path) if source.formdata is not None else None
            view.value = (
                posted
                if posted is not None
                else [str(v) for v in (saved or []) if not isinstance(v, dict)]
            )
        else:
            view.value = raw if raw is not None else input_text(field, saved)
    elif widget == "jalali-date":
        if source.formdata is not None:
            view.value = {
                p: source.formdata.get(f"{path}__{p}", "") for p in ("day", "month", "year")
            }
        else:
            view.value = _date_parts(saved)
        view.inputmode = "numeric"
    elif widget in ("integer", "decimal", "money"):
        view.inputmode = "numeric" if widget != "decimal" else "decimal"
        view.css_class = "input--short" if widget == "integer" else "input--number"
        view.value = raw if raw is not None else input_text(field, saved)
        if widget == "money" and isinstance(saved, int) and not isinstance(saved, bool):
            view.words = rial_in_words(saved, current_locale())
    elif widget == "file":
        accepted = field.schema.get("x-accept") or []
        view.accept = ",".join(accepted)
        view.multiple = field.schema.get("type") == "array"
        view.capture = str(field.options.get("capture") or "")
        files = saved if isinstance(saved, list) else [saved] if isinstance(saved, dict) else []
        view.current_files = [
            {"name": f.get("name", ""), "size": human_size(int(f.get("size") or 0))} for f in files
        ]
        if not view.hint and accepted:
            view.hint = _("Accepted: %(types)s.", types=accepted_names(accepted))
    elif widget == "readonly":
        view.display = answer_display(form, field, saved)
    elif widget in ("group", "registry-plate"):
        view.children = _views(form, field.children, field.schema, f"{path}.", source, errors, None)
    elif widget == "repeatable":
        _repeatable(form, field, path, view, source, errors)
    else:
        view.value = raw if raw is not None else input_text(field, saved)
    return view


def _repeatable(
    form: FormDefinition,
    field: Field,
    path: str,
    view: FieldView,
    source: _Source,
    errors: dict[str, str],
) -> None:
    saved = source.value(path)
    items = saved if isinstance(saved, list) else []
    minimum = int(field.schema.get("minItems") or 0)
    maximum = field.schema.get("maxItems")
    count = max(len(items), minimum, 1 if not items and minimum else 0)
    if count == 0:
        count = 1
    item_schema = field.schema.get("items") or {}
    noun = _item_label(field)
    for index in range(count):
        item_path = f"{path}.{index}"
        children = _views(form, field.children, item_schema, f"{item_path}.", source, errors, None)
        view.items.append(
            ItemView(
                index=str(index),
                path=item_path,
                legend=f"{noun} {number(index + 1)}",
                children=children,
                removable=count > max(minimum, 1),
            )
        )
    empty = _Source(None, {})
    template_path = f"{path}.{INDEX_PLACEHOLDER}"
    view.template = ItemView(
        index=INDEX_PLACEHOLDER,
        path=template_path,
        legend=f"{noun} {INDEX_PLACEHOLDER}",
        children=_views(form, field.children, item_schema, f"{template_path}.", empty, {}, None),
        removable=True,
    )
    view.can_add = maximum is None or count < int(maximum)
    add_label = field.options.get("addLabel")
    view.add_label = localized(add_label) if add_label else _("Add another")


def _condition_note(schema: dict[str, Any], fields: tuple[Field, ...], name: str) -> str:
    """A sentence for people without JavaScript: which answer makes this question apply."""
    js, _controllers = js_condition(schema, name)
    if not js:
        return ""
    by_name = {f.name: f for f in fields}
    phrases = []
    for test in js["any"]:
        negate = "not" in test
        clauses = (test["not"] if negate else test)["all"]
        for clause in clauses:
            controller = by_name.get(clause["field"])
            if controller is None:
                return ""
            if clause.get("filled"):
                phrases.append(_("you answered «%(question)s»", question=controller.label()))
                continue
            labels = dict(
                (str(v) if not isinstance(v, bool) else ("yes" if v else "no"), lab)
                for v, lab in controller.choices()
            ) | {"yes": _("Yes"), "no": _("No")}
            answers = " / ".join(labels.get(v, v) for v in clause["in"])
            if negate:
                phrases.append(
                    _(
                        "«%(question)s» is not «%(answer)s»",
                        question=controller.label(),
                        answer=answers,
                    )
                )
            else:
                phrases.append(
                    _("«%(question)s» is «%(answer)s»", question=controller.label(), answer=answers)
                )
    return _("Answer only if %(condition)s.", condition=_(" or ").join(phrases))


def _views(
    form: FormDefinition,
    fields: tuple[Field, ...],
    schema: dict[str, Any],
    prefix: str,
    source: _Source,
    errors: dict[str, str],
    only: tuple[str, ...] | None,
) -> list[FieldView]:
    obj = source.value(prefix[:-1]) if prefix else source.data
    obj = obj if isinstance(obj, dict) else {}
    conditional = conditional_names(schema)
    visible = visible_names(schema, obj)
    branch = branch_required(schema)
    shown_here = {f.name for f in fields if only is None or f.name in only}
    views = []
    for field in fields:
        if field.name not in shown_here:
            continue
        path = f"{prefix}{field.name}"
        required = field.required or field.name in branch
        view_condition = None
        inactive = False
        note = ""
        if field.name in conditional:
            js, controllers = js_condition(schema, field.name)
            same_page = bool(controllers) and controllers <= shown_here
            inactive = field.name not in visible
            if inactive and not (js and same_page):
                continue
            if js and same_page:
                named = {
                    "any": [_prefixed(test, prefix) for test in js["any"]],
                }
                view_condition = json.dumps(named, ensure_ascii=False)
                note = _condition_note(schema, fields, field.name)
        view = _view(form, field, path, source, errors, required)
        view.condition = view_condition
        view.inactive = inactive
        view.condition_note = note
        views.append(view)
    return views


def _prefixed(test: dict[str, Any], prefix: str) -> dict[str, Any]:
    if "not" in test:
        return {"not": _prefixed(test["not"], prefix)}
    return {"all": [{**clause, "field": prefix + clause["field"]} for clause in test["all"]]}


@dataclass
class SummaryEntry:
    href: str
    text: str


def error_summary(
    form: FormDefinition, errors: dict[str, str], href: Callable[[str], str] | None = None
) -> list[SummaryEntry]:
    """The error summary's links, each to its field (`#field-…`), in form order."""
    entries = []
    for path, text in errors.items():
        parts = path.split(".")
        prefix = ""
        if len(parts) > 2 and parts[1].isdigit():
            group = form.field(parts[0])
            if group is not None:
                prefix = f"{_item_label(group)} {number(int(parts[1]) + 1)}: "
        target = href(path) if href else f"#{field_id(path)}"
        entries.append(SummaryEntry(href=target, text=prefix + text))
    return entries


def render_page(
    form: FormDefinition,
    page: int | None = None,
    *,
    data: Data | None = None,
    formdata: MultiDict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    summary: bool = True,
) -> Markup:
    """The fields of one page (all fields when page is None) with the error summary on top.

    Returns markup to put inside the caller's own <form> (with its CSRF token and buttons).
    `formdata` (what was just posted) refills inputs exactly as typed; otherwise the saved
    `data` does. Conditional questions show as the answers decide.
    """
    data = data or {}
    errors = errors or {}
    only = form.pages[page].fields if page is not None else None
    views = _views(form, form.fields, form.schema, "", _Source(formdata, data), errors, only)
    return Markup(  # noqa: S704 - the template autoescapes every value
        render_template(
            "forms/_fields.html",
            views=views,
            summary=error_summary(form, errors) if summary else [],
        )
    )


# --- answers, for "check your answers" and for reviewers --------------------------------------


def _ltr(text: str, persian_digits: bool = True) -> Markup:
    """An identifier isolated left to right, in Persian digits on Persian pages (domain.md §8)."""
    if persian_digits and current_locale() == "fa":
        text = to_persian_digits(text)
    return Markup('<bdi dir="ltr">{}</bdi>').format(text)


def answer_display(form: FormDefinition, field: Field, value: Any) -> Markup:
    """One answer for reading: labels for choices, words for money, Jalali dates in full."""
    locale = current_locale()
    if value is None or value in ("", [], {}):
        return Markup('<span class="muted">{}</span>').format(_("Not answered"))
    widget = field.widget
    fmt = field.format
    if widget in ("select", "radios", "checkboxes"):
        labels = {str(v): lab for v, lab in field.choices()}
        values = value if isinstance(value, list) else [value]
        return Markup("، " if locale == "fa" else ", ").join(  # noqa: S704 - a constant
            escape(labels.get(str(v), str(v))) for v in values
        )
    if widget == "yesno" or isinstance(value, bool):
        return escape(_("Yes") if value is True else _("No") if value is False else str(value))
    if widget == "money" and isinstance(value, int):
        return Markup('{}<br><span class="money-words">{}</span>').format(
            format_rial(value, locale), rial_in_words(value, locale)
        )
    if fmt == "jalali-date" and isinstance(value, str) and check_jalali(value).ok:
        year, month, day = value.split("-")
        return escape(format_jalali_date(parse_jalali_date(year, month, day), "long", locale))
    if fmt == "dang" and isinstance(value, (int, float)):
        return escape(format_dang(str(value), locale))
    if fmt == "postal-code" and isinstance(value, str) and len(value) == 10:
        return _ltr(format_postal_code(value))
    if widget == "registry-plate" and isinstance(value, dict):
        try:
            plate = RegistryPlate.parse(
                value.get("section", ""), value.get("main", ""), value.get("sub")
            )
            return escape(plate_in_words(plate, locale))
        except ValueError:
            pass
    if widget == "file":
        files = value if isinstance(value, list) else [value]
        return Markup("<br>").join(
            Markup("<bdi>{}</bdi> ({})").format(
                f.get("name", ""), human_size(int(f.get("size") or 0))
            )
            for f in files
            if isinstance(f, dict)
        )
    if widget in ("group", "registry-plate") and isinstance(value, dict):
        return Markup("<br>").join(
            Markup("{}: {}").format(
                child.label(), answer_display(form, child, value.get(child.name))
            )
            for child in field.children
            if child.name in value
        )
    if isinstance(value, (int, float)):
        unit = localized(field.options["unit"]) if field.options.get("unit") else ""
        return escape(f"{number(input_text(field, value))} {unit}".strip())
    if isinstance(value, (dict, list)):
        return escape(json.dumps(value, ensure_ascii=False))
    if fmt in FORMATS and FORMATS[fmt].ltr:
        return _ltr(str(value), persian_digits=fmt != "email")
    if widget == "textarea":
        return Markup("<br>").join(escape(line) for line in str(value).split("\n"))
    return escape(str(value))


@dataclass
class AnswerRow:
    label: str
    display: Markup
    target: str
    page: int
    items: list[tuple[str, list[AnswerRow]]] = dataclasses.field(default_factory=list)
    #: Which item of a repeatable group the row belongs to ("Owner 2"), for the change link.
    context: str = ""


@dataclass
class AnswerSection:
    title: str
    page: int
    rows: list[AnswerRow]


def answer_sections(form: FormDefinition, data: Data) -> list[AnswerSection]:
    """The answers, page by page, leaving out questions that do not apply."""
    sections = []
    visible = visible_names(form.schema, data)
    conditional = conditional_names(form.schema)
    for index, page in enumerate(form.pages):
        rows = []
        for name in page.fields:
            field = form.field(name)
            if field is None or (name in conditional and name not in visible):
                continue
            rows.append(_row(form, field, name, data.get(name), index))
        sections.append(
            AnswerSection(
                title=localized(page.title) or localized(form.title), page=index, rows=rows
            )
        )
    return sections


def _row(form: FormDefinition, field: Field, path: str, value: Any, page: int) -> AnswerRow:
    row = AnswerRow(field.label(), answer_display(form, field, value), field_id(path), page)
    if field.widget == "repeatable" and isinstance(value, list) and value:
        noun = _item_label(field)
        item_schema = field.schema.get("items") or {}
        for i, item in enumerate(value):
            item = item if isinstance(item, dict) else {}
            shown = visible_names(item_schema, item)
            hidden = conditional_names(item_schema) - shown
            legend = f"{noun} {number(i + 1)}"
            children = [
                _row(form, child, f"{path}.{i}.{child.name}", item.get(child.name), page)
                for child in field.children
                if child.name not in hidden
            ]
            for child_row in children:
                child_row.context = legend
            row.items.append((legend, children))
        row.display = Markup("")
    return row


def render_answers(
    form: FormDefinition,
    data: Data,
    *,
    change_url: Callable[[int, str], str] | None = None,
) -> Markup:
    """Every answer as a summary list; with `change_url(page, field_id)`, a change link each."""
    return Markup(  # noqa: S704 - the template autoescapes every value
        render_template(
            "forms/_answers.html",
            sections=answer_sections(form, data),
            change_url=change_url,
            multi_page=len(form.pages) > 1,
        )
    )
