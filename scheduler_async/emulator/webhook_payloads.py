"""Webhook payloads of the emulator: booking notification objects, mock samples, signatures.

Pure functions (no I/O, no state): :func:`booking_object` shapes ``data.object`` of a booking
notification per trigger as in the fact sheet §1.5, :func:`booking_object_from` builds it from
the emulator's :class:`~.entities.Booking` and its configuration JSON, :func:`mock_object` is the
sample of ``/v3/webhooks/mock-payload`` and ``send-test-event``, :func:`sign` the
``X-Nylas-Signature`` and :func:`dumps` the exact bytes that are signed and sent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from typing import Any

from .entities import Booking
from .webhook_state import BOOKING_TRIGGERS

__all__ = [
    "MOCK_BOOKING_ID",
    "MOCK_CONFIGURATION_ID",
    "TEST_EVENT_SECRET",
    "base64_ref",
    "booking_object",
    "booking_object_from",
    "dumps",
    "mock_object",
    "reminder_minutes",
    "sign",
]

#: The secret that signs ``send-test-event`` notifications (as documented).
TEST_EVENT_SECRET = "mock-webhook-secret"
MOCK_CONFIGURATION_ID = "9a4e8b3c-2f1d-4c6b-8e7a-5d3c2b1a0f9e"
MOCK_BOOKING_ID = "1b2c3d4e-5f60-4718-89ab-cdef01234567"

_ONLY: dict[str, tuple[str, ...]] = {
    "old_start_time": ("booking.rescheduled",),
    "old_end_time": ("booking.rescheduled",),
    "cancellation_reason": ("booking.cancelled",),
    "time_until_event": ("booking.reminder",),
    "organizer_email": ("booking.reminder",),
    "provider": ("booking.reminder",),
}
_NULLABLE = frozenset({"participants", "additional_fields"})


def booking_object(
    trigger: str,
    *,
    booking_id: str,
    configuration_id: str,
    booking_info: Mapping[str, Any],
    booking_ref: str | None = None,
) -> dict[str, Any]:
    """``data.object`` of a booking notification, keys per trigger as in the fact sheet §1.5.

    ``booking_ref`` is kept for created/pending/rescheduled only; ``object: "booking"`` is added
    for created/rescheduled; ``booking_type: "organizer-confirmation"`` for pending. Keys of
    ``booking_info`` that do not belong to ``trigger`` are dropped, ``None`` values omitted
    (``participants`` and ``additional_fields`` may be ``None`` on the wire and stay).
    """
    if trigger not in BOOKING_TRIGGERS:
        raise ValueError(f"not a booking trigger: {trigger!r}")
    info = {
        k: v
        for k, v in booking_info.items()
        if (v is not None or k in _NULLABLE) and trigger in _ONLY.get(k, (trigger,))
    }
    if trigger == "booking.cancelled":
        info.setdefault("cancellation_reason", "")
    obj: dict[str, Any] = {"booking_id": booking_id, "configuration_id": configuration_id}
    if booking_ref is not None and trigger in (
        "booking.created",
        "booking.pending",
        "booking.rescheduled",
    ):
        obj["booking_ref"] = booking_ref
    if trigger in ("booking.created", "booking.rescheduled"):
        obj["object"] = "booking"
    if trigger == "booking.pending":
        obj["booking_type"] = "organizer-confirmation"
    obj["booking_info"] = info
    return obj


def _organizer(configuration: Mapping[str, Any]) -> Mapping[str, Any]:
    for p in configuration.get("participants") or ():
        if isinstance(p, Mapping) and p.get("is_organizer"):
            return p
    return {}


def booking_object_from(
    trigger: str,
    booking: Booking,
    *,
    configuration: Mapping[str, Any] | None = None,
    old_start_time: int | None = None,
    old_end_time: int | None = None,
    provider: str = "google",
) -> dict[str, Any]:
    """:func:`booking_object` from the emulator's booking record and configuration JSON."""
    cfg = configuration or {}
    event_booking = cfg.get("event_booking") or {}
    scheduler = cfg.get("scheduler") or {}
    ref = booking.reference
    participants = [
        {"email": g.get("email"), "name": g.get("name") or ""}
        for g in [booking.guest, *booking.additional_guests]
        if isinstance(g, Mapping) and g.get("email")
    ]

    def url(template: Any, fallback: str) -> str:
        if isinstance(template, str) and template:
            return template.replace(":booking_ref", ref)
        return f"{fallback}/{ref}"

    language = booking.email_language or "en"
    timezone = booking.timezone or event_booking.get("timezone") or "UTC"
    info: dict[str, Any] = {
        "event_id": booking.event_id,
        "start_time": booking.start_time,
        "end_time": booking.end_time,
        "old_start_time": old_start_time,
        "old_end_time": old_end_time,
        "cancellation_reason": booking.cancellation_reason or "",
        "organizer_email": booking.organizer_email or _organizer(cfg).get("email"),
        "provider": provider,
        "participants": participants or None,
        "additional_fields": {str(k): str(v) for k, v in booking.additional_fields.items()} or None,
        "hide_cancellation_options": bool(event_booking.get("hide_cancellation_options", False)),
        "hide_rescheduling_options": bool(event_booking.get("hide_rescheduling_options", False)),
        "participant_rescheduling_url": url(
            scheduler.get("rescheduling_url"), "https://book.emulator.invalid/reschedule"
        ),
        "participant_cancellation_url": url(
            scheduler.get("cancellation_url"), "https://book.emulator.invalid/cancel"
        ),
        "host_language": language,
        "guest_language": language,
        "title": booking.title,
        "duration": (booking.end_time - booking.start_time) // 60,
        "location": event_booking.get("location") or "",
        "organizer_timezone": event_booking.get("timezone") or timezone,
        "guest_timezone": timezone,
        "is_group_event": False,
        "organizer_calendar_id": booking.calendar_id or "primary",
        "event_description": booking.description or "",
        "event_html_link": f"https://calendar.emulator.invalid/event?eid={booking.event_id}",
        "ical_uid": f"{booking.event_id}@emulator.invalid",
    }
    if trigger == "booking.pending" or booking.status == "pending":
        info["host_confirmation_url"] = url(
            scheduler.get("organizer_confirmation_url"), "https://book.emulator.invalid/confirm"
        )
    return booking_object(
        trigger,
        booking_id=booking.booking_id,
        configuration_id=booking.configuration_id,
        booking_info=info,
        booking_ref=ref,
    )


