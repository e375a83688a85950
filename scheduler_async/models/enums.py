"""String enums of the Scheduler API.

Model fields that hold one of these are typed ``Enum | str``: a value the server adds later is kept
as the plain string instead of breaking the read.
"""

from __future__ import annotations

import enum

__all__ = [
    "AvailabilityMethod",
    "BookingStatus",
    "BookingType",
    "ConfirmStatus",
]


class AvailabilityMethod(enum.StrEnum):
    """How participants' calendars combine into bookable slots."""

    COLLECTIVE = "collective"
    MAX_FAIRNESS = "max-fairness"
    MAX_AVAILABILITY = "max-availability"


class BookingType(enum.StrEnum):
    """Whether a booking is final at once or waits for the organizer."""

    BOOKING = "booking"
    ORGANIZER_CONFIRMATION = "organizer-confirmation"


class BookingStatus(enum.StrEnum):
    """The state of a booking."""

    BOOKED = "booked"
    PENDING = "pending"
    CANCELLED = "cancelled"


class ConfirmStatus(enum.StrEnum):
    """The decision sent with ``PUT /v3/scheduling/bookings/{id}``."""

    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
