"""A rate budget shared by many processes through Redis (optional extra ``redis``).

``RedisRateLimiter`` keeps a GCRA limiter in Redis: one key holds the theoretical arrival time
(TAT) of the next request, a second one the end of the current 429 pause. Both are read and
written by Lua scripts, so every reservation is atomic however many processes ask at once, and
all times are Redis' own ``TIME`` (microseconds), so hosts whose clocks differ still agree.

Each ``acquire`` reserves the next free slot in one round trip and sleeps locally until it; if it
had to sleep it checks the shared pause once more (a second round trip) and queues again when a
429 arrived meanwhile. ``on_rate_limited`` sets the shared pause: every process waits from its
next ``acquire`` on.

**Redis outage.** Any Redis error (refused, reset, timeout), or an answer that is not what the
scripts return, switches this limiter to an
in-process :class:`~scheduler_async.ratelimit.LocalRateLimiter` (``fallback_rate``, by default
the same rate; with N processes the total may then reach N * rate, so pass ``rate / N`` when that
matters). One warning is logged per outage. Redis is tried again at most every
``recheck_interval`` seconds, and the shared budget is used again as soon as it answers (logged).

**Event loops.** A ``redis.asyncio`` connection belongs to the event loop that opened it. Given
``url=``, the limiter opens one small pool per event loop that uses it, so one limiter can serve
several ``scheduler_sync`` clients (each runs its own loop thread) or successive ``asyncio.run``
calls; the budget itself lives in Redis either way. Each pool is closed when its loop shuts down
(a parked async generator: asyncio, uvloop and anyio close those in ``shutdown_asyncgens``), or
by :meth:`RedisRateLimiter.aclose` on that loop. A ``client=`` you pass is bound to the first
loop that uses it; using it from another loop raises
:class:`~scheduler_async.errors.EventLoopMismatchError`.

Why a Lua script and not ``limits``/``pyrate-limiter``: both test-and-increment a window and
tell the caller to retry later, so many waiters poll and the first to poll wins (no order, more
Redis traffic); neither shares a "paused until" with the budget, and neither reserves a slot that
a caller with a deadline may decline. The GCRA here is ~30 lines of Lua and needs only ``redis``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections.abc import AsyncGenerator
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from .errors import ClientClosedError, EventLoopMismatchError, RateLimitWaitError
from .ratelimit import Clock, LocalRateLimiter, Sleep, _check_pause, _check_positive

__all__ = ["RedisRateLimiter"]

logger = logging.getLogger("scheduler_async")

_US = 1_000_000

# Each script below is registered behind this preamble: ``now`` is the Redis server's clock in µs,
# so all clients of one limiter share one clock.
_NOW_US = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
"""

# KEYS: tat, paused. ARGV: interval_us, burst, max_wait_us (-1: none).
# Returns {granted (1/0), wait_us, now_us}. Only a granted request moves the TAT.
_ACQUIRE = """
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
local start = math.max(now, paused)
local tat = 0
if interval > 0 then
  tat = tonumber(redis.call('GET', KEYS[1]) or '0')
  start = math.max(start, math.max(tat, now) - (burst - 1) * interval)
end
local wait = start - now
if max_wait >= 0 and wait > max_wait then
  return {0, wait, now}
end
if interval > 0 then
  local new_tat = math.max(tat, start) + interval
  local ttl = math.floor((new_tat - now) / 1000) + 1000
  redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', ttl)
end
return {1, wait, now}
"""

# KEYS: tat, paused. ARGV: pause_us, interval_us, burst. Returns the pause left in µs.
_PAUSE = """
local pause = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local cur = tonumber(redis.call('GET', KEYS[2]) or '0')
local till = now + pause
if till > cur then
  redis.call('SET', KEYS[2], string.format('%.0f', till), 'PX', math.floor(pause / 1000) + 1)
  if interval > 0 then
    local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
    local resume = till + (burst - 1) * interval
    if resume > tat then
      local ttl = math.floor((resume - now) / 1000) + 1000
      redis.call('SET', KEYS[1], string.format('%.0f', resume), 'PX', ttl)
    end
  end
  cur = till
end
return math.max(0, cur - now)
"""

# KEYS: paused. Returns the pause left in µs.
_PAUSE_LEFT = """
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
return math.max(0, cur - now)
"""

_PAUSE_CHECK_AHEAD = 0.02
"""Seconds before a reserved slot at which the shared pause is checked once more."""

_REDIS_ERRORS = (RedisError, OSError, asyncio.TimeoutError)
_GARBAGE = (ValueError, TypeError, AttributeError, IndexError, KeyError, OverflowError)
"""An answer that is not what the scripts return (a proxy, another program on the port, a
broken server): counted as an outage, like a Redis error."""
_CLOCK_SLACK = 0.05
"""Seconds a granted slot may lie past the caller's deadline (clock mapping error) before
the client refuses it itself."""


