"""Emulator state: grants, calendars, events, configurations, sessions and bookings.

The store is the single source of truth behind the HTTP app and the Python seeding API.  Every
public method takes one re-entrant lock, so tests may seed it from their own thread while the
server runs on the emulator thread.  Operations that must be atomic (check a slot, then write the
booking event) run entirely under that lock.  No aiohttp here.

Errors are raised as :class:`EmulatorError` carrying the HTTP status and the envelope ``type``;
the app turns them into ``{"request_id", "error": {"type", "message"}}``.

Choices this module makes (the real service leaves them unconfirmed):

* Busy time of a participant comes from its grant: the participant's ``grant_id``; else, for the
  organizer, the configuration's own grant; else a grant whose email matches; else none (never
  busy).  Only its ``availability.calendar_ids`` count (``"primary"`` = the grant's primary
  calendar); events with ``busy`` true count unless cancelled, tentative ones only when
  ``availability_rules.tentative_as_busy`` is not false.
* Live (``booked``/``pending``) bookings of a configuration always count as busy for the host
  they were booked with, even if that host's calendars are not checked, so a configuration never
  double-books its own organizer.
* Booking a slot that availability does not offer: 409 ``conflict`` when a live booking of one of
  the configuration's participants overlaps it (the slot was just taken), else 400
  ``invalid_request_error``.
* Deleting a configuration that has live sessions: 409 ``conflict``.  Duplicate slug: 409.
* ``PUT`` confirm/cancel with a well-formed salt that does not match: 403 ``forbidden``; a salt
  that is not URL-safe base64: 400.  A booking that is not ``pending``: 400.
* ``DELETE`` removes a booking: later ``GET``/``DELETE`` answer 404.  A pending booking declined
  with ``PUT status=cancelled`` stays readable with ``status: "cancelled"``.
* ``min_cancellation_notice`` is enforced (400) on ``DELETE`` and on reschedule (``PATCH``).
* Session ``time_to_live`` is minutes, 1..30 (default 5); an expired or deleted session is 401.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hmac
import itertools
import re
import secrets
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from scheduler_async.emulator.engine import (
    AvailabilityResult,
    ConfigError,
    compute_availability,
    find_slot,
    validate_config,
)

__all__ = [
    "Booking",
    "Calendar",
    "Clock",
    "EmulatorError",
    "Event",
    "FakeClock",
    "Grant",
    "Session",
    "Store",
    "StoredConfiguration",
    "normalize_configuration",
]

ROUND_ROBIN_METHODS = frozenset({"max-fairness", "max-availability"})
AVAILABILITY_METHODS = frozenset({"collective"}) | ROUND_ROBIN_METHODS
BOOKING_TYPES = frozenset({"booking", "organizer-confirmation"})
EMAIL_LANGUAGES = frozenset({"en", "es", "fr", "de", "nl", "sv", "ja", "zh"})
LIVE_BOOKING_STATUSES = frozenset({"booked", "pending"})
DEFAULT_SESSION_TTL_MINUTES = 5
MAX_SESSION_TTL_MINUTES = 30
DEFAULT_PAGE_LIMIT = 50
MAX_PAGE_LIMIT = 200
SALT_BYTES = 16
# Events farther than this from the requested window cannot matter (buffers are at most 2 h).
_BUSY_MARGIN_SECONDS = 24 * 3600


# --------------------------------------------------------------------------- errors


class EmulatorError(Exception):
    """A request the emulator refuses: HTTP ``status`` plus the envelope ``error.type``."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message

    @classmethod
    def invalid(cls, message: str) -> EmulatorError:
        """400 ``invalid_request_error``."""
        return cls(400, "invalid_request_error", message)

    @classmethod
    def unauthorized(cls, message: str = "Unauthorized") -> EmulatorError:
        """401 ``unauthorized``."""
        return cls(401, "unauthorized", message)

    @classmethod
    def forbidden(cls, message: str) -> EmulatorError:
        """403 ``forbidden``."""
        return cls(403, "forbidden", message)

    @classmethod
    def not_found(cls, message: str = "requested object not found") -> EmulatorError:
        """404 ``not_found_error``."""
        return cls(404, "not_found_error", message)

    @classmethod
    def conflict(cls, message: str) -> EmulatorError:
        """409 ``conflict``."""
        return cls(409, "conflict", message)


# --------------------------------------------------------------------------- clocks


