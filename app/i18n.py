"""Locale choice: Persian unless the visitor chose English, and the page direction that follows."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Flask, Response, current_app, request
from flask_babel import get_locale, get_translations, refresh
from jinja2.nodes import EvalContext
from jinja2.utils import pass_eval_context
from markupsafe import Markup

SUPPORTED_LOCALES = ("fa", "en")
RTL_LOCALES = frozenset({"fa"})
LOCALE_COOKIE = "lang"
ONE_YEAR = 365 * 24 * 3600


def select_locale() -> str:
    """Pick the locale: an explicit ?lang= choice, then the remembered cookie, then the default.

    The browser's Accept-Language is deliberately ignored: most phones in Iran are set to
    English while their owners read Persian, and the service is Persian first.
    """
    chosen = request.args.get("lang") or request.cookies.get(LOCALE_COOKIE)
    if chosen in SUPPORTED_LOCALES:
        return chosen
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def current_locale() -> str:
    """The active locale code (fa or en)."""
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def text_direction() -> str:
    """rtl for Persian pages, ltr for English ones."""
    return "rtl" if current_locale() in RTL_LOCALES else "ltr"


def localized(value: object) -> str:
    """Pick the current locale's text from a {"fa": ..., "en": ...} mapping (fa as fallback)."""
    if isinstance(value, dict):
        return str(value.get(current_locale()) or value.get("fa") or next(iter(value.values()), ""))
    return "" if value is None else str(value)


def language_switch_url(locale: str) -> str:
    """The current page's URL in another locale (a plain link: works without JavaScript)."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [locale]
    query = "&".join(f"{quote(k)}={quote(v)}" for k, values in args.items() for v in values)
    return f"{request.path}?{query}"


def _remember_choice(response: Response) -> Response:
    chosen = request.args.get("lang")
    if chosen in SUPPORTED_LOCALES and request.cookies.get(LOCALE_COOKIE) != chosen:
        response.set_cookie(LOCALE_COOKIE, chosen, max_age=ONE_YEAR, samesite="Lax", httponly=True)
    return response


def _install_quick_gettext(app: Flask) -> None:
    """Templates' `_()` without Flask-Babel's lookups on every call.

    Flask-Babel finds its context, its domain and the locale's name again for each string
    (about 20 µs); a page translates dozens. Here a call asks only for the locale and takes that
    locale's catalogue from a dict: the same catalogue Flask-Babel returns (from its own cache),
    so `force_locale` and the per-request choice work as before.
    """
    catalogues: dict[object, Any] = {}

    def translations() -> Any:
        locale = get_locale()
        catalogue = catalogues.get(locale)
        if catalogue is None:
            catalogue = catalogues[locale] = get_translations()
        return catalogue

    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True,
    )

    @pass_eval_context
    def underscore(eval_ctx: EvalContext, string: str, **variables: Any) -> str:
        # What Jinja's newstyle `_()` does (escape-aware, always a format string), without its
        # two layers of context calls per string: a page has dozens of these.
        text = translations().ugettext(string)
        if eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704 - the catalogue's own text, as Jinja marks it
        return text % variables

    app.jinja_env.globals["_"] = underscore


def init_i18n(app: Flask) -> None:
    """Register the locale helpers with the app and its templates."""
    app.after_request(_remember_choice)
    _install_quick_gettext(app)

    @app.context_processor
    def _locale_context() -> dict[str, object]:
        return {
            "current_locale": current_locale,
            "text_direction": text_direction,
            "localized": localized,
            "language_switch_url": language_switch_url,
        }

    @app.before_request
    def _choose_locale_afresh() -> None:
        # Flask-Babel caches the locale on `g`, which outlives a request when an app context
        # was already pushed (CLI commands, tests): choose again for every request.
        refresh()
