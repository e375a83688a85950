"""The official ``nylas`` Python SDK (6.18.0) ``client.webhooks.*`` against the webhook routes."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import nylas  # type: ignore[import-untyped]
import pytest
from aiohttp import web

from scheduler_async.emulator.store import FakeClock
from scheduler_async.emulator.webhook_routes import register_webhook_routes
from scheduler_async.emulator.webhooks import WebhookHub
from scheduler_async.webhooks import AnyNotification, WebhookReceiver

T0 = 1_767_571_200


@pytest.fixture
def served() -> Iterator[tuple[str, WebhookHub]]:
    """The webhook routes plus a receiver (for the challenge) on a loop in a thread."""
    hub = WebhookHub(FakeClock(T0))
    ready = threading.Event()
    box: dict[str, object] = {}

    async def noop(_: AnyNotification) -> None:
        return None

    async def serve() -> None:
        receiver = WebhookReceiver(noop, secret="unused")
        app = web.Application()
        register_webhook_routes(app, hub)
        app.router.add_route("*", "/hook", receiver.aiohttp_handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        stop = asyncio.Event()
        box.update(url=f"http://127.0.0.1:{site.port}", stop=stop, loop=asyncio.get_running_loop())
        ready.set()
        await stop.wait()
        await runner.cleanup()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(30)
    try:
        yield str(box["url"]), hub
    finally:
        loop = box["loop"]
        stop = box["stop"]
        assert isinstance(loop, asyncio.AbstractEventLoop) and isinstance(stop, asyncio.Event)
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)


def test_sdk_webhooks_calls(served: tuple[str, WebhookHub]) -> None:
    url, hub = served
    client = nylas.Client(api_key="sdk-key", api_uri=url)
    created = client.webhooks.create(
        request_body={"trigger_types": ["booking.created"], "webhook_url": f"{url}/hook"}
    ).data
    assert created.webhook_secret and created.status == "active"
    assert created.created_at == T0
    listed = client.webhooks.list().data
    assert [w.id for w in listed] == [created.id]
    found = client.webhooks.find(webhook_id=created.id).data
    assert found.webhook_url == f"{url}/hook"
    updated = client.webhooks.update(
        webhook_id=created.id, request_body={"description": "sdk", "status": "pause"}
    ).data
    assert (updated.description, updated.status) == ("sdk", "pause")
    rotated = client.webhooks.rotate_secret(webhook_id=created.id).data
    assert rotated.webhook_secret and rotated.webhook_secret != created.webhook_secret
    assert hub.get(created.id).secret == rotated.webhook_secret
    ips = client.webhooks.ip_addresses().data
    assert ips.ip_addresses == ["127.0.0.1"]
    deleted = client.webhooks.destroy(webhook_id=created.id)
    assert deleted.data.status == "success"
    assert hub.webhooks == {}
