"""Client-side rate limiting: a budget consulted before every attempt and told of every 429.

The transport calls :meth:`RateLimiter.acquire` before each attempt (the first one and every
retry), :meth:`RateLimiter.on_rate_limited` after each 429 answer and, when the limiter has one,
``release(accepted)`` once the attempt is over. The default limiter,
``LocalRateLimiter(rate=None)``, has no rate of its own until the server throttles: it starts
gently (a few requests in flight, doubling per round trip), and after a 429 it paces requests
at a rate learned from the server's answers, recovered as answers succeed (see
:mod:`scheduler_async._adaptive`). Give it a rate (``AsyncScheduler(rate_limit=20)``) and it
spaces requests with GCRA instead, and a 429 holds every request for its ``Retry-After``.
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

from ._adaptive import AdaptiveRate
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


def _check_pause(value: float, name: str = "default_pause") -> None:
    """A pause must be a finite number of seconds >= 0 (``inf`` would wait forever)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number of seconds")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number of seconds >= 0")


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
    """An in-process limiter: GCRA at ``rate`` requests per second with bursts of ``burst``, or,
    with ``rate=None`` (the client's default), a rate learned from the server's 429s.

    **rate=None**: no rate of its own while the server accepts everything; after a 429 it
    releases requests one by one at a rate learned from the answers the server accepted (at
    least ``1 / Retry-After``), lowered by each further 429 and recovered, along a cubic curve,
    as answers succeed. The ``Retry-After`` itself is waited for by the refused request's retry.
    ``slow_start=True`` (the client's default limiter) also starts gently: a first round of 4
    requests, each round twice as large once all its answers are in without a 429, until 256.
    The learning (and slow start) needs ``release()`` after each attempt, which the client's
    transport calls; a slow-start limiter used through ``acquire`` alone would stall.

    **rate=N**: callers are served first come, first served: each ``acquire`` reserves the next
    free slot at once and sleeps until it, so many concurrent acquirers share the rate evenly and
    never exceed it; a caller cancelled while it waits gives its slot back. A 429 holds every
    request for its ``Retry-After`` (``default_pause`` without one; a shorter pause never
    shortens a longer one), then requests resume one per ``1/rate``: no burst.

    ``clock`` and ``sleep`` are injectable (tests drive them with virtual time). Thread-safe:
    one instance may pace several ``scheduler_sync`` clients (each has its own loop thread).
    """

    def __init__(
        self,
        rate: float | None = None,
        burst: int = 1,
        *,
        default_pause: float = 1.0,
        slow_start: bool = False,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        _check_positive(rate, "rate")
        if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
            raise ValueError("burst must be an int >= 1")
        _check_pause(default_pause)
        self.rate = None if rate is None else float(rate)
        self.burst = burst
        self.default_pause = float(default_pause)
        self._clock = clock
        self._sleep = sleep
        self._interval = 0.0 if rate is None else 1.0 / rate
        self._tat = -math.inf  # theoretical arrival time of the next request (GCRA)
        self._paused_until = -math.inf
        # Reservations given back out of order (cancelled waiters): their TAT after -> before.
        self._returned: dict[float, float] = {}
        self._lock = threading.Lock()  # guards the times above across loop threads
        self.adaptive: AdaptiveRate | None = None
        """With ``rate=None``: the learned rate's state (phase, rate, cuts)."""
        if rate is None:
            self.adaptive = AdaptiveRate(clock=clock, sleep=sleep, slow_start=slow_start)

    def __repr__(self) -> str:
        return f"LocalRateLimiter(rate={self.rate!r}, burst={self.burst})"

    @property
    def paused_until(self) -> float:
        """Clock time before which no new request starts (``-inf`` when none is pending)."""
        if self.adaptive is not None:
            return self.adaptive.next_slot
        return self._paused_until

    def _reserve(self, now: float, deadline: float | None) -> float:
        """Reserve the next slot; return the time it starts. Raises past the deadline."""
        return self._reserve_returnable(now, deadline)[0]

    def _reserve_returnable(self, now: float, deadline: float | None) -> tuple[float, float, float]:
        """Reserve the next slot: (start, TAT before, TAT after), so it can be given back."""
        with self._lock:
            before = self._tat
            start = self._reserve_locked(now, deadline)
            return start, before, self._tat

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

    def _give_back(self, before: float, after: float) -> None:
        """A cancelled waiter returns its reservation: the last one moves the TAT back (and
        with it any returned just before it); one in the middle is remembered until then."""
        with self._lock:
            if self._tat != after:
                self._returned[after] = before
                if len(self._returned) > 1024:  # stale ones (a pause moved the TAT on)
                    now = self._clock()
                    self._returned = {a: b for a, b in self._returned.items() if a > now}
                return
            self._tat = before
            while self._tat in self._returned:
                self._tat = self._returned.pop(self._tat)

    async def acquire(self, *, deadline: float | None = None) -> None:
        """Wait for this request's slot; raise ``RateLimitWaitError`` if it is past ``deadline``.

        A request that needs no wait goes even when ``deadline`` has just passed: the budget
        never refuses what it would not have delayed.
        """
        adaptive = self.adaptive
        if adaptive is not None:
            if not adaptive.take_now():  # the usual case: nothing pending, no await
                await adaptive.acquire(deadline)
            return
        while True:
            with self._lock:  # what _reserve_returnable does, without its tuple
                now = self._clock()
                before = self._tat
                start = self._reserve_locked(now, deadline)
                after = self._tat
            if start <= now:
                return
            try:
                await self._sleep(start - now)
            except BaseException:
                self._give_back(before, after)
                raise
            if self._clock() >= self._paused_until:
                return
            # A 429 arrived while we slept: our slot is void, queue again after the pause.

    def release(self, accepted: bool) -> None:
        """The attempt after an ``acquire`` is over; ``accepted``: the server answered it with
        anything but 429 or 5xx. Feeds the learned rate (``rate=None``); the client calls it."""
        if self.adaptive is not None:
            self.adaptive.release(accepted)

    def pause(self, seconds: float) -> None:
        """Hold every request for ``seconds`` from now (synchronous form of the 429 hook).

        A pause never shortens one already running. ``seconds`` must be finite and >= 0.
        """
        _check_pause(seconds, "seconds")
        until = self._clock() + seconds
        if self.adaptive is not None:
            self.adaptive.pause(until)
            return
        with self._lock:
            self._pause_until(until)

    def _pause_until(self, until: float) -> None:
        if until > self._paused_until:
            self._paused_until = until
            if self._interval:
                # Resume with one request at ``until`` and then one per interval: no burst.
                self._tat = max(self._tat, until + (self.burst - 1) * self._interval)

    async def on_rate_limited(self, retry_after: float | None) -> None:
        """The server answered 429. With a rate: pause every acquirer for ``retry_after``
        seconds (``default_pause`` if ``None``). Without: learn a lower rate (see the class)."""
        seconds = self.default_pause if retry_after is None else retry_after
        if self.adaptive is not None:
            if not math.isfinite(seconds) or seconds < 0:
                seconds = self.default_pause
            self.adaptive.on_rate_limited(seconds)
            return
        self.pause(seconds if math.isfinite(seconds) and seconds >= 0 else self.default_pause)

    async def aclose(self) -> None:
        """Nothing to release."""


RateLimitSpec = RateLimiter | float | int | None
"""What ``AsyncScheduler(rate_limit=...)`` accepts (see :func:`coerce_rate_limit`)."""


def coerce_rate_limit(value: RateLimitSpec) -> RateLimiter:
    """The limiter for ``AsyncScheduler(rate_limit=value)``.

    * ``None``: ``LocalRateLimiter(slow_start=True)`` — no rate until a 429, then a learned one
      (the default);
    * a number: ``LocalRateLimiter(rate=value)``, requests per second in this process;
    * a :class:`RateLimiter` (e.g. a shared ``RedisRateLimiter``): used as is.

    The client owns (and closes) the limiter only when it built it, i.e. when the result ``is
    not value``; a limiter passed in may be shared by several clients and is the caller's to close.
    """
    if value is None:
        return LocalRateLimiter(slow_start=True)
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
