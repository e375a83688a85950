"""A webhook destination for the emulator's end-to-end tests: the library's receiver, served on
loopback either on the test's own event loop (async tests) or on a thread of its own (sync tests,
the official SDK)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aiohttp import web

from scheduler_async.webhooks import AnyNotification, WebhookReceiver


class Sink:
    """The library's :class:`WebhookReceiver` app on ``/hook`` (``receiver.app``), plus
    ``/flaky``: the same receiver behind a wrapper that answers 500 to the next
    :attr:`fail_next` POSTs.  The secrets are read per request from :attr:`secrets`."""

    def __init__(self) -> None:
        self.secrets: list[str] = []
        self.got: list[AnyNotification] = []
        self.fail_next = 0
        self.posts = 0
        self.receiver = WebhookReceiver(self._callback, secret=lambda: self.secrets)
        self.base = ""

    async def _callback(self, notification: AnyNotification) -> None:
        self.got.append(notification)

    async def _flaky(self, request: web.Request) -> web.StreamResponse:
        if request.method == "POST":
            self.posts += 1
            if self.fail_next > 0:
                self.fail_next -= 1
                return web.Response(status=500, text="down")
        return await self.receiver.aiohttp_handler(request)

    def app(self) -> web.Application:
        app = self.receiver.app("/hook")
        app.router.add_route("*", "/flaky", self._flaky)
        return app

    @property
    def url(self) -> str:
        """The ``/hook`` destination URL."""
        return f"{self.base}/hook"

    def types(self) -> list[str]:
        """Types of the notifications handled so far, in arrival order."""
        return [n.type for n in self.got]


async def _start(sink: Sink) -> web.AppRunner:
    runner = web.AppRunner(sink.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    sink.base = f"http://127.0.0.1:{site.port}"
    return runner


@asynccontextmanager
async def served() -> AsyncIterator[Sink]:
    """A :class:`Sink` served on the running loop (for async tests)."""
    sink = Sink()
    runner = await _start(sink)
    try:
        yield sink
    finally:
        await runner.cleanup()


class ThreadedSink(Sink):
    """A :class:`Sink` served on its own thread and loop (for sync tests)."""

    loop: asyncio.AbstractEventLoop

    def join(self) -> None:
        """Wait until every started callback has finished (so :attr:`got` is complete)."""
        asyncio.run_coroutine_threadsafe(self.receiver.join(), self.loop).result()


@contextmanager
def served_on_thread() -> Iterator[ThreadedSink]:
    """A :class:`ThreadedSink` on a daemon thread; stopped on exit."""
    sink = ThreadedSink()
    ready = threading.Event()
    box: dict[str, Any] = {}

    async def serve() -> None:
        try:
            runner = await _start(sink)
        except BaseException as exc:
            box["error"] = exc
            ready.set()
            raise
        stop = asyncio.Event()
        sink.loop = asyncio.get_running_loop()
        box["stop"] = stop
        ready.set()
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    ready.wait()
    if "error" in box:
        thread.join()
        raise RuntimeError("receiver failed to start") from box["error"]
    try:
        yield sink
    finally:
        sink.loop.call_soon_threadsafe(box["stop"].set)
        thread.join()
