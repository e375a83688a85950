"""Bookings (``/v3/scheduling/bookings``)."""

from __future__ import annotations

import attrs

from .enums import BookingStatus

__all__ = ["AdditionalGuest", "Booking", "BookingOrganizer", "BookingParticipant", "Guest"]


@attrs.frozen(slots=True, kw_only=True)
class Guest:
    """The person who books."""

    name: str
    email: str


@attrs.frozen(slots=True, kw_only=True)
class AdditionalGuest:
    """Another person invited to the booked event."""

    name: str | None = None
    email: str


@attrs.frozen(slots=True, kw_only=True)
class BookingParticipant:
    """A configuration participant chosen for a booking."""

    email: str


@attrs.frozen(slots=True, kw_only=True)
class BookingOrganizer:
    """The organizer of a booked event."""

    email: str
    name: str | None = None


@attrs.frozen(slots=True, kw_only=True)
class Booking:
    """A booking. The server may send a partial object (the seed's create shows only the id)."""

    booking_id: str
    event_id: str | None = None
    title: str | None = None
    status: BookingStatus | str | None = None
    organizer: BookingOrganizer | None = None
    description: str | None = None
