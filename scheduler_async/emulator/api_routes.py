"""Scheduler API routes of the emulator (the wire API of ``scheduler-api.md``).

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
  naming another configuration is 403 ``forbidden``; an expired or deleted session is 401
  ``invalid_session`` (an ``error.type`` the booking page knows).
* ``Bearer <API key>`` plus ``configuration_id`` or ``slug`` (what the official Python SDK sends).
* No ``Authorization`` plus ``configuration_id``, or ``slug`` with ``client_id`` (the emulator's
  application id; another one is 404).  Nothing at all is 401.
* Configurations with ``requires_session_auth: true`` accept only a session (else 401).

Group configurations (``type: "group"``) use the same routes: availability lists their group
events with the seats left, and booking/reschedule bodies name the slot (``event_id``,
``master_id``/``master_event_id``, ``calendar_id``); see :mod:`.group_store`.

What the booking page (``<nylas-scheduling>`` 2.6.0) sends: create stores ``guest``,
``additional_guests`` (as sent, ``name`` equal to the email included), ``additional_fields``,
``timezone`` and ``email_language`` (``en es fr de nl sv ja zh ko``); ``participants: [{email}]``
picks the round-robin host.  Reschedule uses ``participants`` the same way (the booking moves to
that host), stores ``timezone`` and ``email_language`` and ignores ``guest``,
``additional_guests`` and ``additional_fields`` (the booking keeps its guest).  DELETE ignores
``action: "cancel"``.  Create and get answers carry ``booking_ref`` (:attr:`Booking.reference`,
decoded by :func:`scheduler_async.booking_ref.parse_booking_ref`).  A slot taken since it was
offered is 409 ``timeslot_not_available`` whose message starts with "The selected timeslot is
unavailable" (the page matches that prefix); a slot never offered stays 400.

A booking of another configuration is 404.  Errors are ``{"request_id", "error": {"type",
"message"}}``: 400 ``invalid_request_error`` (also malformed JSON), 401 ``unauthorized``, 403
``forbidden``, 404 ``not_found_error`` (also unknown routes), 405 ``method_not_allowed`` (with
``Allow``), 409 ``conflict`` / ``timeslot_not_available``, 429 ``rate_limit_error``, 500
``internal_error``, 503 ``service_unavailable``.  See :mod:`scheduler_async.emulator.store` for
the state rules and :mod:`scheduler_async.emulator.faults` for fault injection.  A
``GET /v3/scheduling/bookings`` (the seed guide's doc error) is a 405 envelope.

Availability windows: ``start_time``/``end_time`` are Unix times within
:data:`~.validation.MIN_TIMESTAMP`..:data:`~.validation.MAX_TIMESTAMP` and at most
:data:`~.validation.MAX_AVAILABILITY_WINDOW_DAYS` (62) days apart (else 400).  A window longer
than two days is computed and encoded on a worker thread, so the server keeps answering other
requests while it runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from scheduler_async.emulator.errors import EmulatorError
from scheduler_async.emulator.validation import check_window, slot_fields
from scheduler_async.emulator.web_common import (
    STORE_KEY,
    int_value,
    json_bytes,
    ok,
    optional_str,
    read_json,
    request_id_of,
    require_api_key,
    required_time,
    scheduling_config,
)

__all__ = ["INLINE_WINDOW_SECONDS", "setup_routes"]

#: Availability windows up to this long are computed on the event loop; longer ones in a thread.
INLINE_WINDOW_SECONDS = 2 * 86_400
_CHUNK = 500


# --------------------------------------------------------------------------- configurations


async def _create_configuration(request: web.Request) -> web.Response:
    require_api_key(request)
    body = await read_json(request)
    stored = request.app[STORE_KEY].create_configuration(request.match_info["grant_id"], body)
    return ok(request, stored.to_json())


async def _list_configurations(request: web.Request) -> web.Response:
    require_api_key(request)
    query = request.query
    limit = int_value(query["limit"], "limit") if query.get("limit") else 50
    page, cursor = request.app[STORE_KEY].list_configurations(
        request.match_info["grant_id"], limit=limit, page_token=query.get("page_token") or None
    )
    return ok(request, [c.to_json() for c in page], next_cursor=cursor)


async def _get_configuration(request: web.Request) -> web.Response:
    require_api_key(request)
    info = request.match_info
    stored = request.app[STORE_KEY].get_configuration(info["grant_id"], info["configuration_id"])
    return ok(request, stored.to_json())


async def _update_configuration(request: web.Request) -> web.Response:
    require_api_key(request)
    body = await read_json(request)
    info = request.match_info
    stored = request.app[STORE_KEY].update_configuration(
        info["grant_id"], info["configuration_id"], body
    )
    return ok(request, stored.to_json())


async def _delete_configuration(request: web.Request) -> web.Response:
    require_api_key(request)
    info = request.match_info
    request.app[STORE_KEY].delete_configuration(info["grant_id"], info["configuration_id"])
    return ok(request)


# --------------------------------------------------------------------------- sessions


async def _create_session(request: web.Request) -> web.Response:
    require_api_key(request)
    body = await read_json(request)
    ttl = body.get("time_to_live")
    if ttl is not None and not isinstance(ttl, bool):
        ttl = int_value(ttl, "time_to_live")
    session = request.app[STORE_KEY].create_session(
        configuration_id=optional_str(body, "configuration_id"),
        slug=optional_str(body, "slug"),
        time_to_live=ttl,
    )
    return ok(request, {"session_id": session.session_id})


async def _delete_session(request: web.Request) -> web.Response:
    require_api_key(request)
    request.app[STORE_KEY].delete_session(request.match_info["session_id"])
    return ok(request)


# --------------------------------------------------------------------------- availability


async def _availability(request: web.Request) -> web.Response:
    stored = scheduling_config(request)
    query = request.query
    start = required_time(query, "start_time")
    end = required_time(query, "end_time")
    check_window(start, end)
    store = request.app[STORE_KEY]
    booking_id = query.get("booking_id") or None
    configuration_id = stored.configuration_id
    if end - start <= INLINE_WINDOW_SECONDS:
        result = store.availability(configuration_id, start, end, booking_id=booking_id)
        return ok(request, result.to_json())
    rid = request_id_of(request)

    def compute() -> bytes:
        result = store.availability(configuration_id, start, end, booking_id=booking_id)
        return _encode_in_chunks(rid, result.to_json())

    # A long window may take a while: compute and encode it off the event loop, so other
    # requests keep being answered meanwhile.
    body = await asyncio.get_running_loop().run_in_executor(None, compute)
    return web.Response(body=body, headers={"X-Request-Id": rid}, content_type="application/json")


def _encode_in_chunks(rid: str, data: dict[str, Any]) -> bytes:
    """``json_bytes({"request_id": rid, "data": data})``, byte for byte, encoding the slots a few
    hundred at a time: one C-level encode of megabytes would hold the GIL (and stall the event
    loop) for its whole duration."""
    slots = data["time_slots"]
    pieces = [json_bytes(slots[i : i + _CHUNK])[1:-1] for i in range(0, len(slots), _CHUNK)]
    rest = {k: v for k, v in data.items() if k != "time_slots"}
    tail = json_bytes({"data": rest})[9:-2]  # '{"data":{' + tail + '}}'
    head = json_bytes({"request_id": rid})[:-1]
    out = head + b',"data":{"time_slots":[' + b",".join(pieces) + b"]"
    return out + (b"," + tail if tail else b"") + b"}}"


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
    stored = scheduling_config(request)
    body = await read_json(request)
    start = required_time(body, "start_time")
    end = required_time(body, "end_time")
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
    timezone = optional_str(body, "timezone") or request.query.get("timezone") or None
    booking = request.app[STORE_KEY].create_booking(
        stored.configuration_id,
        start,
        end,
        guest,
        participants=participants,
        additional_guests=additional_guests,
        additional_fields=additional_fields,
        timezone=timezone,
        email_language=optional_str(body, "email_language"),
        slot=slot_fields(body),
    )
    return ok(request, booking.to_json())


async def _get_booking(request: web.Request) -> web.Response:
    stored = scheduling_config(request)
    booking = request.app[STORE_KEY].get_booking(
        request.match_info["booking_id"], stored.configuration_id
    )
    return ok(request, booking.to_json())


async def _reschedule_booking(request: web.Request) -> web.Response:
    stored = scheduling_config(request)
    body = await read_json(request)
    request.app[STORE_KEY].reschedule_booking(
        request.match_info["booking_id"],
        stored.configuration_id,
        required_time(body, "start_time"),
        required_time(body, "end_time"),
        slot=slot_fields(body),
        participants=_participant_emails(body),
        timezone=optional_str(body, "timezone") or None,
        email_language=optional_str(body, "email_language"),
    )
    return ok(request)


async def _confirm_booking(request: web.Request) -> web.Response:
    stored = scheduling_config(request)
    body = await read_json(request)
    salt = optional_str(body, "salt")
    status = optional_str(body, "status")
    if not salt:
        raise EmulatorError.invalid("salt is required")
    if status is None:
        raise EmulatorError.invalid("status is required ('confirmed' or 'cancelled')")
    booking = request.app[STORE_KEY].confirm_booking(
        request.match_info["booking_id"],
        stored.configuration_id,
        salt=salt,
        status=status,
        cancellation_reason=optional_str(body, "cancellation_reason"),
    )
    if booking.status == "cancelled":
        return ok(request)
    return ok(request, booking.to_json())


async def _delete_booking(request: web.Request) -> web.Response:
    stored = scheduling_config(request)
    body = await read_json(request, required=False)
    request.app[STORE_KEY].delete_booking(
        request.match_info["booking_id"],
        stored.configuration_id,
        cancellation_reason=optional_str(body, "cancellation_reason"),
    )
    return ok(request)


def setup_routes(app: web.Application) -> None:
    """Register the Scheduler API routes on ``app``."""
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
