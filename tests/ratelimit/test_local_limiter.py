"""LocalRateLimiter on virtual time: rate, fairness, bursts, deadlines and the 429 pause."""

from __future__ import annotations

import bisect
import itertools

import pytest

from scheduler_async.errors import RateLimitError, RateLimitWaitError
from scheduler_async.ratelimit import LocalRateLimiter, RateLimiter, coerce_rate_limit

from .virtual_time import VirtualClock


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most timestamps inside any half-open window ``[t, t + window)``."""
    ts = sorted(times)
    return max(bisect.bisect_left(ts, t + window - 1e-9) - i for i, t in enumerate(ts))


async def acquire_and_stamp(lim: LocalRateLimiter, clock: VirtualClock, out: list[float]) -> float:
    await lim.acquire()
    out.append(clock())
    return clock()


async def test_rate_held_over_many_concurrent_acquirers_in_arrival_order() -> None:
    clock = VirtualClock()
    lim = LocalRateLimiter(rate=10, clock=clock, sleep=clock.sleep)
    stamps: list[float] = []
    got = await clock.run(acquire_and_stamp(lim, clock, stamps) for _ in range(200))
    assert len(stamps) == 200
    assert max_in_window(stamps) == 10
    # first come, first served: the i-th acquirer goes at start + i/rate
    start = got[0]
    assert isinstance(start, float)
    assert got == pytest.approx([start + i / 10 for i in range(200)])


async def test_burst_then_steady_rate() -> None:
    clock = VirtualClock()
    t0 = clock()
    lim = LocalRateLimiter(rate=4, burst=5, clock=clock, sleep=clock.sleep)
    stamps: list[float] = []
    await clock.run(acquire_and_stamp(lim, clock, stamps) for _ in range(13))
    assert sorted(stamps)[:5] == [t0] * 5
    assert sorted(stamps)[5:] == pytest.approx([t0 + 0.25 * i for i in range(1, 9)])


async def test_deadline_fails_fast_without_sleeping_or_spending_a_slot() -> None:
    clock = VirtualClock()
    t0 = clock()
    lim = LocalRateLimiter(rate=1, clock=clock, sleep=clock.sleep)
    await lim.acquire()
    with pytest.raises(RateLimitWaitError) as info:
        await lim.acquire(deadline=t0 + 0.5)
    assert clock() == t0  # no time passed: it did not sleep toward a slot it cannot use
    assert info.value.retry_after == pytest.approx(1.0)
    assert isinstance(info.value, RateLimitError)
    assert info.value.status_code == 429 and info.value.request_id is None
    # the refused request did not take the slot at t0+1
    stamps: list[float] = []
    await clock.run([acquire_and_stamp(lim, clock, stamps)])
    assert stamps == [t0 + 1.0]
    # a deadline the slot fits in is fine
    await clock.run([lim.acquire(deadline=clock() + 1.0)])
    assert clock() == t0 + 2.0


async def test_default_limiter_is_unlimited_until_a_429_then_paces_instead_of_a_herd() -> None:
    clock = VirtualClock()
    t0 = clock()
    lim = LocalRateLimiter(clock=clock, sleep=clock.sleep)  # no rate: unlimited until a 429
    for _ in range(100):
        await lim.acquire()
    assert clock() == t0
    await lim.on_rate_limited(3.0)  # nothing accepted lately: the learned rate is 1 / 3 s
    stamps: list[float] = []
    await clock.run(acquire_and_stamp(lim, clock, stamps) for _ in range(5))
    # released one by one, not all at the end of the pause
    assert stamps == pytest.approx([t0 + 3.0 * i for i in range(1, 6)])
    with pytest.raises(RateLimitWaitError) as info:
        await lim.acquire(deadline=clock() + 0.5)
    assert info.value.retry_after == pytest.approx(3.0)
    await clock.run([lim.acquire(deadline=clock() + 3.0)])
    assert clock() == t0 + 18.0


async def test_pause_during_sleep_requeues_and_resumes_without_burst() -> None:
    clock = VirtualClock()
    t0 = clock()
    lim = LocalRateLimiter(rate=10, burst=3, clock=clock, sleep=clock.sleep)
    stamps: list[float] = []

    async def pauser() -> None:
        await clock.sleep(0.45)  # mid-way through the queue, a 429 says "wait 2 s"
        await lim.on_rate_limited(2.0)

    await clock.run([pauser(), *(acquire_and_stamp(lim, clock, stamps) for _ in range(30))])
    before = [t for t in stamps if t < t0 + 0.45]
    after = sorted(t for t in stamps if t >= t0 + 0.45)
    assert len(before) + len(after) == 30
    assert after[0] >= t0 + 2.45 - 1e-9  # nothing between the 429 and the end of its pause
    assert not [t for t in stamps if t0 + 0.45 <= t < t0 + 2.45 - 1e-9]
    assert all(b - a == pytest.approx(0.1) for a, b in itertools.pairwise(after))
    assert max_in_window(stamps) <= 10 + 3


async def test_coerce_rate_limit() -> None:
    default = coerce_rate_limit(None)
    assert isinstance(default, LocalRateLimiter) and default.rate is None
    built = coerce_rate_limit(25)
    assert isinstance(built, LocalRateLimiter) and built.rate == 25.0 and built.burst == 1
    mine = LocalRateLimiter(rate=3)
    assert coerce_rate_limit(mine) is mine
    assert isinstance(mine, RateLimiter)
    for bad in (True, "10", object()):
        with pytest.raises(TypeError):
            coerce_rate_limit(bad)  # type: ignore[arg-type]
    for bad_rate in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            coerce_rate_limit(bad_rate)
    with pytest.raises(ValueError):
        LocalRateLimiter(rate=1, burst=0)
    await built.aclose()
