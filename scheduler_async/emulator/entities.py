"""Plain records of the emulator's state: grants, calendars, events, configurations, sessions,
bookings and group events (with their instances), with their wire and admin JSON forms.  No
locking, no rules, no aiohttp."""

from __future__ import annotations

import base64
import binascii
import copy
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scheduler_async.emulator.errors import EmulatorError
from scheduler_async.emulator.event_index import INDEXED_FIELDS, EventIndex

__all__ = [
    "LIVE_BOOKING_STATUSES",
    "Booking",
    "Calendar",
    "Event",
    "EventIndex",
    "Grant",
    "GroupEventRecord",
    "GroupInstance",
    "GroupOverride",
    "Journaled",
    "Session",
    "StoredConfiguration",
    "b64url",
    "b64url_decode",
    "decode_cursor",
    "encode_cursor",
]

LIVE_BOOKING_STATUSES = frozenset({"booked", "pending"})


class Journaled:
    """A record that reports its first change after a restore to that restore's journal.

    A restore of the same snapshot again (see :mod:`.restore_cache`) reuses the records the
    first one built: each carries the journal as ``_journal`` until it is first written, and
    the journal keeps its fields as they were so that the next restore puts them back.
    """

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        journal = self.__dict__.get("_journal")
        if journal is not None:
            journal.save(self)  # keeps a copy of the fields and drops the mark
        object.__setattr__(self, name, value)

    def __getstate__(self) -> dict[str, Any]:
        # A copy (copy, deepcopy, pickle) or a dump is the fields alone.
        state = dict(self.__dict__)
        state.pop("_journal", None)
        return state


@dataclass
class Event(Journaled):
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

    def __setattr__(self, name: str, value: Any) -> None:
        # A move (``start_time``/``end_time``) or a change of ``busy``/``status`` keeps its
        # calendar's EventIndex right, whoever writes it: the index is told before and after.
        own = self.__dict__
        journal = own.get("_journal")
        if journal is not None:
            journal.save(self)
        ref = own.get("_index") if name in INDEXED_FIELDS else None
        index = ref() if ref is not None else None
        if index is not None:
            index.unindex(self)
        object.__setattr__(self, name, value)
        if index is not None:
            index.reindex(self)

    def __getstate__(self) -> dict[str, Any]:
        # A copy (copy, deepcopy, pickle) belongs to no index until it is put into one.
        state = dict(self.__dict__)
        state.pop("_index", None)
        state.pop("_journal", None)
        return state

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
class Calendar(Journaled):
    """A calendar of a grant and its events (by event id, kept in start order)."""

    calendar_id: str
    grant_id: str
    is_primary: bool = False
    events: EventIndex = field(default_factory=EventIndex)

    def __post_init__(self) -> None:
        if type(self.events) is not EventIndex:  # a plain dict passed in: index it
            self.events = EventIndex(self.events)

    def to_json(self) -> dict[str, Any]:
        """Admin-API representation (without events)."""
        return {"id": self.calendar_id, "grant_id": self.grant_id, "is_primary": self.is_primary}


@dataclass
class Grant(Journaled):
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


def encode_cursor(kind: str, number: int) -> str:
    """An opaque page cursor: ``kind`` (what ``number`` counts) and ``number``."""
    return b64url(f"{kind}:{number}".encode())


def decode_cursor(kind: str, token: str) -> int:
    """The number of a cursor made by :func:`encode_cursor` with ``kind``; anything else (another
    kind, a negative number, not base64) is a 400 ``page_token is not valid``."""
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
        prefix, _, number = text.partition(":")
        if prefix != kind or int(number) < 0:
            raise ValueError(text)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise EmulatorError.invalid("page_token is not valid") from exc


@dataclass
class Booking(Journaled):
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


@dataclass
class GroupOverride:
    """A modified (or deleted) instance of a recurring group event."""

    capacity: int | None = None
    start_time: int | None = None
    end_time: int | None = None
    title: str | None = None
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class GroupInstance:
    """One bookable occurrence of a group event, with its seats."""

    event_id: str
    master_id: str | None
    calendar_id: str
    configuration_id: str
    start_time: int
    end_time: int
    capacity: int
    booked: int
    title: str
    emails: tuple[str, ...]
    """The organizer's address(es): the ``emails`` of an availability slot."""

    @property
    def remaining(self) -> int:
        """Free seats (never negative, even after the capacity was lowered)."""
        return max(0, self.capacity - self.booked)


