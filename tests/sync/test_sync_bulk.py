"""Bulk calls, the session refresher and the fault suite through the sync facade."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import scheduler_sync as ss
from scheduler_sync import (
    AvailabilityQuery,
    BookingRequest,
    ConfigurationAvailability,
    EventBooking,
    Guest,
    RetryPolicy,
    Scheduler,
    SchedulerSettings,
    SessionRefresher,
    Timeout,
)
from scheduler_sync._runtime import SyncRuntime
from tests.client.test_fault_suite import FAULTS, Ledger, _check_state
from tests.helpers import at, organizer

NOW = at(0, day=56)  # Monday 2030-03-04
SLOT = 1800


def _config(client: Scheduler, *, private: bool = False) -> str:
    return client.configurations.create(
        requires_session_auth=private,
        participants=[organizer("host@example.com")],
        availability=ConfigurationAvailability(duration_minutes=30, interval_minutes=30),
        event_booking=EventBooking(title="sync"),
        scheduler=SchedulerSettings(min_booking_notice=0, available_days_in_future=60),
    ).id


@pytest.fixture
def env(scheduler_emulator_fresh: Any) -> Iterator[tuple[Any, Scheduler]]:
    emu = scheduler_emulator_fresh
    emu.clock.set(NOW)
    emu.add_grant("g-sync", email="host@example.com")
    with Scheduler(
        api_key="k",
        grant_id="g-sync",
        base_url=emu.url,
        timeout=Timeout(connect=2.0, read=0.6, total=5.0),
        retry=RetryPolicy(
            max_retries=8, backoff_base=0.002, backoff_cap=0.02, budget_capacity=10**6
        ),
    ) as client:
        yield emu, client


def test_bulk_calls_cross_the_portal_once(
    env: tuple[Any, Scheduler], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, client = env
    config_id = _config(client)
    crossings = 0
    real_call = SyncRuntime.call

    def counting(self: SyncRuntime, *args: Any, **kwargs: Any) -> Any:
        nonlocal crossings
        crossings += 1
        return real_call(self, *args, **kwargs)

    monkeypatch.setattr(SyncRuntime, "call", counting)
    queries = [
        AvailabilityQuery(
            start_time=NOW + h * 3600, end_time=NOW + (h + 1) * 3600, configuration_id=config_id
        )
        for h in range(24, 124)
    ]
    results = client.availability.sweep_all(queries, concurrency=20)
    assert len(results) == 100 and all(r.ok for r in results)
    requests = [
        BookingRequest(
            start_time=NOW + 86400 + i * SLOT,
            end_time=NOW + 86400 + (i + 1) * SLOT,
            guest=Guest(name=f"g{i}", email=f"g{i}@example.com"),
            configuration_id=config_id,
        )
        for i in range(10)
    ]
    booked = client.bookings.create_many_all(requests, concurrency=5)
    assert sum(r.ok for r in booked) == 10
    assert crossings == 2


def test_session_refresher_from_threads(env: tuple[Any, Scheduler]) -> None:
    emu, client = env
    config_id = _config(client, private=True)
    with SessionRefresher(client, configuration_id=config_id, time_to_live=5) as refresher:
        with ThreadPoolExecutor(16) as pool:
            tokens = list(pool.map(lambda _: refresher.session_id(), range(64)))
        assert len(set(tokens)) == 1 and refresher.renewals == 1
        client.sessions.delete(tokens[0])  # revoked: run() renews once and retries
        avail = refresher.run(
            lambda token: client.availability.get(
                start_time=NOW + 86400, end_time=NOW + 86400 + 3600, session_id=token
            )
        )
        assert len(avail.time_slots) == 2 and refresher.renewals == 2
        assert tokens[0] not in repr(refresher)
        current = refresher.session_id()
    assert {s.session_id: s for s in emu.store.sessions.values()}[current].deleted


def test_fault_suite_through_the_sync_facade(env: tuple[Any, Scheduler]) -> None:
    emu, client = env
    config_id = _config(client)
    rng = random.Random(99)
    ledger = Ledger()
    lock = threading.Lock()
    operations = 400
    base = NOW + 86400
    free = [base + i * SLOT for i in range(operations)]
    rng.shuffle(free)
    ops = rng.choices(["read", "create", "reschedule", "delete"], [50, 30, 10, 10], k=operations)
    emu.set_faults("*", **FAULTS)

    def pick_live() -> str | None:
        with lock:
            if not ledger.live:
                return None
            booking_id = rng.choice(sorted(ledger.live))
            ledger.live.pop(booking_id)
            return booking_id

    def do(item: tuple[int, str]) -> None:
        i, op = item
        booking_id = pick_live() if op in ("reschedule", "delete") else None
        if op == "read" or (op in ("reschedule", "delete") and booking_id is None):
            start = base + (i % operations) * SLOT
            client.availability.get(
                start_time=start, end_time=start + 4 * SLOT, configuration_id=config_id
            )
            with lock:
                ledger.reads += 1
            return
        with lock:
            start = free.pop()
        if op == "create":
            email = f"guest{i}@example.com"
            try:
                booking = client.bookings.create(
                    start_time=start,
                    end_time=start + SLOT,
                    guest=Guest(name=f"Guest {i}", email=email),
                    configuration_id=config_id,
                )
            except ss.OutcomeUnknownError:
                with lock:
                    ledger.outcome_unknown += 1
                    ledger.unknown_creates.append({"start": start, "email": email})
                return
            with lock:
                ledger.creates += 1
                ledger.live[booking.booking_id] = start
        elif op == "reschedule":
            assert booking_id is not None
            client.bookings.reschedule(
                booking_id, start_time=start, end_time=start + SLOT, configuration_id=config_id
            )
            with lock:
                ledger.reschedules += 1
                ledger.live[booking_id] = start
        else:
            assert booking_id is not None
            client.bookings.delete(booking_id, configuration_id=config_id)
            with lock:
                ledger.deletes += 1

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(do, enumerate(ops)))
    emu.set_faults("*")
    for body in ledger.unknown_creates:
        avail = client.availability.get(
            start_time=body["start"], end_time=body["start"] + SLOT, configuration_id=config_id
        )
        matches = [
            b
            for b in emu.store.bookings.values()
            if b.is_live and b.guest.get("email") == body["email"]
        ]
        assert (not avail.time_slots) == bool(matches)
        for b in matches:
            ledger.live[b.booking_id] = body["start"]
    _check_state(emu, ledger)
    assert (
        ledger.reads
        + ledger.creates
        + ledger.outcome_unknown
        + ledger.reschedules
        + (ledger.deletes)
        == operations
    )
