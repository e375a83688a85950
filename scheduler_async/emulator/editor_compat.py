"""What the Scheduler Editor reads from group events, on top of :mod:`.group_routes`.

* :func:`with_event`: every group event the group routes answer (list, create, get, update)
  also carries ``event`` (the event without its ``group_event_info``) next to the flat fields,
  so each item reads both as the flat event the API reference shows and as the
  ``{event, group_event_info}`` pair the Editor expects (its calendar throws on the flat form).
  Clients decoding either form keep working.
* :func:`group_calendar_event`: ``GET /v3/grants/{grant_id}/events/{event_id}`` finds group
  events (the Editor opens a recurring master that way, ``?calendar_id=``).
"""

from __future__ import annotations

from typing import Any

from scheduler_async.emulator.errors import EmulatorError
from scheduler_async.emulator.store import Store

__all__ = ["group_calendar_event", "with_event"]


def with_event(item: dict[str, Any]) -> dict[str, Any]:
    """``item`` (a group event's wire JSON) with ``event`` added: itself without its
    ``group_event_info`` (module docstring)."""
    if isinstance(item.get("group_event_info"), dict) and "when" in item:
        return {**item, "event": {k: v for k, v in item.items() if k != "group_event_info"}}
    return item


def group_calendar_event(store: Store, grant_id: str, event_id: str) -> dict[str, Any] | None:
    """The group event ``event_id`` (master or instance) of one of the grant's group
    configurations, as a calendar event; None if there is none."""
    with store.lock:
        config_ids = [
            c.configuration_id
            for c in store.configurations.values()
            if c.grant_id == grant_id and c.data.get("type") == "group"
        ]
    for config_id in config_ids:
        try:
            event = store.get_group_event(config_id, event_id)
        except EmulatorError:
            continue
        event.pop("group_event_info", None)
        return {**event, "grant_id": grant_id, "object": "event"}
    return None
