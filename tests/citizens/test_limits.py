"""Counting several rate limits at once: one Redis round trip, the same answers as one by one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import FixedWindowRateLimiter

from app.citizens.limits import wait_for_all
from app.extensions import limiter
from tests.conftest import MISSING_SERVICE_PREFIX

CHECKS = [("LIMIT_A", "test-ip", "1.2.3.4"), ("LIMIT_B", "test-code", "123456789012")]


@pytest.fixture(params=["memory", "redis"])
def storage(request: pytest.FixtureRequest, app: Flask) -> Iterator[Storage]:
    if request.param == "memory":
        yield MemoryStorage()
        return
    import redis

    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        pytest.skip(f"{MISSING_SERVICE_PREFIX} no Redis at 127.0.0.1:6379 ({error})")
    backend = RedisStorage("redis://127.0.0.1:6379/13", key_prefix="parvaneh-test-limits")
    backend.reset()
    yield backend
    backend.reset()


@pytest.fixture
def strategy(
    app: Flask, storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> FixedWindowRateLimiter:
    chosen = FixedWindowRateLimiter(storage)
    monkeypatch.setattr(limiter, "_limiter", chosen)
    monkeypatch.setitem(app.config, "LIMIT_A", "3/minute;5/hour")
    monkeypatch.setitem(app.config, "LIMIT_B", "4/hour")
    return chosen


def test_every_window_counts_and_the_first_reached_refuses(
    app: Flask, strategy: FixedWindowRateLimiter
) -> None:
    from limits import parse

    with app.test_request_context():
        assert [wait_for_all(CHECKS) for _ in range(3)] == [0, 0, 0]
        wait = wait_for_all(CHECKS)  # the 4th in a minute from this address
        assert 1 <= wait <= 60
        stats = strategy.get_window_stats(parse("4/hour"), "parvaneh", "test-code", CHECKS[1][2])
        assert stats.remaining == 1  # the refused lookup did not reach the code's limit
        other_address = [("LIMIT_A", "test-ip", "5.6.7.8"), CHECKS[1]]
        assert wait_for_all(other_address) == 0
        wait = wait_for_all([("LIMIT_A", "test-ip", "9.9.9.9"), CHECKS[1]])  # the code's 5th
        assert 60 < wait <= 3600


@pytest.mark.parametrize("storage", ["redis"], indirect=True)
def test_a_redis_that_lost_the_script_loads_it_again_and_counts_once(
    app: Flask, strategy: FixedWindowRateLimiter, storage: Storage
) -> None:
    from limits import parse

    with app.test_request_context():
        assert wait_for_all(CHECKS) == 0  # the script is loaded and run by its SHA
        assert isinstance(storage, RedisStorage)
        storage.get_connection().script_flush()  # Redis restarted: its scripts are gone
        assert wait_for_all(CHECKS) == 0  # refused by SHA, then loaded and run again
        stats = strategy.get_window_stats(parse("4/hour"), "parvaneh", "test-code", CHECKS[1][2])
        assert stats.remaining == 2  # two lookups, each counted once
