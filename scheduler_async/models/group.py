"""Group events (``/v3/grants/{grant_id}/scheduling/configurations/{id}/group-events``).

A group event is one calendar event that many guests book, up to ``capacity`` seats. The API's
sources disagree on several shapes (see the fact sheet's conflicts table); these models decode
every variant and the client sends the spec's form:

* a create/update answer's ``data`` may be an object or a one-element array;
* a list item may be a flat event or ``{"event": {...}, "group_event_info": {...}}``;
* ``when`` may be an object or a one-element array; ``ID`` may stand for ``id``;
* ``imported_events`` may be ``[{"event_id": ...}]`` or ``["..."]``.

Recurrence strings (``RRULE:...``, ``EXDATE:...``) are kept exactly as given.
"""

from __future__ import annotations

from typing import Any

import attrs

from ._fields import checked

__all__ = [
    "GroupEvent",
    "GroupEventException",
    "GroupEventImport",
    "GroupEventImportFailure",
    "GroupEventImportResult",
    "GroupEventInfo",
    "GroupEventOrganizer",
    "GroupEventParticipant",
    "GroupEventWhen",
    "ImportException",
]


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class GroupEventWhen:
    """The time span of a group event (Unix seconds; time zones given in pairs)."""

    start_time: int
    end_time: int
    start_timezone: str | None = None
    end_timezone: str | None = None
    object: str | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class GroupEventParticipant:
    """A participant of a group event (organizer or booked guest)."""

    email: str
    name: str | None = None
    is_organizer: bool | None = None
    status: str | None = None
    timezone: str | None = None
    comment: str | None = None
    phone_number: str | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class GroupEventOrganizer:
    """The organizer of a group event."""

    email: str | None = None
    name: str | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class GroupEventException:
    """A modified instance of a recurring group event, with its own capacity."""

    event_id: str
    capacity: int | None = None
    participants: tuple[GroupEventParticipant, ...] | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class GroupEventInfo:
    """Scheduler's bookkeeping of a group event (seats, recurrence, exceptions)."""

    event_id: str | None = None
    calendar_id: str | None = None
    master_id: str | None = None
    config_id: str | None = None
    capacity: int | None = None
    type: str | None = None
    """``created_event``, ``updated_event`` or ``deleted_event`` (other values kept as given)."""
    booked: bool | None = None
    finished: bool | None = None
    participants: tuple[GroupEventParticipant, ...] | None = None
    snapshot: Any = None
    snapshot_expires_at: int | None = None
    rrule: tuple[str, ...] | None = None
    exceptions: tuple[GroupEventException, ...] | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class GroupEvent:
    """A group event: a calendar event with a capacity, optionally recurring."""

    id: str
    when: GroupEventWhen
    calendar_id: str | None = None
    title: str | None = None
    description: str | None = None
    location: str | None = None
    capacity: int | None = None
    participants: tuple[GroupEventParticipant, ...] | None = None
    organizer: GroupEventOrganizer | None = None
    recurrence: tuple[str, ...] | None = None
    """RRULE/EXDATE lines exactly as the server sent them (master events only)."""
    master_event_id: str | None = None
    busy: bool | None = None
    status: str | None = None
    conferencing: dict[str, Any] | None = None
    html_link: str | None = None
    read_only: bool | None = None
    created_at: int | None = None
    updated_at: int | None = None
    group_event_info: GroupEventInfo | None = None
    """Present when the server answers in the ``{event, group_event_info}`` shape."""


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class ImportException:
    """Capacity of one modified instance of an imported recurring event."""

    event_id: str
    capacity: int


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class GroupEventImport:
    """One existing calendar event to turn into a group event (an item of an import call)."""

    event_id: str
    calendar_id: str
    capacity: int | None = None
    """1-500; the configuration's default capacity when omitted."""
    exceptions: tuple[ImportException, ...] | None = None
    participants: tuple[GroupEventParticipant, ...] | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class GroupEventImportFailure:
    """An event an import call did not import, and why (e.g. ``Event already imported``)."""

    event_id: str
    reason: str


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class GroupEventImportResult:
    """The outcome of an import: imported event ids and per-event failures."""

    imported_events: tuple[str, ...] = ()
    import_failed: tuple[GroupEventImportFailure, ...] = ()


# --------------------------------------------------------------------------- wire variants


def _one(value: Any) -> Any:
    """A one-element array stands for its element (array vs object answers)."""
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def group_event_in(data: Any) -> Any:
    """Normalise every known group-event shape to the flat event form."""
    data = _one(data)
    if not isinstance(data, dict):
        return data
    if isinstance(data.get("event"), dict) and "when" not in data:
        info = data.get("group_event_info")
        data = {**data["event"], "group_event_info": info}
        if isinstance(info, dict):
            for key in ("capacity", "calendar_id"):
                if data.get(key) is None and info.get(key) is not None:
                    data[key] = info[key]
            if data.get("master_event_id") is None and info.get("master_id") is not None:
                data["master_event_id"] = info["master_id"]
    if "id" not in data and "ID" in data:
        data = {**data, "id": data["ID"]}
    if "when" in data:
        data = {**data, "when": _one(data["when"])}
    if isinstance(data.get("participants"), dict):
        data = {**data, "participants": [data["participants"]]}
    return data


def import_result_in(data: Any) -> Any:
    """Merge an array answer and accept ``imported_events`` as ids or ``{event_id}`` objects."""
    parts = data if isinstance(data, list) else [data]
    imported: list[Any] = []
    failed: list[Any] = []
    for part in parts:
        if not isinstance(part, dict):
            return data  # let strict structuring report it
        for item in part.get("imported_events") or ():
            imported.append(item.get("event_id") if isinstance(item, dict) else item)
        failed.extend(part.get("import_failed") or ())
    return {"imported_events": imported, "import_failed": failed}
