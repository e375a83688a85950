"""The emulator's webhook delivery against bad destinations: one that hangs must not hold back
the others (each destination has its own lane), nor the admin ``deliver`` call beyond the
per-attempt timeout; one that answers with an endless body is read only up to a small cap."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from scheduler_async.emulator.store import FakeClock
from scheduler_async.emulator.webhook_delivery import MAX_ANSWER_BYTES
from scheduler_async.emulator.webhook_routes import register_webhook_admin_routes
from scheduler_async.emulator.webhooks import WebhookHub, WebhookHubError

from .support import T0

STREAM_CHUNK = 64 * 1024
STREAM_LIMIT = 64 * 1024 * 1024  # what the endless destination sends at most (old code: all)


@dataclass
class Destinations:
    """Destinations on one loopback server: ``/ok`` (records each arrival), ``/hang`` (holds
    every request until :attr:`release`), ``/endless`` (streams until the client leaves)."""

    base: str = ""
    arrivals: list[float] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    hanging: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    streamed: list[int] = field(default_factory=list)
    stream_done: asyncio.Event = field(default_factory=asyncio.Event)

    async def ok(self, request: web.Request) -> web.Response:
        await request.read()
        self.arrivals.append(asyncio.get_running_loop().time())
        self.arrived.set()
        return web.Response(text="ok")

    async def hang(self, request: web.Request) -> web.Response:
        self.hanging.set()
        await self.release.wait()
        return web.Response(text="late")

    async def endless(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse()
        await response.prepare(request)
        sent = 0
        try:
            while sent < STREAM_LIMIT:
                await response.write(b"x" * STREAM_CHUNK)
                sent += STREAM_CHUNK
        except (ConnectionError, aiohttp.ClientConnectionResetError):
            pass  # the emulator hung up: what we count is what it could have read
        finally:
            self.streamed.append(sent)
            self.stream_done.set()
        return response


@pytest.fixture
async def dest() -> AsyncIterator[Destinations]:
    d = Destinations()
    app = web.Application()
    app.router.add_route("*", "/ok", d.ok)
    app.router.add_route("*", "/hang", d.hang)
    app.router.add_route("*", "/endless", d.endless)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    d.base = str(server.make_url("")).rstrip("/")
    try:
        yield d
    finally:
        d.release.set()
        await server.close()


@pytest.fixture
async def hub() -> AsyncIterator[WebhookHub]:
    h = WebhookHub(FakeClock(T0), timeout=5.0)
    try:
        yield h
    finally:
        await h.close()


def add(hub: WebhookHub, url: str) -> str:
    return hub.create({"webhook_url": url, "trigger_types": ["booking.created"]}).id


async def next_arrival(dest: Destinations, count: int) -> float:
    while len(dest.arrivals) < count:
        dest.arrived.clear()
        await dest.arrived.wait()
    return dest.arrivals[count - 1]


async def test_hanging_destination_does_not_delay_a_healthy_one(
    hub: WebhookHub, dest: Destinations
) -> None:
    await hub.start()  # the background worker delivers, as in a running emulator
    loop = asyncio.get_running_loop()
    add(hub, f"{dest.base}/hang")
    ok = add(hub, f"{dest.base}/ok")
    sent = loop.time()
    hub.notify("booking.created", {"n": 1})
    baseline = await next_arrival(dest, 1) - sent  # one delivery, connection set-up included
    await dest.hanging.wait()  # the other destination now holds its attempt (5 s timeout)
    sent = loop.time()
    hub.notify("booking.created", {"n": 2})
    delay = await next_arrival(dest, 2) - sent
    assert delay < baseline + 0.1, (delay, baseline)
    assert not dest.release.is_set() and hub.deliveries() == hub.deliveries(webhook_id=ok)


async def test_admin_deliver_is_bounded_by_the_attempt_timeout(
    hub: WebhookHub, dest: Destinations
) -> None:
    hub.timeout = 0.5
    hang = add(hub, f"{dest.base}/hang")
    ok = hub.create({"webhook_url": f"{dest.base}/ok", "trigger_types": ["booking.cancelled"]}).id
    for n in range(10):  # ten attempts queue up in the hanging destination's lane
        hub.notify("booking.created", {"n": n})
    hub.notify("booking.cancelled", {"n": 10})
    app = web.Application()
    register_webhook_admin_routes(app, hub)
    async with (
        TestServer(app, host="127.0.0.1", port=0) as server,
        aiohttp.ClientSession() as http,
        http.post(server.make_url("/_emulator/webhooks/deliver")) as r,
    ):
        answer = await r.json()
    # The answer came after at most two attempts of the hanging destination (each cut at
    # the timeout), not after all ten; the healthy destination was served meanwhile.
    hanging = [a for a in hub.log if a.webhook_id == hang]
    assert 1 <= len(hanging) <= 2 and all(a.error == "timeout" for a in hanging)
    assert [a.ok for a in hub.log if a.webhook_id == ok] == [True]
    assert answer["pending"] >= 8
    assert {d["webhook_id"] for d in answer["data"]} == {hang, ok}


@pytest.mark.parametrize("call", ["delivery", "challenge", "test_event"])
async def test_endless_answer_is_read_only_up_to_the_cap(
    hub: WebhookHub, dest: Destinations, call: str
) -> None:
    url = f"{dest.base}/endless"
    if call == "delivery":
        add(hub, url)
        hub.notify("booking.created", {"n": 1})
        [attempt] = await hub.deliver_due()
        assert attempt.ok and attempt.status == 200
    elif call == "challenge":
        with pytest.raises(WebhookHubError, match="did not match the challenge"):
            await hub.verify_destination(url)
    else:
        assert await hub.send_test_event(url, "booking.created") is True
    await dest.stream_done.wait()
    # What the destination managed to send before the emulator hung up: the cap plus what
    # loopback socket buffers absorb, far below what it would have sent (64 MiB).
    assert MAX_ANSWER_BYTES == 4096
    assert dest.streamed[0] < 16 * 1024 * 1024, dest.streamed
