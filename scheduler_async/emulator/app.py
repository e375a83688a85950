"""aiohttp.web application of the Scheduler API emulator.

Scheduler API routes (as in ``scheduler-api.md``; every success is HTTP 200 with
``Content-Type: application/json`` and the ``request_id`` also in an ``X-Request-Id`` header)::

    POST   /v3/grants/{grant_id}/scheduling/configurations                      API key
    GET    /v3/grants/{grant_id}/scheduling/configurations?limit&page_token     API key
    GET    /v3/grants/{grant_id}/scheduling/configurations/{configuration_id}   API key
    PUT    /v3/grants/{grant_id}/scheduling/configurations/{configuration_id}   API key
    DELETE /v3/grants/{grant_id}/scheduling/configurations/{configuration_id}   API key
    POST   /v3/scheduling/sessions                                              API key
    DELETE /v3/scheduling/sessions/{session_id}                                 API key
    GET    /v3/scheduling/availability?start_time&end_time[&booking_id]         scheduling auth
    POST   /v3/scheduling/bookings[?timezone]                                   scheduling auth
    GET    /v3/scheduling/bookings/{booking_id}                                 scheduling auth
    PATCH  /v3/scheduling/bookings/{booking_id}   reschedule -> {request_id}    scheduling auth
    PUT    /v3/scheduling/bookings/{booking_id}   confirm / cancel pending      scheduling auth
    DELETE /v3/scheduling/bookings/{booking_id}   optional cancellation_reason  scheduling auth

API key: ``Authorization: Bearer <key>``.  Lenient mode accepts any key that is not a session id;
with ``api_keys`` given (or ``strict``) only those keys are accepted (401 otherwise).

Scheduling auth (availability and bookings), first match wins:

* ``Bearer <session_id>``: the session's configuration; a ``configuration_id``/``slug`` query
  naming another configuration is 403 ``forbidden``; an expired or deleted session is 401.
* ``Bearer <API key>`` plus ``configuration_id`` or ``slug`` (what the official Python SDK sends).
* No ``Authorization`` plus ``configuration_id``, or ``slug`` with ``client_id`` (the emulator's
  application id; another one is 404).  Nothing at all is 401.
* Configurations with ``requires_session_auth: true`` accept only a session (else 401).

A booking of another configuration is 404.  Errors are ``{"request_id", "error": {"type",
"message"}}``: 400 ``invalid_request_error`` (also malformed JSON), 401 ``unauthorized``, 403
``forbidden``, 404 ``not_found_error`` (also unknown routes), 405 ``method_not_allowed`` (with
``Allow``), 409 ``conflict``, 429 ``rate_limit_error``, 500 ``internal_error``, 503
``service_unavailable``.  See :mod:`scheduler_async.emulator.store` for the state rules and
:mod:`scheduler_async.emulator.faults` for fault injection.  A ``GET /v3/scheduling/bookings`` (the
seed guide's doc error) is a 405 envelope.

Admin API (no auth, never delayed or faulted; bodies and answers are JSON, answers wrapped in
``{"request_id", "data"}``)::

    GET    /_emulator/health                        {"status": "ok", "now": <business clock>}
    POST   /_emulator/reset                         clear state, faults, clock
    GET    /_emulator/clock                         {"now": ts}
    POST   /_emulator/clock                         {"now": ts} or {"advance": seconds}
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
    GET    /_emulator/bookings                      every booking, with salt and reference
    GET    /_emulator/bookings/{booking_id}         booking incl. start/end, guest, salt,
                                                     reference, deleted
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from scheduler_async.emulator.faults import FaultConfig
from scheduler_async.emulator.store import (
    Clock,
    EmulatorError,
    Store,
    StoredConfiguration,
)

__all__ = ["DEFAULT_CLIENT_ID", "EmulatorSettings", "create_app"]

DEFAULT_CLIENT_ID = "scheduler-emulator"

_log = logging.getLogger("scheduler_async.emulator")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class EmulatorSettings:
    """Per-app settings: auth mode, accepted keys and the application (client) id."""

    def __init__(
        self,
        *,
        strict: bool = False,
        api_keys: frozenset[str] | None = None,
        client_id: str = DEFAULT_CLIENT_ID,
    ) -> None:
        self.strict = strict
        self.api_keys = api_keys
        self.client_id = client_id

    @property
    def enforce_keys(self) -> bool:
        """True when only the listed API keys are accepted."""
        return self.strict or bool(self.api_keys)


STORE_KEY = web.AppKey("store", Store)
FAULTS_KEY = web.AppKey("faults", FaultConfig)
SETTINGS_KEY = web.AppKey("settings", EmulatorSettings)
REQUEST_ID = web.RequestKey("scheduler_emulator_request_id", str)

_DUMPS = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

# --------------------------------------------------------------------------- responses


def _json_response(
    request_id: str,
    body: Mapping[str, Any],
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    hdrs = {"X-Request-Id": request_id}
    if headers:
        hdrs.update(headers)
    return web.Response(
        body=_DUMPS(body).encode(), status=status, headers=hdrs, content_type="application/json"
    )


def _error(
    request_id: str,
    status: int,
    error_type: str,
    message: str,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body = {"request_id": request_id, "error": {"type": error_type, "message": message}}
    return _json_response(request_id, body, status, headers)


def _rid(request: web.Request) -> str:
    rid: str = request[REQUEST_ID]
    return rid


def _ok(request: web.Request, data: Any = None, **extra: Any) -> web.Response:
    body: dict[str, Any] = {"request_id": _rid(request)}
    if data is not None:
        body["data"] = data
    body.update(extra)
    return _json_response(_rid(request), body)


# --------------------------------------------------------------------------- parsing helpers


async def _body(request: web.Request, *, required: bool = True) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        if required:
            raise EmulatorError.invalid("request body is required")
        return {}
    try:
        obj = json.loads(raw)
    except ValueError as exc:
        raise EmulatorError.invalid("error parsing request body") from exc
    if not isinstance(obj, dict):
        raise EmulatorError.invalid("request body must be a JSON object")
    return obj


def _int_value(value: Any, name: str) -> int:
    """Unix seconds as an int or a numeric string (the spec types some of them as strings)."""
    if isinstance(value, bool):
        raise EmulatorError.invalid(f"{name} must be an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise EmulatorError.invalid(f"{name} must be an integer (Unix seconds)")


def _required_int(source: Mapping[str, Any], name: str) -> int:
    if source.get(name) is None or source.get(name) == "":
        raise EmulatorError.invalid(f"{name} is required")
    return _int_value(source[name], name)


def _optional_str(source: Mapping[str, Any], name: str) -> str | None:
    value = source.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise EmulatorError.invalid(f"{name} must be a string")
    return value


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise EmulatorError.unauthorized("Authorization must be 'Bearer <token>'")
    return token


# --------------------------------------------------------------------------- auth


def _check_api_key(request: web.Request, token: str | None) -> None:
    if token is None:
        raise EmulatorError.unauthorized("missing API key (Authorization: Bearer <API key>)")
    store = request.app[STORE_KEY]
    settings = request.app[SETTINGS_KEY]
    if token in store.sessions:
        raise EmulatorError.unauthorized("a session token is not an API key")
    if settings.enforce_keys and token not in (settings.api_keys or ()):
        raise EmulatorError.unauthorized("invalid API key")


def _api_key(request: web.Request) -> None:
    _check_api_key(request, _bearer(request))


def _scheduling_config(request: web.Request) -> StoredConfiguration:
    """Resolve the configuration of an availability/bookings request (see module docstring)."""
    store = request.app[STORE_KEY]
    settings = request.app[SETTINGS_KEY]
    query = request.query
    config_id = query.get("configuration_id") or None
    slug = query.get("slug") or None
    client_id = query.get("client_id") or None
    token = _bearer(request)
    if token is not None:
        session = store.resolve_session(token)
        if session is not None:
            stored = store.find_configuration(configuration_id=session.configuration_id)
            if (config_id is not None and config_id != stored.configuration_id) or (
                slug is not None and slug != stored.slug
            ):
                raise EmulatorError.forbidden("the session belongs to another configuration")
            return stored
        _check_api_key(request, token)
        if config_id is None and slug is None:
            raise EmulatorError.invalid(
                "configuration_id or slug is required with an API key (or use a session)"
            )
        if client_id is not None and client_id != settings.client_id:
            raise EmulatorError.not_found(f"unknown client_id {client_id!r}")
        stored = store.find_configuration(configuration_id=config_id, slug=slug)
    elif config_id is not None:
        stored = store.find_configuration(configuration_id=config_id)
    elif slug is not None:
        if client_id is None:
            raise EmulatorError.invalid("client_id is required with slug")
        if client_id != settings.client_id:
            raise EmulatorError.not_found(f"unknown client_id {client_id!r}")
        stored = store.find_configuration(slug=slug)
    else:
        raise EmulatorError.unauthorized(
            "a session token or a configuration_id (or slug and client_id) is required"
        )
    if stored.requires_session_auth:
        raise EmulatorError.unauthorized("this configuration requires a session token")
    return stored


# --------------------------------------------------------------------------- configurations


async def _create_configuration(request: web.Request) -> web.Response:
    _api_key(request)
    body = await _body(request)
    stored = request.app[STORE_KEY].create_configuration(request.match_info["grant_id"], body)
    return _ok(request, stored.to_json())


async def _list_configurations(request: web.Request) -> web.Response:
    _api_key(request)
    query = request.query
    limit = _int_value(query["limit"], "limit") if query.get("limit") else 50
    page, cursor = request.app[STORE_KEY].list_configurations(
        request.match_info["grant_id"], limit=limit, page_token=query.get("page_token") or None
    )
    return _ok(request, [c.to_json() for c in page], next_cursor=cursor)


async def _get_configuration(request: web.Request) -> web.Response:
    _api_key(request)
    info = request.match_info
    stored = request.app[STORE_KEY].get_configuration(info["grant_id"], info["configuration_id"])
    return _ok(request, stored.to_json())


async def _update_configuration(request: web.Request) -> web.Response:
    _api_key(request)
    body = await _body(request)
    info = request.match_info
    stored = request.app[STORE_KEY].update_configuration(
        info["grant_id"], info["configuration_id"], body
    )
    return _ok(request, stored.to_json())


async def _delete_configuration(request: web.Request) -> web.Response:
    _api_key(request)
    info = request.match_info
    request.app[STORE_KEY].delete_configuration(info["grant_id"], info["configuration_id"])
    return _ok(request)


# --------------------------------------------------------------------------- sessions


async def _create_session(request: web.Request) -> web.Response:
    _api_key(request)
    body = await _body(request)
    ttl = body.get("time_to_live")
    if ttl is not None and not isinstance(ttl, bool):
        ttl = _int_value(ttl, "time_to_live")
    session = request.app[STORE_KEY].create_session(
        configuration_id=_optional_str(body, "configuration_id"),
        slug=_optional_str(body, "slug"),
        time_to_live=ttl,
    )
    return _ok(request, {"session_id": session.session_id})


async def _delete_session(request: web.Request) -> web.Response:
    _api_key(request)
    request.app[STORE_KEY].delete_session(request.match_info["session_id"])
    return _ok(request)


# --------------------------------------------------------------------------- availability


async def _availability(request: web.Request) -> web.Response:
    stored = _scheduling_config(request)
    query = request.query
    start = _required_int(query, "start_time")
    end = _required_int(query, "end_time")
    if start >= end:
        raise EmulatorError.invalid("start_time must be before end_time")
    result = request.app[STORE_KEY].availability(
        stored.configuration_id, start, end, booking_id=query.get("booking_id") or None
    )
    return _ok(request, result.to_json())


# --------------------------------------------------------------------------- bookings


def _guest(body: Mapping[str, Any]) -> dict[str, Any]:
    guest = body.get("guest")
    if not isinstance(guest, dict):
        raise EmulatorError.invalid("guest is required: {name, email}")
    for key in ("name", "email"):
        value = guest.get(key)
        if not isinstance(value, str) or not value.strip():
            raise EmulatorError.invalid(f"guest.{key} is required")
    return guest


def _participant_emails(body: Mapping[str, Any]) -> list[str]:
    raw = body.get("participants")
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise EmulatorError.invalid("participants must be a list of {email}")
    emails: list[str] = []
    for i, item in enumerate(raw):
        email = item.get("email") if isinstance(item, dict) else None
        if not isinstance(email, str) or not email:
            raise EmulatorError.invalid(f"participants[{i}].email is required")
        emails.append(email)
    return emails


async def _create_booking(request: web.Request) -> web.Response:
    stored = _scheduling_config(request)
    body = await _body(request)
    start = _required_int(body, "start_time")
    end = _required_int(body, "end_time")
    guest = _guest(body)
    participants = _participant_emails(body)
    additional_guests = body.get("additional_guests")
    additional_guests = [] if additional_guests is None else additional_guests
    if not isinstance(additional_guests, list):
        raise EmulatorError.invalid("additional_guests must be a list")
    additional_fields = body.get("additional_fields")
    additional_fields = {} if additional_fields is None else additional_fields
    if not isinstance(additional_fields, dict):
        raise EmulatorError.invalid("additional_fields must be an object")
    timezone = _optional_str(body, "timezone") or request.query.get("timezone") or None
    booking = request.app[STORE_KEY].create_booking(
        stored.configuration_id,
        start,
        end,
        guest,
        participants=participants,
        additional_guests=additional_guests,
        additional_fields=additional_fields,
        timezone=timezone,
        email_language=_optional_str(body, "email_language"),
    )
    return _ok(request, booking.to_json())


async def _get_booking(request: web.Request) -> web.Response:
    stored = _scheduling_config(request)
    booking = request.app[STORE_KEY].get_booking(
        request.match_info["booking_id"], stored.configuration_id
    )
    return _ok(request, booking.to_json())


async def _reschedule_booking(request: web.Request) -> web.Response:
    stored = _scheduling_config(request)
    body = await _body(request)
    request.app[STORE_KEY].reschedule_booking(
        request.match_info["booking_id"],
        stored.configuration_id,
        _required_int(body, "start_time"),
        _required_int(body, "end_time"),
    )
    return _ok(request)


async def _confirm_booking(request: web.Request) -> web.Response:
    stored = _scheduling_config(request)
    body = await _body(request)
    salt = _optional_str(body, "salt")
    status = _optional_str(body, "status")
    if not salt:
        raise EmulatorError.invalid("salt is required")
    if status is None:
        raise EmulatorError.invalid("status is required ('confirmed' or 'cancelled')")
    booking = request.app[STORE_KEY].confirm_booking(
        request.match_info["booking_id"],
        stored.configuration_id,
        salt=salt,
        status=status,
        cancellation_reason=_optional_str(body, "cancellation_reason"),
    )
    if booking.status == "cancelled":
        return _ok(request)
    return _ok(request, booking.to_json())


async def _delete_booking(request: web.Request) -> web.Response:
    stored = _scheduling_config(request)
    body = await _body(request, required=False)
    request.app[STORE_KEY].delete_booking(
        request.match_info["booking_id"],
        stored.configuration_id,
        cancellation_reason=_optional_str(body, "cancellation_reason"),
    )
    return _ok(request)


# --------------------------------------------------------------------------- admin API


async def _admin_health(request: web.Request) -> web.Response:
    return _ok(request, {"status": "ok", "now": request.app[STORE_KEY].clock.now()})


async def _admin_reset(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    store.reset()
    store.clock.reset()
    request.app[FAULTS_KEY].reset()
    return _ok(request, {"now": store.clock.now()})


async def _admin_get_clock(request: web.Request) -> web.Response:
    return _ok(request, {"now": request.app[STORE_KEY].clock.now()})


async def _admin_set_clock(request: web.Request) -> web.Response:
    clock: Clock = request.app[STORE_KEY].clock
    body = await _body(request)
    if "now" in body and body["now"] is not None:
        clock.set(_int_value(body["now"], "now"))
    elif "advance" in body and body["advance"] is not None:
        clock.advance(_int_value(body["advance"], "advance"))
    else:
        raise EmulatorError.invalid('body must be {"now": <unix seconds>} or {"advance": <s>}')
    return _ok(request, {"now": clock.now()})


async def _admin_get_faults(request: web.Request) -> web.Response:
    return _ok(request, request.app[FAULTS_KEY].to_json())


async def _admin_put_faults(request: web.Request) -> web.Response:
    faults = request.app[FAULTS_KEY]
    body = await _body(request)
    try:
        faults.configure_from_json(body)
    except (ValueError, TypeError, KeyError) as exc:
        raise EmulatorError.invalid(f"invalid fault settings: {exc}") from exc
    return _ok(request, faults.to_json())


async def _admin_delete_faults(request: web.Request) -> web.Response:
    faults = request.app[FAULTS_KEY]
    faults.reset()
    return _ok(request, faults.to_json())


async def _admin_list_grants(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    with store.lock:
        return _ok(request, [g.to_json() for g in store.grants.values()])


async def _admin_add_grant(request: web.Request) -> web.Response:
    body = await _body(request)
    grant_id = _optional_str(body, "grant_id")
    if not grant_id:
        raise EmulatorError.invalid("grant_id is required")
    calendars = body.get("calendars") or []
    if not isinstance(calendars, list) or not all(isinstance(c, str) for c in calendars):
        raise EmulatorError.invalid("calendars must be a list of calendar ids")
    grant = request.app[STORE_KEY].add_grant(
        grant_id,
        email=_optional_str(body, "email"),
        calendars=calendars,
        primary_calendar_id=_optional_str(body, "primary_calendar_id") or "primary",
    )
    return _ok(request, grant.to_json())


async def _admin_get_grant(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    grant = store.get_grant(request.match_info["grant_id"], provision=False)
    return _ok(request, grant.to_json())


async def _admin_list_events(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    grant = store.get_grant(request.match_info["grant_id"], provision=False)
    events = store.events_on(grant.grant_id, request.query.get("calendar_id") or "primary")
    return _ok(request, [e.to_json() for e in events])


async def _admin_add_event(request: web.Request) -> web.Response:
    body = await _body(request)
    busy = body.get("busy", True)
    if not isinstance(busy, bool):
        raise EmulatorError.invalid("busy must be a boolean")
    event = request.app[STORE_KEY].add_event(
        request.match_info["grant_id"],
        _optional_str(body, "calendar_id") or "primary",
        _required_int(body, "start_time"),
        _required_int(body, "end_time"),
        busy=busy,
        status=_optional_str(body, "status") or "confirmed",
        title=_optional_str(body, "title") or "",
        description=_optional_str(body, "description") or "",
        event_id=_optional_str(body, "id"),
    )
    return _ok(request, event.to_json())


async def _admin_delete_event(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    event_id = request.match_info["event_id"]
    with store.lock:
        event = store.events.get(event_id)
        if event is None or event.grant_id != request.match_info["grant_id"]:
            raise EmulatorError.not_found(f"event {event_id!r} not found")
        store.remove_event(event_id)
    return _ok(request)


async def _admin_list_configurations(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    with store.lock:
        items = sorted(store.configurations.values(), key=lambda c: c.seq)
        data = [{**c.to_json(), "grant_id": c.grant_id} for c in items]
    return _ok(request, data)


async def _admin_list_sessions(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    with store.lock:
        now = store.clock.now()
        data = [s.to_json(now) for s in store.sessions.values()]
    return _ok(request, data)


async def _admin_list_bookings(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    with store.lock:
        data = [b.admin_json() for b in store.bookings.values()]
    return _ok(request, data)


async def _admin_get_booking(request: web.Request) -> web.Response:
    store = request.app[STORE_KEY]
    with store.lock:
        booking = store.bookings.get(request.match_info["booking_id"])
        if booking is None:
            raise EmulatorError.not_found("booking not found")
        return _ok(request, booking.admin_json())


# --------------------------------------------------------------------------- middleware


def _abort(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.abort()


async def _run(handler: Handler, request: web.Request, rid: str) -> web.StreamResponse:
    try:
        return await handler(request)
    except EmulatorError as exc:
        return _error(rid, exc.status, exc.error_type, exc.message)
    except web.HTTPMethodNotAllowed as exc:
        allowed = ", ".join(sorted(exc.allowed_methods))
        return _error(
            rid,
            405,
            "method_not_allowed",
            f"{request.method} is not allowed on {request.path} (allowed: {allowed})",
            {"Allow": allowed},
        )
    except web.HTTPNotFound:
        return _error(rid, 404, "not_found_error", f"no route for {request.method} {request.path}")
    except web.HTTPException as exc:
        return _error(rid, exc.status, "invalid_request_error", exc.reason)
    except asyncio.CancelledError:
        raise
    except Exception:
        _log.exception("emulator handler failed: %s %s", request.method, request.path)
        return _error(rid, 500, "internal_error", "internal emulator error")


@web.middleware
async def _middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    rid = str(uuid.uuid4())
    request[REQUEST_ID] = rid
    if request.path.startswith("/_emulator/"):
        return await _run(handler, request, rid)
    faults = request.app[FAULTS_KEY]
    if faults.latency_ms:
        await asyncio.sleep(faults.latency_ms / 1000.0)
    if not faults.active:
        return await _run(handler, request, rid)

    retry_after = faults.check_rate_limit()
    if retry_after is not None:
        return _error(
            rid,
            429,
            "rate_limit_error",
            "Too many requests, please try again shortly.",
            {"Retry-After": str(retry_after)},
        )
    resource = request.match_info.route.resource
    template = resource.canonical if resource is not None else None
    decision = faults.decide(request.method, template, request.path)
    if decision is None:
        return await _run(handler, request, rid)
    kind = decision.kind
    retry = {"Retry-After": str(decision.retry_after)}
    if kind == "error_500":
        return _error(rid, 500, "internal_error", "injected fault: internal error")
    if kind == "error_503":
        return _error(rid, 503, "service_unavailable", "injected fault: unavailable", retry)
    if kind == "error_429":
        return _error(rid, 429, "rate_limit_error", "Too many requests (injected fault).", retry)
    if kind == "drop_before":
        _abort(request)
        return web.Response(status=500)  # never sent: the transport is gone
    response = await _run(handler, request, rid)
    if kind == "drop_after":
        _abort(request)
        return web.Response(status=500)
    await asyncio.sleep(decision.stall_seconds)  # "stall"
    return response


# --------------------------------------------------------------------------- app factory


def create_app(
    store: Store | None = None,
    *,
    strict: bool = False,
    api_keys: frozenset[str] | set[str] | list[str] | tuple[str, ...] | None = None,
    client_id: str = DEFAULT_CLIENT_ID,
    faults: FaultConfig | None = None,
    clock: Clock | None = None,
) -> web.Application:
    """Build the emulator's ``web.Application`` (for hosting it yourself).

    ``store`` defaults to a new :class:`Store` (with ``clock`` and ``strict``); ``faults`` to an
    inactive :class:`FaultConfig`.
    """
    if store is None:
        store = Store(clock, strict=strict)
    else:
        store.strict = strict
    app = web.Application(middlewares=[_middleware])
    app[STORE_KEY] = store
    app[FAULTS_KEY] = faults if faults is not None else FaultConfig()
    app[SETTINGS_KEY] = EmulatorSettings(
        strict=strict,
        api_keys=frozenset(api_keys) if api_keys else None,
        client_id=client_id,
    )
    r = app.router
    cfgs = "/v3/grants/{grant_id}/scheduling/configurations"
    r.add_post(cfgs, _create_configuration)
    r.add_get(cfgs, _list_configurations, allow_head=False)
    cfg = cfgs + "/{configuration_id}"
    r.add_get(cfg, _get_configuration, allow_head=False)
    r.add_put(cfg, _update_configuration)
    r.add_delete(cfg, _delete_configuration)
    r.add_post("/v3/scheduling/sessions", _create_session)
    r.add_delete("/v3/scheduling/sessions/{session_id}", _delete_session)
    r.add_get("/v3/scheduling/availability", _availability, allow_head=False)
    r.add_post("/v3/scheduling/bookings", _create_booking)
    bkg = "/v3/scheduling/bookings/{booking_id}"
    r.add_get(bkg, _get_booking, allow_head=False)
    r.add_patch(bkg, _reschedule_booking)
    r.add_put(bkg, _confirm_booking)
    r.add_delete(bkg, _delete_booking)

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
    return app
