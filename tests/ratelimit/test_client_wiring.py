"""The client's rate limiter wiring: consulted before every attempt, told of every 429, and a
pause that respects each call's own bounds (issue 10 item 4), against a loopback server."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

import scheduler_sync
from scheduler_async import (
    AsyncScheduler,
    LocalRateLimiter,
    RateLimiter,
    RateLimitError,
    RateLimitWaitError,
    RetryPolicy,
)
from scheduler_async.emulator import Emulator

PATH = "/v3/scheduling/bookings/BK1"
OK_BODY = {"request_id": "ok", "data": {"booking_id": "BK1", "event_id": "e", "title": "t"}}


class Script:
    """A loopback server answering from a list of (status, Retry-After) and counting requests."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, str | None]] = []
        self.seen = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.seen += 1
        status, retry_after = self.answers.pop(0) if self.answers else (200, None)
        if status == 200:
            return web.json_response(OK_BODY)
        body = {"request_id": f"r{self.seen}", "error": {"type": "e", "message": "no"}}
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return web.json_response(body, status=status, headers=headers)


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, Script]]:
    script = Script()
    app = web.Application()
    app.router.add_get(PATH, script.handle)
    srv = TestServer(app, host="127.0.0.1")
    await srv.start_server()
    try:
        yield str(srv.make_url("")).rstrip("/"), script
    finally:
        await srv.close()


class Recorder:
    """A RateLimiter that records what the transport tells it; optionally refuses."""

    def __init__(self, refuse_after: int | None = None) -> None:
        self.deadlines: list[float | None] = []
        self.paused: list[float | None] = []
        self.refuse_after = refuse_after
        self.closed = False

    async def acquire(self, *, deadline: float | None = None) -> None:
        self.deadlines.append(deadline)
        if self.refuse_after is not None and len(self.deadlines) > self.refuse_after:
            raise RateLimitWaitError("budget spent", retry_after=7.5)

    async def on_rate_limited(self, retry_after: float | None) -> None:
        self.paused.append(retry_after)

    async def aclose(self) -> None:
        self.closed = True