def reminder_minutes(configuration: Mapping[str, Any] | None) -> list[int]:
    """``minutes_before_event`` of the configuration's reminders of type ``webhook``."""
    out: list[int] = []
    cfg = configuration or {}
    for block in ("event_booking", "group_booking"):
        for r in (cfg.get(block) or {}).get("reminders") or ():
            if isinstance(r, Mapping) and r.get("type") == "webhook":
                minutes = r.get("minutes_before_event")
                if isinstance(minutes, int) and not isinstance(minutes, bool) and minutes >= 1:
                    out.append(minutes)
    return sorted(set(out))


def sign(body: bytes, secret: str) -> str:
    """Lowercase hex HMAC-SHA256 of ``body`` keyed by ``secret``."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON: the bytes a notification is signed over and sent as."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def base64_ref() -> str:
    """The booking reference of the mock payloads (mock ids, fixed salt)."""
    raw = uuid.UUID(MOCK_CONFIGURATION_ID).bytes + uuid.UUID(MOCK_BOOKING_ID).bytes + b"mocksalt"
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


_SAMPLE_INFO: Mapping[str, Any] = {
    "event_id": "mock-event-id",
    "start_time": 1719842400,
    "end_time": 1719846000,
    "old_start_time": 1719839400,
    "old_end_time": 1719843000,
    "cancellation_reason": "Conflicting appointment",
    "time_until_event": 3600,
    "organizer_email": "nyla@example.com",
    "provider": "google",
    "participants": [{"email": "leyah@example.com", "name": "Leyah Miller"}],
    "additional_fields": {"company": "Nylas Inc."},
    "hide_cancellation_options": False,
    "hide_rescheduling_options": False,
    "host_language": "en",
    "guest_language": "en",
    "title": "Project sync with Leyah",
    "duration": 60,
    "location": "https://meet.google.com/abc-defg-hij",
    "organizer_timezone": "America/Toronto",
    "guest_timezone": "America/Toronto",
    "is_group_event": False,
    "organizer_calendar_id": "primary",
}


def mock_object(trigger: str) -> dict[str, Any]:
    """``data.object`` of an example notification (booking triggers get the sample booking)."""
    if trigger in BOOKING_TRIGGERS:
        return booking_object(
            trigger,
            booking_id=MOCK_BOOKING_ID,
            configuration_id=MOCK_CONFIGURATION_ID,
            booking_info=dict(_SAMPLE_INFO),
            booking_ref=base64_ref(),
        )
    return {"id": "mock-id", "object": trigger.split(".", 1)[0]}
