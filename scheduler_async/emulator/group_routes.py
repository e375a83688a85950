"""aiohttp handlers of the six group-event endpoints, every path/verb variant of the fact sheet.

The emulator mounts them with :func:`setup_routes` (listed in ``app.ROUTE_MODULES``), over the
store's :attr:`~.group_store.GroupStoreMixin.group` with the emulator's auth and envelopes.
:class:`GroupRoutes` itself gets, as callables, what lives elsewhere (auth, configurations,
calendar events, booking cancellation), so it can also be mounted on a bare app with
``GroupRoutes(...).add_routes(app.router)``:

* ``GET|POST /v3/grants/{grant_id}/scheduling/configurations/{configuration_id}/group-events``
* ``GET|PUT|PATCH|DELETE .../group-events/{event_id}`` (PUT per the spec, PATCH per the Editor)
* ``POST /v3/scheduling/configurations/{configuration_id}/import-group-events`` (spec) and
  ``POST /v3/grants/{grant_id}/scheduling/configurations/{configuration_id}/import-group-events``
  (Editor, ``?calendar_id=``); body an array (schema) or one object (sample)
* ``POST /v3/scheduling/configurations/{configuration_id}/group-events/validate-timeslot``
  (API key, session or public: the ``authorize`` callable gets scope ``"any"``)

Answers: ``data`` is an object for create/update (array vs object conflict: object), the list is
``data: [event]`` plus ``next_cursor``, delete and validate answer ``{"request_id"}``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from .errors import EmulatorError
from .group import GroupEventError, GroupEvents, default_capacity_of
from .web_common import STORE_KEY, bearer, check_api_key, request_id_of, require_api_key

__all__ = ["GroupRoutes", "setup_routes"]

_DUMPS = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_GRANT_CFG = "/v3/grants/{grant_id}/scheduling/configurations/{configuration_id}"
_APP_CFG = "/v3/scheduling/configurations/{configuration_id}"


def _respond(request_id: str, body: Mapping[str, Any], status: int = 200) -> web.Response:
    return web.Response(
        body=_DUMPS(body).encode(),
        status=status,
        headers={"X-Request-Id": request_id},
        content_type="application/json",
    )


def _int_query(request: web.Request, name: str, *, required: bool) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        if required:
            raise GroupEventError.invalid(f"{name} is required")
        return None
    try:
        return int(raw)
    except ValueError:
        raise GroupEventError.invalid(f"{name} must be an integer") from None


async def _json(request: web.Request) -> Any:
    raw = await request.read()
    if not raw.strip():
        raise GroupEventError.invalid("request body is required")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise GroupEventError.invalid("error parsing request body") from exc


async def _object(request: web.Request) -> dict[str, Any]:
    body = await _json(request)
    if isinstance(body, list) and len(body) == 1:
        body = body[0]
    if not isinstance(body, dict):
        raise GroupEventError.invalid("request body must be a JSON object")
    return body


class GroupRoutes:
    """The group-event endpoints over one :class:`GroupEvents`.

    * ``authorize(request, scope)`` raises (any exception the app renders) unless the request may
      call: scope ``"api_key"`` for the grant endpoints, ``"any"`` for validate-timeslot.
    * ``configuration(configuration_id, grant_id)`` returns the stored configuration's fields
      (``grant_id`` is ``None`` on the app-level import/validate paths) or raises not-found; it
      must be a group configuration (``type: "group"``) or the call is a 400.
    * ``calendar_event(grant_id, calendar_id, event_id)`` returns an event to import (``title``,
      ``start_time``, ``end_time``, optional ``recurrence``/``timezone``/``participants``) or
      ``None``; ``grant_id`` may be ``None`` (app-level path): look in the configuration's grant.
    * ``cancel_bookings(booking_ids)`` cancels bookings whose group event was deleted.
    * ``request_id(request)`` names the request (default: a new id).
    """

    def __init__(
        self,
        events: GroupEvents,
        *,
        authorize: Callable[[web.Request, str], None],
        configuration: Callable[[str, str | None], Mapping[str, Any]],
        calendar_event: Callable[[str | None, str, str], Mapping[str, Any] | None],
        cancel_bookings: Callable[[list[str]], None] | None = None,
        request_id: Callable[[web.Request], str] | None = None,
    ) -> None:
        self.events = events
        self._authorize = authorize
        self._configuration = configuration
        self._calendar_event = calendar_event
        self._cancel = cancel_bookings
        self._rid = request_id or (lambda _request: uuid.uuid4().hex)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        """Register every path/verb variant on ``router``."""
        events = _GRANT_CFG + "/group-events"
        one = events + "/{event_id}"
        router.add_get(events, self._wrap(self.list_events), allow_head=False)
        router.add_post(events, self._wrap(self.create))
        router.add_get(one, self._wrap(self.get), allow_head=False)
        router.add_put(one, self._wrap(self.update_put))
        router.add_patch(one, self._wrap(self.update_patch))
        router.add_delete(one, self._wrap(self.delete))
        router.add_post(_APP_CFG + "/import-group-events", self._wrap(self.import_events))
        router.add_post(_GRANT_CFG + "/import-group-events", self._wrap(self.import_events))
        router.add_post(
            _APP_CFG + "/group-events/validate-timeslot", self._wrap(self.validate_timeslot)
        )

    def _wrap(self, handler: Callable[[web.Request, str], Any]) -> Any:
        async def run(request: web.Request) -> web.StreamResponse:
            rid = self._rid(request)
            try:
                result: web.StreamResponse = await handler(request, rid)
            except GroupEventError as exc:
                error = {"type": exc.error_type, "message": exc.message}
                body = {"request_id": rid, "error": error}
                return _respond(rid, body, exc.status)
            return result

        return run

    def _group_config(self, request: web.Request, scope: str) -> tuple[str, Mapping[str, Any]]:
        self._authorize(request, scope)
        configuration_id = request.match_info["configuration_id"]
        config = self._configuration(configuration_id, request.match_info.get("grant_id"))
        if config.get("type") != "group":
            raise GroupEventError.invalid(f"configuration {configuration_id!r} is not a group one")
        return configuration_id, config

    # ----------------------------------------------------------------- handlers

    async def list_events(self, request: web.Request, rid: str) -> web.Response:
        """``GET .../group-events?calendar_id&start_time&end_time[&limit&page_token]``."""
        cid, _ = self._group_config(request, "api_key")
        start = _int_query(request, "start_time", required=True)
        end = _int_query(request, "end_time", required=True)
        assert start is not None and end is not None
        limit = _int_query(request, "limit", required=False)
        token = request.query.get("page_token") or "0"
        if not token.isdigit() or (limit is not None and limit < 1):
            raise GroupEventError.invalid("invalid limit or page_token")
        calendar_id = request.query.get("calendar_id") or None
        if calendar_id in ("primary", "undefined"):
            calendar_id = None  # the Editor sends "undefined" when unset
        items = self.events.list_events(
            cid, start_time=start, end_time=end, calendar_id=calendar_id
        )
        offset = int(token)
        page = items[offset : offset + limit] if limit else items[offset:]
        after = offset + len(page)
        cursor = str(after) if after < len(items) else None
        return _respond(rid, {"request_id": rid, "data": page, "next_cursor": cursor})

    async def create(self, request: web.Request, rid: str) -> web.Response:
        """``POST .../group-events``; ``data`` is the created event object."""
        cid, config = self._group_config(request, "api_key")
        body = await _object(request)
        gb = config.get("group_booking") or {}
        calendar = gb.get("calendar_id") if isinstance(gb, dict) else None
        data = self.events.create(
            request.match_info["grant_id"],
            cid,
            body,
            default_capacity=default_capacity_of(config),
            default_calendar_id=calendar if isinstance(calendar, str) else "primary",
        )
        return _respond(rid, {"request_id": rid, "data": data})

    async def get(self, request: web.Request, rid: str) -> web.Response:
        """``GET .../group-events/{event_id}`` (master or instance)."""
        cid, _ = self._group_config(request, "api_key")
        data = self.events.get(cid, request.match_info["event_id"])
        return _respond(rid, {"request_id": rid, "data": data})

    async def update_put(self, request: web.Request, rid: str) -> web.Response:
        """``PUT .../group-events/{event_id}``: nested objects are replaced."""
        return await self._update(request, rid, merge=False)

    async def update_patch(self, request: web.Request, rid: str) -> web.Response:
        """``PATCH .../group-events/{event_id}``: nested objects are merged."""
        return await self._update(request, rid, merge=True)

    async def _update(self, request: web.Request, rid: str, *, merge: bool) -> web.Response:
        cid, _ = self._group_config(request, "api_key")
        body = await _object(request)
        data = self.events.update(cid, request.match_info["event_id"], body, merge=merge)
        return _respond(rid, {"request_id": rid, "data": data})

    async def delete(self, request: web.Request, rid: str) -> web.Response:
        """``DELETE .../group-events/{event_id}[?calendar_id=]``; cancels its bookings."""
        cid, _ = self._group_config(request, "api_key")
        gone = self.events.delete(cid, request.match_info["event_id"])
        if gone and self._cancel is not None:
            self._cancel(gone)
        return _respond(rid, {"request_id": rid})

    async def import_events(self, request: web.Request, rid: str) -> web.Response:
        """``POST .../import-group-events``: per-event ``import_failed`` reasons, ≤ 20 per call."""
        cid, config = self._group_config(request, "api_key")
        body = await _json(request)
        grant_id = request.match_info.get("grant_id")

        def lookup(calendar_id: str, event_id: str) -> Mapping[str, Any] | None:
            return self._calendar_event(grant_id, calendar_id, event_id)

        data = self.events.import_events(
            grant_id or "",
            cid,
            body,
            lookup=lookup,
            default_capacity=default_capacity_of(config),
            default_calendar_id=request.query.get("calendar_id") or None,
        )
        return _respond(rid, {"request_id": rid, "data": data})

    async def validate_timeslot(self, request: web.Request, rid: str) -> web.Response:
        """``POST .../group-events/validate-timeslot``: ``{"request_id"}`` or an error."""
        cid, _ = self._group_config(request, "any")
        body = await _object(request)
        self.events.validate_timeslot(cid, body)
        return _respond(rid, {"request_id": rid})


# --------------------------------------------------------------------------- emulator wiring


def _emulator_authorize(request: web.Request, scope: str) -> None:
    """``api_key``: an accepted API key.  ``any`` (validate-timeslot, called by the booking
    page): a session of this configuration, an API key, or no ``Authorization`` at all unless
    the configuration requires session auth."""
    if scope == "api_key":
        require_api_key(request)
        return
    store = request.app[STORE_KEY]
    configuration_id = request.match_info["configuration_id"]
    token = bearer(request)
    if token is not None:
        session = store.resolve_session(token)
        if session is None:
            check_api_key(request, token)
        elif session.configuration_id != configuration_id:
            raise EmulatorError.forbidden("the session belongs to another configuration")
        return
    stored = store.find_configuration(configuration_id=configuration_id)
    if stored.requires_session_auth:
        raise EmulatorError.unauthorized("this configuration requires a session token")


def setup_routes(app: web.Application) -> None:
    """Mount the group-event endpoints on the emulator ``app`` (its store's group events)."""
    store = app[STORE_KEY]

    def configuration(configuration_id: str, grant_id: str | None) -> Mapping[str, Any]:
        return store.group_configuration(configuration_id, grant_id).data

    def calendar_event(
        grant_id: str | None, calendar_id: str, event_id: str
    ) -> Mapping[str, Any] | None:
        with store.lock:
            event = store.events.get(event_id)
            if event is None or event.status == "cancelled":
                return None
            grant = store.grants.get(event.grant_id)
            if grant_id not in (None, "me") and store.get_grant(grant_id).grant_id != (
                event.grant_id
            ):
                return None
            calendar = grant.calendar(calendar_id) if grant is not None else None
            if calendar is None or calendar.calendar_id != event.calendar_id:
                return None
            return {
                "title": event.title,
                "start_time": event.start_time,
                "end_time": event.end_time,
            }

    routes = GroupRoutes(
        store.group,
        authorize=_emulator_authorize,
        configuration=configuration,
        calendar_event=calendar_event,
        cancel_bookings=store.cancel_group_bookings,
        request_id=request_id_of,
    )
    routes.add_routes(app.router)
