"""Grants, calendars and calendar events as the Nylas API serves them (no aiohttp here).

These functions read and write the store's own records (:attr:`Store.grants`, :attr:`Store.events`):
an event created through ``POST /v3/grants/{grant_id}/events`` is the same kind of record the
admin API (``POST /_emulator/grants/{grant_id}/events``) and a booking write, so availability
subtracts busy time from one source whichever way it was added, and every booking shows up in
``GET /v3/grants/{grant_id}/events`` (its ``id`` is the booking's ``event_id``).

Choices the emulator makes (the real service leaves them open): a calendar's ``name`` is the
grant's email for the primary calendar, else the calendar id; every calendar is writable
(``read_only: false``) and in ``UTC``; a grant is ``provider: "google"``, ``grant_status:
"valid"``.  Paging cursors are opaque (``next_cursor`` absent on the last page).  Deleting the
event of a live booking removes it from the calendar only; the booking itself still blocks its
slot (live bookings always count as busy for their host).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scheduler_async.emulator.entities import (
    Calendar,
    Event,
    Grant,
    decode_cursor,
    encode_cursor,
)
from scheduler_async.emulator.errors import EmulatorError
from scheduler_async.emulator.store import Store
from scheduler_async.emulator.validation import check_timestamp

__all__ = [
    "EVENT_EXTRA_FIELDS",
    "EVENT_STATUSES",
    "calendar_json",
    "create_event",
    "delete_event",
    "event_json",
    "get_event",
    "grant_json",
    "list_calendars",
    "list_events",
    "page",
    "update_event",
]

EVENT_STATUSES = ("confirmed", "tentative", "cancelled")
EVENT_EXTRA_FIELDS = (
    "location",
    "participants",
    "metadata",
    "conferencing",
    "organizer",
    "recurrence",
    "visibility",
    "reminders",
)
"""Wire fields of an event kept as given (``Event.extra``), in the API and in seed files."""


def grant_json(store: Store, grant: Grant) -> dict[str, Any]:
    """``GET /v3/grants/{grant_id}``'s ``data``."""
    return {
        "id": grant.grant_id,
        "email": grant.email,
        "provider": "google",
        "grant_status": "valid",
        "scope": ["https://www.googleapis.com/auth/calendar"],
        "created_at": store.clock.now(),
    }


def calendar_json(grant: Grant, calendar: Calendar) -> dict[str, Any]:
    """A calendar on the wire."""
    name = (grant.email or "Primary") if calendar.is_primary else calendar.calendar_id
    return {
        "id": calendar.calendar_id,
        "grant_id": grant.grant_id,
        "object": "calendar",
        "name": name,
        "description": None,
        "is_primary": calendar.is_primary,
        "is_owned_by_user": True,
        "read_only": False,
        "timezone": "UTC",
    }


def event_json(event: Event) -> dict[str, Any]:
    """An event on the wire (Nylas Calendar API shape, ``when`` a timespan)."""
    return {
        "id": event.event_id,
        "grant_id": event.grant_id,
        "calendar_id": event.calendar_id,
        "object": "event",
        "title": event.title,
        "description": event.description,
        "busy": event.busy,
        "status": event.status,
        "read_only": False,
        "when": {
            "object": "timespan",
            "start_time": event.start_time,
            "end_time": event.end_time,
            "start_timezone": "UTC",
            "end_timezone": "UTC",
        },
        "participants": [],
        **event.extra,
    }


def page(items: list[Any], limit: int, page_token: str | None) -> tuple[list[Any], str | None]:
    """One page of ``items`` (``limit`` 1..200) after ``page_token``, and the next cursor."""
    if limit < 1 or limit > 200:
        raise EmulatorError.invalid("limit must be between 1 and 200")
    start = decode_cursor("offset", page_token) if page_token else 0
    chunk = items[start : start + limit]
    more = start + limit < len(items)
    return chunk, (encode_cursor("offset", start + limit) if more else None)


def list_calendars(store: Store, grant_id: str) -> tuple[Grant, list[Calendar]]:
    """The grant and its calendars, primary first."""
    with store.lock:
        grant = store.get_grant(grant_id)
        calendars = sorted(
            grant.calendars.values(), key=lambda c: (not c.is_primary, c.calendar_id)
        )
        return grant, calendars


def _calendar(store: Store, grant: Grant, calendar_id: str) -> Calendar:
    calendar = grant.calendar(calendar_id)
    if calendar is None:
        raise EmulatorError.not_found(f"calendar {calendar_id!r} not found")
    return calendar


