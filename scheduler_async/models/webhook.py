"""Webhooks (``/v3/webhooks``) and the notifications they deliver (CloudEvents-like envelopes).

Importing this module registers the converter hooks of
:class:`~scheduler_async.models.BookingRef` (a ``booking_ref`` string on the wire, a decoded
value in the models).
"""

from __future__ import annotations

import enum
from typing import Any

import attrs

from .._convert import converter
from ._fields import checked
from .booking_ref import BookingRef, parse_booking_ref
from .enums import BookingType

__all__ = [
    "BookingCancelled",
    "BookingCreated",
    "BookingInfo",
    "BookingNotification",
    "BookingNotificationData",
    "BookingObject",
    "BookingPending",
    "BookingReminder",
    "BookingRescheduled",
    "CreateWebhookRequest",
    "Notification",
    "NotificationParticipant",
    "UpdateWebhookRequest",
    "Webhook",
    "WebhookDeleteResult",
    "WebhookIpAddresses",
    "WebhookMockPayload",
    "WebhookStatus",
    "WebhookTrigger",
    "WebhookWithSecret",
]


class WebhookTrigger(enum.StrEnum):
    """Scheduler notification types (``trigger_types`` values and the envelope ``type``)."""

    BOOKING_CREATED = "booking.created"
    BOOKING_PENDING = "booking.pending"
    BOOKING_RESCHEDULED = "booking.rescheduled"
    BOOKING_CANCELLED = "booking.cancelled"
    BOOKING_REMINDER = "booking.reminder"


class WebhookStatus(enum.StrEnum):
    """A destination's status; ``update`` accepts ``active`` and ``pause`` only."""

    ACTIVE = "active"
    PAUSE = "pause"
    FAILING = "failing"
    FAILED = "failed"


# --------------------------------------------------------------------------- destinations


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class Webhook:
    """A webhook destination."""

    id: str
    webhook_url: str
    trigger_types: tuple[WebhookTrigger | str, ...]
    status: WebhookStatus | str | None = None
    description: str | None = None
    notification_email_addresses: tuple[str, ...] | None = None
    compressed_delivery: bool | None = None
    status_updated_at: int | None = None
    created_at: int | None = None
    updated_at: int | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class WebhookWithSecret(Webhook):
    """A destination as create and rotate-secret return it: with its signing secret (shown once)."""

    webhook_secret: str = attrs.field(repr=False)


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class WebhookIpAddresses:
    """The addresses notifications come from."""

    ip_addresses: tuple[str, ...]
    updated_at: int | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class WebhookDeleteResult:
    """The ``data`` of a delete answer."""

    status: str | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class WebhookMockPayload:
    """An example notification for a trigger (``POST /v3/webhooks/mock-payload``), as raw JSON."""

    data: dict[str, Any]


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class CreateWebhookRequest:
    """Body of ``POST /v3/webhooks``."""

    trigger_types: tuple[WebhookTrigger | str, ...]
    webhook_url: str
    description: str | None = None
    notification_email_addresses: tuple[str, ...] | None = None
    compressed_delivery: bool | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class UpdateWebhookRequest:
    """Body of ``PUT /v3/webhooks/{id}``: only the fields that change."""

    trigger_types: tuple[WebhookTrigger | str, ...] | None = None
    webhook_url: str | None = None
    description: str | None = None
    notification_email_addresses: tuple[str, ...] | None = None
    compressed_delivery: bool | None = None
    status: WebhookStatus | str | None = None


# --------------------------------------------------------------------------- notifications


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class NotificationParticipant:
    """A participant listed in ``booking_info.participants``."""

    email: str
    name: str | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class BookingInfo:
    """``data.object.booking_info`` of a booking notification (fields vary by trigger)."""

    event_id: str | None = None
    start_time: int | None = None
    end_time: int | None = None
    old_start_time: int | None = None
    old_end_time: int | None = None
    cancellation_reason: str | None = None
    time_until_event: int | None = None
    organizer_email: str | None = None
    provider: str | None = None
    participants: tuple[NotificationParticipant, ...] | None = None
    additional_fields: dict[str, str] | None = None
    hide_cancellation_options: bool | None = None
    hide_rescheduling_options: bool | None = None
    participant_rescheduling_url: str | None = None
    participant_cancellation_url: str | None = None
    host_language: str | None = None
    guest_language: str | None = None
    title: str | None = None
    duration: int | None = None
    location: str | None = None
    organizer_timezone: str | None = None
    guest_timezone: str | None = None
    is_group_event: bool | None = None
    organizer_calendar_id: str | None = None
    event_description: str | None = None
    event_html_link: str | None = None
    ical_uid: str | None = None
    host_confirmation_url: str | None = None
    notetaker_id: str | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class BookingObject:
    """``data.object`` of a booking notification; ``booking_ref`` is decoded when present."""

    booking_id: str
    configuration_id: str
    booking_info: BookingInfo
    booking_ref: BookingRef | None = None
    object: str | None = None
    booking_type: BookingType | str | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class BookingNotificationData:
    """``data`` of a booking notification."""

    object: BookingObject
    application_id: str | None = None
    grant_id: str | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class _Envelope:
    specversion: str
    type: str
    source: str
    id: str
    time: int
    webhook_delivery_attempt: int | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class Notification(_Envelope):
    """Any notification; ``data`` stays raw JSON (types this library does not model)."""

    data: dict[str, Any]


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class BookingNotification(_Envelope):
    """Base of the five booking notifications."""

    data: BookingNotificationData

    @property
    def booking(self) -> BookingObject:
        """Shortcut for ``data.object``."""
        return self.data.object


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class BookingCreated(BookingNotification):
    """``booking.created``: a booking was made (or a pending one confirmed)."""


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class BookingPending(BookingNotification):
    """``booking.pending``: a booking waits for the organizer's confirmation."""


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class BookingRescheduled(BookingNotification):
    """``booking.rescheduled``: new times in ``start_time``/``end_time``, old ones in ``old_*``."""


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class BookingCancelled(BookingNotification):
    """``booking.cancelled`` (no ``booking_ref`` in this payload)."""


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class BookingReminder(BookingNotification):
    """``booking.reminder``: fired ``minutes_before_event`` before a booked event."""


def _structure_ref(value: Any, _: Any) -> BookingRef:
    if isinstance(value, BookingRef):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected a JSON string, got {type(value).__name__}")
    return parse_booking_ref(value)


converter.register_structure_hook(BookingRef, _structure_ref)
converter.register_unstructure_hook(BookingRef, lambda ref: ref.encode())
