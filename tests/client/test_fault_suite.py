"""Fault-injection suite: thousands of mixed operations under 20% injected faults.

Asserted: every read eventually succeeds; zero duplicate bookings; every booking the client
reported created exists; every outcome-unknown create is resolved by a follow-up availability
read; the emulator's final state equals the client's accounting; no leaked connections or tasks.
"""

from __future__ import annotations

import asyncio
import gc
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

import scheduler_async as sa
from scheduler_async import (
    AsyncScheduler,
    ConfigurationAvailability,
    EventBooking,
    Guest,
    RetryPolicy,
    SchedulerSettings,
    Timeout,
)
from tests.helpers import organizer

START = datetime(2030, 3, 4, tzinfo=UTC)
DAY = 86400
SLOT = 1800
FAULTS = {
    "error_500": 0.04,
    "error_503": 0.04,
    "error_429": 0.03,
    "drop_before": 0.03,
    "drop_after": 0.03,
    "stall": 0.03,
    "stall_seconds": 1.2,
    "retry_after": 0,
}


@dataclass
class Ledger:
    """What the client believes: live bookings and their slots."""

    live: dict[str, int] = field(default_factory=dict)  # booking_id -> start_time
    unknown_creates: list[dict[str, Any]] = field(default_factory=list)
    used_starts: set[int] = field(default_factory=set)
    reads: int = 0
    creates: int = 0
    reschedules: int = 0
    deletes: int = 0
    outcome_unknown: int = 0
    retried_calls: int = 0


async def _setup(emu: Any, client: AsyncScheduler) -> str:
    emu.clock.set(int(START.timestamp()))
    emu.add_grant("g-faults", email="host@example.com")
    config = await client.configurations.create(
        participants=[organizer("host@example.com")],
        availability=ConfigurationAvailability(duration_minutes=30, interval_minutes=30),
        event_booking=EventBooking(title="Fault suite"),
        scheduler=SchedulerSettings(min_booking_notice=0, available_days_in_future=60),
    )
    return config.id


async def run_suite(
    emu: Any,
    *,
    operations: int,
    workers: int,
    seed: int,
    faults: dict[str, float] = FAULTS,
    max_retries: int = 8,
) -> Ledger:
    rng = random.Random(seed)
    ledger = Ledger()
    base = int(START.timestamp()) + DAY
    free_starts = [base + i * SLOT for i in range(operations)]
    rng.shuffle(free_starts)
    async with AsyncScheduler(
        api_key="fault-key",
        grant_id="g-faults",
        base_url=emu.url,
        timeout=Timeout(connect=2.0, read=0.6, total=5.0),
        retry=RetryPolicy(
            max_retries=max_retries,
            backoff_base=0.002,
            backoff_cap=0.02,
            budget_capacity=10**6,
        ),
    ) as client:
        config_id = await _setup(emu, client)
        emu.set_faults("*", **faults)
        ops = rng.choices(
            ["read", "create", "reschedule", "delete"], [50, 30, 10, 10], k=operations
        )
        queue: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
        for item in enumerate(ops):
            queue.put_nowait(item)
        lock = asyncio.Lock()

        async def take_start() -> int:
            async with lock:
                start = free_starts.pop()
                ledger.used_starts.add(start)
                return start

        async def do(i: int, op: str) -> None:
            if op == "read" or (op != "create" and not ledger.live):
                start = base + rng.randrange(0, operations) * SLOT
                resp = await client.availability.with_response.get(
                    start_time=start, end_time=start + 4 * SLOT, configuration_id=config_id
                )
                ledger.reads += 1
                ledger.retried_calls += resp.retries_taken > 0
            elif op == "create":
                start = await take_start()
                body = {"start": start, "email": f"guest{i}@example.com"}
                try:
                    resp = await client.bookings.with_response.create(
                        start_time=start,
                        end_time=start + SLOT,
                        guest=Guest(name=f"Guest {i}", email=body["email"]),
                        configuration_id=config_id,
                    )
                except sa.OutcomeUnknownError as exc:
                    assert exc.request_body["start_time"] == start
                    ledger.outcome_unknown += 1
                    ledger.unknown_creates.append(body)
                    return
                ledger.creates += 1
                ledger.retried_calls += resp.retries_taken > 0
                ledger.live[resp.data.booking_id] = start
            elif op == "reschedule":
                booking_id = rng.choice(sorted(ledger.live))
                ledger.live.pop(booking_id)  # in flight: nobody else touches it
                start = await take_start()
                try:
                    await client.bookings.reschedule(
                        booking_id,
                        start_time=start,
                        end_time=start + SLOT,
                        configuration_id=config_id,
                    )
                except BaseException:
                    raise
                ledger.reschedules += 1
                ledger.live[booking_id] = start
            else:
                booking_id = rng.choice(sorted(ledger.live))
                ledger.live.pop(booking_id)
                await client.bookings.delete(booking_id, configuration_id=config_id)
                ledger.deletes += 1

        async def worker() -> None:
            while True:
                try:
                    i, op = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                await do(i, op)

        async with asyncio.timeout(120):
            await asyncio.gather(*(worker() for _ in range(workers)))
        emu.set_faults("*")  # faults off for the follow-up reads

        # Resolve every outcome-unknown create with a follow-up availability read.
        for body in ledger.unknown_creates:
            avail = await client.availability.get(
                start_time=body["start"], end_time=body["start"] + SLOT, configuration_id=config_id
            )
            taken = not avail.time_slots
            matches = [
                b
                for b in emu.store.bookings.values()
                if b.is_live and b.guest.get("email") == body["email"]
            ]
            assert taken == bool(matches), body
            for b in matches:
                ledger.live[b.booking_id] = body["start"]
        held = [  # aiohttp's responses keep their connection until they give it back
            r
            for r in gc.get_objects()
            if isinstance(r, aiohttp.ClientResponse) and r.connection is not None
        ]
        assert not held, "connections still in use"
    return ledger


