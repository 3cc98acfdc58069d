"""Rate limits on sign-in codes, per mobile number and per address, through Flask-Limiter.

The views check these themselves (rather than with a decorator) so each breach gets its own
message beside the field, not a bare 429 page.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from flask import current_app, request
from limits import RateLimitItem, parse_many
from limits.storage import RedisStorage
from limits.strategies import FixedWindowRateLimiter
from redis.exceptions import RedisError

from app.extensions import limiter


def _items(setting: str) -> list[RateLimitItem]:
    return _parsed(str(current_app.config[setting]))


@lru_cache(maxsize=64)
def _parsed(limits: str) -> list[RateLimitItem]:
    # Parsed once per setting's text: the public lookup counts three windows on every request.
    return parse_many(limits)


def _hit(setting: str, namespace: str, key: str) -> int:
    """Count one hit; 0 when allowed, else the seconds until the limit lets the next one in."""
    strategy = limiter.limiter
    for item in _items(setting):
        if not strategy.hit(item, "parvaneh", namespace, key):
            reset_at, _remaining = strategy.get_window_stats(item, "parvaneh", namespace, key)
            return max(1, math.ceil(reset_at - time.time()))
    return 0


# Count one hit on each fixed window, in order, stopping at the first that is over its limit
# (as separate hits would): KEYS are the windows, ARGV their expiries then their limits.
# Returns the 1-based index of the window that refused, or 0.
_HIT_ALL = """
local n = #KEYS
for i = 1, n do
    local current = redis.call("incrby", KEYS[i], 1)
    if current == 1 then
        redis.call("expire", KEYS[i], ARGV[i])
    end
    if current > tonumber(ARGV[n + i]) then
        return i
    end
end
return 0
"""


def wait_for_all(checks: Sequence[tuple[str, str, str]]) -> int:
    """Count one hit for each (setting, namespace, key), in order, stopping at the first limit
    that is reached; 0 when all allow, else the seconds until that limit lets the next one in.

    With Redis (production) all windows are counted in one round trip rather than one each:
    the public lookup checks three on every request. The keys are the library's own, so its
    window statistics (the wait shown) and `reset()` work on them.
    """
    strategy = limiter.limiter
    windows = [
        (item, namespace, key) for setting, namespace, key in checks for item in _items(setting)
    ]
    storage = strategy.storage
    if not isinstance(strategy, FixedWindowRateLimiter) or not isinstance(storage, RedisStorage):
        for item, namespace, key in windows:
            if not strategy.hit(item, "parvaneh", namespace, key):
                return _seconds_left(item, namespace, key)
        return 0
    script = getattr(storage, "_parvaneh_hit_all", None)
    if script is None:
        script = storage.get_connection().register_script(_HIT_ALL.encode())
        storage._parvaneh_hit_all = script  # type: ignore[attr-defined]
    keys = [storage.prefixed_key(item.key_for("parvaneh", ns, key)) for item, ns, key in windows]
    expiries = [item.get_expiry() for item, _ns, _key in windows]
    amounts = [item.amount for item, _ns, _key in windows]
    refused = _run_script(storage, script, keys, [*expiries, *amounts])
    if refused:
        item, namespace, key = windows[refused - 1]
        return _seconds_left(item, namespace, key)
    return 0


def _run_script(storage: RedisStorage, script: Any, keys: list[str], args: list[int]) -> int:
    """Run the script by its SHA on a pooled connection, without the client's command layers.

    redis-py wraps every command in argument checks, retries and reply callbacks, which add
    about half again to the round trip itself, on every lookup. Any error (Redis restarted and
    lost the script, a dropped connection) goes the client's own way, which reconnects, loads
    the script and retries; a reply lost after Redis counted may count that lookup twice, which
    errs on the strict side.
    """
    pool = getattr(storage.get_connection(), "connection_pool", None)
    if pool is None:  # a cluster client: it routes each key itself
        return int(script(keys=keys, args=args))
    connection = pool.get_connection()
    try:
        connection.send_command("EVALSHA", script.sha, len(keys), *keys, *args)
        return int(connection.read_response())
    except (RedisError, OSError):
        connection.disconnect()
    finally:
        pool.release(connection)
    return int(script(keys=keys, args=args))


def _seconds_left(item: RateLimitItem, namespace: str, key: str) -> int:
    reset_at, _remaining = limiter.limiter.get_window_stats(item, "parvaneh", namespace, key)
    return max(1, math.ceil(reset_at - time.time()))


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
