"""A faithful, stateful local emulator of the Nylas v3 Scheduler API.

Python API::

    from scheduler_async.emulator import Emulator, FakeClock

    with Emulator(clock=FakeClock(1_767_000_000)) as emu:
        emu.add_grant("grant-1", email="host@example.com")
        client_base_url = emu.url

Exports :class:`Emulator` (server on its own thread), :func:`create_app` (the aiohttp
application, to host it yourself), :class:`Store`, :class:`Clock`, :class:`FakeClock`,
:class:`FaultConfig`, :class:`RouteFaults`, :class:`RateLimit` and :class:`EmulatorError`.
Names are imported lazily, so importing ``scheduler_async.emulator.engine`` alone does not import
aiohttp.  The pytest fixtures are in :mod:`.pytest_plugin`.

Layout (moto style: state, routes and errors apart; none of the state modules imports aiohttp)::

    errors.py          EmulatorError (HTTP status + envelope type)
    clock.py           Clock, FakeClock
    entities.py        plain records: Grant, Calendar, Event, StoredConfiguration, Session,
                       Booking, GroupEventRecord, GroupOverride, GroupInstance
    event_index.py     EventIndex: a calendar's events kept sorted as written (bisect on insert)
    validation/        the ONE source of defaults, rules and limits: limits.py (defaults,
                       limits, parse_int: the one integer parser, time checks), plan.py (the
                       engine's configuration parsing, parse_plan), configuration.py (standard
                       configuration bodies), group.py (group configurations, events, imports)
    engine.py          pure availability computation (compute_availability, find_slot)
    group_engine.py    pure group availability: instances of a group event, free seats
    state.py           StoreBase: lock, clock, record dicts, grants and events, extension hooks
    configurations.py  ConfigurationsMixin: configurations and sessions
    bookings.py        BookingsMixin: availability and atomic bookings
    recurrence.py      RRULE/EXDATE expansion of recurring group events (python-dateutil)
    group_events.py    GroupEventsMixin: group events, imports, seats (take/free/move; one
                       read-then-write place, _claim_seat), validate-timeslot
    group_store.py     GroupStoreMixin: group configurations, group availability and bookings
    store.py           Store (StoreBase + mixins) and re-exports of all the names above
    web_common.py      aiohttp plumbing shared by route modules: app keys, envelopes, JSON body
                       rules (content type, depth), parameter parsing, authentication
    api_routes.py      Scheduler API routes        setup_routes(app)
    admin_routes.py    /_emulator/... admin routes  setup_routes(app); with API keys they need
                       one (is_admin_request, require_admin_key; health and booking page open)
    group_routes.py    the six group-event endpoints setup_routes(app)
    ui_settings.py     GET /v3/scheduling/ui-settings (the booking page's first call) setup_routes
    cors.py            cors_middleware (outermost in create_app; cors_origins, default any)
    booking_page.py    the <nylas-scheduling> page under /_emulator/booking-page (booking_page=True)
    app.py             middleware (request ids, faults, error envelopes), ROUTE_MODULES,
                       MIDDLEWARES, create_app
    faults.py          fault injection;  runner.py  Emulator;  pytest_plugin.py  fixtures
    webhook_state.py   WebhookState: destinations, delivery queue, reminders, log, faults (no I/O)
    webhook_delivery.py  WebhookHub(WebhookState): challenge, signed POSTs, retries, worker
    webhook_payloads.py  notification objects from bookings, mock samples, signatures (pure)
    webhooks.py        BookingNotifier (the store listener) and the hub the store owns
                       (store.webhook_hub()); re-exports the wing's names
    webhook_routes.py  /v3/webhooks and /_emulator/webhooks routes  setup_routes(app)
    rate_limit.py      EmulatorRateLimit (GCRA per API key, grant or application; 429 counts,
                       peak rate): middleware (in MIDDLEWARES), /_emulator/rate_limit
                       setup_routes(app); create_app/Emulator(rate_limit=R), --rate-limit R
    grants.py          grants, calendars and calendar events on the store's own records
    grants_routes.py   /v3/grants/{grant_id}[/calendars|/events] routes  setup_routes(app)
    connect.py         hosted login /v3/connect/{auth,token,tokeninfo} setup_routes(app), access
                       tokens, grant_me_middleware (`me` on /v3/grants/{grant_id}/..., MIDDLEWARES)
    editor_compat.py   group events also in the Scheduler Editor's {event, group_event_info}
                       form (with_event, used by group_routes); group events via the events API
    editor_page.py     the <nylas-scheduler-editor> page (its own origin: EditorPageServer)
    state_parts.py     the store's state as JSON-able parts: one dump/load pair per part (PARTS),
                       every store attribute in one part or in NOT_STATE (a test checks it)
    snapshots.py       Snapshots (emu.snapshot()/restore()), /_emulator/snapshot, /restore,
                       /export  setup_routes(app)
    restore_cache.py   RecordTemplate + Journal: restoring the same snapshot again reuses the
                       records and puts back what changed (entities.Journaled tells the journal)
    persistence.py     StateFile: the SQLite state file (--state; WAL, file lock, schema version),
                       written through after every API write (middleware, in MIDDLEWARES)
    seed.py            seed files (--seed-file) and export_world, in the API's own JSON shapes

Adding a feature (webhooks, the booking page's calls, a rate limiter) without
editing the big shared files:

1. State: a module ``<feature>.py`` with a class holding the feature's own records, built from
   the :class:`Store` (use ``store.lock`` for atomicity; ``store.on_reset(self.reset)`` so
   ``POST /_emulator/reset`` clears it; state the store holds gets a part in
   :mod:`.state_parts`, so snapshots and the state file keep it; ``store.subscribe(listener)``
   to hear of
   ``configuration.*``, ``session.*`` and ``booking.created|rescheduled|confirmed|cancelled|
   deleted`` changes, e.g. to queue webhook deliveries).  State that the store's own operations
   must consult can instead be a mixin subclassing ``state.StoreBase``, added to ``Store``'s
   bases.
2. Routes: a module ``<feature>_routes.py`` with ``setup_routes(app)`` that registers its
   handlers (``app.router.add_get(...)``), creates its state object and keeps it under its own
   ``web.AppKey`` (and may hook ``app.on_response_prepare``, e.g. CORS headers); then one line
   in ``app.ROUTE_MODULES``.  Handlers use :mod:`.web_common` (``read_json``, ``ok``,
   ``require_api_key``, ``scheduling_config``, ``STORE_KEY``) and raise ``EmulatorError``.
3. Cross-cutting checks (a per-API-key rate limiter, CORS preflight): a ``@web.middleware`` in
   the feature's module, listed in ``app.MIDDLEWARES``; it runs inside the emulator's middleware,
   so its ``EmulatorError`` becomes an envelope with the request id.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scheduler_async.emulator.app import create_app
    from scheduler_async.emulator.faults import FaultConfig, RateLimit, RouteFaults
    from scheduler_async.emulator.runner import Emulator
    from scheduler_async.emulator.store import Clock, EmulatorError, FakeClock, Store

__all__ = [
    "Clock",
    "Emulator",
    "EmulatorError",
    "FakeClock",
    "FaultConfig",
    "RateLimit",
    "RouteFaults",
    "Store",
    "create_app",
]

_WHERE = {
    "create_app": "app",
    "FaultConfig": "faults",
    "RateLimit": "faults",
    "RouteFaults": "faults",
    "Emulator": "runner",
    "Clock": "store",
    "EmulatorError": "store",
    "FakeClock": "store",
    "Store": "store",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted(__all__)
