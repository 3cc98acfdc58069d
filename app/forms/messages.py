"""Error texts of generated forms: the identifier catalogue of app.persian plus our own keys.

Texts with a field's label are gettext msgids (Persian lives in the .po catalogue); identifier
errors come from `app.persian.messages`, which already carries fa and en.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.i18n import current_locale
from app.persian import MESSAGES, message, to_persian_digits

#: Keys our own formats and keywords raise, beyond app.persian.MESSAGES.
OWN_KEYS = {
    "email.empty": _l("Enter the email address."),
    "email.invalid": _l("Enter an email address in the right form, like name@example.ir."),
    "jalali.empty": _l("Enter the date as day, month and year."),
    "jalali.incomplete": _l("Enter the day, the month and the year."),
    "file.type": _l("The file %(name)s is not an accepted type: choose %(accepted)s."),
    "file.size": _l("The file %(name)s is %(size)s; it must be at most %(limit)s."),
    "file.empty": _l("The file %(name)s is empty."),
}


def number(value: Any) -> str:
    """A number as the current locale writes it."""
    text = str(value)
    if current_locale() == "fa":
        return to_persian_digits(text.replace(".", "٫"))
    return text


def keyed(key: str, **params: Any) -> str:
    """The text for a message key in the current locale."""
    if key in MESSAGES:
        return message(key, current_locale())
    if key in OWN_KEYS:
        return str(OWN_KEYS[key]) % params if params else str(OWN_KEYS[key])
    return _("This answer is not valid.")


def for_keyword(keyword: str, widget: str, label: str, **params: Any) -> str:
    """A generic message for a JSON Schema keyword, naming the field."""
    choice = widget in ("select", "radios", "checkboxes", "yesno")
    if keyword == "required":
        if choice:
            return _("Choose an answer for «%(label)s».", label=label)
        if widget == "file":
            return _("Choose a file for «%(label)s».", label=label)
        if widget == "jalali-date":
            return _("Enter «%(label)s» as day, month and year.", label=label)
        if widget in ("group", "registry-plate", "repeatable"):
            return _("Fill in «%(label)s».", label=label)
        return _("Enter «%(label)s».", label=label)
    limit = number(params.get("limit", ""))
    if keyword == "maxLength":
        return _("«%(label)s» must be %(limit)s characters or fewer.", label=label, limit=limit)
    if keyword == "minLength":
        return _("«%(label)s» must be at least %(limit)s characters.", label=label, limit=limit)
    if keyword in ("maximum", "exclusiveMaximum"):
        if keyword == "exclusiveMaximum":
            return _("«%(label)s» must be less than %(limit)s.", label=label, limit=limit)
        return _("«%(label)s» must be %(limit)s or less.", label=label, limit=limit)
    if keyword in ("minimum", "exclusiveMinimum"):
        if keyword == "exclusiveMinimum":
            return _("«%(label)s» must be more than %(limit)s.", label=label, limit=limit)
        return _("«%(label)s» must be %(limit)s or more.", label=label, limit=limit)
    if keyword == "multipleOf":
        return _("«%(label)s» must be a multiple of %(limit)s.", label=label, limit=limit)
    if keyword in ("enum", "const", "oneOf", "anyOf"):
        return _("Choose one of the options for «%(label)s».", label=label)
    if keyword == "minItems":
        if widget == "repeatable":
            return _("Add at least %(limit)s to «%(label)s».", label=label, limit=limit)
        return _("Choose at least %(limit)s for «%(label)s».", label=label, limit=limit)
    if keyword == "maxItems":
        if widget == "repeatable":
            return _("«%(label)s» can have at most %(limit)s entries.", label=label, limit=limit)
        return _("Choose at most %(limit)s for «%(label)s».", label=label, limit=limit)
    if keyword == "uniqueItems":
        return _("«%(label)s» has the same entry twice.", label=label)
    if keyword == "pattern":
        return _("«%(label)s» is not in the expected form.", label=label)
    if keyword == "type":
        if widget == "integer":
            return _("«%(label)s» must be a whole number, like 12.", label=label)
        if widget == "decimal":
            return _("«%(label)s» must be a number, like 240.5.", label=label)
        if widget == "money":
            return _("«%(label)s» must be an amount in rials, like 1,250,000.", label=label)
        if widget == "yesno":
            return _("Choose yes or no for «%(label)s».", label=label)
    if keyword == "x-sum":
        return _(
            "The values of «%(label)s» add up to %(total)s; together they must be %(expected)s.",
            label=label,
            total=number(params.get("total", "")),
            expected=number(params.get("expected", "")),
        )
    if keyword == "x-dateOrder":
        return _(
            "«%(label)s» must not be before «%(earlier)s».",
            label=label,
            earlier=params.get("earlier", ""),
        )
    if keyword == "x-maxDate":
        return _("«%(label)s» cannot be in the future.", label=label)
    return _("«%(label)s» is not valid.", label=label)
