"""Clients sharing a RedisRateLimiter on a real redis-server: a 429 pauses the other client at
once; a Redis outage mid-sweep falls back (with a warning) and recovers, losing nothing."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from scheduler_async import (
    AsyncScheduler,
    AvailabilityQuery,
    RateLimitError,
    RateLimitWaitError,
    RetryPolicy,
)
from scheduler_async.emulator import Emulator
from scheduler_async.ratelimit_redis import RedisRateLimiter

from .conftest import RedisServer, at

PATH = "/v3/scheduling/bookings/BK1"


class OneThrottle:
    """Answers the first request 429 with ``Retry-After``, then 200; counts requests."""

    def __init__(self, retry_after: str) -> None:
        self.retry_after = retry_after
        self.seen = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.seen += 1
        if self.seen == 1:
            body = {"request_id": "r", "error": {"type": "rate_limit_error", "message": "slow"}}
            return web.json_response(body, status=429, headers={"Retry-After": self.retry_after})
        data = {"booking_id": "BK1", "event_id": "e", "title": "t"}
        return web.json_response({"request_id": "ok", "data": data})


async def serve(handler: OneThrottle) -> TestServer:
    app = web.Application()
    app.router.add_get(PATH, handler.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


def limiter(server: RedisServer, rate: float | None, **kw: Any) -> RedisRateLimiter:
    return RedisRateLimiter(rate, application="app-x", url=server.url, **kw)


@pytest.mark.parametrize("retry_after", ["30", "1"])
async def test_a_429_seen_by_one_client_pauses_the_other_at_once(
    redis_server: RedisServer, retry_after: str
) -> None:
    handler = OneThrottle(retry_after)
    server = await serve(handler)
    a, b = limiter(redis_server, None), limiter(redis_server, None)
    url = str(server.make_url("")).rstrip("/")
    try:
        async with (
            AsyncScheduler(base_url=url, rate_limit=a, max_retries=0) as first,
            AsyncScheduler(base_url=url, rate_limit=b) as second,
        ):
            with pytest.raises(RateLimitError):
                await first.bookings.get("BK1", configuration_id="C")
            t0 = time.monotonic()
            if retry_after == "30":
                # The second client (another process, as far as Redis knows) never sent
                # anything: its call cannot get through within its 2 s and fails at once.
                with pytest.raises(RateLimitWaitError) as info:
                    await second.bookings.get("BK1", configuration_id="C", timeout=2)
                assert info.value.retry_after is not None and 25 < info.value.retry_after <= 30
                assert handler.seen == 1
            else:
                booking = await second.bookings.get("BK1", configuration_id="C", timeout=10)
                assert booking.booking_id == "BK1" and handler.seen == 2
                assert time.monotonic() - t0 >= 0.9  # it held back for the shared pause
    finally:
        await server.close()
        await a.aclose()
        await b.aclose()


async def test_redis_killed_mid_sweep_falls_back_and_recovers(
    redis_server: RedisServer,
    config_id: tuple[str, str],
    scheduler_emulator_fresh: Emulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, config = config_id
    caplog.set_level(logging.WARNING, logger="scheduler_async")
    scheduler_emulator_fresh.rate_limit.configure(rate=400, key_by="application")
    lim = limiter(redis_server, 200, recheck_interval=0.05, op_timeout=0.5)
    queries = [
        AvailabilityQuery(
            start_time=at(24 * (i % 5)), end_time=at(24 * (i % 5) + 8),
            configuration_id=config, tag=i,
        )
        for i in range(240)
    ]  # fmt: skip
    tags: list[int] = []
    degraded_seen = False
    retry = RetryPolicy(max_retries=5, backoff_base=0.05)
    try:
        async with AsyncScheduler(base_url=url, rate_limit=lim, retry=retry) as client:
            async for result in client.availability.sweep(queries, concurrency=10):
                assert result.ok, result.error
                tags.append(result.query.tag)
                if len(tags) == 60:
                    redis_server.kill()
                elif len(tags) == 150:
                    degraded_seen = lim.degraded
                    redis_server.start()
    finally:
        await lim.aclose()
    assert sorted(tags) == list(range(240))  # none lost, none twice
    assert degraded_seen and lim.outages == 1  # the sweep went on on the local fallback
    assert not lim.degraded  # and came back to the shared budget
    r = Redis.from_url(redis_server.url)
    try:
        assert await r.exists(lim.keys[0]) == 1
    finally:
        await r.aclose()
    messages = [rec.getMessage() for rec in caplog.records]
    assert sum("unreachable" in m for m in messages) == 1
    assert sum("reachable again" in m for m in messages) == 1
    assert scheduler_emulator_fresh.rate_limit.rejected == 0
