"""The store's group side (GroupStoreMixin) without HTTP: errors, threads, hooks, cleanup."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from scheduler_async.emulator import EmulatorError, Store
from scheduler_async.emulator.errors import EVENT_IS_FULL

from .support import DAY, GRANT, HOUR, T0, config_body

GUEST = {"name": "Guest", "email": "guest@example.com"}


def _group(store: Store, capacity: int = 2) -> tuple[str, dict[str, Any]]:
    stored = store.create_configuration(
        GRANT, {"type": "group", "group_booking": {"calendar_id": "primary"}}
    )
    event = store.create_group_event(
        GRANT,
        stored.configuration_id,
        {
            "title": "Class",
            "capacity": capacity,
            "participants": [{"email": "host@example.com"}],
            "when": {"start_time": T0 + DAY, "end_time": T0 + DAY + HOUR},
        },
    )
    return stored.configuration_id, event


def _book(store: Store, config_id: str, event_id: str, email: str = "g@example.com") -> str:
    booking = store.create_booking(
        config_id,
        T0 + DAY,
        T0 + DAY + HOUR,
        {"name": "G", "email": email},
        slot={"event_id": event_id, "calendar_id": "primary"},
    )
    return booking.booking_id


def test_group_errors_are_emulator_errors(store: Store) -> None:
    with pytest.raises(EmulatorError) as info:
        store.create_configuration(
            GRANT, {"type": "group", "group_booking": {"calendar_id": "c", "default_capacity": 0}}
        )
    assert (info.value.status, info.value.error_type) == (400, "invalid_request_error")
    assert "default_capacity" in info.value.message
    config_id, event = _group(store, capacity=1)
    _book(store, config_id, event["id"])
    with pytest.raises(EmulatorError) as full:
        _book(store, config_id, event["id"])
    assert (full.value.status, full.value.error_type, full.value.message) == (
        409,
        "timeslot_not_available",
        EVENT_IS_FULL,
    )


def test_200_threads_book_10_seats_through_the_store(store: Store) -> None:
    config_id, event = _group(store, capacity=10)
    gate = threading.Barrier(200)

    def attempt(i: int) -> str:
        gate.wait()
        try:
            return _book(store, config_id, event["id"], f"g{i}@example.com")
        except EmulatorError as exc:
            return exc.message

    with ThreadPoolExecutor(max_workers=200) as pool:
        outcomes = list(pool.map(attempt, range(200)))
    assert outcomes.count(EVENT_IS_FULL) == 190
    booked = {o for o in outcomes if o != EVENT_IS_FULL}
    assert len(booked) == 10
    assert all(store.group_seat_of(b) == event["id"] for b in booked)
    assert store.group_instances(config_id, T0, T0 + 2 * DAY)[0].remaining == 0


def test_listeners_hear_group_bookings(store: Store) -> None:
    heard: list[tuple[str, str]] = []

    def listener(kind: str, obj: Any) -> None:
        if kind.startswith("booking."):
            heard.append((kind, obj.booking_id))

    store.subscribe(listener)
    config_id, event = _group(store)
    booking_id = _book(store, config_id, event["id"])
    assert store.is_group_booking(booking_id)
    store.delete_booking(booking_id)
    assert heard == [("booking.created", booking_id), ("booking.deleted", booking_id)]
    assert store.group_seat_of(booking_id) is None
    store.reset()
    assert not store.is_group_booking(booking_id)


def test_standard_booking_ignores_slot_fields_and_type_is_fixed(store: Store) -> None:
    standard = store.create_configuration(GRANT, config_body())
    booking = store.create_booking(
        standard.configuration_id,
        T0 + 2 * HOUR,
        T0 + 2 * HOUR + 1800,
        GUEST,
        slot={"event_id": "whatever"},
    )
    assert not store.is_group_booking(booking.booking_id)
    assert store.events[booking.event_id].booking_id == booking.booking_id
    with pytest.raises(EmulatorError, match="cannot change"):
        store.update_configuration(
            GRANT, standard.configuration_id, {"type": "group", "group_booking": {}}
        )


def test_deleting_the_configuration_releases_seats(store: Store) -> None:
    config_id, event = _group(store)
    booking_id = _book(store, config_id, event["id"])
    store.delete_configuration(GRANT, config_id)
    assert store.group_seat_of(booking_id) is None
    with pytest.raises(EmulatorError) as info:
        store.availability(config_id, T0, T0 + DAY)
    assert info.value.status == 404


def test_deleting_a_group_booking_gives_back_its_seat_and_keeps_the_event(store: Store) -> None:
    config_id, event = _group(store, capacity=1)
    booking_id = _book(store, config_id, event["id"])
    assert store.group_instances(config_id, T0, T0 + 2 * DAY)[0].remaining == 0
    store.delete_booking(booking_id)
    (inst,) = store.group_instances(config_id, T0, T0 + 2 * DAY)
    assert inst.remaining == 1  # the seat is free again; the shared event is still there
    _book(store, config_id, event["id"], "next@example.com")
