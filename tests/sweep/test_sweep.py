"""Bulk calls: availability sweeps and booking fan-out (bounded, per-item errors, back-off)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aioresponses import CallbackResult

import scheduler_async as sa
from scheduler_async import (
    AsyncScheduler,
    AvailabilityQuery,
    BookingRequest,
    ConfigurationAvailability,
    EventBooking,
    Guest,
    Progress,
    RetryPolicy,
    SchedulerSettings,
)
from tests.helpers import MockAPI, organizer

MONDAY = datetime(2030, 1, 7, tzinfo=UTC)


def at(hours: float) -> int:
    return int((MONDAY + timedelta(hours=hours)).timestamp())


@pytest.fixture
async def setup(scheduler_emulator_fresh: Any) -> Any:
    emu = scheduler_emulator_fresh
    emu.clock.set(at(0))
    emu.add_grant("g-sweep", email="host@example.com")
    async with AsyncScheduler(
        api_key="k", grant_id="g-sweep", base_url=emu.url, retry=RetryPolicy(backoff_base=0.0)
    ) as client:
        config = await client.configurations.create(
            participants=[organizer("host@example.com")],
            availability=ConfigurationAvailability(duration_minutes=30),
            event_booking=EventBooking(title="Sweep"),
            scheduler=SchedulerSettings(min_booking_notice=0),
        )
        yield emu, client, config.id


async def test_sweep_yields_every_result_with_its_query(setup: Any) -> None:
    _, client, config_id = setup
    queries = [
        AvailabilityQuery(start_time=at(h), end_time=at(h + 2), configuration_id=config_id, tag=h)
        for h in range(100)
    ]
    queries.append(AvailabilityQuery(start_time=at(1), end_time=at(2), configuration_id="nope"))
    queries.append(AvailabilityQuery(start_time=at(5), end_time=at(1), configuration_id="x"))
    seen: list[Progress] = []
    results = [
        r async for r in client.availability.sweep(queries, concurrency=16, progress=seen.append)
    ]
    assert len(results) == 102
    ok = [r for r in results if r.ok]
    assert sorted(r.query.tag for r in ok) == list(range(100))
    for r in ok:
        assert r.availability is not None and len(r.availability.time_slots) == 4
        assert r.availability.time_slots[0].start_time == at(r.query.tag)
    failed = [r for r in results if not r.ok]
    assert len(failed) == 2
    assert any(isinstance(r.error, sa.NotFoundError) for r in failed)
    assert any("before" in str(r.error) for r in failed)  # bad window: error, not a crash
    assert seen[-1] == Progress(102, 102, 2)
    assert [p.done for p in seen] == list(range(1, 103))


async def test_sweep_all_and_progress_bar(setup: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _, client, config_id = setup
    queries = [
        AvailabilityQuery(start_time=at(h), end_time=at(h + 1), configuration_id=config_id)
        for h in range(10)
    ]
    queries.append(AvailabilityQuery(start_time=at(1), end_time=at(2), configuration_id="nope"))
    results = await client.availability.sweep_all(queries, concurrency=3, progress_bar=True)
    assert len(results) == 11 and sum(r.ok for r in results) == 10
    lines = capsys.readouterr().err.splitlines()  # not a terminal: plain lines, drawn at once
    assert lines[0].startswith("sweep: 0/11 done, 0 errors, 0 in flight")
    assert lines[-1].startswith("sweep: 11/11 done, 1 errors, 0 in flight")


async def test_early_break_cancels_the_rest(setup: Any) -> None:
    emu, client, config_id = setup
    emu.faults.configure(latency_ms=50)
    queries = [
        AvailabilityQuery(start_time=at(h), end_time=at(h + 1), configuration_id=config_id)
        for h in range(200)
    ]
    queries *= 10  # 2,000 queries: all of them would take ten seconds at 10 in flight
    sent = ended = peak = 0

    async def on_request_start(*_: Any) -> None:
        nonlocal sent, peak
        sent += 1
        peak = max(peak, sent - ended)

    async def on_request_end(*_: Any) -> None:
        nonlocal ended
        ended += 1

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_request_start)
    trace.on_request_end.append(on_request_end)
    got = 0
    async with (
        aiohttp.ClientSession(trace_configs=[trace]) as session,
        AsyncScheduler(api_key="k", base_url=emu.url, session=session) as counted,
    ):
        before = asyncio.all_tasks()
        async with contextlib.aclosing(counted.availability.sweep(queries, concurrency=10)) as it:
            async for _ in it:
                got += 1
                if got == 5:
                    break
        left = asyncio.all_tasks() - before  # a worker left running would send more requests
    emu.faults.configure(latency_ms=0)
    assert got == 5
    assert peak <= 10
    assert not left
    assert sent < len(queries)
    # the client is still fine afterwards
    assert (await client.availability.sweep_all(queries[:3]))[0].ok


async def test_a_429_slows_the_whole_client_down() -> None:
    sent: list[tuple[float, int]] = []
    state = {"n": 0}

    def answer(url: Any, **kwargs: Any) -> CallbackResult:
        state["n"] += 1
        status = 429 if state["n"] == 1 else 200
        sent.append((time.monotonic(), status))
        if status == 429:
            return CallbackResult(
                status=429,
                payload={"request_id": "r", "error": {"type": "rate_limit_error", "message": "x"}},
                headers={"Retry-After": "0.3"},
            )
        return CallbackResult(payload={"request_id": "r", "data": {"time_slots": []}})

    with MockAPI() as mock:
        import re

        mock.get(re.compile(r".*/v3/scheduling/availability.*"), callback=answer, repeat=True)
        async with AsyncScheduler(base_url="https://api.test") as client:
            queries = [
                AvailabilityQuery(start_time=1, end_time=2 + i, configuration_id="c")
                for i in range(20)
            ]
            results = await client.availability.sweep_all(queries, concurrency=4)
    assert all(r.ok for r in results) and len(results) == 20
    t429 = next(t for t, s in sent if s == 429)
    # Requests already on the wire at the same moment may finish; nothing new starts during
    # the pause that the 429 asked for.
    assert not [t for t, _ in sent if t429 + 0.02 < t < t429 + 0.29]
    assert max(t for t, _ in sent) >= t429 + 0.29


async def test_booking_fan_out(setup: Any) -> None:
    emu, client, config_id = setup
    requests = [
        BookingRequest(
            start_time=at(9 + i / 2),
            end_time=at(9.5 + i / 2),
            guest=Guest(name=f"g{i}", email=f"g{i}@example.com"),
            configuration_id=config_id,
            tag=i,
        )
        for i in range(20)
    ]
    same_slot = [
        BookingRequest(
            start_time=at(20),
            end_time=at(20.5),
            guest=Guest(name=f"d{i}", email=f"d{i}@example.com"),
            configuration_id=config_id,
        )
        for i in range(5)
    ]
    results = await client.bookings.create_many_all(requests + same_slot, concurrency=8)
    assert len(results) == 25
    created = [r for r in results if r.ok]
    assert len(created) == 21
    assert sorted(r.request.tag for r in created if r.request.tag is not None) == list(range(20))
    losers = [r for r in results if not r.ok]
    assert all(isinstance(r.error, sa.APIStatusError) and not r.outcome_unknown for r in losers)
    live = [b for b in emu.store.bookings.values() if b.is_live]
    assert len(live) == 21


def test_booking_request_fields_are_the_create_parameters() -> None:
    """``create_many`` passes every field of a ``BookingRequest`` (but ``tag``) to ``create``:
    the two lists are one, so neither can gain an argument the other lacks."""
    import inspect

    import attrs

    from scheduler_async.resources import AsyncBookings

    fields = {f.name for f in attrs.fields(BookingRequest)} - {"tag"}
    params = set(inspect.signature(AsyncBookings.create).parameters)
    assert fields == params - {"self", "timeout", "max_retries"}


async def test_booking_fan_out_reports_outcome_unknown(setup: Any) -> None:
    emu, client, config_id = setup
    emu.set_faults("POST /v3/scheduling/bookings", drop_after=1.0, times=2)
    requests = [
        BookingRequest(
            start_time=at(9 + i),
            end_time=at(9.5 + i),
            guest=Guest(name=f"g{i}", email=f"g{i}@example.com"),
            configuration_id=config_id,
        )
        for i in range(4)
    ]
    results = [r async for r in client.bookings.create_many(requests, concurrency=1)]
    unknown = [r for r in results if r.outcome_unknown]
    assert len(unknown) == 2 and sum(r.ok for r in results) == 2
    # the dropped ones were applied by the server: they exist, nothing was repeated
    assert len([b for b in emu.store.bookings.values() if b.is_live]) == 4
