"""One rate limiter, several event loops: ``scheduler_sync`` clients (each on its own loop
thread) and successive ``asyncio.run`` calls share one ``RedisRateLimiter`` (one pool per loop,
closed with its loop) or one ``LocalRateLimiter``; a ``client=`` bound to one loop refuses
another loop with a clear error."""

from __future__ import annotations

import asyncio
import threading

import pytest
from redis.asyncio import Redis

import scheduler_sync
from scheduler_async import (
    ClientClosedError,
    EventLoopMismatchError,
    LocalRateLimiter,
    RateLimitError,
    RateLimitWaitError,
)
from scheduler_async.ratelimit_redis import RedisRateLimiter

from .conftest import RedisServer
from .test_redis_client import OneThrottle, serve


async def _our_connections(checker: Redis) -> int:
    """Connections to the redis-server other than ``checker``'s own."""
    me = await checker.client_id()
    return sum(1 for c in await checker.client_list() if int(c["id"]) != me)


async def _wait_for_connections(checker: Redis, expected: int) -> None:
    """Wait until the server counts ``expected`` connections (it sees a close a bit later)."""
    for _ in range(1000):
        if await _our_connections(checker) == expected:
            return
        await asyncio.sleep(0.01)
    assert await _our_connections(checker) == expected


async def test_two_sync_clients_share_one_redis_limiter(redis_server: RedisServer) -> None:
    """A 429 seen on one sync client's loop pauses the other's; closing each closes its pool."""
    handler = OneThrottle("30")
    server = await serve(handler)
    url = str(server.make_url("")).rstrip("/")
    lim = RedisRateLimiter(None, application="app-sync", url=redis_server.url)
    checker = Redis.from_url(redis_server.url)
    try:
        first = await asyncio.to_thread(
            scheduler_sync.Scheduler, base_url=url, rate_limit=lim, max_retries=0
        )
        second = await asyncio.to_thread(scheduler_sync.Scheduler, base_url=url, rate_limit=lim)
        with pytest.raises(RateLimitError):
            await asyncio.to_thread(first.bookings.get, "BK1", configuration_id="C")
        # The other client's loop (another thread) reads the same pause through its own pool:
        # it cannot get through within its 2 s, so it fails at once, sending nothing.
        with pytest.raises(RateLimitWaitError) as info:
            await asyncio.to_thread(second.bookings.get, "BK1", configuration_id="C", timeout=2)
        assert info.value.retry_after is not None and info.value.retry_after > 20
        assert handler.seen == 1
        assert await _our_connections(checker) >= 2  # one pool per loop
        await asyncio.to_thread(first.close)
        await asyncio.to_thread(second.close)
        await _wait_for_connections(checker, 0)  # each loop closed its pool as it stopped
    finally:
        await lim.aclose()
        await checker.aclose()
        await server.close()


def _acquire_in_a_new_loop(lim: RedisRateLimiter) -> float:
    async def main() -> float:
        await lim.acquire()
        return await lim.pause_left()

    return asyncio.run(main())


async def test_successive_event_loops_share_one_redis_limiter(redis_server: RedisServer) -> None:
    """Each ``asyncio.run`` opens a pool and closes it when its loop shuts down."""
    lim = RedisRateLimiter(5, application="app-runs", url=redis_server.url)
    checker = Redis.from_url(redis_server.url)
    try:
        for _ in range(3):
            assert await asyncio.to_thread(_acquire_in_a_new_loop, lim) == 0
            await _wait_for_connections(checker, 0)
        assert not lim.degraded and lim.outages == 0
        await lim.acquire()  # and on this loop too
        assert await _our_connections(checker) == 1
    finally:
        await lim.aclose()
        await _wait_for_connections(checker, 0)
        await checker.aclose()


async def test_a_given_client_is_bound_to_its_first_loop(redis_server: RedisServer) -> None:
    own = Redis.from_url(redis_server.url)
    lim = RedisRateLimiter(None, application="app-own", client=own)
    try:
        await lim.acquire()
        with pytest.raises(EventLoopMismatchError, match="pass url= instead"):
            await asyncio.to_thread(_acquire_in_a_new_loop, lim)
        await lim.acquire()  # still fine on its own loop
    finally:
        await lim.aclose()
        assert await own.ping()  # a client you pass stays yours: not closed by the limiter
        await own.aclose()


async def test_aclose_refuses_work_on_every_loop(redis_server: RedisServer) -> None:
    """After ``aclose`` (on any loop) a live sync client's next call is refused before anything
    is sent; that client's own close then closes the pool its loop opened."""
    handler = OneThrottle("1")
    handler.seen = 1  # past its one 429: answers 200
    server = await serve(handler)
    url = str(server.make_url("")).rstrip("/")
    lim = RedisRateLimiter(50, application="app-close", url=redis_server.url)
    checker = Redis.from_url(redis_server.url)
    client = await asyncio.to_thread(scheduler_sync.Scheduler, base_url=url, rate_limit=lim)
    try:
        booking = await asyncio.to_thread(client.bookings.get, "BK1", configuration_id="C")
        assert booking.booking_id == "BK1"
        await lim.acquire()  # a pool on this loop too
        assert await _our_connections(checker) == 2
        await lim.aclose()
        await _wait_for_connections(checker, 1)  # this loop's pool closed; the client's is live
        with pytest.raises(ClientClosedError, match="RedisRateLimiter is closed"):
            await asyncio.to_thread(client.bookings.get, "BK1", configuration_id="C")
        with pytest.raises(ClientClosedError):
            await lim.acquire()
        assert handler.seen == 2  # nothing was sent after the close
        await asyncio.to_thread(client.close)
        await _wait_for_connections(checker, 0)
    finally:
        await asyncio.to_thread(client.close)
        await checker.aclose()
        await server.close()


def test_local_limiter_reserves_distinct_slots_across_threads() -> None:
    """Several sync clients' loop threads reserving at once never get the same slot."""
    lim = LocalRateLimiter(rate=1000, burst=1, clock=lambda: 0.0)
    starts: list[float] = []
    gate = threading.Barrier(8)

    def reserve() -> None:
        gate.wait()
        mine = [lim._reserve(0.0, None) for _ in range(2000)]
        starts.extend(mine)

    threads = [threading.Thread(target=reserve) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(starts) == 16_000
    assert sorted(round(s * 1000) for s in starts) == list(range(16_000))
