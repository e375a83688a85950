"""Restoring the same snapshot again, fast: put back what changed since the last restore.

A test fixture restores the *same* snapshot before every test.  After the first restore has
built the records from the snapshot's JSON, :class:`RecordTemplate` keeps them (grants,
calendars with their sorted event indexes, events, bookings) and a :class:`Journal` watches
them: a record's first write since a restore hands the journal a copy of its fields (see
:class:`~.entities.Journaled`), an event index's first write a copy of its contents.  The next
restore of the same bytes puts those copies back and refills the store's containers from the
template, so its cost follows what the test changed, not the size of the world.  The other
parts (configurations, sessions, group events, seats, sequence, clock, webhooks) load from the
parsed JSON as usual.

The store replaces the nested values of these records (a booking's guest, an event's
``extra``) and never mutates them in place, so a record's shallow copy is its whole state.
Records the test created are dropped with the containers that held them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from scheduler_async.emulator.state_parts import PARTS

if TYPE_CHECKING:
    from scheduler_async.emulator.entities import Booking, Calendar, Event, Grant, Journaled
    from scheduler_async.emulator.event_index import EventIndex
    from scheduler_async.emulator.store import Store

__all__ = ["COPIED_PARTS", "HandsOver", "Journal", "RecordTemplate"]

#: The parts a :class:`RecordTemplate` keeps (the others load from the snapshot's JSON).
COPIED_PARTS = frozenset({"grants", "events", "bookings"})


@runtime_checkable
class HandsOver(Protocol):
    """A store listener that learned from the records (``resync``) and can hand what it
    learned over, to be given it back when a restore brings the same records back."""

    def saved(self) -> Any:
        """A copy of what it learned."""

    def put_back(self, saved: Any) -> None:
        """Know again what :meth:`saved` returned."""


class Journal:
    """The state of watched records and event indexes before their first write since the
    last :meth:`rollback`."""

    __slots__ = ("_indexes", "_records")

    def __init__(self) -> None:
        self._records: list[tuple[Journaled, dict[str, Any]]] = []
        self._indexes: list[tuple[EventIndex, Any]] = []

    def watch(self, record: Journaled) -> None:
        """Start watching ``record`` (its next write is saved first)."""
        record.__dict__["_journal"] = self

    def save(self, record: Journaled) -> None:
        """Keep ``record``'s fields as they are (it is about to be written); stop watching it
        until the rollback."""
        fields = record.__dict__
        saved = fields.copy()  # keeps the mark: put back, the record is watched again
        if fields.pop("_journal", None) is self:  # once, even if two threads write at once
            self._records.append((record, saved))

    def watch_index(self, index: EventIndex) -> None:
        """Start watching ``index`` (its next write is saved first)."""
        index._journal = self

    def save_index(self, index: EventIndex) -> None:
        """Keep ``index``'s contents as they are (it is about to be written)."""
        self._indexes.append((index, index.state()))

    @property
    def changed(self) -> int:
        """How many records and indexes were written since the last rollback."""
        return len(self._records) + len(self._indexes)

    def rollback(self) -> None:
        """Put every saved record and index back as it was, and watch them again."""
        records, indexes = self._records, self._indexes
        self._records, self._indexes = [], []
        for record, fields in records:
            record.__dict__ = fields
        for index, state in indexes:
            index.put_back(state, self)


_Containers = tuple[
    dict[str, "Grant"],
    dict[str, str],
    dict[str, "Event"],
    dict[str, "Booking"],
    dict[str, list[str]],
    dict[str, dict[str, "Calendar"]],
]


class RecordTemplate:
    """The records a store was just loaded with, watched so that they can be restored again."""

    def __init__(self, store: Store) -> None:
        journal = self._journal = Journal()
        with store.lock:
            grants = store.grants
            for grant in grants.values():
                journal.watch(grant)
                for calendar in grant.calendars.values():
                    journal.watch(calendar)
                    journal.watch_index(calendar.events)
            for event in store.events.values():
                journal.watch(event)
            for booking in store.bookings.values():
                journal.watch(booking)
            self._containers: _Containers = (
                dict(grants),
                dict(store._grant_by_email),
                dict(store.events),
                dict(store.bookings),
                {k: list(v) for k, v in store._bookings_by_config.items()},
                {grant_id: dict(grant.calendars) for grant_id, grant in grants.items()},
            )
            # Listeners that learned from the records (``resync``) and can hand that over
            # (``saved``/``put_back``) are given it back instead of learning it again.
            self._listeners: list[tuple[HandsOver, Any]] = []
            for listener in store._listeners:
                if isinstance(listener, HandsOver):
                    self._listeners.append((listener, listener.saved()))

    def load(self, store: Store, parts: Mapping[str, Any]) -> None:
        """Replace ``store``'s state with the template's records and the other ``parts``.

        ``parts`` is the parse of the snapshot the template was taken from (loaded once
        already, so known to be well formed).
        """
        grants, by_email, events, bookings, by_config, calendars = self._containers
        with store.lock:
            store.reset()
            self._journal.rollback()
            for grant_id, grant in grants.items():
                held = grant.calendars  # a calendar added to it in place goes
                held.clear()
                held.update(calendars[grant_id])
            store.grants.update(grants)
            store._grant_by_email.update(by_email)
            store.events.update(events)
            store.bookings.update(bookings)
            store._bookings_by_config.update({k: list(v) for k, v in by_config.items()})
            for p in PARTS:
                if p.name not in COPIED_PARTS and p.name in parts:
                    p.load(store, parts[p.name])
            kept = {id(listener): saved for listener, saved in self._listeners}
            for listener in store._listeners:
                if isinstance(listener, HandsOver) and id(listener) in kept:
                    listener.put_back(kept[id(listener)])
                    continue
                resync = getattr(listener, "resync", None)
                if callable(resync):
                    resync()
