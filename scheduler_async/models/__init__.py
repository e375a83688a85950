"""attrs models of every Scheduler API object (frozen, slots, kw_only); plain data, no I/O."""

from typing import Any

from .._convert import register_preprocessor
from .availability import Availability, Session, TimeSlot
from .booking import AdditionalGuest, Booking, BookingOrganizer, BookingParticipant, Guest
from .configuration import (
    AdditionalField,
    AvailabilityRules,
    BookingConfirmedTemplate,
    Buffer,
    Conferencing,
    Configuration,
    ConfigurationAvailability,
    ConfigurationParticipant,
    EmailTemplate,
    EventBooking,
    OpenHours,
    ParticipantAvailability,
    ParticipantBooking,
    Reminder,
    SchedulerSettings,
    SpecificTimeAvailability,
)
from .enums import AvailabilityMethod, BookingStatus, BookingType, ConfirmStatus
from .page import Page


def _configuration_in(data: Any) -> Any:
    # The seed guide shows a configuration with "ID"; the API reference uses "id".
    if isinstance(data, dict) and "id" not in data and "ID" in data:
        data = {**data, "id": data["ID"]}
    return data


def _availability_in(data: Any) -> Any:
    # ``time_slots`` may be null on the wire: treat it as empty.
    if isinstance(data, dict) and data.get("time_slots", ()) is None:
        data = {**data, "time_slots": []}
    return data


register_preprocessor(Configuration, _configuration_in)
register_preprocessor(Availability, _availability_in)

__all__ = [
    "AdditionalField",
    "AdditionalGuest",
    "Availability",
    "AvailabilityMethod",
    "AvailabilityRules",
    "Booking",
    "BookingConfirmedTemplate",
    "BookingOrganizer",
    "BookingParticipant",
    "BookingStatus",
    "BookingType",
    "Buffer",
    "Conferencing",
    "Configuration",
    "ConfigurationAvailability",
    "ConfigurationParticipant",
    "ConfirmStatus",
    "EmailTemplate",
    "EventBooking",
    "Guest",
    "OpenHours",
    "Page",
    "ParticipantAvailability",
    "ParticipantBooking",
    "Reminder",
    "SchedulerSettings",
    "Session",
    "SpecificTimeAvailability",
    "TimeSlot",
]
