"""Group configurations and group bookings in the store: the :class:`GroupStoreMixin`.

The mixin sits on top of :class:`~.group_events.GroupEventsMixin` (the group events and their
seats) and :class:`~.bookings.BookingsMixin`, whose availability and booking calls ask it (its
``_takes_seats`` and seat hooks) what to do for the configuration's ``type``:

* ``type: "group"`` configurations are validated by
  :func:`~.validation.validate_group_configuration` (``group_booking.default_capacity`` 1-500,
  default 10) and stored next to the standard ones (one list, one id space, one slug space).
* Their group events live in the store (:attr:`~.group_events.GroupEventsMixin.group_events`),
  are reset with it, and deleting a configuration forgets its group events.
* Availability of a group configuration is the group events in the window with their remaining
  seats (``event_id``, ``master_id``, ``calendar_id``, ``capacity``); the standard engine never
  runs for it.  ``scheduler.min_booking_notice`` (default 60 minutes) and
  ``scheduler.available_days_in_future`` (default 30) apply as for standard configurations.
* Booking a group slot takes one seat under the store's lock: of concurrent bookings of the
  last seat exactly one wins, the others get 409 ``timeslot_not_available`` ``"Event is full"``.
  Cancelling, deleting or rejecting frees the seat; rescheduling moves it (all or nothing).
  No calendar event is written: the group event is the shared event,
  and a booking's ``event_id`` is the instance it holds a seat on.
* A configuration of another ``type`` (seeded with :meth:`GroupStoreMixin.put_raw_configuration`)
  lists and reads as stored; its availability and bookings are a 400.

No aiohttp here.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from scheduler_async.emulator.bookings import BookingsMixin
from scheduler_async.emulator.clock import Clock
from scheduler_async.emulator.engine import AvailabilityResult
from scheduler_async.emulator.entities import Booking, GroupInstance, StoredConfiguration
from scheduler_async.emulator.errors import EmulatorError
from scheduler_async.emulator.group_engine import group_availability
from scheduler_async.emulator.group_events import (
    GROUP_EVENT_DELETED_REASON,
    GroupEventsMixin,
    config_kind,
)
from scheduler_async.emulator.validation import (
    DEFAULT_AVAILABLE_DAYS_IN_FUTURE,
    DEFAULT_MIN_BOOKING_NOTICE,
    validate_group_configuration,
)

__all__ = ["GROUP_EVENT_DELETED_REASON", "GroupStoreMixin", "config_kind"]


class GroupStoreMixin(GroupEventsMixin, BookingsMixin):
    """Group configurations, their group events and group bookings."""

    def __init__(self, clock: Clock | None = None, *, strict: bool = False) -> None:
        super().__init__(clock, strict=strict)
        self._group_bookings: set[str] = set()

    def reset(self) -> None:
        """Forget everything, group bookings included (the clock is not touched)."""
        with self.lock:
            super().reset()
            self._group_bookings.clear()

    def is_group_booking(self, booking_id: str) -> bool:
        """True if the booking was made on a group slot (holds or held a seat)."""
        with self.lock:
            return booking_id in self._group_bookings

    # ----------------------------------------------------------------- configurations

    def create_configuration(self, grant_id: str, body: Mapping[str, Any]) -> StoredConfiguration:
        """Create a standard or (``type: "group"``) group configuration."""
        if body.get("type") != "group":
            return super().create_configuration(grant_id, body)
        data = validate_group_configuration(body)
        with self.lock:
            return self._store_new(self.get_grant(grant_id).grant_id, data)

    def update_configuration(
        self, grant_id: str, configuration_id: str, body: Mapping[str, Any]
    ) -> StoredConfiguration:
        """PUT a configuration; its ``type`` cannot change (400)."""
        with self.lock:
            stored = self.get_configuration(grant_id, configuration_id)
            kind = config_kind(stored.data)
            wanted = config_kind(body) if "type" in body else kind
            if wanted != kind:
                raise EmulatorError.invalid(
                    f"the type of a configuration cannot change ({kind!r} to {wanted!r})"
                )
            if kind == "standard":
                return super().update_configuration(grant_id, configuration_id, body)
            if kind != "group":
                raise EmulatorError.invalid(f"configuration type {kind!r} is not supported")
            return self._store_update(
                stored, validate_group_configuration(body, current=stored.data)
            )

    def delete_configuration(self, grant_id: str, configuration_id: str) -> None:
        """Delete a configuration and, for a group one, its group events."""
        with self.lock:
            super().delete_configuration(grant_id, configuration_id)
            self._forget_group_events(configuration_id)

    def put_raw_configuration(
        self, grant_id: str, data: Mapping[str, Any], *, configuration_id: str | None = None
    ) -> StoredConfiguration:
        """Seed a configuration as given, without validation (e.g. of a type not known yet)."""
        with self.lock:
            grant = self.get_grant(grant_id, provision=True)
            fields = {k: v for k, v in data.items() if k not in ("id", "ID")}
            stored = StoredConfiguration(
                configuration_id or str(uuid.uuid4()), grant.grant_id, fields, next(self._seq)
            )
            self.configurations[stored.configuration_id] = stored
            return stored

    # ----------------------------------------------------------------- availability

    @staticmethod
    def _scheduler_int(stored: StoredConfiguration, name: str, default: int) -> int:
        scheduler = stored.data.get("scheduler")
        value = scheduler.get(name) if isinstance(scheduler, dict) else None
        return value if isinstance(value, int) and not isinstance(value, bool) else default

    def _seat_availability(
        self, stored: StoredConfiguration, start: int, end: int, booking_id: str | None
    ) -> AvailabilityResult:
        """The group events of ``stored`` in the window with free seats; ``booking_id`` (a
        booking being rescheduled) counts that booking's own seat as free."""
        configuration_id = stored.configuration_id
        with self.lock:
            own_seat = None
            if booking_id is not None:
                self._get_booking(booking_id, configuration_id)
                own_seat = self.group_seat_of(booking_id)
            now = self.clock.now()
            notice = self._scheduler_int(stored, "min_booking_notice", DEFAULT_MIN_BOOKING_NOTICE)
            days = self._scheduler_int(
                stored, "available_days_in_future", DEFAULT_AVAILABLE_DAYS_IN_FUTURE
            )
        instances = [
            replace(inst, booked=inst.booked - 1) if inst.event_id == own_seat else inst
            for inst in self.group_instances(configuration_id, start, end)
        ]
        return group_availability(
            instances,
            start_time=start,
            end_time=min(end, now + days * 86_400),
            now=now,
            min_booking_notice=notice,
        )

    # ----------------------------------------------------------------- bookings

    def _takes_seats(self, stored: StoredConfiguration) -> bool:
        kind = config_kind(stored.data)
        if kind not in ("standard", "group"):
            raise EmulatorError.invalid(f"configuration type {kind!r} is not supported")
        return kind == "group"

    def _book_seat(self, booking: Booking, slot: Mapping[str, Any]) -> None:
        email = str(booking.guest.get("email") or "")
        inst = self.take_group_seat(
            booking.configuration_id, booking.booking_id, slot, guest_email=email
        )
        grant = self.grants.get(booking.grant_id)
        _seat_on(booking, inst)
        booking.organizer_email = (
            inst.emails[0] if inst.emails else (grant.email if grant else "") or ""
        )
        booking.participants = list(inst.emails)
        self._group_bookings.add(booking.booking_id)

    def _move_seat(self, booking: Booking, slot: Mapping[str, Any]) -> None:
        email = str(booking.guest.get("email") or "")
        inst = self.move_group_seat(
            booking.configuration_id, booking.booking_id, slot, guest_email=email
        )
        _seat_on(booking, inst)

    def _check_cancellation_notice(self, stored: StoredConfiguration, booking: Booking) -> None:
        notice = self._scheduler_int(stored, "min_cancellation_notice", 0)
        if notice and booking.start_time - self.clock.now() < notice * 60:
            raise EmulatorError.invalid(
                f"bookings can only be cancelled or rescheduled at least {notice} minutes "
                "before they start"
            )

    def _release_booking(self, booking: Booking) -> None:
        # A group booking shares the group event: it gives back its seat, the event stays.
        if booking.booking_id in self._group_bookings:
            self.free_group_seat(booking.booking_id)
        else:
            super()._release_booking(booking)


def _seat_on(booking: Booking, inst: GroupInstance) -> None:
    """Point ``booking`` at the group event instance it holds a seat on."""
    booking.event_id, booking.calendar_id = inst.event_id, inst.calendar_id
    booking.start_time, booking.end_time = inst.start_time, inst.end_time
    booking.title = inst.title
