"""The kiosk marker in the session: which browser is an office terminal, and since when idle.

Only these keys survive "finish" and the inactivity timeout; everything about the citizen goes.
"""

from __future__ import annotations

import time
from typing import Any

from flask import session
from flask_login import logout_user

KIOSK_KEY = "kiosk_terminal"
SEEN_KEY = "kiosk_seen"
#: The AssistedSession id while a counter clerk acts for a citizen.
ASSIST_KEY = "kiosk_assisted"


def is_kiosk() -> bool:
    """Whether this browser session is a kiosk terminal's."""
    return bool(session.get(KIOSK_KEY))


def terminal_keys() -> dict[str, Any]:
    """The kiosk marker keys to carry over when the session is renewed (sign-in)."""
    return {key: session[key] for key in (KIOSK_KEY, SEEN_KEY) if key in session}


def mark_terminal() -> None:
    """Make this browser session a kiosk terminal's."""
    session[KIOSK_KEY] = True
    touch()


def now() -> int:
    """The server's clock for the inactivity timeout, in whole seconds (tests move it)."""
    return int(time.time())


def touch() -> None:
    """Record activity now (server-side clock for the inactivity timeout)."""
    session[SEEN_KEY] = now()


def idle_seconds() -> int:
    """Seconds since the last request of this kiosk session."""
    seen = session.get(SEEN_KEY)
    return now() - int(seen) if isinstance(seen, int) else 0


def wipe() -> None:
    """Sign out and forget everything but the kiosk marker itself."""
    logout_user()
    session.clear()
    mark_terminal()