def list_events(
    store: Store,
    grant_id: str,
    calendar_id: str,
    *,
    start: int | None = None,
    end: int | None = None,
) -> list[Event]:
    """Events of one calendar overlapping ``[start, end)`` (either bound optional), by start."""
    with store.lock:
        grant = store.get_grant(grant_id)
        calendar = _calendar(store, grant, calendar_id)
        found = [
            e
            for e in calendar.events.values()
            if (start is None or e.end_time > start) and (end is None or e.start_time < end)
        ]
    return sorted(found, key=lambda e: (e.start_time, e.end_time, e.event_id))


def get_event(store: Store, grant_id: str, event_id: str, calendar_id: str | None) -> Event:
    """One event of the grant (on ``calendar_id`` if given); 404 if unknown."""
    with store.lock:
        grant = store.get_grant(grant_id)
        event = store.events.get(event_id)
        if event is None or event.grant_id != grant.grant_id:
            raise EmulatorError.not_found(f"event {event_id!r} not found")
        if calendar_id is not None:
            calendar = _calendar(store, grant, calendar_id)
            if event.calendar_id != calendar.calendar_id:
                raise EmulatorError.not_found(f"event {event_id!r} not found")
        return event


def _when(body: Mapping[str, Any]) -> tuple[int, int] | None:
    when = body.get("when")
    if when is None:
        return None
    if not isinstance(when, Mapping):
        raise EmulatorError.invalid("when must be an object")
    times = []
    for name in ("start_time", "end_time"):
        value = when.get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise EmulatorError.invalid(f"when.{name} must be an integer (Unix seconds)")
        times.append(check_timestamp(value, f"when.{name}"))
    if times[0] >= times[1]:
        raise EmulatorError.invalid("when.start_time must be before when.end_time")
    return times[0], times[1]


def _text(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise EmulatorError.invalid(f"{name} must be a string")
    return value


def _fields(body: Mapping[str, Any]) -> dict[str, Any]:
    """The checked scalar fields of a create/update body (only those present)."""
    out: dict[str, Any] = {}
    for name in ("title", "description"):
        value = _text(body, name)
        if value is not None:
            out[name] = value
    if "busy" in body:
        if not isinstance(body["busy"], bool):
            raise EmulatorError.invalid("busy must be a boolean")
        out["busy"] = body["busy"]
    status = _text(body, "status")
    if status is not None:
        if status not in EVENT_STATUSES:
            raise EmulatorError.invalid("status must be confirmed, tentative or cancelled")
        out["status"] = status
    if "participants" in body and not isinstance(body["participants"], list):
        raise EmulatorError.invalid("participants must be a list")
    return out


def create_event(store: Store, grant_id: str, calendar_id: str, body: Mapping[str, Any]) -> Event:
    """``POST /v3/grants/{grant_id}/events?calendar_id=``: a new event (``when`` required)."""
    span = _when(body)
    if span is None:
        raise EmulatorError.invalid("when is required")
    fields = _fields(body)
    with store.lock:
        grant = store.get_grant(grant_id)
        _calendar(store, grant, calendar_id)
        event = store.add_event(
            grant.grant_id,
            calendar_id,
            span[0],
            span[1],
            busy=fields.get("busy", True),
            status=fields.get("status", "confirmed"),
            title=fields.get("title", ""),
            description=fields.get("description", ""),
        )
        event.extra = {k: body[k] for k in EVENT_EXTRA_FIELDS if body.get(k) is not None}
        return event


def update_event(
    store: Store, grant_id: str, event_id: str, calendar_id: str | None, body: Mapping[str, Any]
) -> Event:
    """``PUT /v3/grants/{grant_id}/events/{event_id}``: change the fields present in ``body``."""
    span = _when(body)
    fields = _fields(body)
    with store.lock:
        event = get_event(store, grant_id, event_id, calendar_id)
        if span is not None:
            event.start_time, event.end_time = span
        for name, value in fields.items():
            setattr(event, name, value)
        extra = {**event.extra, **{k: body[k] for k in EVENT_EXTRA_FIELDS if k in body}}
        event.extra = {k: v for k, v in extra.items() if v is not None}
        return event


def delete_event(store: Store, grant_id: str, event_id: str, calendar_id: str | None) -> None:
    """``DELETE /v3/grants/{grant_id}/events/{event_id}`` (404 if unknown)."""
    with store.lock:
        event = get_event(store, grant_id, event_id, calendar_id)
        store.remove_event(event.event_id)
