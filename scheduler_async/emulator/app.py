"""aiohttp.web application of the Scheduler API emulator: middleware and :func:`create_app`.

The routes live in feature modules, each with a ``setup_routes(app)`` listed once in
:data:`ROUTE_MODULES`: :mod:`.api_routes` (the Scheduler API: configurations, sessions,
availability, bookings), :mod:`.admin_routes` (``/_emulator/...``), :mod:`.group_routes`,
:mod:`.webhook_routes` (``/v3/webhooks``, deliveries of booking notifications) and
:mod:`.ui_settings` (``GET /v3/scheduling/ui-settings``, the booking page's first call).
:func:`.cors.cors_middleware` wraps everything (outermost), so a browser page on another
origin can call the emulator.  Shared plumbing
(app keys, envelopes, body parsing, auth) is in :mod:`.web_common`.  Admin routes
(``/_emulator/...`` but health and the booking page) need an API key whenever the app has
``api_keys`` (:func:`.admin_routes.require_admin_key`), and CORS never applies to them.

Every response carries a ``request_id`` (body and ``X-Request-Id`` header).  Errors are
``{"request_id", "error": {"type", "message"}}``: 400 ``invalid_request_error`` (also malformed,
non-JSON or too deeply nested bodies), 401 ``unauthorized``, 403 ``forbidden``, 404
``not_found_error`` (also unknown routes), 405 ``method_not_allowed`` (with ``Allow``), 409
``conflict`` (409 ``timeslot_not_available`` for a slot no longer free: message starting "The
selected timeslot is unavailable", or "Event is full"), 401 ``invalid_session`` for an
expired/deleted session, 413 for bodies over aiohttp's 1 MiB limit, 429 ``rate_limit_error``, 500
``internal_error``, 503 ``service_unavailable``.  The middleware applies the fault injection of
:mod:`.faults` to every route outside ``/_emulator/``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import cast

from aiohttp import web
from aiohttp.typedefs import Middleware

from scheduler_async.emulator import (
    admin_routes,
    api_routes,
    connect,
    grants_routes,
    group_routes,
    persistence,
    snapshots,
    ui_settings,
    webhook_routes,
)
from scheduler_async.emulator import rate_limit as rate_limit_feature
from scheduler_async.emulator.booking_page import booking_page_routes
from scheduler_async.emulator.cors import cors_middleware
from scheduler_async.emulator.faults import FaultConfig
from scheduler_async.emulator.rate_limit import (
    RATE_LIMIT_KEY,
    EmulatorRateLimit,
    coerce_emulator_rate_limit,
)
from scheduler_async.emulator.store import Clock, EmulatorError, Store
from scheduler_async.emulator.web_common import (
    DEFAULT_CLIENT_ID,
    FAULTS_KEY,
    REQUEST_ID,
    SETTINGS_KEY,
    STORE_KEY,
    EmulatorSettings,
    Handler,
    error_response,
)

__all__ = [
    "DEFAULT_CLIENT_ID",
    "MIDDLEWARES",
    "ROUTE_MODULES",
    "EmulatorSettings",
    "create_app",
]

_log = logging.getLogger("scheduler_async.emulator")

#: How the middleware waits (injected latency, stalls); tests may wrap it to observe the waits.
_sleep = asyncio.sleep

#: Each feature's ``setup_routes(app)``, called in order by :func:`create_app`.  A new feature
#: (its own ``<feature>_routes.py``) adds one entry here; its setup may also store its own
#: state under an ``web.AppKey`` and hook it to the store (``store.on_reset``,
#: ``store.subscribe``).
ROUTE_MODULES: Sequence[Callable[[web.Application], None]] = (
    api_routes.setup_routes,
    admin_routes.setup_routes,
    group_routes.setup_routes,
    webhook_routes.setup_routes,
    rate_limit_feature.setup_routes,
    ui_settings.setup_routes,
    grants_routes.setup_routes,  # grants, calendars, events
    connect.setup_routes,  # hosted login (/v3/connect/*)
    snapshots.setup_routes,  # /_emulator/snapshot, /restore, /export
)

#: Extra ``@web.middleware`` functions (e.g. CORS, a per-API-key rate limiter), run inside the
#: emulator's own middleware (so they see the request id and their errors become envelopes).
MIDDLEWARES: Sequence[Middleware] = (
    persistence.middleware,  # write-through to the state file after each API write
    rate_limit_feature.middleware,
    connect.grant_me_middleware,  # `me` and access tokens on /v3/grants/{grant_id}/...
)


# --------------------------------------------------------------------------- middleware


def _abort(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.abort()


async def _run(handler: Handler, request: web.Request, rid: str) -> web.StreamResponse:
    try:
        return await handler(request)
    except EmulatorError as exc:
        return error_response(rid, exc.status, exc.error_type, exc.message)
    except web.HTTPMethodNotAllowed as exc:
        allowed = ", ".join(sorted(exc.allowed_methods))
        return error_response(
            rid,
            405,
            "method_not_allowed",
            f"{request.method} is not allowed on {request.path} (allowed: {allowed})",
            {"Allow": allowed},
        )
    except web.HTTPNotFound:
        return error_response(
            rid, 404, "not_found_error", f"no route for {request.method} {request.path}"
        )
    except web.HTTPException as exc:
        return error_response(rid, exc.status, "invalid_request_error", exc.reason)
    except asyncio.CancelledError:
        raise
    except Exception:
        _log.exception("emulator handler failed: %s %s", request.method, request.path)
        return error_response(rid, 500, "internal_error", "internal emulator error")


@web.middleware
async def _middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    rid = str(uuid.uuid4())
    request[REQUEST_ID] = rid
    if request.path.startswith("/_emulator/"):
        if admin_routes.is_admin_request(request):
            try:
                admin_routes.require_admin_key(request)
            except EmulatorError as exc:
                return error_response(rid, exc.status, exc.error_type, exc.message)
        return await _run(handler, request, rid)
    faults = request.app[FAULTS_KEY]
    if faults.latency_ms:
        await _sleep(faults.latency_ms / 1000.0)
    if not faults.active:
        return await _run(handler, request, rid)

    retry_after = faults.check_rate_limit()
    if retry_after is not None:
        return error_response(
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
        return error_response(rid, 500, "internal_error", "injected fault: internal error")
    if kind == "error_503":
        return error_response(rid, 503, "service_unavailable", "injected fault: unavailable", retry)
    if kind == "error_429":
        return error_response(
            rid, 429, "rate_limit_error", "Too many requests (injected fault).", retry
        )
    if kind == "drop_before":
        _abort(request)
        return web.Response(status=500)  # never sent: the transport is gone
    response = await _run(handler, request, rid)
    if kind == "drop_after":
        _abort(request)
        return web.Response(status=500)
    await _sleep(decision.stall_seconds)  # "stall"
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
    rate_limit: EmulatorRateLimit | float | None = None,
    cors_origins: str | Iterable[str] | None = None,
    booking_page: bool = False,
    web_elements_dir: str | Path | None = None,
) -> web.Application:
    """Build the emulator's ``web.Application`` (for hosting it yourself).

    ``store`` defaults to a new :class:`Store` (with ``clock`` and ``strict``); ``faults`` to an
    inactive :class:`FaultConfig`.  ``rate_limit`` (requests per second per API key, or an
    :class:`~.rate_limit.EmulatorRateLimit`) makes excess requests 429 with ``Retry-After``;
    ``None`` enforces nothing (requests are still counted).  Every module in
    :data:`ROUTE_MODULES` then registers its routes (and any state of its own) on the app.

    CORS (:mod:`.cors`) is the outermost middleware: ``cors_origins`` None (default) or ``"*"``
    allows any origin; else the allowed origins (an iterable, or one comma-separated string;
    empty = none, i.e. browsers on other origins are refused).  It never applies to the admin
    API (:func:`.admin_routes.is_admin_request`): browsers on other origins are refused there.
    With ``api_keys``, the admin API needs one of them (:func:`.admin_routes.require_admin_key`).
    ``booking_page`` also serves the ``<nylas-scheduling>`` page at ``/_emulator/booking-page``
    (:mod:`.booking_page`), its component loaded from ``web_elements_dir`` (the directory
    holding ``nylas-scheduling.es.js``) or else from the public CDN.
    """
    if store is None:
        store = Store(clock, strict=strict)
    else:
        store.strict = strict
    cors = cast(Middleware, cors_middleware(cors_origins, exclude=admin_routes.is_admin_request))
    app = web.Application(middlewares=[cors, _middleware, *MIDDLEWARES])
    app[STORE_KEY] = store
    app[FAULTS_KEY] = faults if faults is not None else FaultConfig()
    app[SETTINGS_KEY] = EmulatorSettings(
        strict=strict,
        api_keys=frozenset(api_keys) if api_keys else None,
        client_id=client_id,
    )
    app[RATE_LIMIT_KEY] = coerce_emulator_rate_limit(rate_limit)
    for setup in ROUTE_MODULES:
        setup(app)
    if booking_page:
        app.add_routes(booking_page_routes(component_dir=web_elements_dir))
    return app
