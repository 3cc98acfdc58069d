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
        # Documents (app/documents): where uploads are kept and the limits they must keep.
        "DOCUMENT_STORAGE": _env("DOCUMENT_STORAGE", "local"),  # local | s3
        "DOCUMENT_LOCAL_DIR": _env("DOCUMENT_LOCAL_DIR", ""),  # empty: instance/documents
        "DOCUMENT_S3_ENDPOINT": _env("DOCUMENT_S3_ENDPOINT", ""),
        "DOCUMENT_S3_BUCKET": _env("DOCUMENT_S3_BUCKET", ""),
        "DOCUMENT_S3_REGION": _env("DOCUMENT_S3_REGION", "us-east-1"),
        "DOCUMENT_S3_ACCESS_KEY": _env("DOCUMENT_S3_ACCESS_KEY", ""),
        "DOCUMENT_S3_SECRET_KEY": _env("DOCUMENT_S3_SECRET_KEY", ""),
        "DOCUMENT_MAX_FILE_BYTES": _env_int("DOCUMENT_MAX_FILE_BYTES", 10 * 1024 * 1024),
        "DOCUMENT_MAX_CASE_BYTES": _env_int("DOCUMENT_MAX_CASE_BYTES", 60 * 1024 * 1024),
        # A scan smaller than this is illegible; more pixels than this is a decompression bomb.
        "DOCUMENT_MIN_IMAGE_SIDE": _env_int("DOCUMENT_MIN_IMAGE_SIDE", 200),
        "DOCUMENT_MAX_IMAGE_PIXELS": _env_int("DOCUMENT_MAX_IMAGE_PIXELS", 50_000_000),
        # clamd for virus scanning ("host:port" or a socket path); empty: scanning not configured.
        "CLAMD_ADDRESS": _env("CLAMD_ADDRESS", ""),
        "CLAMD_TIMEOUT": _env_int("CLAMD_TIMEOUT", 30),
        # Public status lookup (app/portal): attempts per client address and per tracking code.
        "PORTAL_LOOKUP_LIMIT": _env("PORTAL_LOOKUP_LIMIT", "10/minute;60/hour"),
        "PORTAL_LOOKUP_CODE_LIMIT": _env("PORTAL_LOOKUP_CODE_LIMIT", "20/hour"),
        # The inbound inquiry API (app/agency): calls per organisation's account.
        "AGENCY_API_LIMIT": _env("AGENCY_API_LIMIT", "60/minute;1000/hour"),
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SECURE": environment == "production",
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session: no lost input
        # Fees (app/fees): the municipality's 3-digit company code inside every bill ID.
        "BILL_COMPANY_CODE": _env("BILL_COMPANY_CODE", "180"),
        # Payments (app/payments): empty URL = the built-in gateway simulator (/simulator/ipg).
        "PAYMENT_GATEWAY_URL": _env("PAYMENT_GATEWAY_URL", ""),
        "PAYMENT_GATEWAY_PAGE_URL": _env("PAYMENT_GATEWAY_PAGE_URL", ""),  # empty: <URL>/pay
        "PAYMENT_TERMINAL_ID": _env("PAYMENT_TERMINAL_ID", "parvaneh-demo"),
        "PAYMENT_GATEWAY_KEY": _env("PAYMENT_GATEWAY_KEY", "simulator-demo-key"),
        "PAYMENT_TIMEOUT_SECONDS": _env_int("PAYMENT_TIMEOUT_SECONDS", 10),
        # `flask payments reconcile` asks the gateway about attempts pending this long.
        "PAYMENT_RECONCILE_AFTER_SECONDS": _env_int("PAYMENT_RECONCILE_AFTER_SECONDS", 600),
        "PAYMENT_SIMULATOR_ENABLED": _env(
            "PAYMENT_SIMULATOR_ENABLED", "0" if environment == "production" else "1"
        )
        == "1",
        # The simulator, like a bank, expires unused sessions and reverses unverified payments.
        "PAYMENT_SIMULATOR_TOKEN_SECONDS": _env_int("PAYMENT_SIMULATOR_TOKEN_SECONDS", 900),
        "PAYMENT_SIMULATOR_VERIFY_SECONDS": _env_int("PAYMENT_SIMULATOR_VERIFY_SECONDS", 1200),
        # Certificates (app/certificates): the Ed25519 key signing issued documents, as base64
        # (PEM or 32 raw bytes) or a PEM file; development generates instance/document-signing-key.pem.
        "DOCUMENT_SIGNING_KEY": _env("DOCUMENT_SIGNING_KEY", ""),
        "DOCUMENT_SIGNING_KEY_PATH": _env("DOCUMENT_SIGNING_KEY_PATH", ""),
        # The site's public address for QR codes on documents; empty: the request's host.
        "PUBLIC_BASE_URL": _env("PUBLIC_BASE_URL", ""),
        # Back office: roles that see overdue work per step and may reassign tasks.
        "OFFICE_SUPERVISOR_ROLES": _env("OFFICE_SUPERVISOR_ROLES", "URB_HEAD")
        .replace(" ", "")
        .split(","),
        # Site visits: `flask office remind` texts the applicant this many hours before a visit.
        "INSPECTION_REMINDER_HOURS": _env_int("INSPECTION_REMINDER_HOURS", 24),
        # Staff sessions end after this many idle minutes, and after this many hours in all.
        "STAFF_IDLE_MINUTES": _env_int("STAFF_IDLE_MINUTES", 30),
        "STAFF_SESSION_HOURS": _env_int("STAFF_SESSION_HOURS", 12),
        # Failed sign-ins allowed before backoff (30 s doubling to 1 h), and before a lockout
        # only an administrator lifts (NIST SP 800-63B: at most 100).
        "STAFF_LOGIN_FREE_ATTEMPTS": _env_int("STAFF_LOGIN_FREE_ATTEMPTS", 5),
        "STAFF_LOGIN_LOCK_AFTER": _env_int("STAFF_LOGIN_LOCK_AFTER", 30),
        # Roles that must enrol TOTP before working ("*": every staff member); others may.
        "STAFF_TOTP_REQUIRED_ROLES": _env("STAFF_TOTP_REQUIRED_ROLES", "ADMIN"),
        # The issuer name authenticator apps show beside the account.
        "TOTP_ISSUER": _env("TOTP_ISSUER", "Parvaneh"),
        # HMAC key of the audit chain; empty derives one from SECRET_KEY (set it in production,
        # so rotating SECRET_KEY does not make every existing audit row fail verification).
        "AUDIT_KEY": _env("AUDIT_KEY", ""),
        # Rate-limit counters: memory:// suits one process; production shares redis://host:6379.
        "RATELIMIT_STORAGE_URI": _env("RATELIMIT_STORAGE_URI", "memory://"),
        # SMS: "dev" keeps messages in the database for the /dev/sms inbox; "http" sends them.
        "SMS_BACKEND": _env("SMS_BACKEND", "dev"),
        "SMS_HTTP_URL": _env("SMS_HTTP_URL", ""),
        "SMS_HTTP_API_KEY": _env("SMS_HTTP_API_KEY", ""),
        "SMS_HTTP_TIMEOUT": _env_int("SMS_HTTP_TIMEOUT", 10),
        # One-time sign-in codes: lifetime, wrong tries per code, wait before a new code.
        "OTP_TTL_SECONDS": _env_int("OTP_TTL_SECONDS", 120),
        "OTP_MAX_TRIES": _env_int("OTP_MAX_TRIES", 5),
        "OTP_RESEND_SECONDS": _env_int("OTP_RESEND_SECONDS", 60),
        # How many codes one number, and one address, may ask for (limits notation).
        "OTP_LIMIT_PER_MOBILE": _env("OTP_LIMIT_PER_MOBILE", "5 per hour"),
        "OTP_LIMIT_PER_IP": _env("OTP_LIMIT_PER_IP", "30 per hour"),
        # Code checks per address: slows guessing across many numbers.
        "OTP_VERIFY_LIMIT_PER_IP": _env("OTP_VERIFY_LIMIT_PER_IP", "60 per hour"),
        # Kiosk terminals: the session ends after this much inactivity; a warning comes first.
        "KIOSK_IDLE_SECONDS": _env_int("KIOSK_IDLE_SECONDS", 120),
        "KIOSK_WARNING_SECONDS": _env_int("KIOSK_WARNING_SECONDS", 30),
        # Notification delivery (app/notifications): attempts, exponential backoff, worker lease.
        "NOTIFY_MAX_ATTEMPTS": _env_int("NOTIFY_MAX_ATTEMPTS", 6),
        "NOTIFY_BACKOFF_SECONDS": _env_int("NOTIFY_BACKOFF_SECONDS", 30),
        "NOTIFY_BACKOFF_MAX_SECONDS": _env_int("NOTIFY_BACKOFF_MAX_SECONDS", 3600),
        "NOTIFY_LEASE_SECONDS": _env_int("NOTIFY_LEASE_SECONDS", 120),
        # E-mail: "dev" keeps mails in the database (like SMS_BACKEND=dev); "smtp" sends them.
        "MAIL_BACKEND": _env("MAIL_BACKEND", "dev"),
        "MAIL_FROM": _env("MAIL_FROM", "parvaneh@localhost"),
        "SMTP_HOST": _env("SMTP_HOST", "localhost"),
        "SMTP_PORT": _env_int("SMTP_PORT", 587),
        "SMTP_USERNAME": _env("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": _env("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _env("SMTP_STARTTLS", "1") == "1",
        # Transparency: lanes whose steps need the citizen in person (visits avoided = none).
        "TRANSPARENCY_IN_PERSON_LANES": _env("TRANSPARENCY_IN_PERSON_LANES", "COUNTER"),
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
