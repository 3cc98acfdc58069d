"""Accessible fields for hand-written pages: `text_field` and `error_summary` in templates.

Generated forms have their own renderer (app/forms); these serve the pages written by hand
(sign-in, the status lookup, the profile, staff pages). They were Jinja macros; a macro call
costs Jinja about two hundred Python calls before it writes a character (its arguments are
matched one by one), and the public lookup alone has two fields. As functions returning markup
they write the same HTML: every value escaped, each field's label, hint and error tied to its
input by id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from markupsafe import Markup, escape

from app.i18n import gettext as _


def error_summary(errors: Mapping[str, Any], labels: Mapping[str, Any]) -> Markup:
    """The list of problems at the top of a form, each linking to its field."""
    if not errors:
        return Markup("")
    items = "".join(
        f'<li><a href="#field-{escape(name)}">{escape(labels.get(name, name))}: '
        f"{escape(message)}</a></li>"
        for name, message in errors.items()
    )
    return Markup(  # noqa: S704 - every value above is escaped
        '<div class="error-summary" role="alert" tabindex="-1" id="error-summary"'
        ' aria-labelledby="error-summary-title">'
        f'<h2 id="error-summary-title">{escape(_("There is a problem"))}</h2><ul>{items}</ul></div>'
    )


def text_field(
    name: str,
    label: Any,
    value: Any = "",
    errors: Mapping[str, Any] | None = None,
    type: str = "text",
    hint: Any = None,
    autocomplete: str | None = None,
    inputmode: str | None = None,
    css_class: str = "",
    required: bool = True,
    dir: str | None = None,
) -> Markup:
    """A labelled input with its hint and error, which the input names in aria-describedby."""
    # Plain strings with each value escaped, marked safe once: Markup.format runs Python's
    # string.Formatter, slower than the macro this replaces.
    error = (errors or {}).get(name)
    field = escape(name)
    described = [f"hint-{field}"] * bool(hint) + [f"error-{field}"] * bool(error)
    optional = (
        "" if required else f' <span class="field__optional">({escape(_("optional"))})</span>'
    )
    html = [
        f'<div class="field{" field--error" if error else ""}">',
        f'<label for="field-{field}">{escape(label)}{optional}</label>',
    ]
    if hint:
        html.append(f'<div class="field__hint" id="hint-{field}">{escape(hint)}</div>')
    if error:
        html.append(
            f'<div class="field__error" id="error-{field}"><span class="visually-hidden">'
            f"{escape(_('Error:'))}</span> {escape(error)}</div>"
        )
    attributes = (
        ("class", css_class),
        ("autocomplete", autocomplete),
        ("inputmode", inputmode),
        ("dir", dir),
    )
    extra = "".join(f' {key}="{escape(given)}"' for key, given in attributes if given)
    if required:
        extra += ' required aria-required="true"'
    if error:
        extra += ' aria-invalid="true"'
    if described:
        extra += f' aria-describedby="{" ".join(described)}"'
    html.append(
        f'<input id="field-{field}" name="{field}" type="{escape(type)}" value="{escape(value)}"'
        f"{extra}></div>"
    )
    return Markup("".join(html))  # noqa: S704 - every value above is escaped
