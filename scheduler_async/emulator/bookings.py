"""Availability and bookings: the :class:`BookingsMixin` of the store.

Booking a slot is atomic: under the store's lock the slot is re-checked with the engine
(:func:`~scheduler_async.emulator.engine.find_slot`), then the event and the booking are
written.  Large availability windows are computed outside the lock (on a snapshot).
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from scheduler_async.emulator.engine import AvailabilityResult, compute_availability, find_slot
from scheduler_async.emulator.entities import (
    Booking,
    Calendar,
    Event,
    Grant,
    StoredConfiguration,
    b64url_decode,
)
from scheduler_async.emulator.errors import EmulatorError
from scheduler_async.emulator.state import StoreBase
from scheduler_async.emulator.validation import (
    EMAIL_LANGUAGES,
    ROUND_ROBIN_METHODS,
    check_grid,
    check_timestamp,
    check_window,
)

__all__ = ["SALT_BYTES", "BookingsMixin"]

SALT_BYTES = 16
# Events farther than this from the requested window cannot matter (buffers are at most 2 h).
_BUSY_MARGIN_SECONDS = 24 * 3600


def _overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def _check_language(email_language: str | None) -> None:
    if email_language is not None and email_language not in EMAIL_LANGUAGES:
        raise EmulatorError.invalid(
            "email_language must be one of " + ", ".join(sorted(EMAIL_LANGUAGES))
        )


class BookingsMixin(StoreBase):
    """Availability of a configuration; create, read, reschedule, confirm and delete bookings.

    A group configuration's bookings take seats of its group events instead of a host's time:
    the hooks ``_takes_seats``, ``_seat_availability``, ``_book_seat`` and ``_move_seat`` are
    answered by :class:`~.group_store.GroupStoreMixin` (here: no group configurations).
    """

    # ----------------------------------------------------------------- availability

    def _participant_grant(
        self, stored: StoredConfiguration, participant: Mapping[str, Any]
    ) -> Grant | None:
        grant_id = participant.get("grant_id")
        if grant_id:
            return self.grants.get(grant_id)
        if participant.get("is_organizer") is True:
            return self.grants.get(stored.grant_id)
        email = participant.get("email")
        if isinstance(email, str):
            found = self._grant_by_email.get(email.lower())
            if found is not None:
                return self.grants.get(found)
        return None

    def _live_bookings(self, configuration_id: str) -> list[Booking]:
        ids = self._bookings_by_config.get(configuration_id, ())
        return [b for b in (self.bookings[i] for i in ids) if b.is_live]

    def _busy(
        self,
        stored: StoredConfiguration,
        config: Mapping[str, Any],
        start: int,
        end: int,
        *,
        exclude_booking: str | None = None,
    ) -> dict[str, list[tuple[int, int]]]:
        rules = config["availability"].get("availability_rules") or {}
        tentative_busy = rules.get("tentative_as_busy", True) is not False
        lo, hi = start - _BUSY_MARGIN_SECONDS, end + _BUSY_MARGIN_SECONDS
        excluded_event = None
        if exclude_booking is not None and exclude_booking in self.bookings:
            excluded_event = self.bookings[exclude_booking].event_id
        busy: dict[str, list[tuple[int, int]]] = {}
        for participant in config["participants"]:
            email = participant["email"]
            intervals = busy.setdefault(email, [])
            avail = participant.get("availability")
            grant = self._participant_grant(stored, participant)
            if grant is None or not avail:
                continue
            for cal_id in avail.get("calendar_ids") or ():
                calendar = grant.calendar(cal_id)
                if calendar is None:
                    continue
                intervals += calendar.events.blocking(  # sorted, sliced from the index
                    lo, hi, tentative=tentative_busy, exclude=excluded_event
                )
        for booking in self._live_bookings(stored.configuration_id):
            if booking.booking_id != exclude_booking and booking.organizer_email in busy:
                busy[booking.organizer_email].append((booking.start_time, booking.end_time))
        for intervals in busy.values():
            intervals.sort()  # one pass over sorted runs: each calendar is kept in start order
        return busy

    def _fairness(self, configuration_id: str) -> tuple[dict[str, int], dict[str, int]]:
        # ``last_booked`` uses the booking sequence number, a strictly increasing stand-in for
        # the booking time (a frozen clock would otherwise tie every booking).
        last: dict[str, int] = {}
        counts: dict[str, int] = {}
        for booking in self._live_bookings(configuration_id):
            email = booking.organizer_email
            counts[email] = counts.get(email, 0) + 1
            last[email] = max(last.get(email, booking.seq), booking.seq)
        return last, counts

    def availability(
        self,
        configuration_id: str,
        start_time: int,
        end_time: int,
        *,
        booking_id: str | None = None,
    ) -> AvailabilityResult:
        """The engine's availability for a window, at the clock's now (on a group
        configuration: its group events with free seats).

        ``booking_id`` (a booking of this configuration being rescheduled) frees that
        booking's own slot (or seat).
        """
        check_window(start_time, end_time)
        with self.lock:
            stored = self.find_configuration(configuration_id=configuration_id)
            seats = self._takes_seats(stored)
            if not seats:
                if booking_id is not None:
                    self._get_booking(booking_id, configuration_id)
                config = stored.data
                check_grid(start_time, end_time, config)
                busy = self._busy(stored, config, start_time, end_time, exclude_booking=booking_id)
                last, counts = self._fairness(configuration_id)
                now = self.clock.now()
        if seats:  # outside the lock, like the engine's run below
            return self._seat_availability(stored, start_time, end_time, booking_id)
        return compute_availability(
            config, busy, start_time, end_time, now, last_booked=last, booking_counts=counts
        )

    # ----------------------------------------------------------------- bookings

    def _get_booking(self, booking_id: str, configuration_id: str | None) -> Booking:
        booking = self.bookings.get(booking_id)
        if (
            booking is None
            or booking.deleted
            or (configuration_id is not None and booking.configuration_id != configuration_id)
        ):
            raise EmulatorError.not_found(f"booking {booking_id!r} not found")
        return booking

    def get_booking(self, booking_id: str, configuration_id: str | None = None) -> Booking:
        """A booking (404 if unknown, deleted, or of another configuration)."""
        with self.lock:
            return self._get_booking(booking_id, configuration_id)

    def _unavailable(
        self,
        stored: StoredConfiguration,
        config: Mapping[str, Any],
        start: int,
        end: int,
        exclude: str | None,
    ) -> EmulatorError:
        """Why [start, end) is not bookable: 400 if it is not a slot even with free calendars
        (off the grid, outside open hours, notice or horizon), else 409 ``timeslot_not_available``
        "The selected timeslot is unavailable: ..." (taken since availability was read)."""
        last, counts = self._fairness(stored.configuration_id)
        free = find_slot(
            config, {}, start, end, self.clock.now(), last_booked=last, booking_counts=counts
        )
        if free is None or not free.emails:
            return EmulatorError.invalid(
                "time slot is not available: start_time and end_time must match a slot that "
                "availability currently returns"
            )
        emails = {p["email"] for p in config["participants"]}
        for booking in self.bookings.values():
            if (
                booking.is_live
                and booking.booking_id != exclude
                and booking.organizer_email in emails
                and _overlaps(booking.start_time, booking.end_time, start, end)
            ):
                return EmulatorError.timeslot_unavailable("it has just been booked")
        return EmulatorError.timeslot_unavailable("the host is busy at that time")

    def _pick_slot(
        self,
        booking: Booking,
        stored: StoredConfiguration,
        config: Mapping[str, Any],
        start: int,
        end: int,
        prefer: str | None,
    ) -> Mapping[str, Any]:
        """Check [start, end) for ``booking`` (new, or moving: its own slot does not count)
        with the engine and return the host participant (dict); ``prefer`` is a round-robin
        host to keep if free."""
        own = booking.booking_id
        busy = self._busy(stored, config, start, end, exclude_booking=own)
        last, counts = self._fairness(stored.configuration_id)
        now = self.clock.now()
        slot = find_slot(config, busy, start, end, now, last_booked=last, booking_counts=counts)
        if slot is None or not slot.emails:
            raise self._unavailable(stored, config, start, end, own)
        method = config["availability"]["availability_rules"]["availability_method"]
        by_email: dict[str, Mapping[str, Any]] = {p["email"]: p for p in config["participants"]}
        if method in ROUND_ROBIN_METHODS:
            # The engine lists a round-robin slot's free participants in ``order``.
            host = prefer if prefer in slot.emails else slot.emails[0]
            return by_email[host]
        for participant in by_email.values():
            if participant.get("is_organizer") is True:
                return participant
        return by_email[slot.emails[0]]

    def _subset_config(
        self, config: dict[str, Any], participants: Sequence[str] | None
    ) -> dict[str, Any]:
        if not participants:
            return config
        known = {p["email"] for p in config["participants"]}
        unknown = [e for e in participants if e not in known]
        if unknown:
            raise EmulatorError.invalid(
                f"participants not in the configuration: {', '.join(unknown)}"
            )
        wanted = set(participants)
        kept = [p for p in config["participants"] if p["email"] in wanted or p.get("is_organizer")]
        return {**config, "participants": kept}

    def _write_event(
        self,
        stored: StoredConfiguration,
        host: Mapping[str, Any],
        booking: Booking | None,
        *,
        start: int,
        end: int,
        title: str,
        description: str,
    ) -> Event:
        grant = self._participant_grant(stored, host) or self.get_grant(
            stored.grant_id, provision=True
        )
        cal_id = (host.get("booking") or {}).get("calendar_id") or "primary"
        calendar = grant.calendar(cal_id)
        if calendar is None:
            calendar = Calendar(cal_id, grant.grant_id)
            grant.calendars[cal_id] = calendar
        event = Event(
            uuid.uuid4().hex,
            grant.grant_id,
            calendar.calendar_id,
            start,
            end,
            title=title,
            description=description,
            booking_id=booking.booking_id if booking else None,
        )
        calendar.events[event.event_id] = event
        self.events[event.event_id] = event
        return event

    def _takes_seats(self, stored: StoredConfiguration) -> bool:
        """Whether bookings of ``stored`` take seats of group events (see ``GroupStoreMixin``)."""
        return False

    def _seat_availability(
        self, stored: StoredConfiguration, start: int, end: int, booking_id: str | None
    ) -> AvailabilityResult:
        raise EmulatorError.invalid("this store has no group configurations")

    def _book_seat(self, booking: Booking, slot: Mapping[str, Any]) -> None:
        raise EmulatorError.invalid("this store has no group configurations")

    def _move_seat(self, booking: Booking, slot: Mapping[str, Any]) -> None:
        raise EmulatorError.invalid("this store has no group configurations")

    def _book_host(
        self, booking: Booking, stored: StoredConfiguration, participants: Sequence[str] | None
    ) -> None:
        """Place a new standard booking: the host the engine picks, a new calendar event."""
        config = self._subset_config(stored.data, participants)
        host = self._pick_slot(booking, stored, config, booking.start_time, booking.end_time, None)
        event_booking = config["event_booking"]
        pending = event_booking.get("booking_type") == "organizer-confirmation"
        booking.status = "pending" if pending else "booked"
        booking.title = event_booking["title"]
        booking.description = event_booking.get("description") or ""
        booking.organizer_email, booking.organizer_name = host["email"], host.get("name")
        booking.participants = [p["email"] for p in config["participants"]]
        event = self._write_event(
            stored,
            host,
            booking,
            start=booking.start_time,
            end=booking.end_time,
            title=f"(Pending) {booking.title}" if pending else booking.title,
            description=booking.description,
        )
        booking.event_id, booking.grant_id = event.event_id, event.grant_id
        booking.calendar_id = event.calendar_id

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
        """Book a slot atomically: re-check it with the engine, write the event, store it.

        On a group configuration ``slot`` (``event_id``, ``master_id`` or ``master_event_id``,
        ``calendar_id``) names the group event and one seat is taken instead."""
        with self.lock:
            stored = self.find_configuration(configuration_id=configuration_id)
            seats = self._takes_seats(stored)
            check_timestamp(start_time, "start_time")
            check_timestamp(end_time, "end_time")
            if start_time >= end_time:
                raise EmulatorError.invalid("start_time must be before end_time")
            _check_language(email_language)
            now = self.clock.now()
            booking = Booking(
                booking_id=str(uuid.uuid4()),
                configuration_id=stored.configuration_id,
                event_id="",
                grant_id=stored.grant_id,
                calendar_id="",
                start_time=start_time,
                end_time=end_time,
                status="booked",
                title="",
                description="",
                organizer_email="",
                organizer_name=None,
                guest=dict(guest),
                participants=[],
                salt=secrets.token_bytes(SALT_BYTES),
                created_at=now,
                updated_at=now,
                additional_guests=list(additional_guests),
                additional_fields=dict(additional_fields or {}),
                timezone=timezone,
                email_language=email_language,
            )
            if seats:
                if slot is None:
                    raise EmulatorError.invalid(
                        "event_id is required to book a group configuration"
                    )
                self._book_seat(booking, {**slot, "start_time": start_time, "end_time": end_time})
            else:
                self._book_host(booking, stored, participants)
            booking.seq = next(self._seq)
            self.bookings[booking.booking_id] = booking
            self._bookings_by_config.setdefault(stored.configuration_id, []).append(
                booking.booking_id
            )
            self._emit("booking.created", booking)
            return booking

    def _check_cancellation_notice(self, stored: StoredConfiguration, booking: Booking) -> None:
        notice = int(stored.data["scheduler"].get("min_cancellation_notice") or 0)
        if notice and booking.start_time - self.clock.now() < notice * 60:
            raise EmulatorError.invalid(
                f"bookings can only be cancelled or rescheduled at least {notice} minutes "
                "before they start"
            )

    def _release_booking(self, booking: Booking) -> None:
        """Free what a cancelled (declined or deleted) booking held: its calendar event."""
        event = self.events.get(booking.event_id)
        if event is not None:
            event.status = "cancelled"

    def _move_host(
        self,
        booking: Booking,
        stored: StoredConfiguration,
        start_time: int,
        end_time: int,
        participants: Sequence[str] | None,
    ) -> None:
        """Move a standard booking: a host free then (its own slot does not count)."""
        config = self._subset_config(stored.data, participants or booking.participants)
        prefer = participants[0] if participants else booking.organizer_email
        host = self._pick_slot(booking, stored, config, start_time, end_time, prefer)
        if participants:
            booking.participants = [p["email"] for p in config["participants"]]
        event = self.events.get(booking.event_id)
        if host["email"] != booking.organizer_email or event is None:
            if event is not None:
                self.remove_event(event.event_id)
            title = event.title if event is not None else booking.title
            event = self._write_event(
                stored,
                host,
                booking,
                start=start_time,
                end=end_time,
                title=title,
                description=booking.description,
            )
            booking.event_id, booking.grant_id = event.event_id, event.grant_id
            booking.calendar_id = event.calendar_id
            booking.organizer_email, booking.organizer_name = host["email"], host.get("name")
        else:
            event.start_time, event.end_time = start_time, end_time
        booking.start_time, booking.end_time = start_time, end_time

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
        """Move a live booking to another available slot (its own slot does not count).

        ``participants`` (round robin: the host the booking page picked) restricts the hosts
        to those emails, so the booking moves to another host when its own is busy; without it
        the booking keeps its participants and prefers its current host.  ``timezone`` and
        ``email_language``, when given, replace the stored ones.  A group booking moves its
        seat to ``slot``'s event (all or nothing) and keeps its participants and language.
        """
        with self.lock:
            booking = self._get_booking(booking_id, configuration_id)
            stored = self.find_configuration(configuration_id=booking.configuration_id)
            seats = self._takes_seats(stored)
            check_timestamp(start_time, "start_time")
            check_timestamp(end_time, "end_time")
            if not seats:  # a seat's times are its group event's, checked when it moves
                if start_time >= end_time:
                    raise EmulatorError.invalid("start_time must be before end_time")
                _check_language(email_language)
            if not booking.is_live:
                raise EmulatorError.invalid(f"booking is {booking.status}; it cannot be moved")
            wanted: dict[str, Any] | None = None
            if seats:
                if slot is None:
                    raise EmulatorError.invalid(
                        "event_id is required to reschedule a group booking"
                    )
                wanted = {**slot, "start_time": start_time, "end_time": end_time}
            self._check_cancellation_notice(stored, booking)
            if wanted is not None:
                self._move_seat(booking, wanted)
            else:
                self._move_host(booking, stored, start_time, end_time, participants)
                if email_language is not None:
                    booking.email_language = email_language
            if timezone is not None:
                booking.timezone = timezone
            booking.updated_at = self.clock.now()
            self._emit("booking.rescheduled", booking)
            return booking

    def confirm_booking(
        self,
        booking_id: str,
        configuration_id: str | None,
        *,
        salt: str,
        status: str,
        cancellation_reason: str | None = None,
    ) -> Booking:
        """Confirm (→ ``booked``) or decline (→ ``cancelled``) a pending booking, given its salt."""
        if status not in ("confirmed", "cancelled"):
            raise EmulatorError.invalid("status must be 'confirmed' or 'cancelled'")
        given = b64url_decode(salt)
        if given is None:
            raise EmulatorError.invalid("salt must be URL-safe base64 without padding")
        with self.lock:
            booking = self._get_booking(booking_id, configuration_id)
            if not hmac.compare_digest(given, booking.salt):
                raise EmulatorError.forbidden("salt does not match this booking")
            if booking.status != "pending":
                raise EmulatorError.invalid(
                    f"booking is {booking.status}; only pending bookings can be confirmed "
                    "or cancelled this way"
                )
            booking.updated_at = self.clock.now()
            if status == "confirmed":
                booking.status = "booked"
                event = self.events.get(booking.event_id)
                if event is not None:
                    event.title = booking.title
            else:
                booking.status = "cancelled"
                booking.cancellation_reason = cancellation_reason
                self._release_booking(booking)
            self._emit(
                "booking.confirmed" if status == "confirmed" else "booking.cancelled", booking
            )
            return booking

    def delete_booking(
        self,
        booking_id: str,
        configuration_id: str | None = None,
        *,
        cancellation_reason: str | None = None,
    ) -> Booking:
        """Cancel and delete a booking, freeing its slot (or seat); then it is gone (404) on the
        wire."""
        with self.lock:
            booking = self._get_booking(booking_id, configuration_id)
            if booking.is_live:
                stored = self.configurations.get(booking.configuration_id)
                if stored is not None:
                    self._check_cancellation_notice(stored, booking)
            booking.status = "cancelled"
            booking.deleted = True
            if cancellation_reason is not None:
                booking.cancellation_reason = cancellation_reason
            booking.updated_at = self.clock.now()
            self._release_booking(booking)
            self._emit("booking.deleted", booking)
            return booking

    def _stored_booking(self, booking_id: str) -> Booking:
        """A booking as stored, deleted ones included (404 only if unknown)."""
        with self.lock:
            booking = self.bookings.get(booking_id)
            if booking is None:
                raise EmulatorError.not_found(f"booking {booking_id!r} not found")
            return booking

    def booking_salt(self, booking_id: str) -> str:
        """The salt the organizer's link carries (URL-safe base64, no padding)."""
        return self._stored_booking(booking_id).salt_b64

    def booking_reference(self, booking_id: str) -> str:
        """The booking reference of the organizer's link (see :attr:`Booking.reference`)."""
        return self._stored_booking(booking_id).reference