def _check_state(emu: Any, ledger: Ledger) -> None:
    live = {b.booking_id: b for b in emu.store.bookings.values() if b.is_live}
    assert set(live) == set(ledger.live), "emulator state differs from the client's accounting"
    for booking_id, start in ledger.live.items():
        assert live[booking_id].start_time == start
    starts = [b.start_time for b in live.values()]
    assert len(starts) == len(set(starts)), "two bookings hold one slot"
    emails = [b.guest.get("email") for b in emu.store.bookings.values()]
    assert len(emails) == len(set(emails)), "a create was applied twice"


async def test_two_thousand_operations_under_faults(scheduler_emulator_fresh: Any) -> None:
    emu = scheduler_emulator_fresh
    ledger = await run_suite(emu, operations=2000, workers=32, seed=1234)
    _check_state(emu, ledger)
    assert (
        ledger.reads
        + ledger.creates
        + ledger.outcome_unknown
        + ledger.reschedules
        + (ledger.deletes)
        == 2000
    )
    assert ledger.outcome_unknown > 0, "the suite should exercise outcome-unknown creates"
    assert ledger.retried_calls > 0
    current = asyncio.current_task()
    assert [t for t in asyncio.all_tasks() if t is not current] == []


HEAVY = {k: (v * 2 if k not in ("stall_seconds", "retry_after") else v) for k, v in FAULTS.items()}


@pytest.mark.parametrize("seed", [7, 2026])
async def test_operations_under_forty_percent_faults(
    scheduler_emulator_fresh: Any, seed: int
) -> None:
    """Twice the fault rate (40% of attempts fail): 0.4**17 makes a read that never succeeds
    in 17 attempts a one-in-six-million event, so the retry budget is 16 retries."""
    assert sum(v for k, v in HEAVY.items() if k not in ("stall_seconds", "retry_after")) == (
        pytest.approx(0.40)
    )
    emu = scheduler_emulator_fresh
    ledger = await run_suite(
        emu, operations=600, workers=32, seed=seed, faults=HEAVY, max_retries=16
    )
    _check_state(emu, ledger)
    total = ledger.reads + ledger.creates + ledger.outcome_unknown
    assert total + ledger.reschedules + ledger.deletes == 600
    assert ledger.outcome_unknown > 0 and ledger.retried_calls > 0
    current = asyncio.current_task()
    assert [t for t in asyncio.all_tasks() if t is not current] == []


async def test_budget_exhaustion_stops_retrying(scheduler_emulator_fresh: Any) -> None:
    emu = scheduler_emulator_fresh
    emu.set_faults("*", error_503=1.0, retry_after=0)
    async with AsyncScheduler(
        base_url=emu.url,
        retry=RetryPolicy(max_retries=5, backoff_base=0.0, budget_capacity=12, retry_cost=5),
    ) as client:
        with pytest.raises(sa.InternalServerError) as info:
            await client.availability.get(start_time=1, end_time=2, configuration_id="x")
        assert info.value.status_code == 503
        assert info.value.retries_taken == 2  # 12 tokens pay for two retries of cost 5
        with pytest.raises(sa.InternalServerError) as again:
            await client.availability.get(start_time=1, end_time=2, configuration_id="x")
        assert again.value.retries_taken == 0
