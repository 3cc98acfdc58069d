"""Staff password policy: length and a bundled list of common passwords (NIST SP 800-63B §3.1.1.2)."""

from __future__ import annotations

import gzip
import secrets
from functools import cache
from pathlib import Path

from flask_babel import gettext as _

from app.i18n import current_locale
from app.persian.text import to_persian_digits

#: NIST asks at least 8 inside multi-factor sign-in; we ask 12 of staff.
MIN_PASSWORD_LENGTH = 12
#: Long passphrases are welcome (NIST: allow at least 64); the cap only bounds hashing work.
MAX_PASSWORD_LENGTH = 128

#: Django's 20,000 most common passwords (Royce Williams' list), BSD-3 (LICENSE-django.txt).
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "data" / "common-passwords.txt.gz"


@cache
def common_passwords() -> frozenset[str]:
    """The bundled common-password list, lower-cased."""
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip().lower() for line in handle if line.strip())


def local_number(value: int) -> str:
    """A number in the page's digits: Persian on Persian pages."""
    return to_persian_digits(str(value)) if current_locale() == "fa" else str(value)


def password_problem(password: str, username: str = "") -> str | None:
    """Why a new staff password is refused (a translated sentence), or None when it is fine.

    No composition rules: NIST SP 800-63B says length and a blocklist, nothing else.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("Use at least %(count)s characters.", count=local_number(MIN_PASSWORD_LENGTH))
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("Use at most %(count)s characters.", count=local_number(MAX_PASSWORD_LENGTH))
    lowered = password.strip().lower()
    if lowered in common_passwords() or len(set(lowered)) < 4:
        return _("This password is too common. Choose a longer phrase only you would think of.")
    if username and username.strip().lower() in lowered:
        return _("The password must not contain the username.")
    return None


def temporary_password() -> str:
    """A random one-time password an administrator hands over (about 120 bits)."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud or copied by hand
    groups = ("".join(secrets.choice(alphabet) for _ in range(6)) for _ in range(4))
    return "-".join(groups)
