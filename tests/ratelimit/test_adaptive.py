"""The default limiter's learned rate and the limiter edges, on virtual time: slow start,
paced release after a 429, recovery, cancellation, pauses that only grow, finite pauses."""

from __future__ import annotations

import asyncio

import pytest

from scheduler_async.errors import RateLimitWaitError
from scheduler_async.ratelimit import LocalRateLimiter

from .virtual_time import VirtualClock


def limiter(clock: VirtualClock, **kw: object) -> LocalRateLimiter:
    return LocalRateLimiter(clock=clock, sleep=clock.sleep, **kw)  # type: ignore[arg-type]


async def test_slow_start_sends_a_small_first_round_then_doubles() -> None:
    clock = VirtualClock()
    lim = limiter(clock, slow_start=True)
    went: list[int] = []

    async def call(i: int) -> None:
        await lim.acquire()
        went.append(i)

    tasks = [asyncio.ensure_future(call(i)) for i in range(60)]
    await clock.settle()
    assert went == [0, 1, 2, 3]  # not 60 at once
    for _ in range(4):
        lim.release(True)  # the whole round answered, no 429
    await clock.settle()
    assert len(went) == 4 + 8
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_after_a_429_waiters_leave_spread_at_the_measured_rate_and_recover() -> None:
    clock = VirtualClock()
    lim = limiter(clock)
    for _ in range(10):  # ten answers accepted in the last quarter second: 40/s
        await lim.acquire()
        lim.release(True)
    t0 = clock()
    await lim.on_rate_limited(1.0)
    stamps: list[float] = []

    async def call() -> None:
        await lim.acquire()
        stamps.append(clock())

    await clock.run(call() for _ in range(8))
    # one by one, 1/40 s apart: no herd at the end of a pause
    assert stamps == pytest.approx([t0 + 0.025 * i for i in range(1, 9)])
    assert lim.adaptive is not None and lim.adaptive.rate == 40.0
    for _ in range(3):
        lim.release(True)
    assert lim.adaptive.rate == 320.0  # doubles per accepted answer until the first cut
    clock.now += 1.0
    await lim.on_rate_limited(1.0)  # a second 429: cut below what the server accepted
    assert lim.adaptive.cuts == 1 and lim.adaptive.rate < 320.0
    cut = lim.adaptive.rate
    clock.now += 3.0
    await lim.acquire()
    lim.release(True)
    assert lim.adaptive.rate > cut  # grows back on success


async def test_no_retry_after_uses_the_default_pause_and_deadlines_fail_fast() -> None:
    clock = VirtualClock()
    lim = limiter(clock, default_pause=2.0)
    await lim.on_rate_limited(None)
    with pytest.raises(RateLimitWaitError) as info:
        await lim.acquire(deadline=clock() + 1.0)
    assert info.value.retry_after == pytest.approx(2.0)


@pytest.mark.parametrize("rate", [2.0, None])
async def test_cancelled_waiters_give_their_slots_back(rate: float | None) -> None:
    clock = VirtualClock()
    lim = limiter(clock, rate=rate)
    if rate is None:
        await lim.on_rate_limited(0.5)  # paced at 2/s
    await clock.run([lim.acquire()])  # takes the current slot
    t0 = clock()
    waiters = [asyncio.ensure_future(lim.acquire()) for _ in range(100)]
    await clock.settle()
    for w in waiters:
        w.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)
    await clock.run([lim.acquire()])
    assert clock() - t0 <= 0.5 + 1e-9  # one interval, not the 50 s the cancelled ones held


async def test_a_cancelled_waiter_in_the_middle_returns_its_slot_once_the_tail_goes() -> None:
    clock = VirtualClock()
    lim = limiter(clock, rate=1.0)
    t0 = clock()
    await lim.acquire()
    waiters = [asyncio.ensure_future(lim.acquire()) for _ in range(3)]  # t0+1, +2, +3
    await clock.settle()
    waiters[1].cancel()  # the middle one: a hole until the last one leaves too
    waiters[2].cancel()
    await asyncio.gather(*waiters[1:], return_exceptions=True)
    await clock.run([waiters[0], lim.acquire()])
    assert clock() == t0 + 2.0


@pytest.mark.parametrize("rate", [10.0, None])
async def test_a_later_shorter_429_never_shortens_a_longer_pause(rate: float | None) -> None:
    clock = VirtualClock()
    lim = limiter(clock, rate=rate)
    t0 = clock()
    await lim.on_rate_limited(10.0)
    clock.now += 1.0
    await lim.on_rate_limited(1.0)
    lim.pause(0.5)
    assert lim.paused_until >= t0 + 10.0
    await clock.run([lim.acquire()])
    assert clock() >= t0 + 10.0


@pytest.mark.parametrize("bad", [float("inf"), float("nan"), -1.0])
def test_non_finite_or_negative_pauses_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="default_pause"):
        LocalRateLimiter(default_pause=bad)
    with pytest.raises(ValueError, match="finite"):
        LocalRateLimiter(rate=5).pause(bad)


async def test_the_happy_path_takes_a_turn_without_the_waiting_coroutine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = VirtualClock()
    lim = limiter(clock, slow_start=True)
    assert lim.adaptive is not None

    async def must_not_wait(deadline: float | None) -> None:
        raise AssertionError("nothing was pending: no waiting coroutine is needed")

    monkeypatch.setattr(lim.adaptive, "acquire", must_not_wait)
    for _ in range(4):  # the first slow-start round is free
        await lim.acquire()
    assert lim.adaptive._in_flight == 4
    monkeypatch.undo()
    waiting = asyncio.ensure_future(lim.acquire())  # round used up: this one waits
    await clock.settle()
    assert not waiting.done()
    for _ in range(4):
        lim.release(True)
    await clock.settle()
    assert waiting.done() and waiting.exception() is None
