"""The default client's rate control: no rate of its own until the server throttles it.

``LocalRateLimiter(rate=None)`` (what ``AsyncScheduler()`` uses) delegates here. Three phases:

* **slow start** (the client's default limiter, when fresh): requests go in rounds, the first
  of ``initial_window`` requests; once every request of a round has its answer, and none was a
  429, the next round may be twice as large (TCP's slow start, doubling per round trip). A
  burst of 60 calls at once does not reach the server as 60 simultaneous requests. Once a
  round reaches ``max_window`` the limiter is free;
* **free**: requests go at once; accepted answers are counted (the measured rate below);
* **paced**, after a 429: requests leave one by one at a learned rate, first in first out.
  The first rate is the rate of answers accepted in the last :data:`WINDOW` seconds, at least
  ``1 / Retry-After`` (so with nothing accepted lately, the next request waits the whole
  ``Retry-After``). Until the first cut it doubles per accepted answer; each later 429 (at most
  one per interval) cuts it to ``BETA`` times the lower of itself and the measured rate, and it
  grows back along a cubic curve (as botocore's adaptive mode and TCP CUBIC do): fast far below
  the rate the server accepted before the cut, slowly near and past it. Far past it
  (``FREE_FACTOR`` times) the limiter is free again.

No slot is reserved ahead: each waiter queues and the head of the queue takes the next slot
when it is due, so a cancelled waiter simply leaves the queue and a rate change applies to
everyone still waiting. Thread-safe (one limiter may serve several event loops).
"""

from __future__ import annotations

import asyncio
import bisect
import collections
import contextlib
import math
import threading
from collections.abc import Awaitable, Callable

from .errors import RateLimitWaitError

__all__ = ["AdaptiveRate"]

WINDOW = 0.25
"""Seconds over which accepted answers are counted to measure the rate the server accepts."""
LONG_WINDOW = 1.0
"""The steadier measure, for the rate the cubic curve grows back to after a cut."""
BETA = 0.9
"""A 429 cuts the rate to this fraction of the lower of the rate and the measured rate."""
CUBIC_C = 0.4
"""Scale of the cubic growth back to the rate of the last cut (requests/s per s³), as in
botocore and TCP CUBIC."""
PROBE_C = 0.01
"""Scale of the growth past it: slow, since the server refused there (+1/s after ~5 s, x4 of
20/s after ~18 s), so a steady bulk job meets few 429s, each costing its request a
``Retry-After``."""
FREE_FACTOR = 4.0
"""Paced at this multiple of the rate of the last cut without a 429: free again."""
MAX_RATE = 1e6

_SLOW, _FREE, _PACED = 0, 1, 2


