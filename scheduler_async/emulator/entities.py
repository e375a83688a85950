"""Plain records of the emulator's state: grants, calendars, events, configurations, sessions
and bookings, with their wire and admin JSON forms.  No locking, no rules, no aiohttp."""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "LIVE_BOOKING_STATUSES",
    "Booking",
    "Calendar",
    "Event",
    "Grant",
    "Session",
    "StoredConfiguration",
    "b64url",
    "b64url_decode",
]

LIVE_BOOKING_STATUSES = frozenset({"booked", "pending"})


@dataclass
class Event:
    """A calendar event; ``busy`` events that are not cancelled block availability."""

    event_id: str
    grant_id: str
    calendar_id: str
    start_time: int
    end_time: int
    busy: bool = True
    status: str = "confirmed"  # confirmed | tentative | cancelled
    title: str = ""
    description: str = ""
    booking_id: str | None = None
    #: Other wire fields of an event written through the Events API (``location``,
    #: ``participants``, ``metadata``...), kept as given.
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Admin-API representation."""
        return {
            "id": self.event_id,
            "grant_id": self.grant_id,
            "calendar_id": self.calendar_id,
            "start_time": self.start_time,
            "end_time": self.end_time,
            "busy": self.busy,
            "status": self.status,
            "title": self.title,
            "description": self.description,
            "booking_id": self.booking_id,
        }


@dataclass
class Calendar:
    """A calendar of a grant and its events (by event id)."""

    calendar_id: str
    grant_id: str
    is_primary: bool = False
    events: dict[str, Event] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Admin-API representation (without events)."""
        return {"id": self.calendar_id, "grant_id": self.grant_id, "is_primary": self.is_primary}


@dataclass
class Grant:
    """A connected account: an optional email and its calendars."""

    grant_id: str
    email: str | None
    primary_calendar_id: str
    calendars: dict[str, Calendar] = field(default_factory=dict)

    def calendar(self, calendar_id: str) -> Calendar | None:
        """The calendar ``calendar_id``; ``"primary"`` means the primary calendar."""
        if calendar_id == "primary":
            calendar_id = self.primary_calendar_id
        return self.calendars.get(calendar_id)

    def to_json(self) -> dict[str, Any]:
        """Admin-API representation."""
        return {
            "grant_id": self.grant_id,
            "email": self.email,
            "primary_calendar_id": self.primary_calendar_id,
            "calendars": [c.to_json() for c in self.calendars.values()],
        }


@dataclass
class StoredConfiguration:
    """A configuration: its owner grant and its normalized wire JSON (without ``id``).

    ``data`` is never mutated in place (an update stores a new dict), so a reference taken under
    the lock stays consistent after the lock is released.
    """

    configuration_id: str
    grant_id: str
    data: dict[str, Any]
    seq: int

    @property
    def slug(self) -> str | None:
        """The slug, if any."""
        slug = self.data.get("slug")
        return slug if isinstance(slug, str) else None

    @property
    def requires_session_auth(self) -> bool:
        """True for private configurations."""
        return bool(self.data.get("requires_session_auth"))

    def to_json(self) -> dict[str, Any]:
        """Wire representation: the stored fields with a lower-case ``id`` first."""
        return {"id": self.configuration_id, **self.data}


@dataclass
class Session:
    """A scheduling session tied to one configuration."""

    session_id: str
    configuration_id: str
    created_at: int
    expires_at: int
    deleted: bool = False

    def is_live(self, now: int) -> bool:
        """Not deleted and not expired at ``now``."""
        return not self.deleted and now < self.expires_at

    def to_json(self, now: int) -> dict[str, Any]:
        """Admin-API representation."""
        return {
            "session_id": self.session_id,
            "configuration_id": self.configuration_id,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "deleted": self.deleted,
            "live": self.is_live(now),
        }


def b64url(raw: bytes) -> str:
    """URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


_B64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


def b64url_decode(text: str) -> bytes | None:
    """Strict URL-safe base64 decoding (padding optional); None if malformed."""
    if not _B64URL.match(text):
        return None
    stripped = text.rstrip("=")
    try:
        return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except (ValueError, binascii.Error):
        return None


@dataclass
class Booking:
    """A booking and everything the emulator knows about it (more than the wire shows)."""

    booking_id: str
    configuration_id: str
    event_id: str
    grant_id: str
    calendar_id: str
    start_time: int
    end_time: int
    status: str  # booked | pending | cancelled
    title: str
    description: str
    organizer_email: str
    organizer_name: str | None
    guest: dict[str, Any]
    participants: list[str]
    salt: bytes
    created_at: int
    updated_at: int
    additional_guests: list[Any] = field(default_factory=list)
    additional_fields: dict[str, Any] = field(default_factory=dict)
    timezone: str | None = None
    email_language: str | None = None
    cancellation_reason: str | None = None
    deleted: bool = False
    seq: int = 0

    @property
    def is_live(self) -> bool:
        """Booked or pending, and not deleted: it holds its slot."""
        return not self.deleted and self.status in LIVE_BOOKING_STATUSES

    @property
    def salt_b64(self) -> str:
        """The salt as the client sends it: URL-safe base64 without padding."""
        return b64url(self.salt)

    @property
    def reference(self) -> str:
        """Booking reference: b64url(config UUID bytes ‖ booking UUID bytes ‖ salt), no padding."""
        raw = uuid.UUID(self.configuration_id).bytes + uuid.UUID(self.booking_id).bytes
        return b64url(raw + self.salt)

    def to_json(self) -> dict[str, Any]:
        """Wire representation (the API's Booking object)."""
        organizer: dict[str, Any] = {"email": self.organizer_email}
        if self.organizer_name is not None:
            organizer["name"] = self.organizer_name
        return {
            "booking_id": self.booking_id,
            "event_id": self.event_id,
            "title": self.title,
            "status": self.status,
            "organizer": organizer,
            "description": self.description,
            "booking_ref": self.reference,
        }

    def admin_json(self) -> dict[str, Any]:
        """Admin-API representation: the wire object plus times, guest, salt and reference."""
        return {
            **self.to_json(),
            "configuration_id": self.configuration_id,
            "grant_id": self.grant_id,
            "calendar_id": self.calendar_id,
            "start_time": self.start_time,
            "end_time": self.end_time,
            "guest": self.guest,
            "participants": list(self.participants),
            "additional_guests": self.additional_guests,
            "additional_fields": self.additional_fields,
            "timezone": self.timezone,
            "email_language": self.email_language,
            "cancellation_reason": self.cancellation_reason,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "deleted": self.deleted,
            "salt": self.salt_b64,
            "reference": self.reference,
        }
