"""The site header (brand, menu, sign-in links, language switch), rendered once for visitors.

Every page has it, and for a visitor who is not signed in it is the same on every view of a
page: it depends only on the language, the page's address (the language switch links back to
it), the layout's menu items and the municipality's name. The public pages (the status lookup
above all) are where most visitors are anonymous and every millisecond counts, so that header is
kept per those inputs; a signed-in user's header (their name, the sign-out form's token) is
rendered on each page as before.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from flask import Flask, request
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from app.i18n import current_locale, localized

#: How many (page, language, layout) headers an app keeps.
HEADER_CACHE_SIZE = 512


def install_site_header(app: Flask) -> None:
    """Give templates `site_header(nav_items)`, which base.html calls."""
    kept: OrderedDict[tuple[str, ...], Markup] = OrderedDict()

    @pass_context
    def site_header(context: Context, nav_items: str) -> Markup:
        names = context.get("municipality_name") or {}
        values: dict[str, Any] = {
            "nav_items": Markup(nav_items),  # noqa: S704 - the layout's block, already rendered
            "page_locale": current_locale(),
            "town": localized(names),
        }
        if current_user.is_authenticated:
            return _render(context, values)
        key = (
            values["page_locale"],
            values["town"],
            request.script_root,
            request.full_path,
            str(nav_items),
        )
        header = kept.get(key)
        if header is None:
            header = _render(context, values)
            kept[key] = header
            if len(kept) > HEADER_CACHE_SIZE:
                kept.popitem(last=False)
        return header

    app.jinja_env.globals["site_header"] = site_header


def _render(context: Context, values: dict[str, Any]) -> Markup:
    template = context.environment.get_template("_site_header.html")
    return Markup(template.render({**context.get_all(), **values}))  # noqa: S704 - a template