class Clock:
    """The business clock (Unix seconds): wall time plus an adjustable offset.

    ``set`` and ``advance`` shift the offset, so the clock keeps ticking from the new time.
    Session TTL, booking notice and the booking horizon use this clock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0

    def now(self) -> int:
        """Current business time in Unix seconds."""
        return int(time.time()) + self._offset

    def set(self, timestamp: int) -> None:
        """Make ``now()`` return ``timestamp`` (then keep ticking)."""
        with self._lock:
            self._offset = int(timestamp) - int(time.time())

    def advance(self, seconds: float) -> None:
        """Move the clock forward (or backward, if negative) by ``seconds``."""
        with self._lock:
            self._offset += int(seconds)

    def reset(self) -> None:
        """Back to wall time."""
        with self._lock:
            self._offset = 0


class FakeClock(Clock):
    """A frozen business clock: it only moves through ``set`` and ``advance``.

    ``start`` defaults to the wall time at construction; :meth:`reset` returns to ``start``.
    """

    def __init__(self, start: int | None = None) -> None:
        super().__init__()
        self._start = int(time.time()) if start is None else int(start)
        self._now = self._start

    def now(self) -> int:
        """Current (frozen) time in Unix seconds."""
        return self._now

    def set(self, timestamp: int) -> None:
        """Jump to ``timestamp``."""
        with self._lock:
            self._now = int(timestamp)

    def advance(self, seconds: float) -> None:
        """Move forward (or backward, if negative) by ``seconds``."""
        with self._lock:
            self._now += int(seconds)

    def reset(self) -> None:
        """Back to the start time."""
        with self._lock:
            self._now = self._start


# --------------------------------------------------------------------------- records


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


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


_B64URL = re.compile(r"^[A-Za-z0-9_-]+={0,2}$")


def _b64url_decode(text: str) -> bytes | None:
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
        return _b64url(self.salt)

    @property
    def reference(self) -> str:
        """Booking reference: b64url(config UUID bytes ‖ booking UUID bytes ‖ salt), no padding."""
        raw = uuid.UUID(self.configuration_id).bytes + uuid.UUID(self.booking_id).bytes
        return _b64url(raw + self.salt)

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


# --------------------------------------------------------------------------- validation


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _require_object(value: object, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise EmulatorError.invalid(f"{name} must be an object")
    return value


def _check_int(value: object, name: str, *, minimum: int = 0) -> int:
    if not _is_int(value):
        raise EmulatorError.invalid(f"{name} must be an integer")
    assert isinstance(value, int)
    if value < minimum:
        raise EmulatorError.invalid(f"{name} must be at least {minimum}")
    return value


def _check_participant(index: int, participant: object) -> None:
    name = f"participants[{index}]"
    p = _require_object(participant, name)
    email = p.get("email")
    if not isinstance(email, str) or not email.strip():
        raise EmulatorError.invalid(f"{name}.email is required")
    if p.get("is_organizer") is not None and not isinstance(p["is_organizer"], bool):
        raise EmulatorError.invalid(f"{name}.is_organizer must be a boolean")
    grant_id = p.get("grant_id")
    if grant_id is not None and not isinstance(grant_id, str):
        raise EmulatorError.invalid(f"{name}.grant_id must be a string")
    avail = p.get("availability")
    if avail is not None:
        avail = _require_object(avail, f"{name}.availability")
        cal_ids = avail.get("calendar_ids")
        if cal_ids is not None and (
            not isinstance(cal_ids, list) or not all(isinstance(c, str) for c in cal_ids)
        ):
            raise EmulatorError.invalid(f"{name}.availability.calendar_ids must be strings")
    booking = p.get("booking")
    if booking is not None:
        booking = _require_object(booking, f"{name}.booking")
        if not isinstance(booking.get("calendar_id"), str):
            raise EmulatorError.invalid(f"{name}.booking.calendar_id is required")


def normalize_configuration(body: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a configuration body and fill the server defaults; returns a new dict.

    Raises :class:`EmulatorError` (400) with a message naming the offending field.
    """
    cfg = copy.deepcopy(dict(body))
    cfg.pop("id", None)
    cfg.pop("ID", None)
    if cfg.get("type") == "group":
        raise EmulatorError.invalid("group configurations are not supported by the emulator")

    rsa = cfg.get("requires_session_auth")
    if rsa is None:
        cfg["requires_session_auth"] = False
    elif not isinstance(rsa, bool):
        raise EmulatorError.invalid("requires_session_auth must be a boolean")
    slug = cfg.get("slug")
    if slug is not None and (not isinstance(slug, str) or not slug.strip()):
        raise EmulatorError.invalid("slug must be a non-empty string")

    participants = cfg.get("participants")
    if not isinstance(participants, list) or not participants:
        raise EmulatorError.invalid("participants is required and must list at least one")
    for i, p in enumerate(participants):
        _check_participant(i, p)

    if "availability" not in cfg:
        raise EmulatorError.invalid("availability is required")
    availability = _require_object(cfg["availability"], "availability")
    if "duration_minutes" not in availability:
        raise EmulatorError.invalid("availability.duration_minutes is required")
    _check_int(availability["duration_minutes"], "availability.duration_minutes", minimum=1)
    if availability.get("interval_minutes") is not None:
        _check_int(availability["interval_minutes"], "availability.interval_minutes", minimum=1)
    if availability.get("round_to") is None:
        availability["round_to"] = 15
    round_to = _check_int(availability["round_to"], "availability.round_to", minimum=5)
    if round_to % 5:
        raise EmulatorError.invalid("availability.round_to must be a multiple of 5")
    rules_raw = availability.get("availability_rules")
    rules = {} if rules_raw is None else _require_object(rules_raw, "availability_rules")
    if rules.get("availability_method") is None:
        rules["availability_method"] = "collective"
    method = rules["availability_method"]
    if method not in AVAILABILITY_METHODS:
        raise EmulatorError.invalid(
            "availability_rules.availability_method must be one of "
            + ", ".join(sorted(AVAILABILITY_METHODS))
        )
    availability["availability_rules"] = rules

    if "event_booking" not in cfg:
        raise EmulatorError.invalid("event_booking is required")
    event_booking = _require_object(cfg["event_booking"], "event_booking")
    title = event_booking.get("title")
    if not isinstance(title, str) or not title.strip():
        raise EmulatorError.invalid("event_booking.title is required")
    if event_booking.get("booking_type") is None:
        event_booking["booking_type"] = "booking"
    if event_booking["booking_type"] not in BOOKING_TYPES:
        raise EmulatorError.invalid(
            "event_booking.booking_type must be 'booking' or 'organizer-confirmation'"
        )

    sched_raw = cfg.get("scheduler")
    scheduler = {} if sched_raw is None else _require_object(sched_raw, "scheduler")
    for key, default in (
        ("available_days_in_future", 30),
        ("min_booking_notice", 60),
        ("min_cancellation_notice", 0),
    ):
        if scheduler.get(key) is None:
            scheduler[key] = default
        _check_int(scheduler[key], f"scheduler.{key}")
    cfg["scheduler"] = scheduler

    organizers = sum(1 for p in participants if p.get("is_organizer") is True)
    if method in ROUND_ROBIN_METHODS:
        if organizers > 1:
            raise EmulatorError.invalid("a round-robin configuration has at most one organizer")
    elif organizers != 1:
        raise EmulatorError.invalid(
            "exactly one participant must have is_organizer: true "
            f"(found {organizers}) unless availability_method is round-robin"
        )

    try:
        validate_config(cfg)
    except ConfigError as exc:
        raise EmulatorError.invalid(str(exc)) from exc
    return cfg


