"""HTTP routes for grants, calendars and events (records and rules in :mod:`.grants`).

::

    GET    /v3/grants/{grant_id}                                   grant (``me`` allowed)
    GET    /v3/grants/{grant_id}/calendars?limit&page_token        calendars, ``next_cursor``
    GET    /v3/grants/{grant_id}/calendars/{calendar_id}           one calendar (``primary`` ok)
    GET    /v3/grants/{grant_id}/events?calendar_id&start&end&limit&page_token
    POST   /v3/grants/{grant_id}/events?calendar_id                body {title, when, busy...}
    GET    /v3/grants/{grant_id}/events/{event_id}[?calendar_id]   also group events (masters)
    PUT    /v3/grants/{grant_id}/events/{event_id}[?calendar_id]   fields present change
    DELETE /v3/grants/{grant_id}/events/{event_id}[?calendar_id]

Every route takes an API key or the grant's access token (``me`` = the token's grant, see
:mod:`.connect`).  ``calendar_id`` is required to list and create events (400 otherwise), as in
the Nylas API; ``start``/``end`` (Unix seconds) keep the events overlapping that window.
"""

from __future__ import annotations

from aiohttp import web

from scheduler_async.emulator import grants
from scheduler_async.emulator.editor_compat import group_calendar_event
from scheduler_async.emulator.errors import EmulatorError
from scheduler_async.emulator.web_common import (
    STORE_KEY,
    int_value,
    ok,
    read_json,
    require_api_key,
)

__all__ = ["setup_routes"]

_DEFAULT_LIMIT = 50


def _limit(request: web.Request) -> int:
    raw = request.query.get("limit")
    return int_value(raw, "limit") if raw else _DEFAULT_LIMIT


def _calendar_id(request: web.Request, *, required: bool) -> str | None:
    value = request.query.get("calendar_id") or None
    if value is None and required:
        raise EmulatorError.invalid("calendar_id is required")
    return value


async def _get_grant(request: web.Request) -> web.Response:
    require_api_key(request)
    store = request.app[STORE_KEY]
    grant = store.get_grant(request.match_info["grant_id"])
    return ok(request, grants.grant_json(store, grant))


async def _list_calendars(request: web.Request) -> web.Response:
    require_api_key(request)
    grant, calendars = grants.list_calendars(request.app[STORE_KEY], request.match_info["grant_id"])
    chunk, cursor = grants.page(calendars, _limit(request), request.query.get("page_token"))
    data = [grants.calendar_json(grant, c) for c in chunk]
    return ok(request, data, next_cursor=cursor)


async def _get_calendar(request: web.Request) -> web.Response:
    require_api_key(request)
    grant, _ = grants.list_calendars(request.app[STORE_KEY], request.match_info["grant_id"])
    calendar = grant.calendar(request.match_info["calendar_id"])
    if calendar is None:
        raise EmulatorError.not_found(f"calendar {request.match_info['calendar_id']!r} not found")
    return ok(request, grants.calendar_json(grant, calendar))


async def _list_events(request: web.Request) -> web.Response:
    require_api_key(request)
    query = request.query
    start = int_value(query["start"], "start") if query.get("start") else None
    end = int_value(query["end"], "end") if query.get("end") else None
    calendar_id = _calendar_id(request, required=True)
    assert calendar_id is not None
    found = grants.list_events(
        request.app[STORE_KEY], request.match_info["grant_id"], calendar_id, start=start, end=end
    )
    chunk, cursor = grants.page(found, _limit(request), query.get("page_token"))
    data = [grants.event_json(e) for e in chunk]
    return ok(request, data, next_cursor=cursor)


async def _create_event(request: web.Request) -> web.Response:
    require_api_key(request)
    calendar_id = _calendar_id(request, required=True)
    assert calendar_id is not None
    body = await read_json(request)
    event = grants.create_event(
        request.app[STORE_KEY], request.match_info["grant_id"], calendar_id, body
    )
    return ok(request, grants.event_json(event))


async def _get_event(request: web.Request) -> web.Response:
    require_api_key(request)
    info = request.match_info
    store = request.app[STORE_KEY]
    try:
        event = grants.get_event(
            store, info["grant_id"], info["event_id"], _calendar_id(request, required=False)
        )
    except EmulatorError as exc:
        if exc.status != 404:
            raise
        grant = store.get_grant(info["grant_id"])
        group_event = group_calendar_event(store, grant.grant_id, info["event_id"])
        if group_event is None:
            raise
        return ok(request, group_event)
    return ok(request, grants.event_json(event))


async def _update_event(request: web.Request) -> web.Response:
    require_api_key(request)
    info = request.match_info
    body = await read_json(request)
    event = grants.update_event(
        request.app[STORE_KEY],
        info["grant_id"],
        info["event_id"],
        _calendar_id(request, required=False),
        body,
    )
    return ok(request, grants.event_json(event))


async def _delete_event(request: web.Request) -> web.Response:
    require_api_key(request)
    info = request.match_info
    grants.delete_event(
        request.app[STORE_KEY],
        info["grant_id"],
        info["event_id"],
        _calendar_id(request, required=False),
    )
    return ok(request)


def setup_routes(app: web.Application) -> None:
    """Register the grant, calendar and event routes on ``app``."""
    r = app.router
    base = "/v3/grants/{grant_id}"
    r.add_get(base, _get_grant, allow_head=False)
    r.add_get(base + "/calendars", _list_calendars, allow_head=False)
    r.add_get(base + "/calendars/{calendar_id}", _get_calendar, allow_head=False)
    r.add_get(base + "/events", _list_events, allow_head=False)
    r.add_post(base + "/events", _create_event)
    r.add_get(base + "/events/{event_id}", _get_event, allow_head=False)
    r.add_put(base + "/events/{event_id}", _update_event)
    r.add_delete(base + "/events/{event_id}", _delete_event)
