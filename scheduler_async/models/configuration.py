"""The Configuration object and its parts (``/v3/grants/{grant_id}/scheduling/configurations``)."""

from __future__ import annotations

from typing import Any, TypeAlias

import attrs

from ._fields import checked
from .enums import AvailabilityMethod, BookingType

__all__ = [
    "AdditionalField",
    "AnyConfiguration",
    "AvailabilityRules",
    "BookingConfirmedTemplate",
    "Buffer",
    "Conferencing",
    "Configuration",
    "ConfigurationAvailability",
    "ConfigurationParticipant",
    "EmailTemplate",
    "EventBooking",
    "GroupBooking",
    "GroupConfiguration",
    "OpenHours",
    "ParticipantAvailability",
    "ParticipantBooking",
    "Reminder",
    "SchedulerSettings",
    "SpecificTimeAvailability",
    "UnknownConfiguration",
]


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class OpenHours:
    """A weekly window when a participant can be booked."""

    days: tuple[int, ...]
    """Days of week, 0 = Sunday ... 6 = Saturday."""
    start: str
    """Local start time, 24-hour ``"H:MM"``."""
    end: str
    """Local end time, 24-hour ``"H:MM"``."""
    timezone: str | None = None
    """IANA time zone of ``start``/``end``."""
    exdates: tuple[str, ...] | None = None
    """Dates (``YYYY-MM-DD``) excluded."""


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class SpecificTimeAvailability:
    """Hours on one date replacing the weekly open hours (``00:00``-``00:00`` blocks it)."""

    date: str
    start: str
    end: str
    timezone: str | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class ParticipantAvailability:
    """Which calendars make a participant busy, and their open hours."""

    calendar_ids: tuple[str, ...]
    open_hours: tuple[OpenHours, ...] | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class ParticipantBooking:
    """The calendar a booking's event is written to."""

    calendar_id: str


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class ConfigurationParticipant:
    """A person whose calendar takes part in a configuration."""

    email: str
    name: str | None = None
    grant_id: str | None = None
    is_organizer: bool | None = None
    timezone: str | None = None
    availability: ParticipantAvailability | None = None
    booking: ParticipantBooking | None = None
    specific_time_availability: tuple[SpecificTimeAvailability, ...] | None = None
    only_specific_time_availability: bool | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class Buffer:
    """Minutes kept free before and after each meeting (0-120, multiples of 5)."""

    before: int | None = None
    after: int | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class AvailabilityRules:
    """How slots are computed across participants."""

    availability_method: AvailabilityMethod | str | None = None
    buffer: Buffer | None = None
    default_open_hours: tuple[OpenHours, ...] | None = None
    round_robin_group_id: str | None = None
    tentative_as_busy: bool | None = None
    default_specific_time_availability: tuple[SpecificTimeAvailability, ...] | None = None
    only_specific_time_availability: bool | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class ConfigurationAvailability:
    """Meeting length and slot spacing."""

    duration_minutes: int
    interval_minutes: int | None = None
    round_to: int | None = None
    availability_rules: AvailabilityRules | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class Conferencing:
    """Video conferencing attached to booked events."""

    provider: str
    autocreate: dict[str, Any] | None = None
    details: dict[str, Any] | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class Reminder:
    """A reminder sent before a booked event."""

    type: str
    minutes_before_event: int
    recipient: str | None = None
    email_subject: str | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class EventBooking:
    """The event that a booking creates."""

    title: str
    description: str | None = None
    location: str | None = None
    timezone: str | None = None
    booking_type: BookingType | str | None = None
    conferencing: Conferencing | None = None
    disable_emails: bool | None = None
    reminders: tuple[Reminder, ...] | None = None
    hide_participants: bool | None = None
    notify_participants: bool | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class BookingConfirmedTemplate:
    """Custom text of the booking-confirmed email."""

    title: str | None = None
    body: str | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class EmailTemplate:
    """Email customisation."""

    booking_confirmed: BookingConfirmedTemplate | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class AdditionalField:
    """An extra field the booking form asks for."""

    label: str
    type: str
    required: bool
    pattern: str | None = None
    order: int | None = None
    options: tuple[str, ...] | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class SchedulerSettings:
    """Booking rules and hosted-UI settings."""

    available_days_in_future: int | None = None
    min_booking_notice: int | None = None
    min_cancellation_notice: int | None = None
    cancellation_policy: str | None = None
    rescheduling_url: str | None = None
    cancellation_url: str | None = None
    organizer_confirmation_url: str | None = None
    confirmation_redirect_url: str | None = None
    hide_rescheduling_options: bool | None = None
    hide_cancellation_options: bool | None = None
    hide_additional_guests: bool | None = None
    email_template: EmailTemplate | None = None
    additional_fields: dict[str, AdditionalField] | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class Configuration:
    """A scheduling configuration: who meets, for how long, on which calendars."""

    id: str
    participants: tuple[ConfigurationParticipant, ...]
    availability: ConfigurationAvailability
    event_booking: EventBooking
    slug: str | None = None
    name: str | None = None
    requires_session_auth: bool | None = None
    appearance: dict[str, str] | None = None
    scheduler: SchedulerSettings | None = None
    type: str | None = None
    """Absent or ``""`` for a standard configuration."""


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class GroupBooking:
    """How a group configuration books seats on its group events."""

    calendar_id: str
    """Calendar holding the group events (``primary`` allowed; not read-only calendars)."""
    booking_type: BookingType | str | None = None
    disable_emails: bool | None = None
    reminders: tuple[Reminder, ...] | None = None
    default_capacity: int | None = None
    """Seats of a group event created without a capacity (1-500; the API's default is 10)."""
    title: str | None = None
    conferencing: Conferencing | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class GroupConfiguration:
    """A group configuration (``type: "group"``): guests book seats on group events.

    It has no ``participants``, ``availability`` or ``event_booking``.
    """

    id: str
    group_booking: GroupBooking
    slug: str | None = None
    name: str | None = None
    requires_session_auth: bool | None = None
    appearance: dict[str, str] | None = None
    scheduler: SchedulerSettings | None = None
    type: str = "group"
    """Always ``"group"``; sent on every write."""


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class UnknownConfiguration:
    """A configuration of a ``type`` this library does not know yet.

    The common fields are decoded; ``raw`` keeps every field as the server sent it, so nothing is
    lost and a list page holding such a configuration still decodes.
    """

    id: str
    type: str
    slug: str | None = None
    name: str | None = None
    requires_session_auth: bool | None = None
    appearance: dict[str, Any] | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False)


AnyConfiguration: TypeAlias = Configuration | GroupConfiguration | UnknownConfiguration
"""Every configuration ``configurations.get``/``list`` may return; narrow it with ``isinstance``."""