def _acquire_answer(answer: object) -> tuple[bool, int, int]:
    """``(granted, wait_us, now_us)`` from the acquire script's answer; raises on garbage."""
    if not isinstance(answer, list | tuple) or len(answer) != 3:
        raise ValueError("the acquire script answered something else than 3 values")
    granted, wait_us, now_us = (int(v) for v in answer)
    if granted not in (0, 1) or wait_us < 0 or now_us <= 0:
        raise ValueError("the acquire script answered values out of range")
    return bool(granted), wait_us, now_us


def _micros(answer: object) -> int:
    """A script's answer in µs (>= 0); raises on garbage."""
    if isinstance(answer, bool) or not isinstance(answer, int | bytes | str):
        raise TypeError("a Redis script answered something else than an integer")
    value = int(answer)
    if value < 0:
        raise ValueError("a Redis script answered a negative duration")
    return value


class _Link:
    """The limiter's Redis client, scripts and in-flight bound on one event loop."""

    __slots__ = ("acquire", "holder", "pause", "pause_left", "redis", "slots")

    def __init__(self, redis: Redis, max_connections: int) -> None:
        self.redis = redis
        self.slots = asyncio.Semaphore(max_connections)
        self.acquire = redis.register_script(_NOW_US + _ACQUIRE)
        self.pause = redis.register_script(_NOW_US + _PAUSE)
        self.pause_left = redis.register_script(_NOW_US + _PAUSE_LEFT)
        self.holder: AsyncGenerator[None, None] | None = None
        """Parked on the loop; closing it (at loop shutdown, or ``aclose``) closes ``redis``."""


async def _close_at_loop_shutdown(
    links: dict[asyncio.AbstractEventLoop, _Link], loop: asyncio.AbstractEventLoop, link: _Link
) -> AsyncGenerator[None, None]:
    # Started once and parked at ``yield``: the loop tracks it as a live async generator, and
    # its shutdown (``asyncio.run``, ``Runner.close``, anyio's ``run``, the sync facade's loop
    # thread) closes it, which closes this loop's pool while the loop still runs.
    try:
        yield
    finally:
        if links.get(loop) is link:
            links.pop(loop, None)
        await link.redis.aclose()


