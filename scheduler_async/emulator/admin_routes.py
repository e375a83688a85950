"""Admin routes of the emulator (``/_emulator/...``: seeding, clock, faults, inspection).

Admin API (never delayed or faulted; bodies and answers are JSON, answers wrapped in
``{"request_id", "data"}``).  When the emulator is started with API keys (``--api-key``,
``api_keys=``), every admin route but ``/_emulator/health`` and the booking page (its page and
assets) needs one of those keys as ``Authorization: Bearer <API key>`` (401 otherwise; a session
token is not enough): :func:`is_admin_request` says which requests are guarded and
:func:`require_admin_key` checks them (the app's middleware calls both).  Without API keys the
admin API is open, as the rest of the emulator; CORS never applies to it (see :mod:`.cors`)::

    GET    /_emulator/health                        {"status": "ok", "now": <business clock>}
    POST   /_emulator/reset                         clear state, faults, clock
    GET    /_emulator/clock                         {"now": ts}
    POST   /_emulator/clock                         {"now": ts} or {"advance": seconds}; then
                                                     runs the clock hooks (webhook reminders and
                                                     retries now due are sent) before answering
    GET    /_emulator/faults                        current fault settings
    PUT    /_emulator/faults                        {"latency_ms", "seed", "rate_limit":
                                                     {"requests", "window_seconds"} | null,
                                                     "routes": {"<route key>": {"error_500",
                                                     "error_503", "error_429", "drop_before",
                                                     "drop_after", "stall", "stall_seconds",
                                                     "retry_after", "times"}}}  (keys present
                                                     replace; "routes" replaces all rules)
    DELETE /_emulator/faults                        all faults off
    GET    /_emulator/grants                        grants with calendars
    POST   /_emulator/grants                        {"grant_id", "email"?, "calendars"?: [ids],
                                                     "primary_calendar_id"?}
    GET    /_emulator/grants/{grant_id}             one grant
    GET    /_emulator/grants/{grant_id}/events      ?calendar_id= (default primary)
    POST   /_emulator/grants/{grant_id}/events      {"calendar_id"="primary", "start_time",
                                                     "end_time", "busy"=true,
                                                     "status"="confirmed", "title"?, "id"?}
    DELETE /_emulator/grants/{grant_id}/events/{event_id}
    GET    /_emulator/configurations                every configuration with its grant_id
    GET    /_emulator/sessions                      every session (with expiry, live flag)
"""

from __future__ import annotations

import hmac

from aiohttp import web

from scheduler_async.emulator.booking_page import BOOKING_PAGE_PATH
from scheduler_async.emulator.clock import Clock
from scheduler_async.emulator.errors import EmulatorError
from scheduler_async.emulator.web_common import (
    CLOCK_HOOKS_KEY,
    FAULTS_KEY,
    SETTINGS_KEY,
    STORE_KEY,
    bearer,
    int_value,
    ok,
    optional_str,
    read_json,
    required_int,
)

__all__ = ["ADMIN_PREFIX", "HEALTH_PATH", "is_admin_request", "require_admin_key", "setup_routes"]

ADMIN_PREFIX = "/_emulator/"
HEALTH_PATH = "/_emulator/health"


def _open_path(path: str) -> bool:
    return path in (HEALTH_PATH, BOOKING_PAGE_PATH) or path.startswith(BOOKING_PAGE_PATH + "/")


def is_admin_request(request: web.Request) -> bool:
    """True for a request to the guarded admin API: a route under ``/_emulator/`` other than
    ``/_emulator/health`` and the booking page's page and assets.

    Judged by the route the request matched (so no spelling of the path can reach a guarded
    handler as an open one), else by its path (unknown routes, refused methods, preflights).
    """
    resource = request.match_info.route.resource
    where = resource.canonical if resource is not None else request.path
    return where.startswith(ADMIN_PREFIX) and not _open_path(where)


def require_admin_key(request: web.Request) -> None:
    """401 unless the request carries one of the emulator's API keys, when it has any."""
    keys = request.app[SETTINGS_KEY].api_keys
    if not keys:
        return
    token = bearer(request)
    given = (token or "").encode("utf-8")
    if token is None or not any(hmac.compare_digest(given, k.encode("utf-8")) for k in keys):
        raise EmulatorError.unauthorized(
            "the admin API needs one of the emulator's API keys (Authorization: Bearer <API key>)"
        )


# --------------------------------------------------------------------------- admin API


async def _admin_health(request: web.Request) -> web.Response:
    return ok(request, {"status": "ok", "now": request.app[STORE_KEY].clock.now()})


