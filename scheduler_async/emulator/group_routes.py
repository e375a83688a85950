"""aiohttp handlers of the six group-event endpoints, every path/verb variant of the fact sheet.

HTTP only: each handler authorizes, parses with :mod:`.web_common` and calls the store
(:class:`~.group_events.GroupEventsMixin`); errors are :class:`~.errors.EmulatorError` envelopes
rendered by the app's middleware.  Mounted by :func:`setup_routes` (``app.ROUTE_MODULES``):

* ``GET|POST /v3/grants/{grant_id}/scheduling/configurations/{configuration_id}/group-events``
* ``GET|PUT|PATCH|DELETE .../group-events/{event_id}`` (PUT per the spec, PATCH per the Editor)
* ``POST /v3/scheduling/configurations/{configuration_id}/import-group-events`` (spec) and
  ``POST /v3/grants/{grant_id}/scheduling/configurations/{configuration_id}/import-group-events``
  (Editor, ``?calendar_id=``); body an array (schema) or one object (sample)
* ``POST /v3/scheduling/configurations/{configuration_id}/group-events/validate-timeslot``
  (API key, a session of this configuration, or no ``Authorization`` at all unless the
  configuration requires session auth)

Answers: ``data`` is an object for create/update (array vs object conflict: object; a
one-element array body is read as its object), the list is ``data: [event]`` plus
``next_cursor`` (``limit`` and ``page_token``, an offset, are plain integers), delete and
validate answer ``{"request_id"}``.
"""

from __future__ import annotations

from aiohttp import web

from scheduler_async.emulator.editor_compat import with_event
from scheduler_async.emulator.entities import StoredConfiguration
from scheduler_async.emulator.errors import EmulatorError
from scheduler_async.emulator.web_common import (
    STORE_KEY,
    bearer,
    check_api_key,
    ok,
    optional_int,
    read_json,
    read_json_value,
    require_api_key,
    required_int,
)

__all__ = ["setup_routes"]

_GRANT_CFG = "/v3/grants/{grant_id}/scheduling/configurations/{configuration_id}"
_APP_CFG = "/v3/scheduling/configurations/{configuration_id}"


def _group_config(request: web.Request) -> StoredConfiguration:
    """API-key auth, then the path's group configuration (404 / 400 if not a group one)."""
    require_api_key(request)
    store = request.app[STORE_KEY]
    return store.group_configuration(
        request.match_info["configuration_id"], request.match_info.get("grant_id")
    )


async def list_events(request: web.Request) -> web.Response:
    """``GET .../group-events?calendar_id&start_time&end_time[&limit&page_token]``."""
    cid = _group_config(request).configuration_id
    query = request.query
    start = required_int(query, "start_time")
    end = required_int(query, "end_time")
    limit = optional_int(query, "limit")
    offset = optional_int(query, "page_token") or 0
    if offset < 0 or (limit is not None and limit < 1):
        raise EmulatorError.invalid("invalid limit or page_token")
    calendar_id = query.get("calendar_id") or None
    if calendar_id in ("primary", "undefined"):
        calendar_id = None  # the Editor sends "undefined" when unset
    items = request.app[STORE_KEY].list_group_events(
        cid, start_time=start, end_time=end, calendar_id=calendar_id
    )
    page = items[offset : offset + limit] if limit else items[offset:]
    after = offset + len(page)
    data = [with_event(item) for item in page]
    return ok(request, data, next_cursor=str(after) if after < len(items) else None)


async def create(request: web.Request) -> web.Response:
    """``POST .../group-events``; ``data`` is the created event object."""
    cid = _group_config(request).configuration_id
    body = await read_json(request, one_item_array=True)
    store = request.app[STORE_KEY]
    return ok(
        request, with_event(store.create_group_event(request.match_info["grant_id"], cid, body))
    )


async def get(request: web.Request) -> web.Response:
    """``GET .../group-events/{event_id}`` (master or instance)."""
    cid = _group_config(request).configuration_id
    event = request.app[STORE_KEY].get_group_event(cid, request.match_info["event_id"])
    return ok(request, with_event(event))


async def update_put(request: web.Request) -> web.Response:
    """``PUT .../group-events/{event_id}``: nested objects are replaced."""
    return await _update(request, merge=False)


async def update_patch(request: web.Request) -> web.Response:
    """``PATCH .../group-events/{event_id}``: nested objects are merged."""
    return await _update(request, merge=True)


async def _update(request: web.Request, *, merge: bool) -> web.Response:
    cid = _group_config(request).configuration_id
    body = await read_json(request, one_item_array=True)
    store = request.app[STORE_KEY]
    event = store.update_group_event(cid, request.match_info["event_id"], body, merge=merge)
    return ok(request, with_event(event))


async def delete(request: web.Request) -> web.Response:
    """``DELETE .../group-events/{event_id}[?calendar_id=]``; cancels its bookings."""
    cid = _group_config(request).configuration_id
    request.app[STORE_KEY].delete_group_event(cid, request.match_info["event_id"])
    return ok(request)


async def import_events(request: web.Request) -> web.Response:
    """``POST .../import-group-events``: per-event ``import_failed`` reasons, ≤ 20 per call."""
    cid = _group_config(request).configuration_id
    body = await read_json_value(request)
    data = request.app[STORE_KEY].import_group_events(
        request.match_info.get("grant_id"),
        cid,
        body,
        calendar_id=request.query.get("calendar_id") or None,
    )
    return ok(request, data)


async def validate_timeslot(request: web.Request) -> web.Response:
    """``POST .../group-events/validate-timeslot``: ``{"request_id"}`` or an error.

    Called by the booking page: a session of this configuration, an API key, or no
    ``Authorization`` at all unless the configuration requires session auth.
    """
    store = request.app[STORE_KEY]
    cid = request.match_info["configuration_id"]
    token = bearer(request)
    if token is not None:
        session = store.resolve_session(token)
        if session is None:
            check_api_key(request, token)
        elif session.configuration_id != cid:
            raise EmulatorError.forbidden("the session belongs to another configuration")
    elif store.find_configuration(configuration_id=cid).requires_session_auth:
        raise EmulatorError.unauthorized("this configuration requires a session token")
    store.group_configuration(cid)
    body = await read_json(request, one_item_array=True)
    store.validate_group_timeslot(cid, body)
    return ok(request)


def setup_routes(app: web.Application) -> None:
    """Mount the group-event endpoints on the emulator ``app``."""
    router = app.router
    events = _GRANT_CFG + "/group-events"
    one = events + "/{event_id}"
    router.add_get(events, list_events, allow_head=False)
    router.add_post(events, create)
    router.add_get(one, get, allow_head=False)
    router.add_put(one, update_put)
    router.add_patch(one, update_patch)
    router.add_delete(one, delete)
    router.add_post(_APP_CFG + "/import-group-events", import_events)
    router.add_post(_GRANT_CFG + "/import-group-events", import_events)
    router.add_post(_APP_CFG + "/group-events/validate-timeslot", validate_timeslot)
