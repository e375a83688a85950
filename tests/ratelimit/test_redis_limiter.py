"""RedisRateLimiter against a real redis-server: shared rate, shared pause, outage fallback."""

from __future__ import annotations

import asyncio
import logging
import math
import time

import pytest
from redis.asyncio import Redis

from scheduler_async.errors import RateLimitWaitError
from scheduler_async.ratelimit import RateLimiter, coerce_rate_limit
from scheduler_async.ratelimit_redis import RedisRateLimiter

from .conftest import RedisServer
from .test_local_limiter import max_in_window


def make(server: RedisServer, rate: float | None, **kw: object) -> RedisRateLimiter:
    return RedisRateLimiter(rate, application="app-1", url=server.url, **kw)  # type: ignore[arg-type]


async def test_rate_held_across_two_limiters(redis_server: RedisServer) -> None:
    a, b = make(redis_server, 100), make(redis_server, 100)
    stamps: list[float] = []

    async def one(lim: RedisRateLimiter) -> None:
        await lim.acquire()
        stamps.append(time.monotonic())

    try:
        t0 = time.monotonic()
        await asyncio.gather(*(one(a if i % 2 else b) for i in range(160)))
        elapsed = time.monotonic() - t0
    finally:
        await a.aclose()
        await b.aclose()
    assert len(stamps) == 160
    # Slots are exactly 10 ms apart on Redis' clock. Each limiter maps them onto the local clock
    # through its own estimate of Redis' offset (learned from round trips, so it is off by up to
    # one round trip, which a starved CPU stretches), and returns at most ``max_lateness`` after a
    # slot. Seen locally, a 1 s window therefore holds at most 100 slots, plus those the two
    # estimates' disagreement and the lateness can shift into it (+2 at the edges).
    skew = abs(a._offset - b._offset) + a.max_lateness
    assert max_in_window(stamps) <= 100 + math.ceil(skew / 0.01) + 2
    assert skew < 0.5  # the estimates agree closely: the budget is really shared
    assert elapsed >= 159 / 100 - 0.05
    assert not a.degraded and not b.degraded


async def test_budget_is_per_application_and_grant(redis_server: RedisServer) -> None:
    a = make(redis_server, 1)
    other_app = RedisRateLimiter(1, application="app-2", url=redis_server.url)
    other_grant = make(redis_server, 1, grant="g-1")
    try:
        for lim in (a, other_app, other_grant):
            await lim.acquire(deadline=time.monotonic())  # each budget has its first slot free
        with pytest.raises(RateLimitWaitError):
            await a.acquire(deadline=time.monotonic() + 0.2)
        assert len({a.keys, other_app.keys, other_grant.keys}) == 3
    finally:
        for lim in (a, other_app, other_grant):
            await lim.aclose()


async def test_pause_set_by_one_is_seen_by_the_other_at_once(redis_server: RedisServer) -> None:
    a, b = make(redis_server, None), make(redis_server, 50)
    try:
        await b.acquire()
        await a.on_rate_limited(5.0)
        t0 = time.monotonic()
        with pytest.raises(RateLimitWaitError) as info:
            await b.acquire(deadline=t0 + 1.0)
        assert info.value.retry_after is not None and 4.0 < info.value.retry_after <= 5.0
        assert 4.0 < await b.pause_left() <= 5.0
        # a short pause: the other limiter waits for it, then resumes
        await redis_server_flush(redis_server)
        await a.on_rate_limited(0.3)
        t1 = time.monotonic()
        await b.acquire()
        assert time.monotonic() - t1 >= 0.25
    finally:
        await a.aclose()
        await b.aclose()


async def redis_server_flush(server: RedisServer) -> None:
    r = Redis.from_url(server.url)
    try:
        await r.flushall()
    finally:
        await r.aclose()


async def test_pause_during_wait_requeues(redis_server: RedisServer) -> None:
    sleeping = asyncio.Event()

    async def sleep(seconds: float) -> None:
        sleeping.set()  # b holds its slot and waits for it
        await asyncio.sleep(seconds)

    a, b = make(redis_server, 10), make(redis_server, 10, sleep=sleep)
    try:
        await a.acquire()
        waiter = asyncio.ensure_future(b.acquire())  # its slot is 100 ms away
        await sleeping.wait()
        await a.on_rate_limited(0.5)
        t0 = time.monotonic()
        await waiter
        assert time.monotonic() - t0 >= 0.4  # it did not go at its old slot inside the pause
    finally:
        await a.aclose()
        await b.aclose()


async def test_fallback_when_redis_dies_and_recovery(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    lim = make(redis_server, 1000, recheck_interval=0.0, op_timeout=0.5)
    caplog.set_level(logging.WARNING, logger="scheduler_async")
    try:
        await lim.acquire()
        assert not lim.degraded
        for outage in (1, 2):
            redis_server.kill()
            for _ in range(5):
                await lim.acquire()  # never blocked by the outage
            assert lim.degraded and lim.outages == outage
            await lim.on_rate_limited(0.01)  # still honoured locally
            await lim.acquire()
            redis_server.start()
            await lim.acquire()
            assert not lim.degraded
            r = Redis.from_url(redis_server.url)
            try:
                assert await r.exists(lim.keys[0]) == 1  # the shared budget is in use again
            finally:
                await r.aclose()
        down = [r for r in caplog.records if "unreachable" in r.getMessage()]
        back = [r for r in caplog.records if "reachable again" in r.getMessage()]
        assert len(down) == 2 and len(back) == 2  # one warning per outage, not per request
    finally:
        await lim.aclose()


async def test_recheck_interval_spares_a_dead_redis(redis_server: RedisServer) -> None:
    lim = make(redis_server, 1000, recheck_interval=3600.0)
    try:
        redis_server.kill()
        await lim.acquire()
        assert lim.degraded
        redis_server.start()
        await lim.acquire()
        assert lim.degraded  # not retried before recheck_interval has passed
    finally:
        await lim.aclose()


async def test_is_a_rate_limiter_and_passes_coerce(redis_server: RedisServer) -> None:
    lim = make(redis_server, 5)
    try:
        assert isinstance(lim, RateLimiter)
        assert coerce_rate_limit(lim) is lim
        assert "app-1" in repr(lim)
        with pytest.raises(ValueError):
            RedisRateLimiter(5, application="x")
    finally:
        await lim.aclose()
        await lim.aclose()
