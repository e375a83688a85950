"""Emulator state: grants, calendars, events, configurations, sessions and bookings.

The store is the single source of truth behind the HTTP app and the Python seeding API.
:class:`Store` combines :class:`~.state.StoreBase` (lock, clock, records, hooks, grants and
events) with :class:`~.configurations.ConfigurationsMixin` and :class:`~.bookings.BookingsMixin`,
under :class:`~.group_store.GroupStoreMixin` (group configurations and bookings, ``store.group``);
the records live in :mod:`.entities`, the rules and defaults in :mod:`.validation`, the clocks in
:mod:`.clock` and the error in :mod:`.errors`.  This module re-exports all of them, so
``from scheduler_async.emulator.store import Store, Clock, FakeClock, EmulatorError, Booking``
keeps working.  Every
public method takes one re-entrant lock, so tests may seed it from their own thread while the
server runs on the emulator thread.  Operations that must be atomic (check a slot, then write the
booking event) run entirely under that lock.  No aiohttp here.

Errors are raised as :class:`EmulatorError` carrying the HTTP status and the envelope ``type``;
the app turns them into ``{"request_id", "error": {"type", "message"}}``.

Choices this module makes (the real service leaves them unconfirmed):

* Busy time of a participant comes from its grant: the participant's ``grant_id``; else, for the
  organizer, the configuration's own grant; else a grant whose email matches; else none (never
  busy).  Only its ``availability.calendar_ids`` count (``"primary"`` = the grant's primary
  calendar); events with ``busy`` true count unless cancelled, tentative ones only when
  ``availability_rules.tentative_as_busy`` is not false.
* Live (``booked``/``pending``) bookings of a configuration always count as busy for the host
  they were booked with, even if that host's calendars are not checked, so a configuration never
  double-books its own organizer.
* Booking a slot that availability does not offer: 409 ``conflict`` when a live booking of one of
  the configuration's participants overlaps it (the slot was just taken), else 400
  ``invalid_request_error``.
* Deleting a configuration that has live sessions: 409 ``conflict``.  Duplicate slug: 409.
* ``PUT`` confirm/cancel with a well-formed salt that does not match: 403 ``forbidden``; a salt
  that is not URL-safe base64: 400.  A booking that is not ``pending``: 400.
* ``DELETE`` removes a booking: later ``GET``/``DELETE`` answer 404.  A pending booking declined
  with ``PUT status=cancelled`` stays readable with ``status: "cancelled"``.
* ``min_cancellation_notice`` is enforced (400) on ``DELETE`` and on reschedule (``PATCH``).
* Session ``time_to_live`` is minutes, 1..30 (default 5); an expired or deleted session is 401.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scheduler_async.emulator.bookings import SALT_BYTES, BookingsMixin
from scheduler_async.emulator.clock import Clock, FakeClock
from scheduler_async.emulator.configurations import ConfigurationsMixin
from scheduler_async.emulator.entities import (
    LIVE_BOOKING_STATUSES,
    Booking,
    Calendar,
    Event,
    Grant,
    Session,
    StoredConfiguration,
)
from scheduler_async.emulator.errors import EmulatorError
from scheduler_async.emulator.group_store import GroupStoreMixin
from scheduler_async.emulator.state import Listener
from scheduler_async.emulator.validation import (
    AVAILABILITY_METHODS,
    BOOKING_TYPES,
    DEFAULT_PAGE_LIMIT,
    DEFAULT_SESSION_TTL_MINUTES,
    EMAIL_LANGUAGES,
    MAX_PAGE_LIMIT,
    MAX_SESSION_TTL_MINUTES,
    ROUND_ROBIN_METHODS,
    normalize_configuration,
)

if TYPE_CHECKING:
    from scheduler_async.emulator.webhook_delivery import WebhookHub

__all__ = [
    "AVAILABILITY_METHODS",
    "BOOKING_TYPES",
    "DEFAULT_PAGE_LIMIT",
    "DEFAULT_SESSION_TTL_MINUTES",
    "EMAIL_LANGUAGES",
    "LIVE_BOOKING_STATUSES",
    "MAX_PAGE_LIMIT",
    "MAX_SESSION_TTL_MINUTES",
    "ROUND_ROBIN_METHODS",
    "SALT_BYTES",
    "Booking",
    "Calendar",
    "Clock",
    "EmulatorError",
    "Event",
    "FakeClock",
    "Grant",
    "Listener",
    "Session",
    "Store",
    "StoredConfiguration",
    "normalize_configuration",
]


class Store(GroupStoreMixin, ConfigurationsMixin, BookingsMixin):
    """Thread-safe emulator state (see the module docstring for the rules).

    ``strict`` makes unknown grants a 404 (otherwise an unseen grant is provisioned on first use
    with an empty ``primary`` calendar).  The public dicts (``grants``, ``configurations``,
    ``sessions``, ``bookings``, ``events``) are for inspection; hold :attr:`lock` while iterating
    them if the server is running.
    """

    def __init__(self, clock: Clock | None = None, *, strict: bool = False) -> None:
        super().__init__(clock, strict=strict)
        self._webhook_hub: WebhookHub | None = None

    def webhook_hub(self, *, application_id: str = "scheduler-emulator") -> WebhookHub:
        """The store's webhook hub, created and wired on first use (``application_id`` then).

        It is subscribed to the store's booking changes and reset with it, and lives as long
        as the store, so webhooks survive an emulator restart like the rest of the state.
        """
        with self.lock:
            if self._webhook_hub is None:
                # Imported here: the store itself stays free of aiohttp.
                from scheduler_async.emulator.webhooks import attach_webhook_hub

                self._webhook_hub = attach_webhook_hub(self, application_id=application_id)
            return self._webhook_hub
