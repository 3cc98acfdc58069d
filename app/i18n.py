"""Locale choice: Persian unless the visitor chose English, and the page direction that follows."""

from __future__ import annotations

from urllib.parse import quote

from flask import Flask, Response, current_app, request
from flask_babel import get_locale, refresh

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


def init_i18n(app: Flask) -> None:
    """Register the locale helpers with the app and its templates."""
    app.after_request(_remember_choice)

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
