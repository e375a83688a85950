"""Group events: state, validation and atomic seat bookkeeping (self-contained, no aiohttp).

:class:`GroupEvents` holds every group event of an emulator under one ``threading.Lock``; every
public method is atomic, for asyncio tasks and threads alike, and never calls out while holding
the lock (except the ``lookup`` callable of :meth:`GroupEvents.import_events`, which must not
call back into this object). A store that books a group slot calls :meth:`GroupEvents.take_seat`
inside its own booking operation, :meth:`GroupEvents.free_seat` when the booking is cancelled and
:meth:`GroupEvents.move_seat` when it is rescheduled (lock order: store first, then this).

Wire shapes follow the fact sheet (Topic 2): events are answered as a flat event object with a
``group_event_info`` block; recurring events expand to instances ``<master_id>_<YYYYMMDDTHHMMSSZ>``;
``capacity`` is 1-500 (default: the configuration's ``default_capacity``, else 10).
"""

from __future__ import annotations

import copy
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .recurrence import (
    RecurrenceError,
    expand,
    occurs_at,
    split_instance_id,
    validate_recurrence,
)

__all__ = [
    "DEFAULT_CAPACITY",
    "MAX_CAPACITY",
    "MAX_IMPORT",
    "GroupEventError",
    "GroupEvents",
    "Instance",
    "default_capacity_of",
    "group_availability",
    "slot_fields",
    "validate_group_configuration",
]

DEFAULT_CAPACITY = 10
MAX_CAPACITY = 500
MAX_IMPORT = 20
EVENT_IS_FULL = "Event is full"
EVENT_CHANGED = "The selected event has changed"
EVENT_DELETED = "The selected event was deleted"
ALREADY_IMPORTED = "Event already imported"
NOT_FOUND = "Event not found"