async def _admin_reset(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    store.reset()
    store.clock.reset()
    request.app[FAULTS_KEY].reset()
    return ok(request, {"now": store.clock.now()})


async def _admin_get_clock(request: web.Request) -> web.Response:
    return ok(request, {"now": request.app[STORE_KEY].clock.now()})


async def _admin_set_clock(request: web.Request) -> web.Response:
    clock: Clock = request.app[STORE_KEY].clock
    body = await read_json(request)
    if "now" in body and body["now"] is not None:
        clock.set(int_value(body["now"], "now"))
    elif "advance" in body and body["advance"] is not None:
        clock.advance(int_value(body["advance"], "advance"))
    else:
        raise EmulatorError.invalid('body must be {"now": <unix seconds>} or {"advance": <s>}')
    for hook in request.app.get(CLOCK_HOOKS_KEY, ()):
        await hook()
    return ok(request, {"now": clock.now()})


async def _admin_get_faults(request: web.Request) -> web.Response:
    return ok(request, request.app[FAULTS_KEY].to_json())


async def _admin_put_faults(request: web.Request) -> web.Response:
    faults = request.app[FAULTS_KEY]
    body = await read_json(request)
    try:
        faults.configure_from_json(body)
    except (ValueError, TypeError, KeyError) as exc:
        raise EmulatorError.invalid(f"invalid fault settings: {exc}") from exc
    return ok(request, faults.to_json())


async def _admin_delete_faults(request: web.Request) -> web.Response:
    faults = request.app[FAULTS_KEY]
    faults.reset()
    return ok(request, faults.to_json())


async def _admin_list_grants(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    with store.lock:
        return ok(request, [g.to_json() for g in store.grants.values()])


async def _admin_add_grant(request: web.Request) -> web.Response:
    body = await read_json(request)
    grant_id = optional_str(body, "grant_id")
    if not grant_id:
        raise EmulatorError.invalid("grant_id is required")
    calendars = body.get("calendars") or []
    if not isinstance(calendars, list) or not all(isinstance(c, str) for c in calendars):
        raise EmulatorError.invalid("calendars must be a list of calendar ids")
    grant = request.app[STORE_KEY].add_grant(
        grant_id,
        email=optional_str(body, "email"),
        calendars=calendars,
        primary_calendar_id=optional_str(body, "primary_calendar_id") or "primary",
    )
    return ok(request, grant.to_json())


async def _admin_get_grant(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    grant = store.get_grant(request.match_info["grant_id"], provision=False)
    return ok(request, grant.to_json())


async def _admin_list_events(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    grant = store.get_grant(request.match_info["grant_id"], provision=False)
    events = store.events_on(grant.grant_id, request.query.get("calendar_id") or "primary")
    return ok(request, [e.to_json() for e in events])


async def _admin_add_event(request: web.Request) -> web.Response:
    body = await read_json(request)
    busy = body.get("busy", True)
    if not isinstance(busy, bool):
        raise EmulatorError.invalid("busy must be a boolean")
    event = request.app[STORE_KEY].add_event(
        request.match_info["grant_id"],
        optional_str(body, "calendar_id") or "primary",
        required_int(body, "start_time"),
        required_int(body, "end_time"),
        busy=busy,
        status=optional_str(body, "status") or "confirmed",
        title=optional_str(body, "title") or "",
        description=optional_str(body, "description") or "",
        event_id=optional_str(body, "id"),
    )
    return ok(request, event.to_json())


async def _admin_delete_event(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    event_id = request.match_info["event_id"]
    with store.lock:
        event = store.events.get(event_id)
        if event is None or event.grant_id != request.match_info["grant_id"]:
            raise EmulatorError.not_found(f"event {event_id!r} not found")
        store.remove_event(event_id)
    return ok(request)


async def _admin_list_configurations(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    with store.lock:
        items = sorted(store.configurations.values(), key=lambda c: c.seq)
        data = [{**c.to_json(), "grant_id": c.grant_id} for c in items]
    return ok(request, data)


async def _admin_list_sessions(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    with store.lock:
        now = store.clock.now()
        data = [s.to_json(now) for s in store.sessions.values()]
    return ok(request, data)


async def _admin_list_bookings(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    with store.lock:
        data = [b.admin_json() for b in store.bookings.values()]
    return ok(request, data)


async def _admin_get_booking(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    with store.lock:
        booking = store.bookings.get(request.match_info["booking_id"])
        if booking is None:
            raise EmulatorError.not_found("booking not found")
        return ok(request, booking.admin_json())


def setup_routes(app: web.Application) -> None:
    """Register the admin routes on ``app``."""
    r = app.router
    r.add_get("/_emulator/health", _admin_health, allow_head=False)
    r.add_post("/_emulator/reset", _admin_reset)
    r.add_get("/_emulator/clock", _admin_get_clock, allow_head=False)
    r.add_post("/_emulator/clock", _admin_set_clock)
    r.add_get("/_emulator/faults", _admin_get_faults, allow_head=False)
    r.add_put("/_emulator/faults", _admin_put_faults)
    r.add_delete("/_emulator/faults", _admin_delete_faults)
    r.add_get("/_emulator/grants", _admin_list_grants, allow_head=False)
    r.add_post("/_emulator/grants", _admin_add_grant)
    r.add_get("/_emulator/grants/{grant_id}", _admin_get_grant, allow_head=False)
    r.add_get("/_emulator/grants/{grant_id}/events", _admin_list_events, allow_head=False)
    r.add_post("/_emulator/grants/{grant_id}/events", _admin_add_event)
    r.add_delete("/_emulator/grants/{grant_id}/events/{event_id}", _admin_delete_event)
    r.add_get("/_emulator/configurations", _admin_list_configurations, allow_head=False)
    r.add_get("/_emulator/sessions", _admin_list_sessions, allow_head=False)
    r.add_get("/_emulator/bookings", _admin_list_bookings, allow_head=False)
    r.add_get("/_emulator/bookings/{booking_id}", _admin_get_booking, allow_head=False)
