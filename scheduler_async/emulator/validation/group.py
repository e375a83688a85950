"""The rules of group configurations, group events, their import and group slots.

Capacity is 1-:data:`MAX_CAPACITY` (default: the configuration's ``default_capacity``, else
:data:`DEFAULT_CAPACITY`); at most :data:`MAX_IMPORT` events per import call.  Pure: no I/O, no
aiohttp; every refusal is a 400 :class:`~scheduler_async.emulator.errors.EmulatorError`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from scheduler_async.emulator.errors import EmulatorError
from scheduler_async.emulator.recurrence import RecurrenceError, validate_recurrence
from scheduler_async.emulator.validation.limits import parse_int

__all__ = [
    "DEFAULT_CAPACITY",
    "MAX_CAPACITY",
    "MAX_IMPORT",
    "ImportItem",
    "check_recurrence",
    "default_capacity_of",
    "group_capacity",
    "group_event_fields",
    "group_participants",
    "group_when",
    "import_items",
    "require_str",
    "slot_fields",
    "validate_group_configuration",
]

DEFAULT_CAPACITY = 10
MAX_CAPACITY = 500
MAX_IMPORT = 20

_invalid = EmulatorError.invalid


def group_capacity(value: Any, name: str = "capacity") -> int:
    """A capacity: an integer 1-:data:`MAX_CAPACITY`."""
    cap = parse_int(value, name)
    if not 1 <= cap <= MAX_CAPACITY:
        raise _invalid(f"{name} must be between 1 and {MAX_CAPACITY}")
    return cap


def require_str(value: Any, name: str, *, max_len: int | None = None) -> str:
    """A string (of at most ``max_len`` characters)."""
    if not isinstance(value, str):
        raise _invalid(f"{name} must be a string")
    if max_len is not None and len(value) > max_len:
        raise _invalid(f"{name} must be at most {max_len} characters")
    return value


def _opt_str(body: Mapping[str, Any], name: str, *, max_len: int | None = None) -> str | None:
    value = body.get(name)
    return None if value is None else require_str(value, name, max_len=max_len)


def _opt_bool(body: Mapping[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise _invalid(f"{name} must be a boolean")
    return value


def group_participants(value: Any) -> list[dict[str, Any]]:
    """A group event's ``participants``: an array of ``{email, name?, is_organizer?}``."""
    # The spec's schema says one object; its sample and every client send an array.
    items = [value] if isinstance(value, dict) else value
    if not isinstance(items, list):
        raise _invalid("participants must be an array")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise _invalid(f"participants[{i}] must be an object")
        person: dict[str, Any] = {
            "email": require_str(item.get("email"), f"participants[{i}].email")
        }
        name = _opt_str(item, "name")
        if name is not None:
            person["name"] = name
        organizer = _opt_bool(item, "is_organizer")
        if organizer is not None:
            person["is_organizer"] = organizer
        out.append(person)
    return out


def group_when(value: Any) -> dict[str, Any]:
    """A group event's ``when`` (an object, or a one-element array of it)."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if not isinstance(value, dict):
        raise _invalid("when must be an object")
    start = parse_int(value.get("start_time"), "when.start_time")
    end = parse_int(value.get("end_time"), "when.end_time")
    if start >= end:
        raise _invalid("when.start_time must be before when.end_time")
    out: dict[str, Any] = {"start_time": start, "end_time": end}
    tz_start = _opt_str(value, "start_timezone")
    tz_end = _opt_str(value, "end_timezone")
    if (tz_start is None) != (tz_end is None):
        raise _invalid("start_timezone and end_timezone must be given together")
    if tz_start is not None:
        out["start_timezone"] = tz_start
        out["end_timezone"] = tz_end
    return out


def check_recurrence(value: Any, timezone: str | None) -> list[str] | None:
    """A ``recurrence`` (RRULE/EXDATE strings) valid in ``timezone``, or ``None``."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise _invalid("recurrence must be an array of strings")
    try:
        validate_recurrence(value, timezone)
    except RecurrenceError as exc:
        raise _invalid(str(exc)) from exc
    return list(value)