class GroupEventError(Exception):
    """A refused group-event request: HTTP ``status`` plus the envelope ``error.type``."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message

    @classmethod
    def invalid(cls, message: str) -> GroupEventError:
        """400 ``invalid_request_error``."""
        return cls(400, "invalid_request_error", message)

    @classmethod
    def not_found(cls, message: str) -> GroupEventError:
        """404 ``not_found_error``."""
        return cls(404, "not_found_error", message)

    @classmethod
    def full(cls) -> GroupEventError:
        """409 ``timeslot_not_available`` (an ``error.type`` the booking page knows) with the
        exact message it tests for, ``"Event is full"``."""
        return cls(409, "timeslot_not_available", EVENT_IS_FULL)


# --------------------------------------------------------------------------- validation helpers


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise GroupEventError.invalid(f"{name} must be an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise GroupEventError.invalid(f"{name} must be an integer")


def _capacity(value: Any, name: str = "capacity") -> int:
    cap = _int(value, name)
    if not 1 <= cap <= MAX_CAPACITY:
        raise GroupEventError.invalid(f"{name} must be between 1 and {MAX_CAPACITY}")
    return cap


def _str(value: Any, name: str, *, max_len: int | None = None) -> str:
    if not isinstance(value, str):
        raise GroupEventError.invalid(f"{name} must be a string")
    if max_len is not None and len(value) > max_len:
        raise GroupEventError.invalid(f"{name} must be at most {max_len} characters")
    return value


def _opt_str(body: Mapping[str, Any], name: str, *, max_len: int | None = None) -> str | None:
    value = body.get(name)
    return None if value is None else _str(value, name, max_len=max_len)


def _opt_bool(body: Mapping[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise GroupEventError.invalid(f"{name} must be a boolean")
    return value


def _participants(value: Any) -> list[dict[str, Any]]:
    # The spec's schema says one object; its sample and every client send an array.
    items = [value] if isinstance(value, dict) else value
    if not isinstance(items, list):
        raise GroupEventError.invalid("participants must be an array")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise GroupEventError.invalid(f"participants[{i}] must be an object")
        person: dict[str, Any] = {"email": _str(item.get("email"), f"participants[{i}].email")}
        name = _opt_str(item, "name")
        if name is not None:
            person["name"] = name
        organizer = _opt_bool(item, "is_organizer")
        if organizer is not None:
            person["is_organizer"] = organizer
        out.append(person)
    return out


def _when(value: Any) -> dict[str, Any]:
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, dict):
        raise GroupEventError.invalid("when must be an object")
    start = _int(value.get("start_time"), "when.start_time")
    end = _int(value.get("end_time"), "when.end_time")
    if start >= end:
        raise GroupEventError.invalid("when.start_time must be before when.end_time")
    out: dict[str, Any] = {"start_time": start, "end_time": end}
    tz_start = _opt_str(value, "start_timezone")
    tz_end = _opt_str(value, "end_timezone")
    if (tz_start is None) != (tz_end is None):
        raise GroupEventError.invalid("start_timezone and end_timezone must be given together")
    if tz_start is not None:
        out["start_timezone"] = tz_start
        out["end_timezone"] = tz_end
    return out


def _recurrence(value: Any, timezone: str | None) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise GroupEventError.invalid("recurrence must be an array of strings")
    try:
        validate_recurrence(value, timezone)
    except RecurrenceError as exc:
        raise GroupEventError.invalid(str(exc)) from exc
    return list(value)


_EVENT_FIELDS = (
    "title",
    "description",
    "location",
    "participants",
    "organizer",
    "conferencing",
    "busy",
    "when",
    "recurrence",
    "capacity",
    "calendar_id",
)


def _event_fields(body: Mapping[str, Any], current: Mapping[str, Any] | None) -> dict[str, Any]:
    """Validate the event fields present in ``body`` (all of them for a create)."""
    out: dict[str, Any] = {}
    if "title" in body or current is None:
        out["title"] = _str(body.get("title"), "title", max_len=1024)
    for name, max_len in (("description", None), ("location", 255)):
        if body.get(name) is not None:
            out[name] = _opt_str(body, name, max_len=max_len)
    if body.get("participants") is not None:
        out["participants"] = _participants(body["participants"])
    if body.get("organizer") is not None:
        org = body["organizer"]
        if not isinstance(org, dict):
            raise GroupEventError.invalid("organizer must be an object")
        out["organizer"] = {k: _str(v, f"organizer.{k}") for k, v in org.items() if v is not None}
    if body.get("conferencing") is not None:
        if not isinstance(body["conferencing"], dict):
            raise GroupEventError.invalid("conferencing must be an object")
        out["conferencing"] = copy.deepcopy(body["conferencing"])
    if body.get("busy") is not None:
        out["busy"] = _opt_bool(body, "busy")
    if body.get("calendar_id") is not None:
        out["calendar_id"] = _str(body["calendar_id"], "calendar_id")
    if body.get("capacity") is not None:
        out["capacity"] = _capacity(body["capacity"])
    if "when" in body or current is None:
        if body.get("when") is None:
            raise GroupEventError.invalid("when is required")
        out["when"] = _when(body["when"])
    return out


# --------------------------------------------------------------------------- state


@dataclass
class _Override:
    """A modified (or deleted) instance of a recurring event."""

    capacity: int | None = None
    start_time: int | None = None
    end_time: int | None = None
    title: str | None = None
    deleted: bool = False


@dataclass
class _Record:
    event_id: str
    grant_id: str
    configuration_id: str
    data: dict[str, Any]
    """Validated event fields (title, when, capacity, calendar_id, recurrence, ...)."""
    created_at: int
    updated_at: int
    imported: bool = False
    overrides: dict[str, _Override] = field(default_factory=dict)

    @property
    def recurrence(self) -> list[str] | None:
        value: list[str] | None = self.data.get("recurrence")
        return value

    @property
    def timezone(self) -> str | None:
        value: str | None = self.data["when"].get("start_timezone")
        return value


@dataclass(frozen=True, slots=True)
class Instance:
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


class GroupEvents:
    """Every group event of one emulator, and the seats booked on them.

    ``clock`` returns the business time in Unix seconds (injectable); ``new_id`` makes event ids.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], int] | None = None,
        new_id: Callable[[], str] | None = None,
    ) -> None:
        import time

        self._clock = clock or (lambda: int(time.time()))
        self._new_id = new_id or (lambda: secrets.token_hex(13))
        self._lock = threading.Lock()
        self._events: dict[str, _Record] = {}
        self._seats: dict[str, dict[str, str]] = {}
        """instance id -> booking id -> guest email."""
        self._booking_seat: dict[str, tuple[str, str]] = {}
        """booking id -> (record id, instance id)."""
        self.before_seat_write: Callable[[], None] | None = None
        """Test hook: runs after a take found a free seat, before it writes it (race tests)."""

    # ----------------------------------------------------------------- reading helpers

    def _record(self, configuration_id: str, event_id: str) -> _Record:
        record = self._events.get(event_id)
        if record is None or record.configuration_id != configuration_id:
            raise GroupEventError.not_found(f"group event {event_id!r} not found")
        return record

    def _instance(self, record: _Record, instance_id: str, start: int, end: int) -> Instance:
        override = record.overrides.get(instance_id)
        capacity = record.data["capacity"]
        title = record.data["title"]
        if override is not None:
            capacity = override.capacity if override.capacity is not None else capacity
            start = override.start_time if override.start_time is not None else start
            end = override.end_time if override.end_time is not None else end
            title = override.title if override.title is not None else title
        people = record.data.get("participants") or ()
        emails = tuple(p["email"] for p in people if p.get("is_organizer")) or tuple(
            p["email"] for p in people[:1]
        )
        if not emails and record.data.get("organizer", {}).get("email"):
            emails = (record.data["organizer"]["email"],)
        return Instance(
            event_id=instance_id,
            master_id=record.event_id if record.recurrence else None,
            calendar_id=record.data["calendar_id"],
            configuration_id=record.configuration_id,
            start_time=start,
            end_time=end,
            capacity=capacity,
            booked=len(self._seats.get(instance_id, ())),
            title=title,
            emails=emails,
        )

    def _expand(self, record: _Record, window_start: int, window_end: int) -> list[Instance]:
        when = record.data["when"]
        duration = when["end_time"] - when["start_time"]
        # Moved exceptions may land in the window from outside it: widen, then filter.
        slack = 0
        for key, moved in record.overrides.items():
            split = split_instance_id(key)
            if moved.start_time is not None and split is not None:
                slack = max(slack, abs(moved.start_time - split[1]))
        occurrences = expand(
            record.event_id,
            start_time=when["start_time"],
            end_time=when["end_time"],
            recurrence=record.recurrence,
            timezone=record.timezone,
            window_start=window_start - slack,
            window_end=window_end + slack + duration,
        )
        out = []
        for occ in occurrences:
            override = record.overrides.get(occ.event_id)
            if override is not None and override.deleted:
                continue
            inst = self._instance(record, occ.event_id, occ.start_time, occ.end_time)
            if inst.end_time > window_start and inst.start_time < window_end:
                out.append(inst)
        return out

    def _resolve(
        self, configuration_id: str, event_id: str, master_id: str | None = None
    ) -> tuple[_Record, Instance]:
        """The record and live instance named by a slot; ``GroupEventError`` when gone."""
        record = self._events.get(event_id)
        if record is not None and record.configuration_id == configuration_id:
            if record.recurrence:
                raise GroupEventError.invalid(
                    "event_id names a recurring event: use the id of one instance"
                )
            when = record.data["when"]
            return record, self._instance(record, event_id, when["start_time"], when["end_time"])
        split = split_instance_id(event_id)
        if split is None:
            raise GroupEventError.not_found(EVENT_DELETED)
        master, start = split
        if master_id is not None and master_id != master:
            raise GroupEventError.invalid("master_id does not match event_id")
        record = self._events.get(master)
        if record is None or record.configuration_id != configuration_id:
            raise GroupEventError.not_found(EVENT_DELETED)
        override = record.overrides.get(event_id)
        if override is not None and override.deleted:
            raise GroupEventError.not_found(EVENT_DELETED)
        when = record.data["when"]
        duration = when["end_time"] - when["start_time"]
        if not occurs_at(
            record.event_id,
            start_time=when["start_time"],
            end_time=when["end_time"],
            recurrence=record.recurrence,
            timezone=record.timezone,
            at=start,
        ):
            raise GroupEventError.not_found(EVENT_DELETED)
        return record, self._instance(record, event_id, start, start + duration)

    def _to_json(self, record: _Record, inst: Instance | None = None) -> dict[str, Any]:
        data = copy.deepcopy(record.data)
        when = {**data.pop("when"), "object": "timespan"}
        out: dict[str, Any] = {"id": record.event_id, **data, "status": "confirmed"}
        info: dict[str, Any] = {
            "event_id": record.event_id,
            "calendar_id": record.data["calendar_id"],
            "master_id": record.event_id if record.recurrence else None,
            "config_id": record.configuration_id,
            "capacity": record.data["capacity"],
            "type": "updated_event" if record.updated_at != record.created_at else "created_event",
            "rrule": data.get("recurrence"),
            "exceptions": [
                {"event_id": k, "capacity": o.capacity}
                for k, o in sorted(record.overrides.items())
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
            seats = self._seats.get(inst.event_id, {})
            info["booked"] = bool(seats)
            info["finished"] = inst.end_time <= self._clock()
            info["participants"] = [{"email": e} for e in sorted(set(seats.values()))]
        out["when"] = when
        out["created_at"] = record.created_at
        out["updated_at"] = record.updated_at
        out["group_event_info"] = info
        return out

    # ----------------------------------------------------------------- CRUD

    def create(
        self,
        grant_id: str,
        configuration_id: str,
        body: Mapping[str, Any],
        *,
        default_capacity: int = DEFAULT_CAPACITY,
        default_calendar_id: str = "primary",
    ) -> dict[str, Any]:
        """Create a group event (``POST .../group-events``); returns its wire object."""
        data = _event_fields(body, None)
        data.setdefault("capacity", default_capacity)
        data.setdefault("calendar_id", default_calendar_id)
        recurrence = _recurrence(body.get("recurrence"), data["when"].get("start_timezone"))
        if recurrence:
            data["recurrence"] = recurrence
        now = self._clock()
        with self._lock:
            event_id = self._new_id()
            record = _Record(event_id, grant_id, configuration_id, data, now, now)
            self._events[event_id] = record
            return self._to_json(record)

    def get(self, configuration_id: str, event_id: str) -> dict[str, Any]:
        """One group event, master or instance."""
        with self._lock:
            record = self._events.get(event_id)
            if record is not None and record.configuration_id == configuration_id:
                return self._to_json(record)
            record, inst = self._resolve(configuration_id, event_id)
            return self._to_json(record, inst)

    def list_events(
        self,
        configuration_id: str,
        *,
        start_time: int,
        end_time: int,
        calendar_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Instances overlapping ``[start_time, end_time)`` in time order."""
        with self._lock:
            found = [
                (inst, record)
                for record in self._events.values()
                if record.configuration_id == configuration_id
                and (calendar_id is None or record.data["calendar_id"] == calendar_id)
                for inst in self._expand(record, start_time, end_time)
            ]
            found.sort(key=lambda pair: (pair[0].start_time, pair[0].event_id))
            return [self._to_json(record, inst) for inst, record in found]

    def instances(
        self,
        configuration_id: str,
        start_time: int,
        end_time: int,
        *,
        calendar_id: str | None = None,
    ) -> list[Instance]:
        """Snapshots of the instances in a window (for :func:`group_availability`)."""
        with self._lock:
            out = [
                inst
                for record in self._events.values()
                if record.configuration_id == configuration_id
                and (calendar_id is None or record.data["calendar_id"] == calendar_id)
                for inst in self._expand(record, start_time, end_time)
            ]
        out.sort(key=lambda i: (i.start_time, i.event_id))
        return out

    def update(
        self,
        configuration_id: str,
        event_id: str,
        body: Mapping[str, Any],
        *,
        merge: bool = False,
    ) -> dict[str, Any]:
        """Update a group event (PUT replaces nested objects; PATCH, ``merge=True``, merges them).

        An instance id updates that instance only (an exception with its own capacity/time).
        """
        if not isinstance(body, Mapping):
            raise GroupEventError.invalid("request body must be a JSON object")
        with self._lock:
            record = self._events.get(event_id)
            if record is not None and record.configuration_id == configuration_id:
                self._update_record(record, body, merge=merge)
                return self._to_json(record)
            record, inst = self._resolve(configuration_id, event_id)
            override = record.overrides.setdefault(event_id, _Override())
            if body.get("capacity") is not None:
                override.capacity = _capacity(body["capacity"])
            if body.get("title") is not None:
                override.title = _str(body["title"], "title", max_len=1024)
            if body.get("when") is not None:
                raw = body["when"]
                if merge and isinstance(raw, dict):
                    raw = {"start_time": inst.start_time, "end_time": inst.end_time, **raw}
                when = _when(raw)
                override.start_time, override.end_time = when["start_time"], when["end_time"]
            record.updated_at = self._clock()
            _, inst = self._resolve(configuration_id, event_id)
            return self._to_json(record, inst)

    def _update_record(self, record: _Record, body: Mapping[str, Any], *, merge: bool) -> None:
        if merge and isinstance(body.get("when"), dict):
            body = {**body, "when": {**record.data["when"], **body["when"]}}
        data = {**record.data, **_event_fields(body, record.data)}
        if "recurrence" in body:
            tz = data["when"].get("start_timezone")
            recurrence = _recurrence(body["recurrence"], tz)
            if recurrence:
                data["recurrence"] = recurrence
            else:
                data.pop("recurrence", None)
        elif data.get("recurrence"):
            try:
                validate_recurrence(data["recurrence"], data["when"].get("start_timezone"))
            except RecurrenceError as exc:
                raise GroupEventError.invalid(str(exc)) from exc
        record.data = data
        record.updated_at = self._clock()

    def delete(self, configuration_id: str, event_id: str) -> list[str]:
        """Delete an event (a master deletes every instance); returns the seated booking ids.

        The caller cancels those bookings; their seats are already gone.
        """
        with self._lock:
            record = self._events.get(event_id)
            if record is not None and record.configuration_id == configuration_id:
                del self._events[event_id]
                gone = [b for b, (rid, _) in self._booking_seat.items() if rid == event_id]
            else:
                record, _ = self._resolve(configuration_id, event_id)
                record.overrides.setdefault(event_id, _Override()).deleted = True
                gone = [b for b, (_, iid) in self._booking_seat.items() if iid == event_id]
            for booking_id in gone:
                self._release(booking_id)
            return gone

    def delete_configuration(self, configuration_id: str) -> None:
        """Forget every event of a deleted configuration."""
        with self._lock:
            for event_id in [
                k for k, r in self._events.items() if r.configuration_id == configuration_id
            ]:
                del self._events[event_id]
            for booking_id in [
                b for b, (rid, _) in self._booking_seat.items() if rid not in self._events
            ]:
                self._release(booking_id)

    # ----------------------------------------------------------------- import

    def import_events(
        self,
        grant_id: str,
        configuration_id: str,
        items: Any,
        *,
        lookup: Callable[[str, str], Mapping[str, Any] | None],
        default_capacity: int = DEFAULT_CAPACITY,
        default_calendar_id: str | None = None,
    ) -> dict[str, Any]:
        """Turn existing calendar events into group events (at most 20 per call).

        ``items`` is the JSON body: an array (spec schema) or one object (spec sample).
        ``lookup(calendar_id, event_id)`` returns the calendar event (``title``, ``start_time``,
        ``end_time``, optional ``recurrence``, ``timezone``, ``participants``) or ``None``.
        Returns ``{"imported_events": [{"event_id"}], "import_failed": [{"event_id", "reason"}]}``.
        """
        batch = [items] if isinstance(items, dict) else items
        if not isinstance(batch, list) or not batch:
            raise GroupEventError.invalid("the body must be a non-empty array of events")
        if len(batch) > MAX_IMPORT:
            raise GroupEventError.invalid(f"at most {MAX_IMPORT} events can be imported per call")
        parsed = []
        for i, item in enumerate(batch):
            if not isinstance(item, dict):
                raise GroupEventError.invalid(f"[{i}] must be an object")
            event_id = _str(item.get("event_id"), f"[{i}].event_id")
            calendar_id = item.get("calendar_id") or default_calendar_id
            calendar_id = _str(calendar_id, f"[{i}].calendar_id")
            cap = item.get("capacity")
            capacity = default_capacity if cap is None else _capacity(cap, f"[{i}].capacity")
            exceptions = {}
            for j, exc in enumerate(item.get("exceptions") or ()):
                if not isinstance(exc, dict):
                    raise GroupEventError.invalid(f"[{i}].exceptions[{j}] must be an object")
                exc_id = _str(exc.get("event_id"), f"[{i}].exceptions[{j}].event_id")
                exceptions[exc_id] = _capacity(
                    exc.get("capacity"), f"[{i}].exceptions[{j}].capacity"
                )
            people = item.get("participants")
            parsed.append(
                (event_id, calendar_id, capacity, exceptions, people and _participants(people))
            )
        imported: list[dict[str, str]] = []
        failed: list[dict[str, str]] = []
        now = self._clock()
        for event_id, calendar_id, capacity, exceptions, people in parsed:
            source = lookup(calendar_id, event_id)
            with self._lock:
                if event_id in self._events:
                    failed.append({"event_id": event_id, "reason": ALREADY_IMPORTED})
                    continue
                if source is None:
                    failed.append({"event_id": event_id, "reason": NOT_FOUND})
                    continue
                when: dict[str, Any] = {
                    "start_time": int(source["start_time"]),
                    "end_time": int(source["end_time"]),
                }
                if source.get("timezone"):
                    when["start_timezone"] = when["end_timezone"] = source["timezone"]
                data: dict[str, Any] = {
                    "title": source.get("title") or "",
                    "when": when,
                    "capacity": capacity,
                    "calendar_id": calendar_id,
                }
                if source.get("recurrence"):
                    data["recurrence"] = list(source["recurrence"])
                if people or source.get("participants"):
                    data["participants"] = people or list(source["participants"])
                record = _Record(
                    event_id, grant_id, configuration_id, data, now, now, imported=True
                )
                record.overrides = {k: _Override(capacity=c) for k, c in exceptions.items()}
                self._events[event_id] = record
                imported.append({"event_id": event_id})
        return {"imported_events": imported, "import_failed": failed}

    # ----------------------------------------------------------------- slots and seats

    def validate_timeslot(self, configuration_id: str, body: Mapping[str, Any]) -> None:
        """Raise ``GroupEventError`` if the slot's event was deleted, changed or is full.

        ``body``: ``event_id`` (required), ``start_time``/``end_time``, optional ``master_id``
        (or ``master_event_id``), ``calendar_id``, ``capacity`` (seats the caller was shown).
        """
        event_id = _str(body.get("event_id"), "event_id")
        master = body.get("master_id") or body.get("master_event_id")
        with self._lock:
            _, inst = self._resolve(configuration_id, event_id, master)
            self._check_unchanged(inst, body)
            if inst.remaining <= 0:
                raise GroupEventError.full()

    @staticmethod
    def _check_unchanged(inst: Instance, body: Mapping[str, Any]) -> None:
        for name, current in (("start_time", inst.start_time), ("end_time", inst.end_time)):
            if body.get(name) is not None and _int(body[name], name) != current:
                raise GroupEventError.invalid(EVENT_CHANGED)
        calendar_id = body.get("calendar_id")
        if calendar_id is not None and calendar_id not in (inst.calendar_id, "primary"):
            raise GroupEventError.invalid(EVENT_CHANGED)
        # Capacity shown as remaining seats: more than the whole event now holds means it shrank.
        if body.get("capacity") is not None and _int(body["capacity"], "capacity") > inst.capacity:
            raise GroupEventError.invalid(EVENT_CHANGED)

    def take_seat(
        self,
        configuration_id: str,
        booking_id: str,
        slot: Mapping[str, Any],
        *,
        guest_email: str = "",
    ) -> Instance:
        """Atomically book one seat of the slot's event for ``booking_id``.

        ``slot`` is the booking body: ``event_id``, ``master_id``/``master_event_id``,
        ``start_time``, ``end_time``, ``calendar_id``. Exactly one of concurrent takes of the
        last seat wins; the rest raise ``GroupEventError`` 409 ``Event is full``. Taking a seat
        twice for one booking is a no-op.
        """
        with self._lock:
            where = self._booking_seat.get(booking_id)
            if where is not None:
                return self._resolve(configuration_id, where[1])[1]
            return self._take_locked(configuration_id, booking_id, slot, guest_email)

    def _release(self, booking_id: str) -> bool:
        where = self._booking_seat.pop(booking_id, None)
        if where is None:
            return False
        seats = self._seats.get(where[1], {})
        seats.pop(booking_id, None)
        if not seats:
            self._seats.pop(where[1], None)
        return True

    def free_seat(self, booking_id: str) -> bool:
        """Give back the seat of a cancelled booking; ``False`` if it held none."""
        with self._lock:
            return self._release(booking_id)

    def move_seat(
        self,
        configuration_id: str,
        booking_id: str,
        slot: Mapping[str, Any],
        *,
        guest_email: str = "",
    ) -> Instance:
        """Reschedule: take a seat on the new slot, then free the old one (all or nothing)."""
        with self._lock:
            old = self._booking_seat.get(booking_id)
            guest = self._seats.get(old[1], {}).get(booking_id, guest_email) if old else ""
            if old is not None:
                self._release(booking_id)
            try:
                return self._take_locked(configuration_id, booking_id, slot, guest or guest_email)
            except GroupEventError:
                if old is not None:  # put the old seat back
                    self._seats.setdefault(old[1], {})[booking_id] = guest
                    self._booking_seat[booking_id] = old
                raise

    def _take_locked(
        self, configuration_id: str, booking_id: str, slot: Mapping[str, Any], guest: str
    ) -> Instance:
        event_id = _str(slot.get("event_id"), "event_id")
        master = slot.get("master_id") or slot.get("master_event_id")
        record, inst = self._resolve(configuration_id, event_id, master)
        self._check_unchanged(inst, {k: v for k, v in slot.items() if k != "capacity"})
        if inst.remaining <= 0:
            raise GroupEventError.full()
        if self.before_seat_write is not None:
            self.before_seat_write()
        self._seats.setdefault(inst.event_id, {})[booking_id] = guest
        self._booking_seat[booking_id] = (record.event_id, inst.event_id)
        return self._instance(record, inst.event_id, inst.start_time, inst.end_time)

    def seat_of(self, booking_id: str) -> str | None:
        """The instance id a booking holds a seat on, if any."""
        with self._lock:
            where = self._booking_seat.get(booking_id)
            return where[1] if where else None

    def reset(self) -> None:
        """Forget everything (the emulator's reset)."""
        with self._lock:
            self._events.clear()
            self._seats.clear()
            self._booking_seat.clear()


# --------------------------------------------------------------------------- pure functions


def group_availability(
    instances: Iterable[Instance],
    *,
    start_time: int,
    end_time: int,
    now: int,
    min_booking_notice: int = 0,
) -> dict[str, Any]:
    """The availability answer of a group configuration: events in the window with free seats.

    ``min_booking_notice`` is in minutes (the configuration's ``scheduler.min_booking_notice``).
    Each slot carries ``event_id``, ``master_id`` (recurring events only), ``calendar_id`` and
    ``capacity`` = remaining seats. There is no ``order`` (round-robin only).
    """
    earliest = now + 60 * min_booking_notice
    slots = []
    for inst in sorted(instances, key=lambda i: (i.start_time, i.event_id)):
        if inst.remaining <= 0 or inst.start_time < max(start_time, earliest):
            continue
        if inst.end_time > end_time:
            continue
        slot: dict[str, Any] = {
            "emails": list(inst.emails),
            "start_time": inst.start_time,
            "end_time": inst.end_time,
            "event_id": inst.event_id,
            "calendar_id": inst.calendar_id,
            "capacity": inst.remaining,
        }
        if inst.master_id is not None:
            slot["master_id"] = inst.master_id
        slots.append(slot)
    return {"time_slots": slots}


_REMINDER_TYPES = ("email", "webhook")
_RECIPIENTS = ("host", "guest", "all")
_STANDARD_ONLY = ("participants", "availability", "event_booking")


def validate_group_configuration(
    body: Mapping[str, Any], *, current: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Validate a group configuration's create (or PUT, with ``current``) body.

    Returns the stored fields (no ``id``): ``type: "group"`` and a ``group_booking`` whose
    ``default_capacity`` is 1-500 (default 10) and ``booking_type`` is ``booking``.
    """
    if body.get("type", "group") != "group":
        raise GroupEventError.invalid("type must be 'group'")
    for name in _STANDARD_ONLY:
        if body.get(name) is not None:
            raise GroupEventError.invalid(f"a group configuration has no {name}")
    data: dict[str, Any] = {
        k: copy.deepcopy(v) for k, v in (current or {}).items() if k not in _STANDARD_ONLY
    }
    for k, v in body.items():
        if k not in _STANDARD_ONLY and k != "id" and v is not None:
            data[k] = copy.deepcopy(v)
    data["type"] = "group"
    if data.get("name") is not None:
        _str(data["name"], "name")
    for name in ("slug",):
        if data.get(name) is not None:
            _str(data[name], name)
    gb = data.get("group_booking")
    if not isinstance(gb, dict):
        raise GroupEventError.invalid("group_booking is required")
    if current is not None and isinstance(current.get("group_booking"), dict):
        gb = {**current["group_booking"], **gb}
    gb["calendar_id"] = _str(gb.get("calendar_id"), "group_booking.calendar_id")
    booking_type = gb.get("booking_type") or "booking"
    if booking_type != "booking":
        raise GroupEventError.invalid("group_booking.booking_type must be 'booking'")
    gb["booking_type"] = booking_type
    if gb.get("disable_emails") is not None and not isinstance(gb["disable_emails"], bool):
        raise GroupEventError.invalid("group_booking.disable_emails must be a boolean")
    cap = gb.get("default_capacity")
    gb["default_capacity"] = (
        DEFAULT_CAPACITY if cap is None else _capacity(cap, "group_booking.default_capacity")
    )
    reminders = gb.get("reminders")
    if reminders is not None:
        _check_reminders(reminders)
    data["group_booking"] = gb
    return data


def _check_reminders(reminders: Any) -> None:
    if not isinstance(reminders, list):
        raise GroupEventError.invalid("group_booking.reminders must be an array")
    for i, rem in enumerate(reminders):
        where = f"group_booking.reminders[{i}]"
        if not isinstance(rem, dict):
            raise GroupEventError.invalid(f"{where} must be an object")
        if rem.get("type") not in _REMINDER_TYPES:
            raise GroupEventError.invalid(f"{where}.type must be email or webhook")
        if _int(rem.get("minutes_before_event"), f"{where}.minutes_before_event") < 1:
            raise GroupEventError.invalid(f"{where}.minutes_before_event must be at least 1")
        if rem.get("recipient") is not None and rem["recipient"] not in _RECIPIENTS:
            raise GroupEventError.invalid(f"{where}.recipient must be host or guest")


def default_capacity_of(configuration: Mapping[str, Any]) -> int:
    """The configuration's ``group_booking.default_capacity`` (10 when unset)."""
    gb = configuration.get("group_booking") or {}
    cap = gb.get("default_capacity") if isinstance(gb, dict) else None
    return cap if isinstance(cap, int) and not isinstance(cap, bool) else DEFAULT_CAPACITY


def slot_fields(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The group-slot part of a booking body (``event_id`` etc.), or ``None`` if absent."""
    if body.get("event_id") is None:
        return None
    keys: Sequence[str] = (
        "event_id",
        "master_id",
        "master_event_id",
        "calendar_id",
        "start_time",
        "end_time",
    )
    return {k: body[k] for k in keys if body.get(k) is not None}
