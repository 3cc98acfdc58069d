"""Locale choice: Persian unless the visitor chose English, and the page direction that follows."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import quote

from babel import Locale
from flask import Flask, Response, current_app, g, request
from flask_babel import get_locale, get_translations, refresh
from jinja2.nodes import EvalContext
from jinja2.utils import pass_eval_context
from markupsafe import Markup

SUPPORTED_LOCALES = ("fa", "en")
RTL_LOCALES = frozenset({"fa"})
LOCALE_COOKIE = "lang"
ONE_YEAR = 365 * 24 * 3600


def select_locale() -> Locale:
    """Pick the locale: an explicit ?lang= choice, then the remembered cookie, then the default.

    The browser's Accept-Language is deliberately ignored: most phones in Iran are set to
    English while their owners read Persian, and the service is Persian first.
    """
    chosen = request.args.get("lang") or request.cookies.get(LOCALE_COOKIE)
    if chosen not in SUPPORTED_LOCALES:
        chosen = str(current_app.config["BABEL_DEFAULT_LOCALE"])
    return _parsed_locale(chosen)


@lru_cache(maxsize=8)
def _parsed_locale(code: str) -> Locale:
    # Flask-Babel parses a code the selector returns on every request; a Locale it takes as is.
    return Locale.parse(code)


def _babel_locale() -> Any:
    """Flask-Babel's locale for this request, read where Flask-Babel keeps it.

    Flask-Babel's own `get_locale` looks its namespace up on `g` three times (each a context
    proxy); pages ask for the locale dozens of times. The first ask of a request, and any ask
    after `refresh()`, still goes through Flask-Babel, which chooses and stores it; `force_locale`
    changes the same stored value, so it is honoured too.
    """
    try:
        namespace = vars(g._get_current_object()).get("_flask_babel")
    except RuntimeError:  # no application context
        return None
    locale = getattr(namespace, "babel_locale", None)
    return locale if locale is not None else get_locale()


#: Per locale: its code, and the catalogue Flask-Babel returns for it (its domain's merged
#: catalogues, which do not change while the process runs).
_codes: dict[Any, str] = {}
_catalogues: dict[Any, Any] = {}


def catalogue() -> Any:
    """The current locale's translations, as Flask-Babel's `get_translations` returns them."""
    locale = _babel_locale()
    found = _catalogues.get(locale)
    if found is None:
        found = _catalogues[locale] = get_translations()
    return found


def gettext(string: str, **variables: Any) -> str:
    """Flask-Babel's `gettext`, for text on every page: the locale is looked up once, not four
    times. Code that runs once per request may keep using Flask-Babel's."""
    text = str(catalogue().ugettext(string))
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """Flask-Babel's `ngettext` (`num` given to the text), the quick way as `gettext` above."""
    variables.setdefault("num", num)
    return str(catalogue().ungettext(singular, plural, num)) % variables


def current_locale() -> str:
    """The active locale code (fa or en)."""
    locale = _babel_locale()
    if locale is None:
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    code = _codes.get(locale)
    if code is None:
        code = _codes[locale] = str(locale)
    return code


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
    """Templates' `_()` and `ngettext()` without Flask-Babel's lookups on every call.

    Jinja's newstyle gettext goes through two layers of context calls, then Flask-Babel finds
    its context, its domain and the locale again for each string (about 20 µs); a page
    translates dozens. The context processor in `init_i18n` hands each render these functions
    bound to the locale's catalogue, found once. The globals serve renders without the context
    processors (macros imported without the page's context, templates rendered directly).
    """
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: catalogue().ugettext(s),
        ngettext=lambda s, p, n: catalogue().ungettext(s, p, n),
        pgettext=lambda c, s: catalogue().upgettext(c, s),
        npgettext=lambda c, s, p, n: catalogue().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.globals["_"] = template_gettext(_CurrentCatalogue())["_"]


def template_gettext(translations: Any) -> dict[str, Any]:
    """`_`, `gettext` and `ngettext` for templates, over one catalogue: what Jinja's newstyle
    functions do (escape-aware, always a format string, `num` given to plurals)."""

    @pass_eval_context
    def underscore(eval_ctx: EvalContext, string: str, **variables: Any) -> str:
        text = translations.ugettext(string)
        if eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704 - the catalogue's own text, as Jinja marks it
            if not variables and "%" not in text:
                return text  # nothing to format: skip Markup's escaping `%`
        return text % variables

    @pass_eval_context
    def plural(
        eval_ctx: EvalContext, singular: str, plural: str, num: int, **variables: Any
    ) -> str:
        variables.setdefault("num", num)
        text = translations.ungettext(singular, plural, num)
        if eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704 - as above
        return text % variables

    return {"_": underscore, "gettext": underscore, "ngettext": plural}


class _CurrentCatalogue:
    """The catalogue of whatever locale is current when a string is looked up."""

    def ugettext(self, string: str) -> str:
        return str(catalogue().ugettext(string))

    def ungettext(self, singular: str, plural: str, num: int) -> str:
        return str(catalogue().ungettext(singular, plural, num))


def init_i18n(app: Flask) -> None:
    """Register the locale helpers with the app and its templates."""
    app.after_request(_remember_choice)
    _install_quick_gettext(app)
    # Also a global, for macros imported without the page's context.
    app.jinja_env.globals["localized"] = localized

    @app.context_processor
    def _locale_context() -> dict[str, object]:
        return {
            **template_gettext(catalogue()),
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
