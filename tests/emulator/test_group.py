"""Group events in the store: capacity rules, recurrence instances, import, validate-timeslot,
seat races (no HTTP)."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduler_async import GroupEvent
from scheduler_async._convert import structure
from scheduler_async.emulator import EmulatorError, FakeClock, Store
from scheduler_async.emulator.group_engine import group_availability
from scheduler_async.emulator.validation import validate_group_configuration

NY = ZoneInfo("America/New_York")
START = int(datetime(2026, 10, 19, 9, 0, tzinfo=NY).timestamp())  # a Monday, before US DST ends
WEEK = 7 * 86400
NOW = START - 86400


class _Store(Store):
    """A store at :data:`NOW` with group configurations ``cfg`` (default capacity 10) and
    ``big`` (25) of grant ``g``, naming group events ``ev1``, ``ev2``..."""

    def __init__(self) -> None:
        super().__init__(FakeClock(NOW))
        self._ids = itertools.count(1)
        for cid, capacity in (("cfg", None), ("big", 25)):
            group_booking: dict[str, Any] = {"calendar_id": "primary"}
            if capacity is not None:
                group_booking["default_capacity"] = capacity
            self.put_raw_configuration(
                "g", {"type": "group", "group_booking": group_booking}, configuration_id=cid
            )

    def new_group_event_id(self) -> str:
        return f"ev{next(self._ids)}"


def _events() -> _Store:
    return _Store()


def _body(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Yoga",
        "calendar_id": "primary",
        "participants": [{"email": "host@example.com", "name": "Host", "is_organizer": True}],
        "when": {
            "start_time": START,
            "end_time": START + 3600,
            "start_timezone": "America/New_York",
            "end_timezone": "America/New_York",
        },
    }
    body.update(extra)
    return body


def _weekly(events: _Store, **extra: Any) -> dict[str, Any]:
    return events.create_group_event(
        "g",
        "cfg",
        _body(
            recurrence=[
                "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=4",
                "EXDATE;TZID=America/New_York:20261026T090000",
            ],
            **extra,
        ),
    )


# --------------------------------------------------------------------------- capacity


def test_capacity_default_and_bounds() -> None:
    events = _events()
    assert events.create_group_event("g", "cfg", _body())["capacity"] == 10
    assert events.create_group_event("g", "big", _body())["capacity"] == 25
    assert events.create_group_event("g", "cfg", _body(capacity=500))["capacity"] == 500
    for bad in (0, 501, -3, "many", True):
        with pytest.raises(EmulatorError) as info:
            events.create_group_event("g", "cfg", _body(capacity=bad))
        assert info.value.status == 400


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": None}, "title"),
        ({"when": None}, "when"),
        ({"when": {"start_time": 10, "end_time": 5}}, "before"),
        ({"when": {"start_time": 1, "end_time": 5, "start_timezone": "UTC"}}, "together"),
        ({"recurrence": ["RRULE:FREQ=NEVER"]}, "recurrence"),
        ({"location": "x" * 256}, "location"),
        ({"participants": [{"name": "no email"}]}, "email"),
    ],
)
def test_create_validation(change: dict[str, Any], message: str) -> None:
    with pytest.raises(EmulatorError, match=message):
        _events().create_group_event("g", "cfg", _body(**change))


def test_create_accepts_participants_object_and_when_array() -> None:
    body = _body(
        participants={"email": "solo@example.com", "is_organizer": True},
        when=[{"start_time": START, "end_time": START + 60}],
    )
    out = _events().create_group_event("g", "cfg", body)
    assert out["participants"] == [{"email": "solo@example.com", "is_organizer": True}]
    assert out["when"]["start_time"] == START
    ev = structure(out, GroupEvent)  # the client model reads the emulator's answer
    assert ev.group_event_info is not None and ev.group_event_info.config_id == "cfg"


# --------------------------------------------------------------------------- recurrence


def test_weekly_instances_with_exdate_across_dst_and_exception_capacity() -> None:
    events = _events()
    master = _weekly(events, capacity=8)
    assert master["recurrence"][0].startswith("RRULE:")
    listed = events.list_group_events("cfg", start_time=START - 1, end_time=START + 6 * WEEK)
    local = [datetime.fromtimestamp(e["when"]["start_time"], NY) for e in listed]
    assert [d.strftime("%m-%d %H:%M") for d in local] == [
        "10-19 09:00",
        "11-02 09:00",
        "11-09 09:00",
    ]
    assert [e["id"] for e in listed] == [
        "ev1_20261019T130000Z",
        "ev1_20261102T140000Z",
        "ev1_20261109T140000Z",
    ]
    assert {e["master_event_id"] for e in listed} == {"ev1"}
    # an exception: one instance gets its own capacity
    updated = events.update_group_event("cfg", "ev1_20261102T140000Z", {"capacity": 3})
    assert updated["capacity"] == 3
    caps = {
        e["id"]: e["capacity"]
        for e in events.list_group_events("cfg", start_time=START, end_time=START + 6 * WEEK)
    }
    assert caps == {
        "ev1_20261019T130000Z": 8,
        "ev1_20261102T140000Z": 3,
        "ev1_20261109T140000Z": 8,
    }
    assert events.get_group_event("cfg", "ev1")["group_event_info"]["exceptions"] == [
        {"event_id": "ev1_20261102T140000Z", "capacity": 3}
    ]


def test_put_replaces_when_patch_merges() -> None:
    events = _events()
    events.create_group_event("g", "cfg", _body())
    patched = events.update_group_event(
        "cfg", "ev1", {"when": {"end_time": START + 7200}}, merge=True
    )
    assert patched["when"]["start_time"] == START
    assert patched["when"]["start_timezone"] == "America/New_York"
    with pytest.raises(EmulatorError, match="start_time"):
        events.update_group_event(
            "cfg", "ev1", {"when": {"end_time": START + 7200}}
        )  # PUT: whole object
    put = events.update_group_event(
        "cfg", "ev1", {"when": {"start_time": START, "end_time": START + 60}}
    )
    assert "start_timezone" not in put["when"]
    assert put["title"] == "Yoga"  # fields absent from the body stay


def test_delete_instance_and_master() -> None:
    events = _events()
    _weekly(events)
    events.delete_group_event("cfg", "ev1_20261019T130000Z")
    ids = [
        e["id"]
        for e in events.list_group_events("cfg", start_time=START, end_time=START + 9 * WEEK)
    ]
    assert "ev1_20261019T130000Z" not in ids and len(ids) == 2
    events.delete_group_event("cfg", "ev1")
    assert events.list_group_events("cfg", start_time=START, end_time=START + 9 * WEEK) == []
    with pytest.raises(EmulatorError) as info:
        events.delete_group_event("cfg", "ev1")
    assert info.value.status == 404


# --------------------------------------------------------------------------- import


def test_import_failures_per_event_and_limit() -> None:
    events = _events()
    events.add_event("g", "primary", START, START + 60, title="Book club", event_id="cal1")
    events.add_event("g", "primary", START + WEEK, START + WEEK + 60, event_id="cal2")
    events.add_event("g", "primary", START, START + 60, event_id="gone", status="cancelled")
    first = events.import_group_events(
        "g",
        "big",
        [
            {"event_id": "cal1", "calendar_id": "primary", "capacity": 4},
            {
                "event_id": "cal2",
                "participants": [{"email": "host@example.com", "is_organizer": True}],
                "exceptions": [{"event_id": "cal2_20261026T130000Z", "capacity": 2}],
            },
            {"event_id": "ghost", "calendar_id": "primary"},
            {"event_id": "gone", "calendar_id": "primary"},
        ],
        calendar_id="primary",
    )
    assert first == {
        "imported_events": [{"event_id": "cal1"}, {"event_id": "cal2"}],
        "import_failed": [
            {"event_id": "ghost", "reason": "Event not found"},
            {"event_id": "gone", "reason": "Event not found"},
        ],
    }
    again = events.import_group_events("g", "cfg", {"event_id": "cal1", "calendar_id": "primary"})
    assert again == {
        "imported_events": [],
        "import_failed": [{"event_id": "cal1", "reason": "Event already imported"}],
    }
    listed = events.list_group_events("big", start_time=START, end_time=START + 3 * WEEK)
    assert [(e["id"], e["title"], e["capacity"]) for e in listed] == [
        ("cal1", "Book club", 4),
        ("cal2", "", 25),  # the configuration's default capacity
    ]
    assert listed[1]["participants"] == [{"email": "host@example.com", "is_organizer": True}]
    assert listed[1]["group_event_info"]["exceptions"] == [
        {"event_id": "cal2_20261026T130000Z", "capacity": 2}
    ]
    too_many = [{"event_id": f"e{i}", "calendar_id": "primary"} for i in range(21)]
    with pytest.raises(EmulatorError, match="at most 20"):
        events.import_group_events("g", "cfg", too_many)
    with pytest.raises(EmulatorError, match="capacity"):
        events.import_group_events(
            "g", "cfg", [{"event_id": "x", "calendar_id": "primary", "capacity": 0}]
        )


# --------------------------------------------------------------------------- validate-timeslot


def _slot(events: _Store, index: int = 0) -> dict[str, Any]:
    instances = events.group_instances("cfg", START - 1, START + 9 * WEEK)
    slots = group_availability(instances, start_time=START - 1, end_time=START + 9 * WEEK, now=NOW)
    return dict(slots.group_slots[index])


def test_validate_timeslot_ok_changed_deleted_full() -> None:
    events = _events()
    _weekly(events, capacity=1)
    slot = _slot(events)
    assert slot["event_id"] == "ev1_20261019T130000Z" and slot["master_id"] == "ev1"
    events.validate_group_timeslot("cfg", slot)  # fine
    # master_event_id spelling works too
    events.validate_group_timeslot(
        "cfg", {**{k: v for k, v in slot.items() if k != "master_id"}, "master_event_id": "ev1"}
    )
    with pytest.raises(EmulatorError, match="changed"):
        events.validate_group_timeslot("cfg", {**slot, "start_time": slot["start_time"] + 60})
    events.update_group_event(
        "cfg", slot["event_id"], {"when": {"start_time": START + 600}}, merge=True
    )
    with pytest.raises(EmulatorError, match="changed"):
        events.validate_group_timeslot("cfg", slot)
    slot = _slot(events)
    events.take_group_seat("cfg", "b1", slot, guest_email="g@example.com")
    with pytest.raises(EmulatorError) as info:
        events.validate_group_timeslot("cfg", slot)
    assert (info.value.status, info.value.message) == (409, "Event is full")
    events.delete_group_event("cfg", slot["event_id"])
    with pytest.raises(EmulatorError, match="deleted") as gone:
        events.validate_group_timeslot("cfg", slot)
    assert gone.value.status == 404
    with pytest.raises(EmulatorError, match="deleted"):
        events.validate_group_timeslot("cfg", {**slot, "event_id": "ev1_20261020T130000Z"})


def test_capacity_lowered_below_shown_seats_is_a_change() -> None:
    events = _events()
    events.create_group_event("g", "cfg", _body(capacity=5))
    slot = _slot(events)
    events.update_group_event("cfg", "ev1", {"capacity": 2})
    with pytest.raises(EmulatorError, match="changed"):
        events.validate_group_timeslot("cfg", slot)


# --------------------------------------------------------------------------- seats


def test_seats_take_free_move_and_availability() -> None:
    events = _events()
    _weekly(events, capacity=2)
    first, second = _slot(events, 0), _slot(events, 1)
    events.take_group_seat("cfg", "b1", first, guest_email="a@example.com")
    events.take_group_seat("cfg", "b1", first)  # idempotent for one booking
    assert _slot(events, 0)["capacity"] == 1
    events.take_group_seat("cfg", "b2", first)
    slots = group_availability(
        events.group_instances("cfg", START - 1, START + 9 * WEEK),
        start_time=START - 1,
        end_time=START + 9 * WEEK,
        now=NOW,
    ).group_slots
    assert first["event_id"] not in [s["event_id"] for s in slots]  # full: hidden
    with pytest.raises(EmulatorError, match="Event is full"):
        events.take_group_seat("cfg", "b3", first)
    assert events.free_group_seat("b2") and not events.free_group_seat("b2")
    # move b1 to the next instance; a full target keeps the old seat
    moved = events.move_group_seat("cfg", "b1", second)
    assert moved.event_id == second["event_id"] and moved.booked == 1
    assert events.group_seat_of("b1") == second["event_id"]
    events.take_group_seat("cfg", "b4", second)
    events.take_group_seat("cfg", "b5", first)
    events.take_group_seat("cfg", "b6", first)
    with pytest.raises(EmulatorError, match="Event is full"):
        events.move_group_seat("cfg", "b4", first)
    assert events.group_seat_of("b4") == second["event_id"]
    # deleting the event returns the seated bookings and frees their seats
    assert sorted(events.delete_group_event("cfg", "ev1")) == ["b1", "b4", "b5", "b6"]
    assert events.group_seat_of("b1") is None


def test_availability_notice_window_and_fields() -> None:
    events = _events()
    events.create_group_event("g", "cfg", _body(capacity=3))
    inst = events.group_instances("cfg", START - 1, START + 7200)
    near = group_availability(inst, start_time=START - 1, end_time=START + 7200, now=START - 600)
    assert near.to_json()["time_slots"][0] == {
        "emails": ["host@example.com"],
        "start_time": START,
        "end_time": START + 3600,
        "event_id": "ev1",
        "calendar_id": "primary",
        "capacity": 3,
    }
    notice = group_availability(
        inst, start_time=START - 1, end_time=START + 7200, now=START - 600, min_booking_notice=15
    )
    assert notice.to_json() == {"time_slots": []}


def _widen_the_race(events: _Store) -> None:
    """Hold each take between its read ("a seat is free") and its write: without the seat lock,
    other takes then read the same free seat (under the GIL the window is otherwise too short)."""
    events.before_seat_write = lambda: time.sleep(0.001)


def test_race_200_threads_for_10_seats() -> None:
    events = _events()
    events.create_group_event("g", "cfg", _body(capacity=10))
    _widen_the_race(events)
    slot = _slot(events)
    barrier = threading.Barrier(8)
    results: list[str] = []
    lock = threading.Lock()

    def book(i: int) -> None:
        if i < 8:
            barrier.wait()
        try:
            events.take_group_seat("cfg", f"b{i}", slot)
            outcome = "ok"
        except EmulatorError as exc:
            outcome = exc.message
        with lock:
            results.append(outcome)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(book, range(200)))
    assert results.count("ok") == 10
    assert results.count("Event is full") == 190
    assert _slot_capacity(events) == 0


def _slot_capacity(events: _Store) -> int:
    inst = events.group_instances("cfg", START - 1, START + 3600)
    return inst[0].remaining


async def test_race_200_tasks_for_10_seats() -> None:
    events = _events()
    events.create_group_event("g", "cfg", _body(capacity=10))
    _widen_the_race(events)
    slot = _slot(events)
    start = asyncio.Event()

    async def book(i: int) -> str:
        await start.wait()
        # hop through a worker thread so the takes really interleave
        try:
            await asyncio.to_thread(events.take_group_seat, "cfg", f"b{i}", slot)
        except EmulatorError as exc:
            return exc.message
        return "ok"

    tasks = [asyncio.create_task(book(i)) for i in range(200)]
    start.set()
    outcomes = await asyncio.gather(*tasks)
    assert outcomes.count("ok") == 10
    assert outcomes.count("Event is full") == 190


# --------------------------------------------------------------------------- configurations


def test_group_configuration_validation() -> None:
    data = validate_group_configuration(
        {"type": "group", "name": "Class", "group_booking": {"calendar_id": "primary"}}
    )
    assert data["group_booking"] == {
        "calendar_id": "primary",
        "booking_type": "booking",
        "default_capacity": 10,
    }
    assert data["type"] == "group"
    for bad, message in [
        ({"group_booking": {"calendar_id": "primary", "default_capacity": 501}}, "between"),
        ({"group_booking": {"calendar_id": "primary", "default_capacity": 0}}, "between"),
        ({"group_booking": {}}, "calendar_id"),
        ({}, "group_booking"),
        (
            {"group_booking": {"calendar_id": "p", "booking_type": "organizer-confirmation"}},
            "booking",
        ),
        (
            {
                "group_booking": {
                    "calendar_id": "p",
                    "reminders": [{"type": "sms", "minutes_before_event": 5}],
                }
            },
            "email or webhook",
        ),
        ({"group_booking": {"calendar_id": "p"}, "participants": []}, "no participants"),
        ({"type": "standard", "group_booking": {"calendar_id": "p"}}, "type"),
    ]:
        with pytest.raises(EmulatorError, match=message):
            validate_group_configuration(bad)
    updated = validate_group_configuration(
        {"group_booking": {"default_capacity": 40}}, current=data
    )
    assert updated["group_booking"]["default_capacity"] == 40
    assert updated["group_booking"]["calendar_id"] == "primary"
    assert updated["name"] == "Class"