@dataclass
class GroupEventRecord:
    """A group event of a group configuration (a recurring one stands for all its instances).

    Wire shape (fact sheet, Topic 2): a flat event object with a ``group_event_info`` block;
    recurring events expand to instances ``<master_id>_<YYYYMMDDTHHMMSSZ>``.
    """

    event_id: str
    grant_id: str
    configuration_id: str
    data: dict[str, Any]
    """Validated event fields (title, when, capacity, calendar_id, recurrence, ...)."""
    created_at: int
    updated_at: int
    imported: bool = False
    overrides: dict[str, GroupOverride] = field(default_factory=dict)

    @property
    def recurrence(self) -> list[str] | None:
        """The RRULE/EXDATE lines of a recurring event, else ``None``."""
        value: list[str] | None = self.data.get("recurrence")
        return value

    @property
    def timezone(self) -> str | None:
        """The IANA zone of ``when`` (its recurrence is expanded in it), if any."""
        value: str | None = self.data["when"].get("start_timezone")
        return value

    def instance(self, instance_id: str, start: int, end: int, booked: int) -> GroupInstance:
        """The instance ``instance_id`` (or the event itself) at ``[start, end)`` with its
        override applied and ``booked`` seats taken."""
        override = self.overrides.get(instance_id)
        capacity = self.data["capacity"]
        title = self.data["title"]
        if override is not None:
            capacity = override.capacity if override.capacity is not None else capacity
            start = override.start_time if override.start_time is not None else start
            end = override.end_time if override.end_time is not None else end
            title = override.title if override.title is not None else title
        people = self.data.get("participants") or ()
        emails = tuple(p["email"] for p in people if p.get("is_organizer")) or tuple(
            p["email"] for p in people[:1]
        )
        if not emails and self.data.get("organizer", {}).get("email"):
            emails = (self.data["organizer"]["email"],)
        return GroupInstance(
            event_id=instance_id,
            master_id=self.event_id if self.recurrence else None,
            calendar_id=self.data["calendar_id"],
            configuration_id=self.configuration_id,
            start_time=start,
            end_time=end,
            capacity=capacity,
            booked=booked,
            title=title,
            emails=emails,
        )

    def to_json(
        self,
        inst: GroupInstance | None = None,
        *,
        seats: Mapping[str, str] | None = None,
        now: int = 0,
    ) -> dict[str, Any]:
        """Wire representation of the event, or of its instance ``inst`` (whose booked
        ``seats`` map booking id -> guest email; ``now`` tells whether it is finished)."""
        data = copy.deepcopy(self.data)
        when = {**data.pop("when"), "object": "timespan"}
        out: dict[str, Any] = {"id": self.event_id, **data, "status": "confirmed"}
        info: dict[str, Any] = {
            "event_id": self.event_id,
            "calendar_id": self.data["calendar_id"],
            "master_id": self.event_id if self.recurrence else None,
            "config_id": self.configuration_id,
            "capacity": self.data["capacity"],
            "type": "updated_event" if self.updated_at != self.created_at else "created_event",
            "rrule": data.get("recurrence"),
            "exceptions": [
                {"event_id": k, "capacity": o.capacity}
                for k, o in sorted(self.overrides.items())
                if o.capacity is not None and not o.deleted
            ],
        }
        if inst is not None:
            out["id"] = inst.event_id
            out["capacity"] = inst.capacity
            out["title"] = inst.title
            when["start_time"], when["end_time"] = inst.start_time, inst.end_time
            if inst.master_id is not None:
                out["master_event_id"] = inst.master_id
                out.pop("recurrence", None)
            info.update(event_id=inst.event_id, capacity=inst.capacity)
            seats = seats or {}
            info["booked"] = bool(seats)
            info["finished"] = inst.end_time <= now
            info["participants"] = [{"email": e} for e in sorted(set(seats.values()))]
        out["when"] = when
        out["created_at"] = self.created_at
        out["updated_at"] = self.updated_at
        out["group_event_info"] = info
        return out
