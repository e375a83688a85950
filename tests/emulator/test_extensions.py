"""The extension points new features plug into: store hooks, ROUTE_MODULES and MIDDLEWARES."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from scheduler_async.emulator import FakeClock, Store, create_app
from scheduler_async.emulator import app as emulator_app
from scheduler_async.emulator.errors import EmulatorError
from scheduler_async.emulator.web_common import STORE_KEY, Handler, ok, require_api_key

from .support import HOUR, KEY, T0, config_body


def test_listeners_hear_every_change_in_order(store: Store) -> None:
    seen: list[tuple[str, str]] = []
    unsubscribe = store.subscribe(lambda kind, obj: seen.append((kind, type(obj).__name__)))
    stored = store.create_configuration("g", config_body())
    store.update_configuration("g", stored.configuration_id, {"slug": "s"})
    session = store.create_session(configuration_id=stored.configuration_id)
    guest = {"name": "G", "email": "g@example.com"}
    booking = store.create_booking(
        stored.configuration_id, T0 + 2 * HOUR, T0 + 2 * HOUR + 1800, guest
    )
    store.reschedule_booking(booking.booking_id, None, T0 + 3 * HOUR, T0 + 3 * HOUR + 1800)
    store.delete_booking(booking.booking_id)
    store.delete_session(session.session_id)
    store.delete_configuration("g", stored.configuration_id)
    unsubscribe()
    store.create_configuration("g", config_body())  # no longer heard
    assert seen == [
        ("configuration.created", "StoredConfiguration"),
        ("configuration.updated", "StoredConfiguration"),
        ("session.created", "Session"),
        ("booking.created", "Booking"),
        ("booking.rescheduled", "Booking"),
        ("booking.deleted", "Booking"),
        ("session.deleted", "Session"),
        ("configuration.deleted", "StoredConfiguration"),
    ]


def test_confirm_and_decline_are_announced(store: Store) -> None:
    seen: list[str] = []
    store.subscribe(lambda kind, obj: seen.append(kind))
    body = config_body(event_booking={"title": "t", "booking_type": "organizer-confirmation"})
    cid = store.create_configuration("g", body).configuration_id
    guest = {"name": "G", "email": "g@example.com"}
    first = store.create_booking(cid, T0 + 2 * HOUR, T0 + 2 * HOUR + 1800, guest)
    second = store.create_booking(cid, T0 + 3 * HOUR, T0 + 3 * HOUR + 1800, guest)
    store.confirm_booking(first.booking_id, cid, salt=first.salt_b64, status="confirmed")
    store.confirm_booking(second.booking_id, cid, salt=second.salt_b64, status="cancelled")
    assert seen[-2:] == ["booking.confirmed", "booking.cancelled"]


def test_reset_hooks_run_on_reset() -> None:
    store = Store(FakeClock(T0))
    feature_state: dict[str, Any] = {"deliveries": [1, 2]}
    store.on_reset(feature_state.clear)
    store.reset()
    assert feature_state == {}


async def test_a_feature_plugs_in_routes_and_middleware(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    async def feature_get(request: web.Request) -> web.Response:
        require_api_key(request)
        return ok(request, {"configurations": len(request.app[STORE_KEY].configurations)})

    def setup_routes(app: web.Application) -> None:
        app.router.add_get("/v3/feature", feature_get, allow_head=False)

    @web.middleware
    async def limiter(request: web.Request, handler: Handler) -> web.StreamResponse:
        calls.append(request.path)
        if request.headers.get("X-Over-Limit"):
            raise EmulatorError(429, "rate_limit_error", "over the per-key limit")
        return await handler(request)

    monkeypatch.setattr(emulator_app, "ROUTE_MODULES", (*emulator_app.ROUTE_MODULES, setup_routes))
    monkeypatch.setattr(emulator_app, "MIDDLEWARES", (limiter,))
    async with TestServer(create_app()) as server, aiohttp.ClientSession() as session:
        async with session.get(server.make_url("/v3/feature"), headers=KEY) as r:
            assert r.status == 200
            assert (await r.json())["data"] == {"configurations": 0}
        over = {**KEY, "X-Over-Limit": "1"}
        async with session.get(server.make_url("/v3/feature"), headers=over) as r:
            body = await r.json()
            assert r.status == 429
            assert body["error"]["type"] == "rate_limit_error"
            assert body["request_id"] == r.headers["X-Request-Id"]
        async with session.get(server.make_url("/_emulator/health")) as r:
            assert r.status == 200
    assert calls == ["/v3/feature", "/v3/feature", "/_emulator/health"]
