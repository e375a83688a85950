"""Client-side rate limiting: a budget consulted before every attempt and told of every 429.

The transport calls :meth:`RateLimiter.acquire` before each attempt (the first one and every
retry) and :meth:`RateLimiter.on_rate_limited` after each 429 answer. The default limiter,
``LocalRateLimiter(rate=None)``, has no rate of its own: it only holds every request of the
client while a 429's ``Retry-After`` runs, which is the client's historic per-client pause.
Give it a rate (``AsyncScheduler(rate_limit=20)``) and it also spaces requests with GCRA.
:class:`scheduler_async.ratelimit_redis.RedisRateLimiter` keeps the same budget, and the pause,
in Redis so that many processes share one.

Deadlines are absolute times on the limiter's clock (``time.monotonic`` unless injected, the
same clock the transport uses): when the wait would end after the deadline, ``acquire`` raises
:class:`~scheduler_async.errors.RateLimitWaitError` at once instead of sleeping past it.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

from .errors import RateLimitWaitError

__all__ = [
    "Clock",
    "LocalRateLimiter",
    "RateLimitSpec",
    "RateLimiter",
    "Sleep",
    "coerce_rate_limit",
]

Clock = Callable[[], float]
"""Seconds on a monotonic clock."""
Sleep = Callable[[float], Awaitable[None]]
"""Sleep for seconds on the same clock as :data:`Clock`."""


@runtime_checkable
class RateLimiter(Protocol):
    """What the transport needs from a rate limiter.

    One limiter may be shared by clients on several event loops (e.g. several
    ``scheduler_sync`` clients, each on its own loop thread): the built-in ones are.
    """

    async def acquire(self, *, deadline: float | None = None) -> None:
        """Wait until one request may be sent (a slot of the budget, the end of any pause).

        ``deadline`` is an absolute time on the limiter's clock; if the request could not go
        before it, raise :class:`~scheduler_async.errors.RateLimitWaitError` without waiting.
        """
        ...

    async def on_rate_limited(self, retry_after: float | None) -> None:
        """The server answered 429: hold every request for ``retry_after`` seconds.

        ``None`` (no usable ``Retry-After``) means the limiter's own default pause.
        """
        ...

    async def aclose(self) -> None:
        """Release resources (connections). Idempotent."""
        ...


def _check_positive(value: float | None, name: str, *, allow_none: bool = True) -> None:
    if value is None:
        if not allow_none:
            raise ValueError(f"{name} is required")
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number")
    if math.isnan(value) or value <= 0 or math.isinf(value):
        raise ValueError(f"{name} must be a finite number > 0")


class LocalRateLimiter:
    """An in-process GCRA limiter of ``rate`` requests per second with bursts of ``burst``.

    ``rate=None`` means no rate: only the 429 pause applies (the client's default). Callers are
    served first come, first served: each ``acquire`` reserves the next free slot at once and
    sleeps until it, so many concurrent acquirers share the rate evenly and never exceed it.
    After a 429 no burst is allowed: requests resume one per ``1/rate`` at the pause's end.
    ``clock`` and ``sleep`` are injectable (tests drive them with virtual time). Thread-safe:
    one instance may pace several ``scheduler_sync`` clients (each has its own loop thread).
    """

    def __init__(
        self,
        rate: float | None = None,
        burst: int = 1,
        *,
        default_pause: float = 1.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        _check_positive(rate, "rate")
        if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
            raise ValueError("burst must be an int >= 1")
        if default_pause < 0:
            raise ValueError("default_pause must be >= 0")
        self.rate = None if rate is None else float(rate)
        self.burst = burst
        self.default_pause = float(default_pause)
        self._clock = clock
        self._sleep = sleep
        self._interval = 0.0 if rate is None else 1.0 / rate
        self._tat = -math.inf  # theoretical arrival time of the next request (GCRA)
        self._paused_until = -math.inf
        self._lock = threading.Lock()  # guards the two times above across loop threads

    def __repr__(self) -> str:
        return f"LocalRateLimiter(rate={self.rate!r}, burst={self.burst})"

    @property
    def paused_until(self) -> float:
        """Clock time before which no request is sent (``-inf`` when never paused)."""
        return self._paused_until

    def _reserve(self, now: float, deadline: float | None) -> float:
        """Reserve the next slot; return the time it starts. Raises past the deadline."""
        with self._lock:
            return self._reserve_locked(now, deadline)

    def _reserve_locked(self, now: float, deadline: float | None) -> float:
        start = max(now, self._paused_until)
        if self._interval:
            tat = max(self._tat, now)
            # GCRA: a request is allowed ``burst`` intervals before its theoretical arrival.
            start = max(start, tat + self._interval - self.burst * self._interval)
        if deadline is not None and start > deadline and start > now:
            raise RateLimitWaitError(
                f"the rate budget cannot send this request before its deadline "
                f"(next slot in {start - now:.3f}s)",
                retry_after=start - now,
            )
        if self._interval:
            self._tat = max(self._tat, start) + self._interval
        return start

    async def acquire(self, *, deadline: float | None = None) -> None:
        """Wait for this request's slot; raise ``RateLimitWaitError`` if it is past ``deadline``.

        A request that needs no wait goes even when ``deadline`` has just passed: the budget
        never refuses what it would not have delayed.
        """
        if not self._interval and self._clock() >= self._paused_until:
            return  # no rate, no pause: the client's default, kept cheap
        while True:
            now = self._clock()
            start = self._reserve(now, deadline)
            if start <= now:
                return
            await self._sleep(start - now)
            if self._clock() >= self._paused_until:
                return
            # A 429 arrived while we slept: our slot is void, queue again after the pause.

    def pause(self, seconds: float) -> None:
        """Hold every request for ``seconds`` from now (synchronous form of the 429 hook)."""
        until = self._clock() + max(0.0, seconds)
        with self._lock:
            self._pause_until(until)

    def _pause_until(self, until: float) -> None:
        if until > self._paused_until:
            self._paused_until = until
            if self._interval:
                # Resume with one request at ``until`` and then one per interval: no burst.
                self._tat = max(self._tat, until + (self.burst - 1) * self._interval)

    async def on_rate_limited(self, retry_after: float | None) -> None:
        """Pause every acquirer for ``retry_after`` seconds (``default_pause`` if ``None``)."""
        self.pause(self.default_pause if retry_after is None else retry_after)

    async def aclose(self) -> None:
        """Nothing to release."""


RateLimitSpec = RateLimiter | float | int | None
"""What ``AsyncScheduler(rate_limit=...)`` accepts (see :func:`coerce_rate_limit`)."""


def coerce_rate_limit(value: RateLimitSpec) -> RateLimiter:
    """The limiter for ``AsyncScheduler(rate_limit=value)``.

    * ``None``: ``LocalRateLimiter()`` — no rate, only the per-client 429 pause (the default);
    * a number: ``LocalRateLimiter(rate=value)``, requests per second in this process;
    * a :class:`RateLimiter` (e.g. a shared ``RedisRateLimiter``): used as is.

    The client owns (and closes) the limiter only when it built it, i.e. when the result ``is
    not value``; a limiter passed in may be shared by several clients and is the caller's to close.
    """
    if value is None:
        return LocalRateLimiter()
    if isinstance(value, bool):
        raise TypeError("rate_limit must be a number of requests per second or a RateLimiter")
    if isinstance(value, int | float):
        return LocalRateLimiter(rate=value)
    if isinstance(value, RateLimiter):
        return value
    raise TypeError(
        f"rate_limit must be a number of requests per second or a RateLimiter, "
        f"not {type(value).__name__}"
    )
