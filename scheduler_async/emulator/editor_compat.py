"""What the Scheduler Editor reads from group events, on top of :mod:`.group_routes`.

* :func:`group_event_shape_middleware`: every group event answered by ``GET|POST .../group-events``
  and ``GET|PUT|PATCH .../group-events/{event_id}`` also carries ``event`` (the event without
  its ``group_event_info``) next to the flat fields, so each item reads both as the flat event
  the API reference shows and as the ``{event, group_event_info}`` pair the Editor expects
  (its calendar throws on the flat form).  Clients decoding either form keep working.
* :func:`group_calendar_event`: ``GET /v3/grants/{grant_id}/events/{event_id}`` finds group
  events (the Editor opens a recurring master that way, ``?calendar_id=``).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from scheduler_async.emulator.errors import EmulatorError
from scheduler_async.emulator.store import Store
from scheduler_async.emulator.web_common import Handler, json_bytes

__all__ = ["group_calendar_event", "group_event_shape_middleware"]

_MARK = "/group-events"


def _with_event(item: Any) -> Any:
    if isinstance(item, dict) and isinstance(item.get("group_event_info"), dict) and "when" in item:
        return {**item, "event": {k: v for k, v in item.items() if k != "group_event_info"}}
    return item


def _is_group_event_path(path: str) -> bool:
    head, mark, tail = path.partition(_MARK)
    return bool(mark) and head.count("/") >= 2 and tail.count("/") <= 1 and "validate" not in tail


@web.middleware
async def group_event_shape_middleware(
    request: web.Request, handler: Handler
) -> web.StreamResponse:
    """Add ``event`` to each group event of a group-events answer (module docstring)."""
    response = await handler(request)
    if (
        response.status != 200
        or request.method == "DELETE"
        or not _is_group_event_path(request.path)
        or not isinstance(response, web.Response)
        or response.content_type != "application/json"
        or not isinstance(response.body, bytes)
    ):
        return response
    body = json.loads(response.body)
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, list):
        body["data"] = [_with_event(item) for item in data]
    elif isinstance(data, dict):
        body["data"] = _with_event(data)
    else:
        return response
    response.body = json_bytes(body)
    return response


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
