"""RedisRateLimiter edges against a real redis-server: answers that are garbage count as an
outage, a granted wait is checked against the caller's deadline, pauses only grow, and
pauses must be finite."""

from __future__ import annotations

import logging
import time

import pytest

from scheduler_async import ratelimit_redis
from scheduler_async.errors import RateLimitWaitError
from scheduler_async.ratelimit_redis import RedisRateLimiter

from .conftest import RedisServer
from .test_redis_limiter import make

_NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) * 1000000 + tonumber(t[2]) "


@pytest.mark.parametrize(
    "script",
    [
        "return 'garbage'",  # a status text instead of the three numbers
        "return {1, 2}",  # too few values
        "return {'x', 'y', 'z'}",  # not numbers
        _NOW + "return {7, 0, now}",  # granted is neither 0 nor 1
        _NOW + "return {1, -5, now}",  # a negative wait
    ],
)
async def test_garbage_answer_is_an_outage_with_one_warning(
    redis_server: RedisServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    script: str,
) -> None:
    monkeypatch.setattr(ratelimit_redis, "_ACQUIRE", script)
    lim = make(redis_server, 1000, recheck_interval=0.0)
    try:
        with caplog.at_level(logging.WARNING, logger="scheduler_async"):
            for _ in range(3):
                await lim.acquire(deadline=time.monotonic() + 2)  # no bare ValueError/TypeError
    finally:
        await lim.aclose()
    assert lim.degraded and lim.outages == 1
    warnings = [
        r for r in caplog.records if "Redis unreachable or its answer unusable" in r.message
    ]
    assert len(warnings) == 1


async def test_garbage_pause_answers_fall_back_too(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ratelimit_redis, "_PAUSE", "return 'not a number'")
    lim = make(redis_server, 1000)
    try:
        await lim.on_rate_limited(0.5)  # no exception reaches the transport
        assert lim.degraded
        assert lim.fallback.paused_until > time.monotonic()  # this process still pauses
    finally:
        await lim.aclose()


async def test_a_granted_slot_past_the_deadline_is_refused_client_side(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A script that grants a slot an hour away whatever the caller's deadline (a script of
    # another version, a clock jump): the caller must not sleep past its own bound.
    monkeypatch.setattr(ratelimit_redis, "_ACQUIRE", _NOW + "return {1, 3600000000, now}")
    lim = make(redis_server, 1000)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    lim._sleep = sleep
    try:
        with pytest.raises(RateLimitWaitError) as info:
            await lim.acquire(deadline=time.monotonic() + 2)
    finally:
        await lim.aclose()
    assert slept == []
    assert info.value.retry_after is not None and info.value.retry_after > 3000
    assert not lim.degraded


async def test_a_later_shorter_429_never_shortens_the_shared_pause(
    redis_server: RedisServer,
) -> None:
    a, b = make(redis_server, 10), make(redis_server, 10)
    try:
        await a.on_rate_limited(5.0)
        await b.on_rate_limited(0.5)  # another process, a shorter Retry-After, later
        assert await a.pause_left() > 4.5
        assert b.fallback.paused_until - time.monotonic() > 0.4
    finally:
        await a.aclose()
        await b.aclose()


@pytest.mark.parametrize("bad", [float("inf"), float("nan"), -1.0])
def test_non_finite_or_negative_default_pause_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="default_pause"):
        RedisRateLimiter(10, application="a", url="redis://127.0.0.1:1/0", default_pause=bad)
