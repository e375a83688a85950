"""A calendar's events stay sorted by start as they are written, whoever writes them."""

from __future__ import annotations

import copy
import pickle
import random

from scheduler_async.emulator.entities import Calendar, Event, EventIndex
from scheduler_async.emulator.store import FakeClock, Store

from .support import HOUR, T0, round_robin_body


def _ev(i: int, start: int, end: int) -> Event:
    return Event(f"e{i}", "g", "primary", start, end)


def _expected(index: EventIndex) -> list[str]:
    return [
        e.event_id
        for e in sorted(index.values(), key=lambda e: (e.start_time, e.end_time, e.event_id))
    ]


def test_every_dict_write_and_every_move_keeps_the_order() -> None:
    rng = random.Random(7)
    index = EventIndex()
    for i in range(300):
        s = rng.randrange(0, 10_000)
        op = rng.randrange(7)
        if op == 0:
            index.setdefault(f"e{i}", _ev(i, s, s + 30))
        elif op == 1:
            index.update({f"e{i}": _ev(i, s, s + 30)})
        elif op == 2 and index:
            index.pop(rng.choice(list(index)))
        elif op == 3 and index:
            del index[rng.choice(list(index))]
        elif op == 4 and index:  # an event moved in place (a reschedule)
            moved = index[rng.choice(list(index))]
            moved.start_time, moved.end_time = s, s + rng.randrange(1, 90)
        elif op == 5 and index:  # replaced under the same id
            old = rng.choice(list(index))
            index[old] = Event(old, "g", "primary", s, s + 5)
        else:
            index[f"e{i}"] = _ev(i, s, s + 30)
        assert [e.event_id for e in index.in_order()] == _expected(index)
    lo, hi = 2_000, 6_000
    assert [e.event_id for e in index.overlapping(lo, hi)] == [
        e for e in _expected(index) if index[e].start_time < hi and index[e].end_time > lo
    ]
    gone = next(iter(index.values()))
    index.pop(gone.event_id)
    gone.start_time = -1  # no longer indexed: moving it touches nothing
    assert [e.event_id for e in index.in_order()] == _expected(index)
    index.clear()
    assert list(index.in_order()) == [] and not index


def test_copies_are_indexed_by_their_own_calendar() -> None:
    cal = Calendar("primary", "g", events={"e1": _ev(1, 50, 60), "e2": _ev(2, 10, 20)})
    assert isinstance(cal.events, EventIndex)
    for twin in (copy.deepcopy(cal), pickle.loads(pickle.dumps(cal))):
        assert [e.event_id for e in twin.events.in_order()] == ["e2", "e1"]
        twin.events["e2"].start_time = 100  # moves in the copy only
        assert [e.event_id for e in twin.events.in_order()] == ["e1", "e2"]
    assert [e.event_id for e in cal.events.in_order()] == ["e2", "e1"]


def test_round_robin_availability_follows_events_written_and_moved_out_of_order() -> None:
    store = Store(FakeClock(T0 - 86_400))
    for host in ("ann", "bob"):
        store.add_grant(f"grant-{host}", email=f"{host}@example.com")
    config = store.create_configuration("g0", round_robin_body("max-availability"))
    before = store.availability(config.configuration_id, T0, T0 + 86_400)
    events = []
    for hour in (15, 9, 12, 10):  # written out of order, on both hosts
        for host in ("ann", "bob"):
            start = T0 + hour * HOUR
            events.append(store.add_event(f"grant-{host}", "primary", start, start + HOUR))
    busy = store.availability(config.configuration_id, T0, T0 + 86_400)
    assert len(busy.time_slots) < len(before.time_slots)
    for ev in events:  # moved in place, far away: the day is free again
        ev.start_time, ev.end_time = ev.start_time + 30 * 86_400, ev.end_time + 30 * 86_400
    assert store.availability(config.configuration_id, T0, T0 + 86_400) == before


def test_blocking_follows_status_busy_and_times_as_they_change() -> None:
    index = EventIndex()
    long_ago = Event("old", "g", "primary", 0, 10_000)  # long: still overlaps the window
    a, b, c = _ev(1, 500, 600), _ev(2, 100, 200), _ev(3, 5_000, 5_100)
    for ev in (c, a, b, long_ago):
        index[ev.event_id] = ev
    assert index.blocking(50, 1_000) == [(0, 10_000), (100, 200), (500, 600)]
    a.status = "tentative"
    assert index.blocking(50, 1_000) == [(0, 10_000), (100, 200), (500, 600)]
    assert index.blocking(50, 1_000, tentative=False) == [(0, 10_000), (100, 200)]
    b.status = "cancelled"
    long_ago.busy = False
    assert index.blocking(50, 1_000) == [(500, 600)]
    assert index.blocking(50, 1_000, exclude="e1") == []
    c.start_time, c.end_time = 700, 800
    assert index.blocking(50, 1_000) == [(500, 600), (700, 800)]
    assert index.blocking(600, 700) == []  # touching ends do not overlap
