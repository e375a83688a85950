"""Group configurations and group events end to end: the client against the emulator over
loopback, async and sync. A weekly class is created, listed, filled to capacity with
``bookings.create(slot=...)``, a booking moved with ``reschedule(slot=...)`` and cancelled;
validate-timeslot reports full, changed and deleted events; a mixed account lists cleanly."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import scheduler_async as sa
import scheduler_sync as ss
from scheduler_async import AsyncScheduler, Guest
from scheduler_async.models import (
    GroupBooking,
    GroupConfiguration,
    GroupEventParticipant,
    TimeSlot,
    UnknownConfiguration,
)
from tests.helpers import at, nine_to_five, organizer

KEY = "group-e2e-SECRET-key"
HOST = [GroupEventParticipant(email="org@example.com", name="Org", is_organizer=True)]
WEEK = 7


@pytest.fixture
def emu(scheduler_emulator_fresh: Any) -> Any:
    scheduler_emulator_fresh.clock.set(at(7))
    scheduler_emulator_fresh.add_grant("g-org", email="org@example.com")
    return scheduler_emulator_fresh


@pytest.fixture
async def client(emu: Any) -> AsyncIterator[AsyncScheduler]:
    async with AsyncScheduler(
        api_key=KEY,
        grant_id="g-org",
        base_url=emu.url,
        client_id=emu.client_id,
        retry=sa.RetryPolicy(backoff_base=0.0),
    ) as c:
        yield c


@pytest.fixture
def sync_client(emu: Any) -> Iterator[ss.Scheduler]:
    with ss.Scheduler(
        api_key=KEY,
        grant_id="g-org",
        base_url=emu.url,
        client_id=emu.client_id,
        retry=ss.RetryPolicy(backoff_base=0.0),
    ) as c:
        yield c


def guest(n: int) -> Guest:
    return Guest(name=f"Guest {n}", email=f"guest{n}@example.com")


def slots_by_start(slots: tuple[TimeSlot, ...]) -> dict[int, TimeSlot]:
    return {s.start_time: s for s in slots}


async def test_weekly_class_filled_rescheduled_cancelled_async(client: AsyncScheduler) -> None:
    config = await client.configurations.create_group(
        name="Yoga", group_booking=GroupBooking(calendar_id="primary", default_capacity=3)
    )
    assert isinstance(config, GroupConfiguration)
    assert config.group_booking.default_capacity == 3
    got = await client.configurations.get(config.id)
    assert isinstance(got, GroupConfiguration)
    assert got.name == "Yoga"

    master = await client.group_events.create(
        config.id,
        title="Morning yoga",
        start_time=at(10, 1),
        end_time=at(11, 1),
        participants=HOST,
        recurrence=["RRULE:FREQ=WEEKLY;COUNT=4"],
    )
    assert master.recurrence == ("RRULE:FREQ=WEEKLY;COUNT=4",)
    listed = [
        e
        async for e in client.group_events.list(
            config.id, start_time=at(0), end_time=at(0, 4 * WEEK), limit=2
        )
    ]
    assert len(listed) == 4  # four weekly instances, over two pages
    assert sorted(e.when.start_time for e in listed) == [at(10, 1 + WEEK * i) for i in range(4)]

    avail = await client.availability.get(
        start_time=at(0), end_time=at(0, 3 * WEEK), configuration_id=config.id
    )
    slots = slots_by_start(avail.time_slots)
    first, second = slots[at(10, 1)], slots[at(10, 1 + WEEK)]
    assert first.is_group
    assert first.master_id == master.id
    assert first.capacity == 3

    bookings = [
        await client.bookings.create(slot=first, guest=guest(i), configuration_id=config.id)
        for i in range(3)
    ]
    with pytest.raises(sa.ConflictError, match="Event is full") as full:
        await client.bookings.create(slot=first, guest=guest(9), configuration_id=config.id)
    assert full.value.status_code == 409
    assert "Event is full" in full.value.message
    with pytest.raises(sa.ConflictError, match="Event is full"):
        await client.group_events.validate_timeslot(config.id, slot=first)

    # Moving one guest to next week's class frees a seat in the first one.
    await client.bookings.reschedule(
        bookings[0].booking_id, slot=second, configuration_id=config.id
    )
    after = slots_by_start(
        (
            await client.availability.get(
                start_time=at(0), end_time=at(0, 3 * WEEK), configuration_id=config.id
            )
        ).time_slots
    )
    assert after[at(10, 1)].capacity == 1
    assert after[at(10, 1 + WEEK)].capacity == 2
    await client.group_events.validate_timeslot(config.id, slot=after[at(10, 1)])

    # Cancelling gives the seat back.
    await client.bookings.delete(bookings[1].booking_id, configuration_id=config.id)
    again = slots_by_start(
        (
            await client.availability.get(
                start_time=at(0), end_time=at(0, 3 * WEEK), configuration_id=config.id
            )
        ).time_slots
    )
    assert again[at(10, 1)].capacity == 2

    # validate-timeslot: an event that changed, then one that was deleted.
    instance = again[at(10, 1 + 2 * WEEK)]
    assert instance.event_id is not None
    await client.group_events.update(
        config.id, instance.event_id, start_time=at(12, 1 + 2 * WEEK), end_time=at(13, 1 + 2 * WEEK)
    )
    with pytest.raises(sa.BadRequestError, match="changed"):
        await client.group_events.validate_timeslot(config.id, slot=instance)
    await client.group_events.delete(config.id, master.id)
    with pytest.raises(sa.NotFoundError, match="deleted"):
        await client.group_events.validate_timeslot(config.id, slot=again[at(10, 1)])


def test_weekly_class_filled_rescheduled_cancelled_sync(sync_client: ss.Scheduler) -> None:
    client = sync_client
    config = client.configurations.create_group(
        name="Spin", group_booking=GroupBooking(calendar_id="primary")
    )
    master = client.group_events.create(
        config.id,
        title="Spin",
        start_time=at(18, 2),
        end_time=at(19, 2),
        capacity=2,
        participants=HOST,
        recurrence=["RRULE:FREQ=WEEKLY;COUNT=3"],
    )
    events = list(client.group_events.list(config.id, start_time=at(0), end_time=at(0, 3 * WEEK)))
    assert len(events) == 3

    def slots() -> dict[int, TimeSlot]:
        avail = client.availability.get(
            start_time=at(0), end_time=at(0, 3 * WEEK), configuration_id=config.id
        )
        return slots_by_start(avail.time_slots)

    first, second = slots()[at(18, 2)], slots()[at(18, 2 + WEEK)]
    assert first.master_id == master.id
    made = [
        client.bookings.create(slot=first, guest=guest(i), configuration_id=config.id)
        for i in range(2)
    ]
    with pytest.raises(ss.ConflictError, match="Event is full"):
        client.bookings.create(slot=first, guest=guest(5), configuration_id=config.id)
    client.bookings.reschedule(made[0].booking_id, slot=second, configuration_id=config.id)
    now = slots()
    assert (now[at(18, 2)].capacity, now[at(18, 2 + WEEK)].capacity) == (1, 1)
    client.bookings.delete(made[1].booking_id, configuration_id=config.id)
    assert slots()[at(18, 2)].capacity == 2
    client.group_events.validate_timeslot(config.id, slot=slots()[at(18, 2)])


async def test_mixed_account_lists_cleanly(client: AsyncScheduler, emu: Any) -> None:
    standard = await client.configurations.create(
        participants=[organizer("org@example.com", name="Org")],
        availability=nine_to_five(),
        event_booking=sa.EventBooking(title="Intro"),
    )
    group = await client.configurations.create_group(
        name="Yoga", group_booking=GroupBooking(calendar_id="primary")
    )
    emu.store.put_raw_configuration(
        "g-org",
        {"type": "webinar_2099", "name": "Future", "webinar": {"seats": 1000}},
        configuration_id="cfg-future",
    )
    items = {c.id: c async for c in client.configurations.list(limit=1)}
    assert isinstance(items[standard.id], sa.Configuration)
    assert isinstance(items[group.id], GroupConfiguration)
    future = items["cfg-future"]
    assert isinstance(future, UnknownConfiguration)
    assert future.type == "webinar_2099"
    assert future.raw["webinar"] == {"seats": 1000}
    assert isinstance(await client.configurations.get("cfg-future"), UnknownConfiguration)


async def test_import_existing_events_in_batches(client: AsyncScheduler, emu: Any) -> None:
    config = await client.configurations.create_group(
        name="Imported", group_booking=GroupBooking(calendar_id="primary")
    )
    ids = [emu.add_event("g-org", "primary", at(9, d), at(10, d)) for d in range(1, 24)]
    ids = [getattr(i, "event_id", i) for i in ids]
    items = [sa.models.GroupEventImport(event_id=i, calendar_id="primary") for i in ids]
    first = await client.group_events.import_events(config.id, items[:3])
    assert first.imported_events == tuple(ids[:3])
    result = await client.group_events.import_events(config.id, items)
    assert result.imported_events == tuple(ids[3:])
    assert {f.event_id for f in result.import_failed} == set(ids[:3])
    assert {f.reason for f in result.import_failed} == {"Event already imported"}


async def test_group_seats_booked_in_bulk(client: AsyncScheduler) -> None:
    config = await client.configurations.create_group(
        name="Spin", group_booking=GroupBooking(calendar_id="primary", default_capacity=2)
    )
    await client.group_events.create(
        config.id, title="Spin", start_time=at(10, 2), end_time=at(11, 2), participants=HOST
    )
    avail = await client.availability.get(
        start_time=at(0), end_time=at(0, WEEK), configuration_id=config.id
    )
    seat = slots_by_start(avail.time_slots)[at(10, 2)]
    requests = [
        sa.BookingRequest(slot=seat, guest=guest(i), configuration_id=config.id, tag=i)
        for i in range(3)
    ]
    results = await client.bookings.create_many_all(requests, concurrency=1)
    assert [r.ok for r in results] == [True, True, False]
    assert all(r.booking is not None and r.booking.event_id == seat.event_id for r in results[:2])
    full = results[2].error
    assert isinstance(full, sa.ConflictError) and "Event is full" in full.message
