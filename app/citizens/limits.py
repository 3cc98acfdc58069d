"""Rate limits on sign-in codes, per mobile number and per address, through Flask-Limiter.

The views check these themselves (rather than with a decorator) so each breach gets its own
message beside the field, not a bare 429 page.
"""

from __future__ import annotations

import math
import time

from flask import current_app, request
from limits import RateLimitItem, parse_many

from app.extensions import limiter


def _items(setting: str) -> list[RateLimitItem]:
    return parse_many(str(current_app.config[setting]))


def _hit(setting: str, namespace: str, key: str) -> int:
    """Count one hit; 0 when allowed, else the seconds until the limit lets the next one in."""
    strategy = limiter.limiter
    for item in _items(setting):
        if not strategy.hit(item, "parvaneh", namespace, key):
            reset_at, _remaining = strategy.get_window_stats(item, "parvaneh", namespace, key)
            return max(1, math.ceil(reset_at - time.time()))
    return 0


def client_address() -> str:
    """The client's address (behind a proxy, configure ProxyFix so this is the real one)."""
    return request.remote_addr or "unknown"


def wait_before_code_for_mobile(mobile: str) -> int:
    """Count a code request for the number; seconds to wait when over OTP_LIMIT_PER_MOBILE."""
    return _hit("OTP_LIMIT_PER_MOBILE", "otp-send-mobile", mobile)


def wait_before_code_for_address() -> int:
    """Count a code request from this address; seconds to wait when over OTP_LIMIT_PER_IP."""
    return _hit("OTP_LIMIT_PER_IP", "otp-send-ip", client_address())


def wait_before_check_for_address() -> int:
    """Count a code check from this address; seconds to wait when over OTP_VERIFY_LIMIT_PER_IP."""
    return _hit("OTP_VERIFY_LIMIT_PER_IP", "otp-check-ip", client_address())