def _encode_cursor(seq: int) -> str:
    return _b64url(f"after:{seq}".encode())


def _decode_cursor(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
        prefix, _, number = text.partition(":")
        if prefix != "after":
            raise ValueError(text)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise EmulatorError.invalid("page_token is not valid") from exc


def _overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


# --------------------------------------------------------------------------- store


class Store:
    """Thread-safe emulator state.

    ``strict`` makes unknown grants a 404 (otherwise an unseen grant is provisioned on first use
    with an empty ``primary`` calendar).  The public dicts (``grants``, ``configurations``,
    ``sessions``, ``bookings``, ``events``) are for inspection; hold :attr:`lock` while iterating
    them if the server is running.
    """

    def __init__(self, clock: Clock | None = None, *, strict: bool = False) -> None:
        self.clock: Clock = clock if clock is not None else Clock()
        self.strict = strict
        self.lock = threading.RLock()
        self.grants: dict[str, Grant] = {}
        self.events: dict[str, Event] = {}
        self.configurations: dict[str, StoredConfiguration] = {}
        self.sessions: dict[str, Session] = {}
        self.bookings: dict[str, Booking] = {}
        self._bookings_by_config: dict[str, list[str]] = {}
        self._grant_by_email: dict[str, str] = {}
        self._seq = itertools.count(1)

    # ----------------------------------------------------------------- lifecycle

    def reset(self) -> None:
        """Forget everything (the clock is not touched)."""
        with self.lock:
            self.grants.clear()
            self.events.clear()
            self.configurations.clear()
            self.sessions.clear()
            self.bookings.clear()
            self._bookings_by_config.clear()
            self._grant_by_email.clear()
            self._seq = itertools.count(1)

    # ----------------------------------------------------------------- grants and events

    def add_grant(
        self,
        grant_id: str,
        *,
        email: str | None = None,
        calendars: Iterable[str] = (),
        primary_calendar_id: str = "primary",
    ) -> Grant:
        """Create (or extend) a grant with a primary calendar and extra calendars."""
        if not grant_id:
            raise EmulatorError.invalid("grant_id is required")
        with self.lock:
            grant = self.grants.get(grant_id)
            if grant is None:
                grant = Grant(grant_id, email, primary_calendar_id)
                grant.calendars[primary_calendar_id] = Calendar(
                    primary_calendar_id, grant_id, is_primary=True
                )
                self.grants[grant_id] = grant
            elif email is not None:
                if grant.email:
                    self._grant_by_email.pop(grant.email.lower(), None)
                grant.email = email
            if grant.email:
                self._grant_by_email[grant.email.lower()] = grant_id
            for cal_id in calendars:
                if cal_id != "primary" and cal_id not in grant.calendars:
                    grant.calendars[cal_id] = Calendar(cal_id, grant_id)
            return grant

    def get_grant(self, grant_id: str, *, provision: bool | None = None) -> Grant:
        """The grant ``grant_id``; ``email:<addr>``/``<addr>``/``grant:<id>`` forms accepted.

        Unknown grants are provisioned unless ``provision`` is false (default: not strict),
        otherwise 404.
        """
        if provision is None:
            provision = not self.strict
        with self.lock:
            key = grant_id.removeprefix("grant:")
            grant = self.grants.get(key)
            if grant is not None:
                return grant
            email: str | None = None
            if key.startswith("email:") or "@" in key:
                email = key.removeprefix("email:")
                found = self._grant_by_email.get(email.lower())
                if found is not None:
                    return self.grants[found]
            if not provision or not key:
                raise EmulatorError.not_found(f"grant {grant_id!r} not found")
            return self.add_grant(email or key, email=email)

    def add_event(
        self,
        grant_id: str,
        calendar_id: str,
        start_time: int,
        end_time: int,
        *,
        busy: bool = True,
        status: str = "confirmed",
        title: str = "",
        description: str = "",
        event_id: str | None = None,
    ) -> Event:
        """Put an event on a grant's calendar (``"primary"`` allowed).

        In lenient mode an unknown grant or calendar is created; in strict mode 404.
        """
        start, end = int(start_time), int(end_time)
        if start >= end:
            raise EmulatorError.invalid("start_time must be before end_time")
        if status not in ("confirmed", "tentative", "cancelled"):
            raise EmulatorError.invalid("status must be confirmed, tentative or cancelled")
        with self.lock:
            grant = self.get_grant(grant_id)
            calendar = grant.calendar(calendar_id)
            if calendar is None:
                if self.strict:
                    raise EmulatorError.not_found(f"calendar {calendar_id!r} not found")
                calendar = Calendar(calendar_id, grant.grant_id)
                grant.calendars[calendar_id] = calendar
            event = Event(
                event_id or uuid.uuid4().hex,
                grant.grant_id,
                calendar.calendar_id,
                start,
                end,
                busy=busy,
                status=status,
                title=title,
                description=description,
            )
            if event.event_id in self.events:
                raise EmulatorError.conflict(f"event {event.event_id!r} already exists")
            calendar.events[event.event_id] = event
            self.events[event.event_id] = event
            return event

    def remove_event(self, event_id: str) -> None:
        """Delete an event from its calendar (404 if unknown)."""
        with self.lock:
            event = self.events.pop(event_id, None)
            if event is None:
                raise EmulatorError.not_found(f"event {event_id!r} not found")
            grant = self.grants.get(event.grant_id)
            calendar = grant.calendars.get(event.calendar_id) if grant else None
            if calendar is not None:
                calendar.events.pop(event_id, None)

    def events_on(self, grant_id: str, calendar_id: str = "primary") -> list[Event]:
        """Events of one calendar, sorted by start time (cancelled ones included)."""
        with self.lock:
            grant = self.grants.get(grant_id)
            calendar = grant.calendar(calendar_id) if grant else None
            if calendar is None:
                return []
            return sorted(calendar.events.values(), key=lambda e: (e.start_time, e.end_time))

    # ----------------------------------------------------------------- configurations

    def _check_participant_grants(self, data: Mapping[str, Any]) -> None:
        """Participants' explicit grants must exist (strict) or are provisioned (lenient)."""
        for participant in data["participants"]:
            if participant.get("grant_id"):
                self.get_grant(participant["grant_id"])

    def _check_slug(self, slug: str | None, exclude: str | None = None) -> None:
        if slug is None:
            return
        for stored in self.configurations.values():
            if stored.slug == slug and stored.configuration_id != exclude:
                raise EmulatorError.conflict(f"slug {slug!r} is already in use")

    def create_configuration(self, grant_id: str, body: Mapping[str, Any]) -> StoredConfiguration:
        """Validate, fill defaults, assign a UUID and store a configuration for a grant."""
        data = normalize_configuration(body)
        with self.lock:
            grant = self.get_grant(grant_id)
            self._check_participant_grants(data)
            self._check_slug(data.get("slug"))
            stored = StoredConfiguration(str(uuid.uuid4()), grant.grant_id, data, next(self._seq))
            self.configurations[stored.configuration_id] = stored
            return stored

    def get_configuration(self, grant_id: str, configuration_id: str) -> StoredConfiguration:
        """A configuration of a grant (404 if it belongs to another grant or does not exist)."""
        with self.lock:
            grant = self.get_grant(grant_id)
            stored = self.configurations.get(configuration_id)
            if stored is None or stored.grant_id != grant.grant_id:
                raise EmulatorError.not_found(f"configuration {configuration_id!r} not found")
            return stored

    def list_configurations(
        self, grant_id: str, *, limit: int = DEFAULT_PAGE_LIMIT, page_token: str | None = None
    ) -> tuple[list[StoredConfiguration], str | None]:
        """One page of a grant's configurations in creation order, and the next cursor."""
        if limit < 1:
            raise EmulatorError.invalid("limit must be at least 1")
        limit = min(limit, MAX_PAGE_LIMIT)
        after = _decode_cursor(page_token) if page_token else 0
        with self.lock:
            grant = self.get_grant(grant_id)
            items = sorted(
                (
                    c
                    for c in self.configurations.values()
                    if c.grant_id == grant.grant_id and c.seq > after
                ),
                key=lambda c: c.seq,
            )
        page = items[:limit]
        cursor = _encode_cursor(page[-1].seq) if len(items) > limit else None
        return page, cursor

    def update_configuration(
        self, grant_id: str, configuration_id: str, body: Mapping[str, Any]
    ) -> StoredConfiguration:
        """PUT semantics: top-level keys present replace the stored value wholesale."""
        with self.lock:
            stored = self.get_configuration(grant_id, configuration_id)
            merged = {**stored.data, **{k: v for k, v in body.items() if k not in ("id", "ID")}}
            data = normalize_configuration(merged)
            self._check_participant_grants(data)
            self._check_slug(data.get("slug"), exclude=configuration_id)
            stored.data = data
            return stored

    def delete_configuration(self, grant_id: str, configuration_id: str) -> None:
        """Delete a configuration; 409 while it has live sessions."""
        with self.lock:
            stored = self.get_configuration(grant_id, configuration_id)
            now = self.clock.now()
            live = [
                s
                for s in self.sessions.values()
                if s.configuration_id == configuration_id and s.is_live(now)
            ]
            if live:
                raise EmulatorError.conflict(
                    f"configuration has {len(live)} active session(s); delete them or let "
                    "them expire first"
                )
            del self.configurations[stored.configuration_id]

    def find_configuration(
        self, *, configuration_id: str | None = None, slug: str | None = None
    ) -> StoredConfiguration:
        """Look a configuration up by id or slug, across grants (404 if unknown)."""
        with self.lock:
            if configuration_id is not None:
                stored = self.configurations.get(configuration_id)
                if stored is None:
                    raise EmulatorError.not_found(f"configuration {configuration_id!r} not found")
                return stored
            if slug is not None:
                for stored in self.configurations.values():
                    if stored.slug == slug:
                        return stored
                raise EmulatorError.not_found(f"no configuration with slug {slug!r}")
        raise EmulatorError.invalid("configuration_id or slug is required")

    # ----------------------------------------------------------------- sessions

    def create_session(
        self,
        *,
        configuration_id: str | None = None,
        slug: str | None = None,
        time_to_live: int | None = None,
    ) -> Session:
        """Open a session on a configuration; ``time_to_live`` in minutes (1..30, default 5)."""
        ttl = DEFAULT_SESSION_TTL_MINUTES if time_to_live is None else time_to_live
        if not _is_int(ttl) or not 1 <= ttl <= MAX_SESSION_TTL_MINUTES:
            raise EmulatorError.invalid(
                f"time_to_live must be an integer number of minutes between 1 and "
                f"{MAX_SESSION_TTL_MINUTES}"
            )
        if configuration_id is None and slug is None:
            raise EmulatorError.invalid("configuration_id or slug is required")
        with self.lock:
            stored = self.find_configuration(configuration_id=configuration_id, slug=slug)
            now = self.clock.now()
            session = Session(str(uuid.uuid4()), stored.configuration_id, now, now + ttl * 60)
            self.sessions[session.session_id] = session
            return session

    def delete_session(self, session_id: str) -> None:
        """Delete a session (404 if unknown or already deleted)."""
        with self.lock:
            session = self.sessions.get(session_id)
            if session is None or session.deleted:
                raise EmulatorError.not_found(f"session {session_id!r} not found")
            session.deleted = True

    def resolve_session(self, token: str) -> Session | None:
        """The live session for a Bearer token; None if the token was never a session id.

        A token that was a session but has expired or been deleted is a 401.
        """
        with self.lock:
            session = self.sessions.get(token)
            if session is None:
                return None
            if session.deleted:
                raise EmulatorError.unauthorized("session has been deleted")
            if not session.is_live(self.clock.now()):
                raise EmulatorError.unauthorized("session has expired")
            if session.configuration_id not in self.configurations:
                raise EmulatorError.unauthorized("session's configuration no longer exists")
            return session

    # ----------------------------------------------------------------- availability

    def _participant_grant(
        self, stored: StoredConfiguration, participant: Mapping[str, Any]
    ) -> Grant | None:
        grant_id = participant.get("grant_id")
        if grant_id:
            return self.grants.get(grant_id)
        if participant.get("is_organizer") is True:
            return self.grants.get(stored.grant_id)
        email = participant.get("email")
        if isinstance(email, str):
            found = self._grant_by_email.get(email.lower())
            if found is not None:
                return self.grants.get(found)
        return None

    def _live_bookings(self, configuration_id: str) -> list[Booking]:
        ids = self._bookings_by_config.get(configuration_id, ())
        return [b for b in (self.bookings[i] for i in ids) if b.is_live]

    def _busy(
        self,
        stored: StoredConfiguration,
        config: Mapping[str, Any],
        start: int,
        end: int,
        *,
        exclude_booking: str | None = None,
    ) -> dict[str, list[tuple[int, int]]]:
        rules = config["availability"].get("availability_rules") or {}
        tentative_busy = rules.get("tentative_as_busy", True) is not False
        lo, hi = start - _BUSY_MARGIN_SECONDS, end + _BUSY_MARGIN_SECONDS
        excluded_event = None
        if exclude_booking is not None and exclude_booking in self.bookings:
            excluded_event = self.bookings[exclude_booking].event_id
        busy: dict[str, list[tuple[int, int]]] = {}
        for participant in config["participants"]:
            email = participant["email"]
            intervals = busy.setdefault(email, [])
            avail = participant.get("availability")
            grant = self._participant_grant(stored, participant)
            if grant is None or not avail:
                continue
            for cal_id in avail.get("calendar_ids") or ():
                calendar = grant.calendar(cal_id)
                if calendar is None:
                    continue
                for ev in calendar.events.values():
                    if (
                        not ev.busy
                        or ev.status == "cancelled"
                        or (ev.status == "tentative" and not tentative_busy)
                        or ev.end_time <= lo
                        or ev.start_time >= hi
                        or ev.event_id == excluded_event
                    ):
                        continue
                    intervals.append((ev.start_time, ev.end_time))
        for booking in self._live_bookings(stored.configuration_id):
            if booking.booking_id != exclude_booking and booking.organizer_email in busy:
                busy[booking.organizer_email].append((booking.start_time, booking.end_time))
        for intervals in busy.values():
            intervals.sort()
        return busy

    def _fairness(self, configuration_id: str) -> tuple[dict[str, int], dict[str, int]]:
        # ``last_booked`` uses the booking sequence number, a strictly increasing stand-in for
        # the booking time (a frozen clock would otherwise tie every booking).
        last: dict[str, int] = {}
        counts: dict[str, int] = {}
        for booking in self._live_bookings(configuration_id):
            email = booking.organizer_email
            counts[email] = counts.get(email, 0) + 1
            last[email] = max(last.get(email, booking.seq), booking.seq)
        return last, counts

    def availability(
        self,
        configuration_id: str,
        start_time: int,
        end_time: int,
        *,
        booking_id: str | None = None,
    ) -> AvailabilityResult:
        """The engine's availability for a window, at the clock's now.

        ``booking_id`` (a booking of this configuration being rescheduled) frees that
        booking's own slot.
        """
        if start_time >= end_time:
            raise EmulatorError.invalid("start_time must be before end_time")
        with self.lock:
            stored = self.find_configuration(configuration_id=configuration_id)
            if booking_id is not None:
                self._get_booking(booking_id, configuration_id)
            config = stored.data
            busy = self._busy(stored, config, start_time, end_time, exclude_booking=booking_id)
            last, counts = self._fairness(configuration_id)
            now = self.clock.now()
        return compute_availability(
            config, busy, start_time, end_time, now, last_booked=last, booking_counts=counts
        )

    # ----------------------------------------------------------------- bookings

    def _get_booking(self, booking_id: str, configuration_id: str | None) -> Booking:
        booking = self.bookings.get(booking_id)
        if (
            booking is None
            or booking.deleted
            or (configuration_id is not None and booking.configuration_id != configuration_id)
        ):
            raise EmulatorError.not_found(f"booking {booking_id!r} not found")
        return booking

    def get_booking(self, booking_id: str, configuration_id: str | None = None) -> Booking:
        """A booking (404 if unknown, deleted, or of another configuration)."""
        with self.lock:
            return self._get_booking(booking_id, configuration_id)

    def _unavailable(
        self, stored: StoredConfiguration, start: int, end: int, exclude: str | None
    ) -> EmulatorError:
        emails = {p["email"] for p in stored.data["participants"]}
        for booking in self.bookings.values():
            if (
                booking.is_live
                and booking.booking_id != exclude
                and booking.organizer_email in emails
                and _overlaps(booking.start_time, booking.end_time, start, end)
            ):
                return EmulatorError.conflict("time slot has just been booked")
        return EmulatorError.invalid(
            "time slot is not available: start_time and end_time must match a slot that "
            "availability currently returns"
        )

    def _pick_slot(
        self,
        stored: StoredConfiguration,
        config: Mapping[str, Any],
        start: int,
        end: int,
        *,
        exclude_booking: str | None = None,
        prefer: str | None = None,
    ) -> Mapping[str, Any]:
        """Check the slot with the engine and return the host participant (dict)."""
        busy = self._busy(stored, config, start, end, exclude_booking=exclude_booking)
        last, counts = self._fairness(stored.configuration_id)
        now = self.clock.now()
        slot = find_slot(config, busy, start, end, now, last_booked=last, booking_counts=counts)
        if slot is None or not slot.emails:
            raise self._unavailable(stored, start, end, exclude_booking)
        method = config["availability"]["availability_rules"]["availability_method"]
        by_email: dict[str, Mapping[str, Any]] = {p["email"]: p for p in config["participants"]}
        if method in ROUND_ROBIN_METHODS:
            # The engine lists a round-robin slot's free participants in ``order``.
            host = prefer if prefer in slot.emails else slot.emails[0]
            return by_email[host]
        for participant in by_email.values():
            if participant.get("is_organizer") is True:
                return participant
        return by_email[slot.emails[0]]

    def _subset_config(
        self, config: dict[str, Any], participants: Sequence[str] | None
    ) -> dict[str, Any]:
        if not participants:
            return config
        known = {p["email"] for p in config["participants"]}
        unknown = [e for e in participants if e not in known]
        if unknown:
            raise EmulatorError.invalid(
                f"participants not in the configuration: {', '.join(unknown)}"
            )
        wanted = set(participants)
        kept = [p for p in config["participants"] if p["email"] in wanted or p.get("is_organizer")]
        return {**config, "participants": kept}

    def _write_event(
        self,
        stored: StoredConfiguration,
        host: Mapping[str, Any],
        booking: Booking | None,
        *,
        start: int,
        end: int,
        title: str,
        description: str,
    ) -> Event:
        grant = self._participant_grant(stored, host) or self.get_grant(
            stored.grant_id, provision=True
        )
        cal_id = (host.get("booking") or {}).get("calendar_id") or "primary"
        calendar = grant.calendar(cal_id)
        if calendar is None:
            calendar = Calendar(cal_id, grant.grant_id)
            grant.calendars[cal_id] = calendar
        event = Event(
            uuid.uuid4().hex,
            grant.grant_id,
            calendar.calendar_id,
            start,
            end,
            title=title,
            description=description,
            booking_id=booking.booking_id if booking else None,
        )
        calendar.events[event.event_id] = event
        self.events[event.event_id] = event
        return event

    def create_booking(
        self,
        configuration_id: str,
        start_time: int,
        end_time: int,
        guest: Mapping[str, Any],
        *,
        participants: Sequence[str] | None = None,
        additional_guests: Sequence[Any] = (),
        additional_fields: Mapping[str, Any] | None = None,
        timezone: str | None = None,
        email_language: str | None = None,
    ) -> Booking:
        """Book a slot atomically: re-check it with the engine, write the event, store it."""
        if start_time >= end_time:
            raise EmulatorError.invalid("start_time must be before end_time")
        if email_language is not None and email_language not in EMAIL_LANGUAGES:
            raise EmulatorError.invalid(
                "email_language must be one of " + ", ".join(sorted(EMAIL_LANGUAGES))
            )
        with self.lock:
            stored = self.find_configuration(configuration_id=configuration_id)
            config = self._subset_config(stored.data, participants)
            host = self._pick_slot(stored, config, start_time, end_time)
            event_booking = config["event_booking"]
            pending = event_booking.get("booking_type") == "organizer-confirmation"
            title = event_booking["title"]
            description = event_booking.get("description") or ""
            now = self.clock.now()
            booking = Booking(
                booking_id=str(uuid.uuid4()),
                configuration_id=stored.configuration_id,
                event_id="",
                grant_id="",
                calendar_id="",
                start_time=start_time,
                end_time=end_time,
                status="pending" if pending else "booked",
                title=title,
                description=description,
                organizer_email=host["email"],
                organizer_name=host.get("name"),
                guest=dict(guest),
                participants=[p["email"] for p in config["participants"]],
                salt=secrets.token_bytes(SALT_BYTES),
                created_at=now,
                updated_at=now,
                additional_guests=list(additional_guests),
                additional_fields=dict(additional_fields or {}),
                timezone=timezone,
                email_language=email_language,
                seq=next(self._seq),
            )
            event = self._write_event(
                stored,
                host,
                booking,
                start=start_time,
                end=end_time,
                title=f"(Pending) {title}" if pending else title,
                description=description,
            )
            booking.event_id, booking.grant_id = event.event_id, event.grant_id
            booking.calendar_id = event.calendar_id
            self.bookings[booking.booking_id] = booking
            self._bookings_by_config.setdefault(stored.configuration_id, []).append(
                booking.booking_id
            )
            return booking

    def _check_cancellation_notice(self, stored: StoredConfiguration, booking: Booking) -> None:
        notice = int(stored.data["scheduler"].get("min_cancellation_notice") or 0)
        if notice and booking.start_time - self.clock.now() < notice * 60:
            raise EmulatorError.invalid(
                f"bookings can only be cancelled or rescheduled at least {notice} minutes "
                "before they start"
            )

    def _cancel_event(self, booking: Booking) -> None:
        event = self.events.get(booking.event_id)
        if event is not None:
            event.status = "cancelled"

    def reschedule_booking(
        self, booking_id: str, configuration_id: str | None, start_time: int, end_time: int
    ) -> Booking:
        """Move a live booking to another available slot (its own slot does not count)."""
        if start_time >= end_time:
            raise EmulatorError.invalid("start_time must be before end_time")
        with self.lock:
            booking = self._get_booking(booking_id, configuration_id)
            if not booking.is_live:
                raise EmulatorError.invalid(f"booking is {booking.status}; it cannot be moved")
            stored = self.find_configuration(configuration_id=booking.configuration_id)
            self._check_cancellation_notice(stored, booking)
            config = self._subset_config(stored.data, booking.participants)
            host = self._pick_slot(
                stored,
                config,
                start_time,
                end_time,
                exclude_booking=booking_id,
                prefer=booking.organizer_email,
            )
            event = self.events.get(booking.event_id)
            if host["email"] != booking.organizer_email or event is None:
                if event is not None:
                    self.remove_event(event.event_id)
                title = event.title if event is not None else booking.title
                event = self._write_event(
                    stored,
                    host,
                    booking,
                    start=start_time,
                    end=end_time,
                    title=title,
                    description=booking.description,
                )
                booking.event_id, booking.grant_id = event.event_id, event.grant_id
                booking.calendar_id = event.calendar_id
                booking.organizer_email, booking.organizer_name = host["email"], host.get("name")
            else:
                event.start_time, event.end_time = start_time, end_time
            booking.start_time, booking.end_time = start_time, end_time
            booking.updated_at = self.clock.now()
            return booking

    def confirm_booking(
        self,
        booking_id: str,
        configuration_id: str | None,
        *,
        salt: str,
        status: str,
        cancellation_reason: str | None = None,
    ) -> Booking:
        """Confirm (→ ``booked``) or decline (→ ``cancelled``) a pending booking, given its salt."""
        if status not in ("confirmed", "cancelled"):
            raise EmulatorError.invalid("status must be 'confirmed' or 'cancelled'")
        given = _b64url_decode(salt)
        if given is None:
            raise EmulatorError.invalid("salt must be URL-safe base64 without padding")
        with self.lock:
            booking = self._get_booking(booking_id, configuration_id)
            if not hmac.compare_digest(given, booking.salt):
                raise EmulatorError.forbidden("salt does not match this booking")
            if booking.status != "pending":
                raise EmulatorError.invalid(
                    f"booking is {booking.status}; only pending bookings can be confirmed "
                    "or cancelled this way"
                )
            booking.updated_at = self.clock.now()
            if status == "confirmed":
                booking.status = "booked"
                event = self.events.get(booking.event_id)
                if event is not None:
                    event.title = booking.title
            else:
                booking.status = "cancelled"
                booking.cancellation_reason = cancellation_reason
                self._cancel_event(booking)
            return booking

    def delete_booking(
        self,
        booking_id: str,
        configuration_id: str | None = None,
        *,
        cancellation_reason: str | None = None,
    ) -> Booking:
        """Cancel and delete a booking, freeing its slot; it is then gone (404) on the wire."""
        with self.lock:
            booking = self._get_booking(booking_id, configuration_id)
            if booking.is_live:
                stored = self.configurations.get(booking.configuration_id)
                if stored is not None:
                    self._check_cancellation_notice(stored, booking)
            booking.status = "cancelled"
            booking.deleted = True
            if cancellation_reason is not None:
                booking.cancellation_reason = cancellation_reason
            booking.updated_at = self.clock.now()
            self._cancel_event(booking)
            return booking

    def booking_salt(self, booking_id: str) -> str:
        """The salt the organizer's link carries (URL-safe base64, no padding)."""
        with self.lock:
            booking = self.bookings.get(booking_id)
            if booking is None:
                raise EmulatorError.not_found(f"booking {booking_id!r} not found")
            return booking.salt_b64

    def booking_reference(self, booking_id: str) -> str:
        """The booking reference of the organizer's link (see :attr:`Booking.reference`)."""
        with self.lock:
            booking = self.bookings.get(booking_id)
            if booking is None:
                raise EmulatorError.not_found(f"booking {booking_id!r} not found")
            return booking.reference
