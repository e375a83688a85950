"""Booking references: the compact token in Scheduler confirmation, reschedule and cancel links.

:class:`BookingRef` and :func:`parse_booking_ref` live with the models
(``scheduler_async.models.booking_ref``), :class:`InvalidBookingRefError` with the other errors;
this module keeps the names importable from here too.
"""

from .errors import InvalidBookingRefError
from .models.booking_ref import BookingRef, parse_booking_ref

__all__ = ["BookingRef", "InvalidBookingRefError", "parse_booking_ref"]
