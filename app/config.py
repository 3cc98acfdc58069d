"""Configuration from environment variables; every key has a default and a reason.

The README's configuration table mirrors this module. Secrets get a development default
only, and `create_app` refuses to start in production with it.
"""

from __future__ import annotations

import os
from typing import Any

#: The development secret key; production refuses to start with it.
DEVELOPMENT_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - a marker, never a real secret


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def from_environment() -> dict[str, Any]:
    """Read every setting from the environment, falling back to the embedded defaults."""
    environment = _env("PARVANEH_ENV", "development")
    return {
        # development | production: production refuses insecure defaults.
        "PARVANEH_ENV": environment,
        "SECRET_KEY": _env("SECRET_KEY", DEVELOPMENT_SECRET_KEY),
        # A relative SQLite path resolves inside the instance folder.
        "SQLALCHEMY_DATABASE_URI": _env("DATABASE_URL", "sqlite:///parvaneh.db"),
        "MUNICIPALITY_NAME_FA": _env("MUNICIPALITY_NAME_FA", "شهرداری منطقه ۹ تبریز"),
        "MUNICIPALITY_NAME_EN": _env("MUNICIPALITY_NAME_EN", "Tabriz Municipality, District 9"),
        # fa is the default; en is the second locale.
        "BABEL_DEFAULT_LOCALE": _env("DEFAULT_LOCALE", "fa"),
        "BABEL_DEFAULT_TIMEZONE": _env("DISPLAY_TIMEZONE", "Asia/Tehran"),
        # Where process packages and form definitions live (the analysts' files).
        "PROCESSES_DIR": _env("PROCESSES_DIR", ""),
        "FORMS_DIR": _env("FORMS_DIR", ""),
        # Celery: without a broker the work runs eagerly in the web process.
        "CELERY_BROKER_URL": _env("CELERY_BROKER_URL", ""),
        "MAX_CONTENT_LENGTH": _env_int("MAX_UPLOAD_BYTES", 25 * 1024 * 1024),
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SECURE": environment == "production",
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session: no lost input
    }


def check_production_safety(config: dict[str, Any]) -> None:
    """Refuse to run production with settings that are only safe on a developer's machine.

    :raises RuntimeError: when production uses the development secret key.
    """
    if config.get("PARVANEH_ENV") != "production":
        return
    if config.get("SECRET_KEY") in (None, "", DEVELOPMENT_SECRET_KEY):
        raise RuntimeError(
            "SECRET_KEY is not set: production refuses the development key. "
            "Set SECRET_KEY to a long random value."
        )