class SleepSpy:
    """The limiter's sleep: records each requested wait and really sleeps it."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        import asyncio

        self.waits.append(seconds)
        await asyncio.sleep(seconds)


async def get(client: AsyncScheduler, **kw: Any) -> Any:
    return await client.bookings.get("BK1", configuration_id="CFG", **kw)


# ----------------------------------------------------------------- issue 10 item 4
@pytest.mark.parametrize("bound", ["timeout", "deadline"])
async def test_huge_retry_after_fails_later_calls_fast_within_their_bounds(
    server: tuple[str, Script], bound: str
) -> None:
    url, script = server
    script.answers = [(429, "999999")]
    spy = SleepSpy()
    policy = RetryPolicy(deadline=2.0) if bound == "deadline" else RetryPolicy()
    limiter = LocalRateLimiter(sleep=spy)  # the default limiter, with its sleep observed
    async with AsyncScheduler(base_url=url, retry=policy, rate_limit=limiter) as client:
        with pytest.raises(RateLimitError) as first:
            await get(client)
        assert first.value.retry_after == 999999 and script.seen == 1
        t0 = time.monotonic()
        with pytest.raises(RateLimitWaitError) as later:
            await (get(client, timeout=2) if bound == "timeout" else get(client))
    err = later.value
    assert isinstance(err, RateLimitError) and err.status_code == 429
    # the pause is capped at max_retry_after (60 s); what is left of it is the retry_after
    assert err.retry_after is not None and 55 < err.retry_after <= 60
    assert err.retry_after == pytest.approx(limiter.paused_until - t0, abs=0.5)
    assert (err.method, err.path, err.retries_taken, err.request_id) == ("GET", PATH, 0, None)
    assert script.seen == 1  # nothing was sent
    assert spy.waits == []  # and nothing was waited for: it failed at once


async def test_default_client_also_fails_fast(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(429, "999999")]
    async with AsyncScheduler(base_url=url) as client:
        with pytest.raises(RateLimitError):
            await get(client)
        with pytest.raises(RateLimitWaitError) as info:
            await get(client, timeout=2)
        assert isinstance(client.rate_limit, LocalRateLimiter) and client.rate_limit.rate is None
    assert info.value.retry_after is not None and info.value.retry_after > 55
    assert script.seen == 1


async def test_a_pause_within_the_bounds_is_waited_then_sent(server: tuple[str, Script]) -> None:
    url, script = server
    script.answers = [(429, "1")]
    async with AsyncScheduler(base_url=url, max_retries=0) as client:
        with pytest.raises(RateLimitError):
            await get(client)
        t0 = time.monotonic()
        booking = await get(client, timeout=5)
    assert booking.booking_id == "BK1" and script.seen == 2
    assert time.monotonic() - t0 >= 0.9  # it waited out the 1 s pause first


# ----------------------------------------------------------------- every attempt, every 429
async def test_limiter_consulted_before_every_attempt_and_told_of_429(
    server: tuple[str, Script],
) -> None:
    url, script = server
    script.answers = [(503, "0"), (429, "0")]
    rec = Recorder()
    policy = RetryPolicy(max_retries=3, backoff_base=0.0)
    async with AsyncScheduler(base_url=url, retry=policy, rate_limit=rec, timeout=30) as client:
        t0 = time.monotonic()
        resp = await client.bookings.with_response.get("BK1", configuration_id="CFG")
    assert resp.retries_taken == 2 and script.seen == 3
    assert len(rec.deadlines) == 3  # the first attempt and both retries
    first = rec.deadlines[0]
    assert first is not None and t0 < first <= t0 + 30.5  # the call's own total timeout
    assert rec.paused == [0.0]  # the 429 only (a 503 is no rate limit)
    assert not rec.closed  # a limiter passed in is the caller's to close


async def test_deadline_is_the_earlier_of_timeout_and_policy(server: tuple[str, Script]) -> None:
    url, _ = server
    rec = Recorder()
    async with AsyncScheduler(
        base_url=url, retry=RetryPolicy(deadline=3.0), rate_limit=rec, timeout=30
    ) as client:
        t0 = time.monotonic()
        await get(client)
        await get(client, timeout=1)
    d1, d2 = rec.deadlines
    assert d1 is not None and d2 is not None
    assert d1 - t0 == pytest.approx(3.0, abs=0.5)
    assert d2 - t0 == pytest.approx(1.0, abs=0.5)


async def test_no_deadline_without_bounds(server: tuple[str, Script]) -> None:
    url, _ = server
    rec = Recorder()
    from scheduler_async import Timeout

    async with AsyncScheduler(
        base_url=url, rate_limit=rec, timeout=Timeout(total=None, connect=5, read=5)
    ) as client:
        await get(client)
    assert rec.deadlines == [None]


async def test_refusal_on_a_retry_is_raised_complete_and_not_retried(
    server: tuple[str, Script],
) -> None:
    url, script = server
    script.answers = [(503, "0")]
    rec = Recorder(refuse_after=1)
    policy = RetryPolicy(max_retries=5, backoff_base=0.0)
    async with AsyncScheduler(base_url=url, retry=policy, rate_limit=rec) as client:
        with pytest.raises(RateLimitWaitError) as info:
            await get(client)
    err = info.value
    assert (err.retry_after, err.retries_taken, err.method, err.path) == (7.5, 1, "GET", PATH)
    assert "budget spent" in str(err)
    assert script.seen == 1 and len(rec.deadlines) == 2


async def test_rate_limit_argument_and_ownership(server: tuple[str, Script]) -> None:
    url, _ = server
    client = AsyncScheduler(base_url=url, rate_limit=50)
    lim = client.rate_limit
    assert isinstance(lim, LocalRateLimiter) and lim.rate == 50.0
    assert isinstance(lim, RateLimiter)
    await get(client)
    await client.aclose()
    rec = Recorder()
    async with AsyncScheduler(base_url=url, rate_limit=rec) as other:
        assert other.rate_limit is rec
    assert not rec.closed
    for bad in ("fast", True):
        with pytest.raises(TypeError):
            AsyncScheduler(base_url=url, rate_limit=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        AsyncScheduler(base_url=url, rate_limit=0)


async def test_rate_is_held_by_the_client(server: tuple[str, Script]) -> None:
    url, script = server
    async with AsyncScheduler(base_url=url, rate_limit=20) as client:
        t0 = time.monotonic()
        for _ in range(6):
            await get(client)
    assert script.seen == 6
    assert time.monotonic() - t0 >= 5 / 20 - 0.01  # one request per 50 ms


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator(rate_limit=1000) as emu:
        yield emu


def test_sync_facade_takes_rate_limit(emulator: Emulator) -> None:
    with scheduler_sync.Scheduler(
        api_key="k", grant_id="g", base_url=emulator.url, rate_limit=100
    ) as client:
        assert isinstance(client.rate_limit, LocalRateLimiter)
        assert client.rate_limit.rate == 100.0
        assert list(client.configurations.list()) == []
    stats = emulator.rate_limit.stats()
    assert stats["rate"] == 1000.0 and stats["requests"] == 1 and stats["rejected"] == 0