class RedisRateLimiter:
    """``rate`` requests per second (bursts of ``burst``) shared through Redis by every process
    using the same ``application`` (and ``grant``, when given) and ``prefix``.

    Pass ``url`` (``redis://host:port/db``; one pool per event loop that uses the limiter, so
    several ``scheduler_sync`` clients can share it) or your own ``redis.asyncio.Redis`` as
    ``client`` (then it is yours to close, and bound to the first loop that uses it).
    ``rate=None`` shares only the 429 pause. ``application`` names the budget (e.g. your Nylas
    application id); never put the API key there.
    A request that reaches its slot more than ``max_lateness`` seconds (at least one interval)
    late, because the answer was slow or the event loop busy, gives the slot up and queues again,
    so local stalls cost throughput but never push the shared rate above ``rate``.
    ``op_timeout`` bounds each Redis call; at most ``max_connections`` calls are in flight (the
    others queue here, so a sweep of thousands of tasks does not open thousands of
    connections); ``default_pause`` is used for a 429 without ``Retry-After``.
    """

    def __init__(
        self,
        rate: float | None,
        burst: int = 1,
        *,
        application: str,
        grant: str | None = None,
        url: str | None = None,
        client: Redis | None = None,
        prefix: str = "scheduler-client:rl",
        fallback_rate: float | None = None,
        recheck_interval: float = 1.0,
        op_timeout: float = 1.0,
        max_lateness: float = 0.02,
        max_connections: int = 8,
        default_pause: float = 1.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        _check_positive(rate, "rate")
        _check_positive(op_timeout, "op_timeout", allow_none=False)
        if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
            raise ValueError("burst must be an int >= 1")
        if not application or not isinstance(application, str):
            raise ValueError("application must be a non-empty string")
        if isinstance(max_connections, bool) or not isinstance(max_connections, int):
            raise TypeError("max_connections must be an int")
        if max_connections < 1:
            raise ValueError("max_connections must be >= 1")
        if (url is None) == (client is None):
            raise ValueError("pass exactly one of url= or client=")
        _check_pause(default_pause)
        _check_pause(recheck_interval, "recheck_interval")
        self.rate = None if rate is None else float(rate)
        self.burst = burst
        self.application = application
        self.grant = grant
        self.default_pause = float(default_pause)
        self.recheck_interval = float(recheck_interval)
        self.max_lateness = max(float(max_lateness), 1.0 / rate if rate else 0.0)
        self.late_slots = 0
        """Slots given up because this process reached them too late (see ``max_lateness``)."""
        self._interval_us = 0 if rate is None else round(_US / rate)
        self._clock = clock
        self._sleep = sleep
        self._max_connections = max_connections
        self._url = url
        self._redis_options: dict[str, Any] = {
            "socket_timeout": op_timeout,
            "socket_connect_timeout": op_timeout,
            # One retry, on a connection error only: a pooled connection that died with a
            # Redis restart fails once and is replaced, with no false outage. Timeouts are not
            # retried (each call stays within ``op_timeout``).
            "retry": Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
            "max_connections": max_connections,
        }
        self._links: dict[asyncio.AbstractEventLoop, _Link] = {}
        self._client = client  # given by the caller: bound to the loop that first uses it
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._links_lock = threading.Lock()
        # Built now so that a bad URL fails here; the first loop to use the limiter takes it.
        self._spare = None if url is None else Redis.from_url(url, **self._redis_options)
        self._offset = -math.inf  # lower bound of (Redis TIME - local clock), seconds
        scope = application if grant is None else f"{application}:{grant}"
        base = f"{prefix}:{{{scope}}}"  # hash tag: both keys on one cluster slot
        self._keys = [f"{base}:tat", f"{base}:paused"]
        self.fallback = LocalRateLimiter(
            rate=fallback_rate if fallback_rate is not None else rate,
            burst=burst,
            default_pause=default_pause,
            clock=clock,
            sleep=sleep,
        )
        """The in-process limiter used while Redis is unreachable."""
        self._down = False
        self._epoch = 0  # bumped at each switch between Redis and the fallback
        self._retry_redis_at = -math.inf
        self.outages = 0
        """How many times Redis became unreachable (each logged once)."""
        self._closed = False

    def __repr__(self) -> str:
        grant = "" if self.grant is None else f", grant={self.grant!r}"
        return (
            f"RedisRateLimiter(rate={self.rate!r}, burst={self.burst}, "
            f"application={self.application!r}{grant}, degraded={self._down})"
        )

    @property
    def degraded(self) -> bool:
        """True while Redis is unreachable and the in-process fallback is in use."""
        return self._down

    @property
    def keys(self) -> tuple[str, str]:
        """The Redis keys of this budget: (TAT, paused-until)."""
        return (self._keys[0], self._keys[1])

    # -- one link per event loop -----------------------------------------------------------
    async def _link(self) -> _Link:
        """This loop's link, opened on first use."""
        if self._closed:
            raise ClientClosedError("this RedisRateLimiter is closed")
        loop = asyncio.get_running_loop()
        link = self._links.get(loop)
        if link is not None:
            return link
        with self._links_lock:  # loop threads may open their links at the same time
            for gone in [old for old in list(self._links) if old.is_closed()]:
                self._links.pop(gone, None)  # closed without shutting down its async generators
            if self._client is not None:
                if self._client_loop is not None and self._client_loop is not loop:
                    raise EventLoopMismatchError(
                        "this RedisRateLimiter was given client=, a redis.asyncio.Redis whose "
                        "connections belong to the event loop that first used it; pass url= "
                        "instead to share one limiter between event loops (e.g. several "
                        "scheduler_sync clients)"
                    )
                self._client_loop = loop
                link = self._links[loop] = _Link(self._client, self._max_connections)
                return link
            assert self._url is not None
            redis, self._spare = self._spare, None
            if redis is None:
                redis = Redis.from_url(self._url, **self._redis_options)
            link = _Link(redis, self._max_connections)
            self._links[loop] = link
        link.holder = _close_at_loop_shutdown(self._links, loop, link)
        await anext(link.holder)
        return link

    # -- outage handling ---------------------------------------------------------------------
    def _use_redis(self) -> bool:
        return not self._down or self._clock() >= self._retry_redis_at

    def _failed(self, exc: BaseException, epoch: int) -> None:
        # ``epoch`` is the state's epoch when the call was sent: the answer of a call sent
        # before the last switch (up or down) says nothing new, so it switches nothing.
        self._retry_redis_at = self._clock() + self.recheck_interval
        if not self._down and epoch == self._epoch:
            self._down = True
            self._epoch += 1
            self.outages += 1
            logger.warning(
                "rate limiter: Redis unreachable or its answer unusable (%s); using the "
                "in-process limiter "
                "(rate=%s req/s) until it is back",
                type(exc).__name__,
                self.fallback.rate,
            )

    def _succeeded(self, epoch: int) -> None:
        if self._down and epoch == self._epoch:
            self._down = False
            self._epoch += 1
            logger.warning("rate limiter: Redis reachable again; the shared budget is back in use")

    # -- RateLimiter -------------------------------------------------------------------------
    async def acquire(self, *, deadline: float | None = None) -> None:
        """Wait for a slot of the shared budget (or the fallback's while Redis is down)."""
        while True:
            if not self._use_redis():
                await self.fallback.acquire(deadline=deadline)
                return
            link = await self._link()
            max_wait = -1 if deadline is None else max(0, int((deadline - self._clock()) * _US))
            epoch = self._epoch
            try:
                async with link.slots:
                    epoch = self._epoch
                    sent = self._clock()
                    answer = await link.acquire(
                        keys=self._keys, args=[self._interval_us, self.burst, max_wait]
                    )
                    received = self._clock()
                granted, wait_us, now_us = _acquire_answer(answer)
            except _REDIS_ERRORS + _GARBAGE as exc:
                self._failed(exc, epoch)
                await self.fallback.acquire(deadline=deadline)
                return
            self._succeeded(epoch)
            if not granted:
                raise RateLimitWaitError(
                    "the shared rate budget cannot send this request before its deadline "
                    f"(next slot in {wait_us / _US:.3f}s)",
                    retry_after=wait_us / _US,
                )
            # Map the slot onto our clock. Sleep until it, not "wait" from whenever the answer
            # arrived: a slow answer must not make this request bunch with later ones.
            redis_now = now_us / _US
            if redis_now - sent < self._offset:  # Redis' clock stepped back: re-learn it
                self._offset = -math.inf
            self._offset = max(self._offset, redis_now - received)
            slot = (now_us + wait_us) / _US - self._offset
            delay = slot - self._clock()
            if deadline is not None and slot > deadline + _CLOCK_SLACK and delay > 0:
                # Granted, yet past the deadline the script was told: never trust a wait
                # beyond the caller's bounds (a script of another version, a clock jump).
                raise RateLimitWaitError(
                    "the shared rate budget cannot send this request before its deadline "
                    f"(next slot in {delay:.3f}s)",
                    retry_after=delay,
                )
            if delay > _PAUSE_CHECK_AHEAD:
                # Long wait: shortly before the slot, look at the shared pause again (a 429
                # seen by any process meanwhile voids the slot); then sleep the rest.
                await self._sleep(delay - _PAUSE_CHECK_AHEAD)
                epoch = self._epoch
                try:
                    async with link.slots:
                        epoch = self._epoch
                        left = _micros(await link.pause_left(keys=self._keys[1:]))
                except _REDIS_ERRORS + _GARBAGE as exc:
                    self._failed(exc, epoch)
                    left = 0
                if left > 0:
                    continue
                delay = slot - self._clock()
            if delay > 0:
                await self._sleep(delay)
            if self._clock() - slot > self.max_lateness:
                # We got here too late (a slow answer, a busy event loop): sending now would
                # crowd the slots after ours. Give the slot up and take a new one.
                self.late_slots += 1
                continue
            return

    def release(self, accepted: bool) -> None:
        """An attempt is over (the client calls this): feeds the in-process fallback's learned
        rate, which a fallback without a rate of its own uses after a 429."""
        self.fallback.release(accepted)

    async def on_rate_limited(self, retry_after: float | None) -> None:
        """Set the shared pause: every process holds its requests for ``retry_after`` s."""
        seconds = self.default_pause if retry_after is None else max(0.0, retry_after)
        if not math.isfinite(seconds):
            seconds = self.default_pause
        self.fallback.pause(seconds)
        if not self._use_redis() or self._closed:
            return
        link = await self._link()
        epoch = self._epoch
        try:
            async with link.slots:
                epoch = self._epoch
                _micros(
                    await link.pause(
                        keys=self._keys, args=[int(seconds * _US), self._interval_us, self.burst]
                    )
                )
        except _REDIS_ERRORS + _GARBAGE as exc:
            self._failed(exc, epoch)
            return
        self._succeeded(epoch)

    async def pause_left(self) -> float:
        """Seconds left of the shared pause (0 when none); raises if Redis is unreachable."""
        link = await self._link()
        async with link.slots:
            left = _micros(await link.pause_left(keys=self._keys[1:]))
        return left / _US

    async def aclose(self) -> None:
        """Refuse new work (``ClientClosedError``) and close this event loop's pool (``url=``).

        The pool another loop opened (e.g. a live ``scheduler_sync`` client's) is closed by
        that loop's own shutdown (for a sync client: its ``close()``), never from here: its
        requests in flight finish first. A ``client=`` you passed stays yours to close.
        Idempotent.
        """
        if self._closed:
            return
        self._closed = True
        here = asyncio.get_running_loop()
        link = self._links.get(here)
        if link is None:
            return
        holder = link.holder
        if holder is None:  # the caller's client=: not ours to close
            self._links.pop(here, None)
            return
        with contextlib.suppress(RuntimeError):  # already being closed (the loop shuts down)
            await holder.aclose()