def group_event_fields(
    body: Mapping[str, Any], current: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Validate the event fields present in ``body`` (all of them for a create, ``current``
    None); ``recurrence`` is left to :func:`check_recurrence`."""
    out: dict[str, Any] = {}
    if "title" in body or current is None:
        out["title"] = require_str(body.get("title"), "title", max_len=1024)
    for name, max_len in (("description", None), ("location", 255)):
        if body.get(name) is not None:
            out[name] = _opt_str(body, name, max_len=max_len)
    if body.get("participants") is not None:
        out["participants"] = group_participants(body["participants"])
    if body.get("organizer") is not None:
        org = body["organizer"]
        if not isinstance(org, dict):
            raise _invalid("organizer must be an object")
        out["organizer"] = {
            k: require_str(v, f"organizer.{k}") for k, v in org.items() if v is not None
        }
    if body.get("conferencing") is not None:
        if not isinstance(body["conferencing"], dict):
            raise _invalid("conferencing must be an object")
        out["conferencing"] = copy.deepcopy(body["conferencing"])
    if body.get("busy") is not None:
        out["busy"] = _opt_bool(body, "busy")
    if body.get("calendar_id") is not None:
        out["calendar_id"] = require_str(body["calendar_id"], "calendar_id")
    if body.get("capacity") is not None:
        out["capacity"] = group_capacity(body["capacity"])
    if "when" in body or current is None:
        if body.get("when") is None:
            raise _invalid("when is required")
        out["when"] = group_when(body["when"])
    return out


#: One parsed import item: ``(event_id, calendar_id, capacity, exception capacities by
#: instance id, participants or None)``.
ImportItem = tuple[str, str, int, dict[str, int], list[dict[str, Any]] | None]


def import_items(
    items: Any, *, default_capacity: int, default_calendar_id: str | None
) -> list[ImportItem]:
    """The body of an import: an array (spec schema) or one object (spec sample), 1-20 items."""
    batch = [items] if isinstance(items, dict) else items
    if not isinstance(batch, list) or not batch:
        raise _invalid("the body must be a non-empty array of events")
    if len(batch) > MAX_IMPORT:
        raise _invalid(f"at most {MAX_IMPORT} events can be imported per call")
    parsed: list[ImportItem] = []
    for i, item in enumerate(batch):
        if not isinstance(item, dict):
            raise _invalid(f"[{i}] must be an object")
        event_id = require_str(item.get("event_id"), f"[{i}].event_id")
        calendar_id = require_str(
            item.get("calendar_id") or default_calendar_id, f"[{i}].calendar_id"
        )
        cap = item.get("capacity")
        capacity = default_capacity if cap is None else group_capacity(cap, f"[{i}].capacity")
        exceptions = {}
        for j, exc in enumerate(item.get("exceptions") or ()):
            if not isinstance(exc, dict):
                raise _invalid(f"[{i}].exceptions[{j}] must be an object")
            exc_id = require_str(exc.get("event_id"), f"[{i}].exceptions[{j}].event_id")
            exceptions[exc_id] = group_capacity(
                exc.get("capacity"), f"[{i}].exceptions[{j}].capacity"
            )
        people = item.get("participants")
        parsed.append(
            (
                event_id,
                calendar_id,
                capacity,
                exceptions,
                group_participants(people) if people else None,
            )
        )
    return parsed


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
        raise _invalid("type must be 'group'")
    for name in _STANDARD_ONLY:
        if body.get(name) is not None:
            raise _invalid(f"a group configuration has no {name}")
    data: dict[str, Any] = {
        k: copy.deepcopy(v) for k, v in (current or {}).items() if k not in _STANDARD_ONLY
    }
    for k, v in body.items():
        if k not in _STANDARD_ONLY and k != "id" and v is not None:
            data[k] = copy.deepcopy(v)
    data["type"] = "group"
    for name in ("name", "slug"):
        if data.get(name) is not None:
            require_str(data[name], name)
    gb = data.get("group_booking")
    if not isinstance(gb, dict):
        raise _invalid("group_booking is required")
    if current is not None and isinstance(current.get("group_booking"), dict):
        gb = {**current["group_booking"], **gb}
    gb["calendar_id"] = require_str(gb.get("calendar_id"), "group_booking.calendar_id")
    booking_type = gb.get("booking_type") or "booking"
    if booking_type != "booking":
        raise _invalid("group_booking.booking_type must be 'booking'")
    gb["booking_type"] = booking_type
    if gb.get("disable_emails") is not None and not isinstance(gb["disable_emails"], bool):
        raise _invalid("group_booking.disable_emails must be a boolean")
    cap = gb.get("default_capacity")
    gb["default_capacity"] = (
        DEFAULT_CAPACITY if cap is None else group_capacity(cap, "group_booking.default_capacity")
    )
    reminders = gb.get("reminders")
    if reminders is not None:
        _check_reminders(reminders)
    data["group_booking"] = gb
    return data


def _check_reminders(reminders: Any) -> None:
    if not isinstance(reminders, list):
        raise _invalid("group_booking.reminders must be an array")
    for i, rem in enumerate(reminders):
        where = f"group_booking.reminders[{i}]"
        if not isinstance(rem, dict):
            raise _invalid(f"{where} must be an object")
        if rem.get("type") not in _REMINDER_TYPES:
            raise _invalid(f"{where}.type must be email or webhook")
        if parse_int(rem.get("minutes_before_event"), f"{where}.minutes_before_event") < 1:
            raise _invalid(f"{where}.minutes_before_event must be at least 1")
        if rem.get("recipient") is not None and rem["recipient"] not in _RECIPIENTS:
            raise _invalid(f"{where}.recipient must be host or guest")


def default_capacity_of(configuration: Mapping[str, Any]) -> int:
    """The configuration's ``group_booking.default_capacity`` (10 when unset)."""
    gb = configuration.get("group_booking") or {}
    cap = gb.get("default_capacity") if isinstance(gb, dict) else None
    return cap if isinstance(cap, int) and not isinstance(cap, bool) else DEFAULT_CAPACITY


_SLOT_KEYS = ("event_id", "master_id", "master_event_id", "calendar_id", "start_time", "end_time")


def slot_fields(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The group-slot part of a booking body (``event_id`` etc.), or ``None`` if absent."""
    if body.get("event_id") is None:
        return None
    return {k: body[k] for k in _SLOT_KEYS if body.get(k) is not None}
