"""Bookings (``/v3/scheduling/bookings``)."""

from __future__ import annotations

import attrs

from ._fields import checked
from .booking_ref import BookingRef, parse_booking_ref
from .enums import BookingStatus

__all__ = ["AdditionalGuest", "Booking", "BookingOrganizer", "BookingParticipant", "Guest"]


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class Guest:
    """The person who books."""

    name: str
    email: str


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class AdditionalGuest:
    """Another person invited to the booked event."""

    name: str | None = None
    email: str


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class BookingParticipant:
    """A configuration participant chosen for a booking."""

    email: str


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class BookingOrganizer:
    """The organizer of a booked event."""

    email: str
    name: str | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class Booking:
    """A booking. The server may send a partial object (the seed's create shows only the id).

    ``booking_ref`` is the booking reference text as sent (create and get answers; it carries the
    salt, so it is left out of the repr); :attr:`ref` decodes it.
    """

    booking_id: str
    event_id: str | None = None
    title: str | None = None
    status: BookingStatus | str | None = None
    organizer: BookingOrganizer | None = None
    description: str | None = None
    booking_ref: str | None = attrs.field(default=None, repr=False)

    @property
    def ref(self) -> BookingRef | None:
        """:attr:`booking_ref` decoded (None when absent); ``InvalidBookingRefError`` if bad."""
        return parse_booking_ref(self.booking_ref) if self.booking_ref is not None else None
