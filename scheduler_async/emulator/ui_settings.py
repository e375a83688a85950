"""``GET /v3/scheduling/ui-settings``: what the ``<nylas-scheduling>`` booking page loads first.

The endpoint is not in the official OpenAPI; its contract comes from the component (web-elements
2.6.0 ``connector/shared/api/scheduler.js`` ``getUISettings`` and the ``ConfigSettings`` type).
Auth is the availability/bookings one (session bearer, or ``configuration_id``, or ``slug`` +
``client_id``); ``booking_id`` (rescheduling) adds the ``booking`` prefill block.  The answer is
``{"request_id", "data": {...}}`` with::

    app_client_id, configuration_id, name, slug, booking_type, appearance,
    organizer {name, email},
    scheduler {available_days_in_future, min_booking_notice, min_cancellation_notice, ... every
               other stored scheduler field, e.g. cancellation_policy, hide_*, additional_fields,
               confirmation_redirect_url, rescheduling_url, cancellation_url, ...},
    booking {guest, additional_guests, additional_fields, timezone, email_language,
             event_data {location, when {object, start_time, end_time, start_timezone,
             end_timezone}}, event_organizer {name, email, is_organizer}}   (with booking_id)

Choices (the real service's behaviour is unconfirmed):

* ``name`` is the configuration's ``name``, else its ``event_booking.title`` (the page heading).
* ``organizer`` is the participant with ``is_organizer: true``; a round-robin configuration
  without one shows its owner grant's email.
* ``appearance`` is the stored ``appearance`` object (``{}`` if none).
* ``scheduler`` always has ``available_days_in_future``, ``min_booking_notice`` and
  ``min_cancellation_notice`` (the emulator's defaults where the configuration has none, e.g.
  a group configuration): the component does arithmetic on them.
* The ``booking`` block leaves out ``booking_ref`` and ``booking_ref_salt`` (typed but never read
  by the component): the salt authorizes the organizer's confirm/decline, and this endpoint
  needs no secret beyond a public configuration id.
* ``booking_id`` of another configuration, or of a deleted booking, is a 404 like the other
  booking routes.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from scheduler_async.emulator import web_common
from scheduler_async.emulator.store import Booking, Grant, Store, StoredConfiguration
from scheduler_async.emulator.validation import SCHEDULER_DEFAULTS

__all__ = ["UI_SETTINGS_PATH", "build_ui_settings", "make_ui_settings_handler", "setup_routes"]

UI_SETTINGS_PATH = "/v3/scheduling/ui-settings"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _organizer(config: Mapping[str, Any], grant: Grant | None) -> dict[str, Any]:
    participants = config.get("participants") or []
    for participant in participants:
        if participant.get("is_organizer") is True:
            return {"name": participant.get("name") or "", "email": participant["email"]}
    if grant is not None and grant.email:
        for participant in participants:
            if participant.get("email") == grant.email:
                return {"name": participant.get("name") or "", "email": grant.email}
        return {"name": "", "email": grant.email}
    first = participants[0] if participants else {}
    return {"name": first.get("name") or "", "email": first.get("email") or ""}


def _booking_block(booking: Booking) -> dict[str, Any]:
    timezone = booking.timezone or "UTC"
    return {
        "guest": {"name": booking.guest.get("name", ""), "email": booking.guest.get("email", "")},
        "additional_guests": copy.deepcopy(booking.additional_guests),
        "additional_fields": copy.deepcopy(booking.additional_fields),
        "timezone": timezone,
        "email_language": booking.email_language or "en",
        "event_data": {
            "location": "",
            "when": {
                "object": "timespan",
                "start_time": booking.start_time,
                "end_time": booking.end_time,
                "start_timezone": timezone,
                "end_timezone": timezone,
            },
        },
        "event_organizer": {
            "name": booking.organizer_name or "",
            "email": booking.organizer_email,
            "is_organizer": True,
        },
    }


def build_ui_settings(
    stored: StoredConfiguration,
    *,
    client_id: str,
    grant: Grant | None = None,
    booking: Booking | None = None,
) -> dict[str, Any]:
    """The ``data`` of a ui-settings answer for a configuration (and a booking to prefill).

    ``grant`` is the configuration's owner grant (organizer fallback); ``client_id`` the
    emulator's application id (the component sends it back as ``client_id`` and
    ``X-Nylas-Application-Public-Id``).
    """
    config = stored.data
    event_booking = config.get("event_booking") or {}
    name = config.get("name")
    if not isinstance(name, str) or not name:
        name = event_booking.get("title") or ""
    appearance = config.get("appearance")
    data: dict[str, Any] = {
        "app_client_id": client_id,
        "configuration_id": stored.configuration_id,
        "name": name,
        "slug": stored.slug,
        "booking_type": event_booking.get("booking_type") or "booking",
        "appearance": copy.deepcopy(appearance) if isinstance(appearance, dict) else {},
        "organizer": _organizer(config, grant),
        # defaults first: the page computes its availability window from these numbers (a
        # group configuration stores no scheduler block; without them it asks end_time=NaN)
        "scheduler": {**SCHEDULER_DEFAULTS, **copy.deepcopy(config.get("scheduler") or {})},
    }
    if booking is not None:
        data["booking"] = _booking_block(booking)
    return data


def make_ui_settings_handler(
    resolve_configuration: Callable[[web.Request], StoredConfiguration],
    store_key: web.AppKey[Store],
    client_id: Callable[[web.Request], str],
    request_id: Callable[[web.Request], str],
) -> Handler:
    """The ``GET /v3/scheduling/ui-settings`` handler.

    ``resolve_configuration`` is the availability/bookings auth (raises the emulator's error for
    a bad session, unknown configuration, private configuration without a session...);
    ``store_key`` finds the :class:`Store` on the app; ``client_id`` gives the application id;
    ``request_id`` the id the error middleware assigned.  Errors propagate as the emulator's
    exceptions, for its middleware to render as envelopes.
    """

    async def ui_settings(request: web.Request) -> web.Response:
        stored = resolve_configuration(request)
        store = request.app[store_key]
        booking_id = request.query.get("booking_id") or None
        with store.lock:
            booking = store.get_booking(booking_id, stored.configuration_id) if booking_id else None
            grant = store.grants.get(stored.grant_id)
            data = build_ui_settings(
                stored, client_id=client_id(request), grant=grant, booking=booking
            )
        rid = request_id(request)
        return web.json_response({"request_id": rid, "data": data}, headers={"X-Request-Id": rid})

    return ui_settings


def setup_routes(app: web.Application) -> None:
    """Register ``GET /v3/scheduling/ui-settings`` on an emulator app (one of ``ROUTE_MODULES``)."""
    handler = make_ui_settings_handler(
        web_common.scheduling_config,
        web_common.STORE_KEY,
        lambda request: request.app[web_common.SETTINGS_KEY].client_id,
        web_common.request_id_of,
    )
    app.router.add_get(UI_SETTINGS_PATH, handler, allow_head=False)
