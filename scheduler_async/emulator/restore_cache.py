"""Restoring the same snapshot again, fast: copy the records the first restore built.

A test fixture restores the *same* snapshot before every test.  After the first restore has
built the records from the snapshot's JSON, :class:`RecordTemplate` keeps a private copy of
the bulk of them (grants, calendars with their sorted event indexes, events, bookings) that
the store never sees; each later restore hands the store a new shallow copy of that template
instead of rebuilding every record and re-sorting every calendar's events.  The other parts
(configurations, sessions, group events, seats, sequence, clock, webhooks) load from the
parsed JSON as usual.

No record is shared between restores (each gets new Grant, Calendar, EventIndex, Event and
Booking objects, and new lists for what the store mutates in place); nested values (a
booking's guest, an event's ``extra``) are shared, as with the reused parse: the store
replaces them and never mutates them in place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from scheduler_async.emulator.entities import Booking, Calendar, Event, Grant
from scheduler_async.emulator.state_parts import PARTS

if TYPE_CHECKING:
    from scheduler_async.emulator.store import Store

__all__ = ["COPIED_PARTS", "RecordTemplate"]

#: The parts a :class:`RecordTemplate` copies (the others load from the snapshot's JSON).
COPIED_PARTS = frozenset({"grants", "events", "bookings"})

_Records = tuple[
    dict[str, Grant], dict[str, str], dict[str, Event], dict[str, Booking], dict[str, list[str]]
]


def _copy(records: _Records) -> _Records:
    """New records equal to ``records`` (shallow: nested values shared, containers copied)."""
    grants, by_email, events, bookings, by_config = records
    new = object.__new__
    copies: dict[int, Event] = {}
    new_events: dict[str, Event] = {}
    for event_id, event in events.items():
        e = new(Event)
        e.__dict__.update(event.__dict__)
        new_events[event_id] = copies[id(event)] = e
    new_grants: dict[str, Grant] = {}
    for grant_id, grant in grants.items():
        g = new(Grant)
        g.__dict__.update(grant.__dict__)
        calendars: dict[str, Calendar] = {}
        for calendar_id, calendar in grant.calendars.items():
            for event in dict.values(calendar.events):
                if id(event) not in copies:  # not in store.events (never, but stay safe)
                    e = copies[id(event)] = new(Event)
                    e.__dict__.update(event.__dict__)
            c = new(Calendar)
            c.__dict__.update(calendar.__dict__)
            c.events = calendar.events.copy_with(copies)
            calendars[calendar_id] = c
        g.calendars = calendars
        new_grants[grant_id] = g
    new_bookings: dict[str, Booking] = {}
    for booking_id, booking in bookings.items():
        b = new(Booking)
        b.__dict__.update(booking.__dict__)
        new_bookings[booking_id] = b
    return (
        new_grants,
        dict(by_email),
        new_events,
        new_bookings,
        {k: list(v) for k, v in by_config.items()},
    )


class RecordTemplate:
    """A private copy of the records a store was just loaded with, to restore them again."""

    def __init__(self, store: Store) -> None:
        with store.lock:
            self._records = _copy(
                (
                    store.grants,
                    store._grant_by_email,
                    store.events,
                    store.bookings,
                    store._bookings_by_config,
                )
            )

    def load(self, store: Store, parts: Mapping[str, Any]) -> None:
        """Replace ``store``'s state with a copy of the template and the other ``parts``.

        ``parts`` is the parse of the snapshot the template was taken from (loaded once
        already, so known to be well formed).
        """
        with store.lock:
            store.reset()
            grants, by_email, events, bookings, by_config = _copy(self._records)
            store.grants.update(grants)
            store._grant_by_email.update(by_email)
            store.events.update(events)
            store.bookings.update(bookings)
            store._bookings_by_config.update(by_config)
            for p in PARTS:
                if p.name not in COPIED_PARTS and p.name in parts:
                    p.load(store, parts[p.name])
            for listener in store._listeners:
                resync = getattr(listener, "resync", None)
                if callable(resync):
                    resync()
