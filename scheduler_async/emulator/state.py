"""The store's shared state and its basic operations (``StoreBase``).

:class:`StoreBase` owns the lock, the clock, the record dictionaries and the extension hooks
(:meth:`StoreBase.on_reset`, :meth:`StoreBase.subscribe`), plus grants, calendar events and
configuration lookup.  The operations of each area live in a mixin subclass in its own module
(:mod:`.configurations`, :mod:`.bookings`); :class:`~scheduler_async.emulator.store.Store`
combines them.  No aiohttp here.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from scheduler_async.emulator.clock import Clock, unix_seconds
from scheduler_async.emulator.entities import (
    Booking,
    Calendar,
    Event,
    Grant,
    Session,
    StoredConfiguration,
)
from scheduler_async.emulator.errors import EmulatorError

__all__ = ["Listener", "StoreBase"]

#: A state-change listener: ``listener(kind, obj)`` (see :meth:`StoreBase.subscribe`).
Listener = Callable[[str, Any], None]


class StoreBase:
    """Thread-safe emulator state.

    ``strict`` makes unknown grants a 404 (otherwise an unseen grant is provisioned on first use
    with an empty ``primary`` calendar).  The public dicts (``grants``, ``configurations``,
    ``sessions``, ``bookings``, ``events``) are for inspection; hold :attr:`lock` while iterating
    them if the server is running.
    """

    def __init__(self, clock: Clock | None = None, *, strict: bool = False) -> None:
        self.clock: Clock = clock if clock is not None else Clock()
        self.strict = strict
        self.lock = threading.RLock()
        self.grants: dict[str, Grant] = {}
        self.events: dict[str, Event] = {}
        self.configurations: dict[str, StoredConfiguration] = {}
        self.sessions: dict[str, Session] = {}
        self.bookings: dict[str, Booking] = {}
        self._bookings_by_config: dict[str, list[str]] = {}
        self._grant_by_email: dict[str, str] = {}
        self._seq = itertools.count(1)
        self._reset_hooks: list[Callable[[], None]] = []
        self._listeners: list[Listener] = []

    # ----------------------------------------------------------------- extension hooks

    def on_reset(self, hook: Callable[[], None]) -> None:
        """Call ``hook()`` (under the lock) whenever :meth:`reset` clears the state.

        A feature that keeps its own state next to the store registers its ``reset`` here.
        """
        with self.lock:
            self._reset_hooks.append(hook)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(kind, obj)`` after each state change; returns an unsubscribe function.

        Kinds: ``configuration.created|updated|deleted`` (obj: :class:`StoredConfiguration`),
        ``session.created|deleted`` (:class:`Session`), ``booking.created|rescheduled|
        confirmed|cancelled|deleted`` (:class:`Booking`).  Listeners run synchronously under the
        store's lock, on whichever thread made the change: they must be quick and must not block
        (queue the work, e.g. a webhook delivery, and return).
        """
        with self.lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self.lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def _emit(self, kind: str, obj: object) -> None:
        for listener in list(self._listeners):
            listener(kind, obj)

    # ----------------------------------------------------------------- lifecycle

    def reset(self) -> None:
        """Forget everything (the clock is not touched)."""
        with self.lock:
            self.grants.clear()
            self.events.clear()
            self.configurations.clear()
            self.sessions.clear()
            self.bookings.clear()
            self._bookings_by_config.clear()
            self._grant_by_email.clear()
            self._seq = itertools.count(1)
            for hook in list(self._reset_hooks):
                hook()

    # ----------------------------------------------------------------- grants and events

    def add_grant(
        self,
        grant_id: str,
        *,
        email: str | None = None,
        calendars: Iterable[str] = (),
        primary_calendar_id: str = "primary",
    ) -> Grant:
        """Create (or extend) a grant with a primary calendar and extra calendars."""
        if not grant_id:
            raise EmulatorError.invalid("grant_id is required")
        with self.lock:
            grant = self.grants.get(grant_id)
            if grant is None:
                grant = Grant(grant_id, email, primary_calendar_id)
                grant.calendars[primary_calendar_id] = Calendar(
                    primary_calendar_id, grant_id, is_primary=True
                )
                self.grants[grant_id] = grant
            elif email is not None:
                if grant.email:
                    self._grant_by_email.pop(grant.email.lower(), None)
                grant.email = email
            if grant.email:
                self._grant_by_email[grant.email.lower()] = grant_id
            for cal_id in calendars:
                if cal_id != "primary" and cal_id not in grant.calendars:
                    grant.calendars[cal_id] = Calendar(cal_id, grant_id)
            return grant

    def get_grant(self, grant_id: str, *, provision: bool | None = None) -> Grant:
        """The grant ``grant_id``; ``email:<addr>``/``<addr>``/``grant:<id>`` forms accepted.

        Unknown grants are provisioned unless ``provision`` is false (default: not strict),
        otherwise 404.
        """
        if provision is None:
            provision = not self.strict
        with self.lock:
            key = grant_id.removeprefix("grant:")
            grant = self.grants.get(key)
            if grant is not None:
                return grant
            email: str | None = None
            if key.startswith("email:") or "@" in key:
                email = key.removeprefix("email:")
                found = self._grant_by_email.get(email.lower())
                if found is not None:
                    return self.grants[found]
            if not provision or not key:
                raise EmulatorError.not_found(f"grant {grant_id!r} not found")
            return self.add_grant(email or key, email=email)

    def add_event(
        self,
        grant_id: str,
        calendar_id: str,
        start_time: datetime | int,
        end_time: datetime | int,
        *,
        busy: bool = True,
        status: str = "confirmed",
        title: str = "",
        description: str = "",
        event_id: str | None = None,
    ) -> Event:
        """Put an event on a grant's calendar (``"primary"`` allowed).

        Times are aware datetimes or Unix seconds, as in the client. In lenient mode an unknown
        grant or calendar is created; in strict mode 404.
        """
        start = unix_seconds(start_time, "start_time")
        end = unix_seconds(end_time, "end_time")
        if start >= end:
            raise EmulatorError.invalid("start_time must be before end_time")
        if status not in ("confirmed", "tentative", "cancelled"):
            raise EmulatorError.invalid("status must be confirmed, tentative or cancelled")
        with self.lock:
            grant = self.get_grant(grant_id)
            calendar = grant.calendar(calendar_id)
            if calendar is None:
                if self.strict:
                    raise EmulatorError.not_found(f"calendar {calendar_id!r} not found")
                calendar = Calendar(calendar_id, grant.grant_id)
                grant.calendars[calendar_id] = calendar
            event = Event(
                event_id or uuid.uuid4().hex,
                grant.grant_id,
                calendar.calendar_id,
                start,
                end,
                busy=busy,
                status=status,
                title=title,
                description=description,
            )
            if event.event_id in self.events:
                raise EmulatorError.conflict(f"event {event.event_id!r} already exists")
            calendar.events[event.event_id] = event
            self.events[event.event_id] = event
            return event

    def remove_event(self, event_id: str) -> None:
        """Delete an event from its calendar (404 if unknown)."""
        with self.lock:
            event = self.events.pop(event_id, None)
            if event is None:
                raise EmulatorError.not_found(f"event {event_id!r} not found")
            grant = self.grants.get(event.grant_id)
            calendar = grant.calendars.get(event.calendar_id) if grant else None
            if calendar is not None:
                calendar.events.pop(event_id, None)

    def events_on(self, grant_id: str, calendar_id: str = "primary") -> list[Event]:
        """Events of one calendar, sorted by start time (cancelled ones included)."""
        with self.lock:
            grant = self.grants.get(grant_id)
            calendar = grant.calendar(calendar_id) if grant else None
            if calendar is None:
                return []
            return list(calendar.events.in_order())

    # ----------------------------------------------------------------- lookups

    def find_configuration(
        self, *, configuration_id: str | None = None, slug: str | None = None
    ) -> StoredConfiguration:
        """Look a configuration up by id or slug, across grants (404 if unknown)."""
        with self.lock:
            if configuration_id is not None:
                stored = self.configurations.get(configuration_id)
                if stored is None:
                    raise EmulatorError.not_found(f"configuration {configuration_id!r} not found")
                return stored
            if slug is not None:
                for stored in self.configurations.values():
                    if stored.slug == slug:
                        return stored
                raise EmulatorError.not_found(f"no configuration with slug {slug!r}")
        raise EmulatorError.invalid("configuration_id or slug is required")
