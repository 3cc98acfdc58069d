"""Error pages in the visitor's language, and JSON errors for API clients."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

ERROR_TEXTS = {
    400: (_l("The request could not be understood"), _l("Please go back and try again.")),
    403: (
        _l("You may not open this page"),
        _l(
            "Your account does not have access to this page. If you think it should, ask the district office."
        ),
    ),
    404: (
        _l("Page not found"),
        _l("The address may be mistyped, or the page may have moved."),
    ),
    405: (_l("This action is not allowed here"), _l("Please go back and try again.")),
    413: (
        _l("The file is too large"),
        _l("Choose a smaller file and try again."),
    ),
    429: (
        _l("Too many attempts"),
        _l("Please wait a few minutes and try again."),
    ),
    500: (
        _l("Something went wrong on our side"),
        _l(
            "Nothing you entered was lost. Please try again in a few minutes; if it happens again, call the district office."
        ),
    ),
}
CSRF_TEXTS = (
    _l("This form has expired"),
    _l("For your security the form expired. Please go back, refresh the page and send it again."),
)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def render_error(code: int, title: str, message: str) -> ResponseReturnValue:
    """Render an error page (or JSON for API clients) with the given status code."""
    if _wants_json():
        return {"error": {"status": code, "title": title, "message": message}}, code
    return render_template("errors/error.html", code=code, title=title, message=message), code


def register_error_handlers(app: Flask) -> None:
    """Show every HTTP error as a page in the visitor's language."""

    @app.errorhandler(CSRFError)
    def _csrf_error(_error: CSRFError) -> ResponseReturnValue:
        return render_error(400, str(CSRF_TEXTS[0]), str(CSRF_TEXTS[1]))

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> ResponseReturnValue:
        code = error.code or 500
        title, message = ERROR_TEXTS.get(code, (error.name, error.description or ""))
        return render_error(code, str(title), str(message))

    @app.errorhandler(Exception)
    def _unexpected_error(error: Exception) -> ResponseReturnValue:
        app.logger.exception("Unhandled error", exc_info=error)
        title, message = ERROR_TEXTS[500]
        return render_error(InternalServerError.code, str(title), str(message))