class _Waiter:
    __slots__ = ("fut", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.fut: asyncio.Future[None] | None = None


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class AdaptiveRate:
    """Slow start, then a rate learned from 429s and recovered on success (see the module)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], Awaitable[None]],
        slow_start: bool = True,
        initial_window: int = 4,
        max_window: int = 256,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._queue: collections.deque[_Waiter] = collections.deque()
        self._phase = _SLOW if slow_start else _FREE
        self.window = initial_window
        """Size of the current slow-start round."""
        self.max_window = max_window
        self._round_left = initial_window  # requests the current round may still send
        self._in_flight = 0
        self.rate: float | None = None
        """The learned rate (requests per second) while paced, else ``None``."""
        self._interval = 0.0
        self._next_at = -math.inf
        self.paused_until = -math.inf
        self._accepted: collections.deque[float] = collections.deque()
        self._growing = True  # doubling per accepted answer until the first cut
        self._w_max = 0.0  # the rate of the last cut
        self._cut_at = -math.inf
        self._paced_since = -math.inf
        self._k = 0.0  # seconds from the last cut until the cubic is back at ``_w_max``
        self._holdoff_until = -math.inf
        self.cuts = 0
        """How many times a 429 lowered the rate."""

    @property
    def phase(self) -> str:
        """``"slow start"``, ``"free"`` or ``"paced"``."""
        return ("slow start", "free", "paced")[self._phase]

    @property
    def next_slot(self) -> float:
        """Clock time before which no new request starts (``-inf`` when none is pending)."""
        return max(self.paused_until, self._next_at if self._phase == _PACED else -math.inf)

    # -- waiting -------------------------------------------------------------------------------
    def _wait_locked(self, now: float) -> float:
        wait = self.paused_until - now
        if self._phase == _SLOW:
            if self._round_left <= 0:
                return math.inf
        elif self._phase == _PACED:
            wait = max(wait, self._next_at - now)
        return max(0.0, wait)

    def _take_locked(self, now: float) -> None:
        self._in_flight += 1
        if self._phase == _SLOW:
            self._round_left -= 1
        elif self._phase == _PACED:
            self._next_at = max(now, self._next_at) + self._interval

    def _estimate_locked(self, now: float) -> float:
        """When a request queued now would go, as far as can be told (slow start: now)."""
        start = max(now, self.paused_until)
        if self._phase == _PACED:
            start = max(start, self._next_at) + len(self._queue) * self._interval
        return start

    def _wake_head_locked(self) -> None:
        if not self._queue:
            return
        head = self._queue[0]
        fut = head.fut
        if fut is None or fut.done():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is head.loop:
            fut.set_result(None)
        else:
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits there
                head.loop.call_soon_threadsafe(_wake, fut)

    def _too_late(self, now: float, start: float) -> RateLimitWaitError:
        return RateLimitWaitError(
            f"the rate budget cannot send this request before its deadline "
            f"(next slot in {start - now:.3f}s)",
            retry_after=start - now,
        )

    def take_now(self) -> bool:
        """Take a turn if one is free right now (nothing queued, no wait): the happy path of
        :meth:`acquire` without a coroutine. ``False``: nothing was taken, call ``acquire``."""
        with self._lock:
            now = self._clock()
            if not self._queue and self._wait_locked(now) == 0.0:
                self._take_locked(now)
                return True
        return False

    async def acquire(self, deadline: float | None) -> None:
        """Wait for this request's turn (see the module); ``RateLimitWaitError`` past ``deadline``.

        The caller must call :meth:`release` once the attempt is over, however it ended.
        """
        with self._lock:
            now = self._clock()
            if not self._queue and self._wait_locked(now) == 0.0:
                self._take_locked(now)
                return
            if deadline is not None:
                start = self._estimate_locked(now)
                if start > deadline and start > now:
                    raise self._too_late(now, start)
            waiter = _Waiter(asyncio.get_running_loop())
            self._queue.append(waiter)
        try:
            while True:
                with self._lock:
                    now = self._clock()
                    wait = math.inf
                    if self._queue[0] is waiter:
                        wait = self._wait_locked(now)
                        if wait == 0.0:
                            self._queue.popleft()
                            self._take_locked(now)
                            self._wake_head_locked()  # the next one may go too (or wait its turn)
                            return
                        if deadline is not None and wait != math.inf and now + wait > deadline:
                            raise self._too_late(now, now + wait)
                    if wait == math.inf:
                        waiter.fut = waiter.loop.create_future()
                    else:
                        waiter.fut = None
                if waiter.fut is not None:
                    await waiter.fut
                else:
                    await self._sleep(wait)
        except BaseException:
            # Cancelled, closed or past the deadline: leave the queue; nothing was reserved.
            with self._lock:
                was_head = bool(self._queue) and self._queue[0] is waiter
                with contextlib.suppress(ValueError):
                    self._queue.remove(waiter)
                if was_head:
                    self._wake_head_locked()
            raise

    # -- what the server said -----------------------------------------------------------------
    def _measured_locked(self, now: float, window: float = WINDOW) -> float:
        """Answers accepted per second over the last ``window`` seconds."""
        accepted = self._accepted
        while accepted and accepted[0] <= now - LONG_WINDOW:
            accepted.popleft()
        since = now - window
        count = len(accepted) - bisect.bisect_right(accepted, since)
        return count / window

    def release(self, accepted: bool) -> None:
        """An attempt is over; ``accepted``: the server answered it (anything but 429 or 5xx)."""
        with self._lock:
            self._in_flight -= 1
            if self._phase == _SLOW and self._in_flight <= 0 and self._round_left <= 0:
                # The whole round is answered, without a 429: the next may be twice as large.
                self.window *= 2
                self._round_left = self.window
                if self.window >= self.max_window:
                    self._phase = _FREE
            if accepted:
                now = self._clock()
                self._accepted.append(now)
                if self._phase == _PACED:
                    self._grow_locked(now)
                else:  # keep the deque short (no bisect: the rate is measured at a cut)
                    oldest = now - LONG_WINDOW
                    stamps = self._accepted
                    while stamps[0] <= oldest:
                        stamps.popleft()
            if self._queue and self._phase != _PACED:
                self._wake_head_locked()

    def _set_rate_locked(self, rate: float) -> None:
        self.rate = min(MAX_RATE, rate)
        self._interval = 1.0 / self.rate

    def _grow_locked(self, now: float) -> None:
        assert self.rate is not None
        if self._growing:
            rate = self.rate * 2.0
            if rate >= MAX_RATE:
                self._phase = _FREE
                self.rate = None
                return
        else:
            t = now - self._cut_at - self._k
            rate = (CUBIC_C if t < 0 else PROBE_C) * t**3 + self._w_max
            rate = max(rate, self.rate)
            if rate >= FREE_FACTOR * self._w_max:
                self._phase = _FREE
                self.rate = None
                return
        self._set_rate_locked(rate)

    def on_rate_limited(self, seconds: float) -> None:
        """A 429 whose ``Retry-After`` (or our own backoff) was ``seconds``: pace, or slow down."""
        with self._lock:
            now = self._clock()
            floor = math.inf if seconds <= 0 else 1.0 / seconds
            measured = self._measured_locked(now)
            if self._phase != _PACED:
                self._phase = _PACED
                self._paced_since = now
                self._growing = True
                self._set_rate_locked(max(floor, measured))
            elif now < self._holdoff_until:
                return  # sent before the last cut took effect: already accounted for
            else:
                assert self.rate is not None
                sending = self.rate
                self._set_rate_locked(max(min(floor, sending), BETA * min(sending, measured)))
                # What the server accepted lately (a longer, steadier measure) is the rate to
                # grow back to, slowly near it: above it lie the 429s. Right after the first
                # doubling the measure still lags (it spans the ramp): allow twice as much.
                span = min(LONG_WINDOW, max(WINDOW, now - self._paced_since))
                lately = self._measured_locked(now, span) * (2.0 if self._growing else 1.0)
                self._w_max = max(self.rate, min(sending, lately))
                self._growing = False
                self._cut_at = now
                self._k = ((self._w_max - self.rate) / CUBIC_C) ** (1 / 3)
                self.cuts += 1
            self._next_at = max(self._next_at, now + self._interval)
            self._holdoff_until = now + self._interval
            self._wake_head_locked()  # it may wait for window room: now it waits for its slot

    def pause(self, until: float) -> None:
        """Hold every request until clock time ``until`` (never shortens a longer pause)."""
        with self._lock:
            if until > self.paused_until:
                self.paused_until = until
            self._wake_head_locked()
