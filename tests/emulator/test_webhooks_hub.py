"""The emulator's webhook hub and /v3/webhooks routes, delivering to the library's receiver."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from scheduler_async.booking_ref import parse_booking_ref
from scheduler_async.emulator.store import Booking, FakeClock
from scheduler_async.emulator.webhook_routes import (
    register_webhook_admin_routes,
    register_webhook_routes,
)
from scheduler_async.emulator.webhooks import (
    BOOKING_TRIGGERS,
    WebhookHub,
    booking_object,
    booking_object_from,
    reminder_minutes,
)
from scheduler_async.webhooks import (
    AnyNotification,
    BookingCancelled,
    BookingCreated,
    BookingNotification,
    BookingPending,
    BookingReminder,
    BookingRescheduled,
    WebhookReceiver,
    parse_notification,
)

from .support import KEY, T0

CFG_ID = "9a4e8b3c-2f1d-4c6b-8e7a-5d3c2b1a0f9e"
BKG_ID = "1b2c3d4e-5f60-4718-89ab-cdef01234567"


def make_booking(**overrides: Any) -> Booking:
    values: dict[str, Any] = {
        "booking_id": BKG_ID,
        "configuration_id": CFG_ID,
        "event_id": "ev-1",
        "grant_id": "grant-1",
        "calendar_id": "primary",
        "start_time": T0 + 7200,
        "end_time": T0 + 9000,
        "status": "booked",
        "title": "Intro call",
        "description": "Say hello",
        "organizer_email": "host@example.com",
        "organizer_name": "Host",
        "guest": {"name": "Guest", "email": "guest@example.com"},
        "participants": ["host@example.com"],
        "salt": b"0123456789abcdef",
        "created_at": T0,
        "updated_at": T0,
        "additional_fields": {"company": "ACME"},
    }
    values.update(overrides)
    return Booking(**values)


CONFIG: dict[str, Any] = {
    "participants": [
        {"email": "host@example.com", "is_organizer": True, "booking": {"calendar_id": "primary"}}
    ],
    "event_booking": {
        "title": "Intro call",
        "location": "Room 1",
        "timezone": "Europe/Paris",
        "reminders": [
            {"type": "webhook", "minutes_before_event": 30},
            {"type": "email", "minutes_before_event": 60},
        ],
    },
    "scheduler": {"rescheduling_url": "https://example.com/reschedule/:booking_ref"},
}


@dataclass
class Env:
    clock: FakeClock
    hub: WebhookHub
    http: aiohttp.ClientSession
    api: str
    receiver: WebhookReceiver
    hook_url: str
    base: str
    secrets: list[str]
    got: list[AnyNotification]
    fail_next: list[int] = field(default_factory=lambda: [0])
    release_slow: asyncio.Event = field(default_factory=asyncio.Event)

    async def create(self, **body: Any) -> dict[str, Any]:
        payload = {"trigger_types": list(BOOKING_TRIGGERS), "webhook_url": self.hook_url}
        payload.update(body)
        async with self.http.post(f"{self.api}/v3/webhooks", json=payload, headers=KEY) as r:
            data: dict[str, Any] = await r.json()
            assert r.status == 200, data
        created: dict[str, Any] = data["data"]
        self.secrets.append(created["webhook_secret"])
        return created

    async def call(self, method: str, path: str, **kw: Any) -> tuple[int, Any]:
        kw.setdefault("headers", KEY)
        async with self.http.request(method, f"{self.api}{path}", **kw) as r:
            return r.status, await r.json()


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    clock = FakeClock(T0)
    hub = WebhookHub(clock, application_id="app-test", timeout=5.0)
    api_app = web.Application()
    register_webhook_routes(api_app, hub)
    register_webhook_admin_routes(api_app, hub)
    api = TestServer(api_app, host="127.0.0.1", port=0)

    secrets: list[str] = ["not-yet-known"]
    got: list[AnyNotification] = []

    async def callback(n: AnyNotification) -> None:
        got.append(n)

    receiver = WebhookReceiver(callback, secret=lambda: secrets)
    holder: dict[str, Env] = {}

    async def hook(request: web.Request) -> web.StreamResponse:
        e = holder["env"]
        if request.method == "POST" and e.fail_next[0] > 0:
            e.fail_next[0] -= 1
            return web.Response(status=500)
        return await receiver.aiohttp_handler(request)

    async def slow(request: web.Request) -> web.StreamResponse:
        await holder["env"].release_slow.wait()
        return web.Response(text="late")

    test_receiver = WebhookReceiver(callback, secret="mock-webhook-secret")
    recv_app = web.Application(handler_args={"auto_decompress": False})
    recv_app.router.add_route("*", "/hook", hook)
    recv_app.router.add_route("*", "/slow", slow)
    recv_app.router.add_route("*", "/test-events", test_receiver.aiohttp_handler)
    recv = TestServer(recv_app, host="127.0.0.1", port=0)
    await api.start_server()
    await recv.start_server()
    base = str(recv.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as http:
        e = Env(
            clock=clock,
            hub=hub,
            http=http,
            api=str(api.make_url("")).rstrip("/"),
            receiver=receiver,
            hook_url=f"{base}/hook",
            base=base,
            secrets=secrets,
            got=got,
        )
        holder["env"] = e
        try:
            yield e
        finally:
            e.release_slow.set()
            await api.close()
            await recv.close()
            await receiver.aclose()
            await test_receiver.aclose()


async def deliver(e: Env) -> None:
    await e.hub.deliver_due()
    await e.receiver.join()


# --------------------------------------------------------------------------- routes


async def test_create_runs_challenge_and_returns_secret_once(env: Env) -> None:
    created = await env.create(description="backend")
    assert set(created) >= {
        "id",
        "description",
        "trigger_types",
        "webhook_url",
        "status",
        "notification_email_addresses",
        "status_updated_at",
        "created_at",
        "updated_at",
        "webhook_secret",
    }
    assert created["status"] == "active" and created["created_at"] == T0
    status, listed = await env.call("GET", "/v3/webhooks")
    assert status == 200 and [w["id"] for w in listed["data"]] == [created["id"]]
    assert "webhook_secret" not in listed["data"][0]
    status, one = await env.call("GET", f"/v3/webhooks/{created['id']}")
    assert status == 200 and "webhook_secret" not in one["data"]
    assert one["data"]["description"] == "backend"


async def test_auth_and_validation(env: Env) -> None:
    status, _ = await env.call("GET", "/v3/webhooks", headers={})
    assert status == 401
    body = {"trigger_types": [], "webhook_url": env.hook_url}
    status, err = await env.call("POST", "/v3/webhooks", json=body)
    assert status == 400 and "trigger_types" in err["error"]["message"]
    status, err = await env.call("POST", "/v3/webhooks", json={"trigger_types": ["x"]})
    assert status == 400 and "webhook_url" in err["error"]["message"]


async def test_failing_challenge_is_documented_400(env: Env) -> None:
    body = {"trigger_types": ["booking.created"], "webhook_url": f"{env.base}/missing"}
    status, err = await env.call("POST", "/v3/webhooks", json=body)
    assert status == 400
    assert err["error"] == {
        "type": "70005",
        "message": "unable.verify.webhook_url : status is not ok, got 404",
    }
    env.hub.timeout = 0.2
    body["webhook_url"] = f"{env.base}/slow"
    status, err = await env.call("POST", "/v3/webhooks", json=body)
    assert status == 400 and err["error"]["type"] == "70005"
    assert "timed out" in err["error"]["message"]
    assert env.hub.webhooks == {}


async def test_update_partial_delete_rotate(env: Env) -> None:
    created = await env.create(description="first")
    wid = created["id"]
    env.clock.advance(10)
    status, upd = await env.call("PUT", f"/v3/webhooks/{wid}", json={"status": "pause"})
    assert status == 200
    assert upd["data"]["status"] == "pause" and upd["data"]["description"] == "first"
    assert upd["data"]["trigger_types"] == list(BOOKING_TRIGGERS)
    assert upd["data"]["status_updated_at"] == T0 + 10
    status, err = await env.call("PUT", f"/v3/webhooks/{wid}", json={"status": "failed"})
    assert status == 400
    status, r1 = await env.call("POST", f"/v3/webhooks/rotate-secret/{wid}", json={})
    status2, r2 = await env.call("PUT", f"/v3/webhooks/{wid}/rotate-secret", json={})
    assert (status, status2) == (200, 200)
    assert (
        len({created["webhook_secret"], r1["data"]["webhook_secret"], r2["data"]["webhook_secret"]})
        == 3
    )
    assert r2["data"]["id"] == wid and "created_at" in r2["data"]
    status, deleted = await env.call("DELETE", f"/v3/webhooks/{wid}")
    assert status == 200 and deleted["data"] == {"status": "success"}
    for method, path in [
        ("GET", f"/v3/webhooks/{wid}"),
        ("PUT", f"/v3/webhooks/{wid}"),
        ("DELETE", f"/v3/webhooks/{wid}"),
        ("POST", f"/v3/webhooks/rotate-secret/{wid}"),
    ]:
        status, err = await env.call(method, path, json={})
        assert status == 400 and err["error"]["type"] == "70000", (method, path)


async def test_ip_addresses_mock_payload_and_test_event(env: Env) -> None:
    status, ips = await env.call("GET", "/v3/webhooks/ip-addresses")
    assert status == 200 and ips["data"]["ip_addresses"] == ["127.0.0.1"]
    body = {"trigger_type": "booking.rescheduled", "webhook_url": env.hook_url}
    status, mock = await env.call("POST", "/v3/webhooks/mock-payload", json=body)
    assert status == 200
    n = parse_notification(mock["data"]["data"])
    assert isinstance(n, BookingRescheduled) and n.booking.booking_ref is not None
    status, ok = await env.call(
        "POST", "/v3/webhooks/send-test-event", json={"webhook_url": f"{env.base}/test-events"}
    )
    assert status == 200 and ok["data"] == "success"
    status, err = await env.call(
        "POST", "/v3/webhooks/send-test-event", json={"webhook_url": f"{env.base}/missing"}
    )
    assert status == 400 and err["error"]["type"] == "70005"


# --------------------------------------------------------------------------- delivery


async def test_booking_created_delivered_signed_and_typed(env: Env) -> None:
    created = await env.create()
    booking = make_booking()
    nid = env.hub.notify(
        "booking.created", booking_object_from("booking.created", booking, configuration=CONFIG)
    )
    assert nid is not None
    await deliver(env)
    assert len(env.got) == 1
    n = env.got[0]
    assert isinstance(n, BookingCreated) and n.id == nid
    assert n.webhook_delivery_attempt == 1 and n.source == "/nylas/passthru"
    assert n.data.application_id == "app-test" and n.time == T0
    ref = n.booking.booking_ref
    assert ref is not None and ref.encode() == booking.reference
    assert parse_booking_ref(booking.reference).salt == booking.salt_b64
    info = n.booking.booking_info
    assert (info.start_time, info.end_time, info.duration) == (T0 + 7200, T0 + 9000, 30)
    assert (
        info.participant_rescheduling_url == f"https://example.com/reschedule/{booking.reference}"
    )
    assert info.additional_fields == {"company": "ACME"}
    assert info.location == "Room 1"
    status, log = await env.call("GET", "/_emulator/webhooks/deliveries", headers={})
    assert status == 200
    assert [(d["webhook_id"], d["attempt"], d["ok"]) for d in log["data"]] == [
        (created["id"], 1, True)
    ]


async def test_receiver_failing_twice_gets_third_attempt(env: Env) -> None:
    await env.create()
    env.fail_next[0] = 2
    env.hub.notify(
        "booking.pending", booking_object_from("booking.pending", make_booking(status="pending"))
    )
    await deliver(env)
    assert env.got == [] and env.hub.pending == 1
    env.clock.advance(299)
    await deliver(env)
    assert len(env.hub.log) == 1  # the retry is not due yet
    env.clock.advance(1)
    await deliver(env)
    env.clock.advance(600)
    await deliver(env)
    assert [(a.attempt, a.ok, a.status) for a in env.hub.log] == [
        (1, False, 500),
        (2, False, 500),
        (3, True, 200),
    ]
    assert [a.at for a in env.hub.log] == [T0, T0 + 300, T0 + 900]
    assert len(env.got) == 1 and isinstance(env.got[0], BookingPending)
    assert env.got[0].webhook_delivery_attempt == 3
    assert env.hub.pending == 0


async def test_three_failures_stop_and_mark_failing(env: Env) -> None:
    created = await env.create()
    env.fail_next[0] = 10
    env.hub.notify("booking.cancelled", booking_object_from("booking.cancelled", make_booking()))
    for step in (0, 300, 600, 3600):
        env.clock.advance(step)
        await deliver(env)
    assert [a.attempt for a in env.hub.log] == [1, 2, 3]
    assert env.hub.pending == 0 and env.got == []
    assert env.hub.get(created["id"]).status == "failing"


async def test_timeout_counts_as_failed_attempt(env: Env) -> None:
    await env.create(webhook_url=f"{env.base}/hook")
    hub = env.hub
    hook = next(iter(hub.webhooks.values()))
    hook.webhook_url = f"{env.base}/slow"  # the destination got slow after creation
    hub.timeout = 0.2
    hub.notify("booking.created", booking_object_from("booking.created", make_booking()))
    await deliver(env)
    assert [(a.attempt, a.error) for a in hub.log] == [(1, "timeout")]
    assert hub.pending == 1


async def test_paused_webhook_gets_nothing_and_subscriptions_filter(env: Env) -> None:
    paused = await env.create()
    only_cancel = await env.create(trigger_types=["booking.cancelled"])
    await env.call("PUT", f"/v3/webhooks/{paused['id']}", json={"status": "pause"})
    obj = booking_object_from("booking.created", make_booking())
    assert env.hub.notify("booking.created", obj) is None
    await deliver(env)
    assert env.got == [] and list(env.hub.log) == []
    env.hub.notify("booking.cancelled", booking_object_from("booking.cancelled", make_booking()))
    await deliver(env)
    assert [a.webhook_id for a in env.hub.log] == [only_cancel["id"]]
    await env.call("PUT", f"/v3/webhooks/{paused['id']}", json={"status": "active"})
    env.hub.notify("booking.created", obj)
    await deliver(env)
    assert [type(n) for n in env.got] == [BookingCancelled, BookingCreated]


async def test_injected_duplicates_delivered_twice_handled_once(env: Env) -> None:
    await env.create()
    status, faults = await env.call(
        "PUT", "/_emulator/webhooks/faults", json={"duplicate": 1}, headers={}
    )
    assert status == 200 and faults["data"]["duplicate"] == 1
    nid = env.hub.notify(
        "booking.rescheduled",
        booking_object_from(
            "booking.rescheduled", make_booking(), old_start_time=T0 + 3600, old_end_time=T0 + 5400
        ),
    )
    await deliver(env)
    assert [(a.notification_id, a.ok, a.copy) for a in env.hub.log] == [
        (nid, True, 0),
        (nid, True, 1),
    ]
    assert len(env.got) == 1 and env.receiver.duplicates == 1
    n = env.got[0]
    assert isinstance(n, BookingRescheduled) and n.booking.booking_info.old_start_time == T0 + 3600


async def test_delay_fault_and_admin_deliver(env: Env) -> None:
    await env.create()
    env.hub.faults.delay_seconds = 120
    env.hub.notify("booking.created", booking_object_from("booking.created", make_booking()))
    status, sent = await env.call("POST", "/_emulator/webhooks/deliver", headers={})
    assert status == 200 and sent["data"] == [] and env.got == []
    env.clock.advance(120)
    status, sent = await env.call("POST", "/_emulator/webhooks/deliver", headers={})
    await env.receiver.join()
    assert len(env.got) == 1 and len(env.hub.log) == 1


async def test_compressed_delivery(env: Env) -> None:
    await env.create(compressed_delivery=True)
    env.hub.notify("booking.created", booking_object_from("booking.created", make_booking()))
    await deliver(env)
    assert len(env.got) == 1 and isinstance(env.got[0], BookingCreated)


async def test_reminder_fires_when_clock_passes(env: Env) -> None:
    await env.create()
    booking = make_booking()
    minutes = reminder_minutes(CONFIG)
    assert minutes == [30]
    env.hub.schedule_reminders(
        booking.booking_id,
        booking.start_time,
        minutes,
        booking_object_from("booking.reminder", booking, configuration=CONFIG),
    )
    env.clock.advance(7200 - 1800 - 1)
    await deliver(env)
    assert env.got == []
    env.clock.advance(1)
    await deliver(env)
    assert len(env.got) == 1
    n = env.got[0]
    assert isinstance(n, BookingReminder)
    assert n.booking.booking_info.time_until_event == 1800
    assert n.booking.booking_info.organizer_email == "host@example.com"
    env.clock.advance(3600)
    await deliver(env)
    assert len(env.got) == 1  # fired once


async def test_cancelled_reminders_do_not_fire(env: Env) -> None:
    await env.create()
    booking = make_booking()
    obj = booking_object_from("booking.reminder", booking)
    env.hub.schedule_reminders(booking.booking_id, booking.start_time, [30, 60], obj)
    env.hub.cancel_reminders(booking.booking_id)
    env.clock.advance(7200)
    await deliver(env)
    assert env.got == []


async def test_rotation_changes_the_signing_secret(env: Env) -> None:
    created = await env.create()
    env.secrets[:] = [created["webhook_secret"]]  # the receiver knows only the old secret
    await env.call("POST", f"/v3/webhooks/rotate-secret/{created['id']}", json={})
    env.hub.notify("booking.created", booking_object_from("booking.created", make_booking()))
    await deliver(env)
    assert [(a.ok, a.status) for a in env.hub.log] == [(False, 401)]


# --------------------------------------------------------------------------- builders


@pytest.mark.parametrize("trigger", BOOKING_TRIGGERS)
def test_builders_parse_to_typed_notifications(trigger: str) -> None:
    hub = WebhookHub(FakeClock(T0))
    booking = make_booking(status="pending" if trigger == "booking.pending" else "booking")
    obj = booking_object_from(
        trigger, booking, configuration=CONFIG, old_start_time=1, old_end_time=2
    )
    n = parse_notification(hub.envelope(trigger, obj))
    assert isinstance(n, BookingNotification) and n.type == trigger
    has_ref = trigger in ("booking.created", "booking.pending", "booking.rescheduled")
    assert ("booking_ref" in obj) is has_ref
    assert ("object" in obj) is (trigger in ("booking.created", "booking.rescheduled"))
    info = n.booking.booking_info
    assert (info.old_start_time is not None) is (trigger == "booking.rescheduled")
    assert (info.cancellation_reason is not None) is (trigger == "booking.cancelled")
    assert (info.time_until_event is not None) is False  # set when the reminder fires


def test_booking_object_rejects_other_triggers() -> None:
    with pytest.raises(ValueError):
        booking_object("event.created", booking_id="b", configuration_id="c", booking_info={})
