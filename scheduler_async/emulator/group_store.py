"""Group configurations and group bookings in the store: the :class:`GroupStoreMixin`.

The mixin sits on top of :class:`~.group_events.GroupEventsMixin` (the group events and their
seats) and :class:`~.bookings.BookingsMixin` and branches on the configuration's ``type``:

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

import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from scheduler_async.emulator.bookings import SALT_BYTES, BookingsMixin
from scheduler_async.emulator.clock import Clock
from scheduler_async.emulator.engine import AvailabilityResult
from scheduler_async.emulator.entities import Booking, StoredConfiguration
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
    EMAIL_LANGUAGES,
    check_timestamp,
    check_window,
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

    def availability(
        self,
        configuration_id: str,
        start_time: int,
        end_time: int,
        *,
        booking_id: str | None = None,
    ) -> AvailabilityResult:
        """Standard availability, or the group events of a group configuration with free seats.

        ``booking_id`` (a booking being rescheduled) counts that booking's own seat as free.
        """
        check_window(start_time, end_time)
        with self.lock:
            stored = self.find_configuration(configuration_id=configuration_id)
            kind = config_kind(stored.data)
        if kind == "standard":  # (computed outside the lock, see BookingsMixin)
            return super().availability(
                configuration_id, start_time, end_time, booking_id=booking_id
            )
        with self.lock:
            if kind != "group":
                raise EmulatorError.invalid(f"configuration type {kind!r} is not supported")
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
            for inst in self.group_instances(configuration_id, start_time, end_time)
        ]
        return group_availability(
            instances,
            start_time=start_time,
            end_time=min(end_time, now + days * 86_400),
            now=now,
            min_booking_notice=notice,
        )

    # ----------------------------------------------------------------- bookings

    def _group_stored(self, stored: StoredConfiguration) -> bool:
        kind = config_kind(stored.data)
        if kind not in ("standard", "group"):
            raise EmulatorError.invalid(f"configuration type {kind!r} is not supported")
        return kind == "group"

    def create_booking(
        self,
        configuration_id: str,
        start_time: int,
        end_time: int,
        guest: Mapping[str, Any],
        *,
        participants: Sequence[str] | None = None,
        additional_guests: Sequence[Any] = (),
        additional_fields: Mapping[str, Any] | None = None,
        timezone: str | None = None,
        email_language: str | None = None,
        slot: Mapping[str, Any] | None = None,
    ) -> Booking:
        """Book a slot; on a group configuration ``slot`` (``event_id``, ``master_id`` or
        ``master_event_id``, ``calendar_id``) names the group event and one seat is taken."""
        with self.lock:
            stored = self.find_configuration(configuration_id=configuration_id)
            if not self._group_stored(stored):
                return super().create_booking(
                    configuration_id,
                    start_time,
                    end_time,
                    guest,
                    participants=participants,
                    additional_guests=additional_guests,
                    additional_fields=additional_fields,
                    timezone=timezone,
                    email_language=email_language,
                )
            check_timestamp(start_time, "start_time")
            check_timestamp(end_time, "end_time")
            if start_time >= end_time:
                raise EmulatorError.invalid("start_time must be before end_time")
            if email_language is not None and email_language not in EMAIL_LANGUAGES:
                raise EmulatorError.invalid(
                    "email_language must be one of " + ", ".join(sorted(EMAIL_LANGUAGES))
                )
            if slot is None:
                raise EmulatorError.invalid("event_id is required to book a group configuration")
            booking_id = str(uuid.uuid4())
            wanted = {**slot, "start_time": start_time, "end_time": end_time}
            email = str(guest.get("email") or "")
            inst = self.take_group_seat(configuration_id, booking_id, wanted, guest_email=email)
            now = self.clock.now()
            grant = self.grants.get(stored.grant_id)
            organizer = inst.emails[0] if inst.emails else (grant.email if grant else "") or ""
            booking = Booking(
                booking_id=booking_id,
                configuration_id=stored.configuration_id,
                event_id=inst.event_id,
                grant_id=stored.grant_id,
                calendar_id=inst.calendar_id,
                start_time=inst.start_time,
                end_time=inst.end_time,
                status="booked",
                title=inst.title,
                description="",
                organizer_email=organizer,
                organizer_name=None,
                guest=dict(guest),
                participants=list(inst.emails),
                salt=secrets.token_bytes(SALT_BYTES),
                created_at=now,
                updated_at=now,
                additional_guests=list(additional_guests),
                additional_fields=dict(additional_fields or {}),
                timezone=timezone,
                email_language=email_language,
                seq=next(self._seq),
            )
            self.bookings[booking_id] = booking
            self._bookings_by_config.setdefault(stored.configuration_id, []).append(booking_id)
            self._group_bookings.add(booking_id)
            self._emit("booking.created", booking)
            return booking

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

    def reschedule_booking(
        self,
        booking_id: str,
        configuration_id: str | None,
        start_time: int,
        end_time: int,
        *,
        slot: Mapping[str, Any] | None = None,
        participants: Sequence[str] | None = None,
        timezone: str | None = None,
        email_language: str | None = None,
    ) -> Booking:
        """Reschedule; a group booking moves its seat to ``slot``'s event (all or nothing)."""
        with self.lock:
            booking = self._get_booking(booking_id, configuration_id)
            stored = self.find_configuration(configuration_id=booking.configuration_id)
            if not self._group_stored(stored):
                return super().reschedule_booking(
                    booking_id,
                    configuration_id,
                    start_time,
                    end_time,
                    participants=participants,
                    timezone=timezone,
                    email_language=email_language,
                )
            check_timestamp(start_time, "start_time")
            check_timestamp(end_time, "end_time")
            if not booking.is_live:
                raise EmulatorError.invalid(f"booking is {booking.status}; it cannot be moved")
            if slot is None:
                raise EmulatorError.invalid("event_id is required to reschedule a group booking")
            self._check_cancellation_notice(stored, booking)
            wanted = {**slot, "start_time": start_time, "end_time": end_time}
            email = str(booking.guest.get("email") or "")
            inst = self.move_group_seat(
                booking.configuration_id, booking_id, wanted, guest_email=email
            )
            booking.event_id, booking.calendar_id = inst.event_id, inst.calendar_id
            booking.start_time, booking.end_time = inst.start_time, inst.end_time
            booking.title = inst.title
            if timezone is not None:
                booking.timezone = timezone
            booking.updated_at = self.clock.now()
            self._emit("booking.rescheduled", booking)
            return booking
