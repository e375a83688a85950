"""Bookings (``/v3/scheduling/bookings``)."""

from __future__ import annotations

import attrs

from .enums import BookingStatus

__all__ = ["AdditionalGuest", "Booking", "BookingOrganizer", "BookingParticipant", "Guest"]

_model = attrs.frozen(slots=True, kw_only=True)


@_model
class Guest:
    """The person who books."""

    name: str
    email: str


@_model
class AdditionalGuest:
    """Another person invited to the booked event."""

    name: str | None = None
    email: str


@_model
class BookingParticipant:
    """A configuration participant chosen for a booking."""

    email: str


@_model
class BookingOrganizer:
    """The organizer of a booked event."""

    email: str
    name: str | None = None


@_model
class Booking:
    """A booking. The server may send a partial object (the seed's create shows only the id)."""

    booking_id: str
    event_id: str | None = None
    title: str | None = None
    status: BookingStatus | str | None = None
    organizer: BookingOrganizer | None = None
    description: str | None = None
