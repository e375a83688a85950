"""A canned-response Scheduler API server for the HTTP benchmarks, run in its own process.

It answers ``GET /v3/scheduling/availability`` with a fixed, realistic availability envelope (20
slots; 200 or 2,000 for the configuration ids :func:`configuration_id` names) and ``GET
/v3/scheduling/bookings/{id}`` with one fixed booking, after an optional ``asyncio.sleep`` that
stands in for server latency. Bodies are serialized once; there is no access log. Everything else
is 404.

Run ``python benchmarks/canned_server.py [--port 0] [--latency-ms 0]``: it prints
``READY <port>`` once listening and serves until its stdin closes (so it dies with the runner),
it receives SIGTERM, or ``--max-seconds`` pass.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import sys
import threading
from typing import Any

from aiohttp import web

BOOKING_ID = "bk_2fY7c0d8e1a9"
CONFIGURATION_ID = "cfg_5b1e9a3c7d20"
T0 = 1_767_600_000  # a Monday 08:00 UTC

SLOT_COUNTS = (20, 200, 2000)
"""Availability answers the server knows, by slot count (20 is the default answer)."""


def configuration_id(slots: int) -> str:
    """The configuration id whose availability answer has ``slots`` slots."""
    return CONFIGURATION_ID if slots == 20 else f"{CONFIGURATION_ID}_{slots}"


def availability(slots: int) -> dict[str, Any]:
    """A realistic availability envelope with ``slots`` half-hour slots."""
    return {
        "request_id": "5fa64c92-e840-4357-86b9-2aa364d35b88",
        "data": {
            "time_slots": [
                {
                    "emails": ["alice.organizer@example.com", "bob.engineer@example.com"],
                    "start_time": T0 + i * 1800,
                    "end_time": T0 + i * 1800 + 1800,
                }
                for i in range(slots)
            ],
            "order": ["alice.organizer@example.com", "bob.engineer@example.com"],
        },
    }


AVAILABILITY = availability(20)

BOOKING: dict[str, Any] = {
    "request_id": "d9a1f0c2-3b4e-4a5f-8c6d-7e8f9a0b1c2d",
    "data": {
        "booking_id": BOOKING_ID,
        "event_id": "ev_8c1f2a9b3d4e5f60",
        "title": "Intro call with Alice",
        "status": "booked",
        "description": "Discuss the onboarding plan and next steps.",
        "organizer": {"email": "alice.organizer@example.com", "name": "Alice Organizer"},
    },
}

AVAILABILITY_BODY = json.dumps(AVAILABILITY).encode()
AVAILABILITY_BODIES = {
    configuration_id(n): json.dumps(availability(n)).encode() for n in SLOT_COUNTS
}
BOOKING_BODY = json.dumps(BOOKING).encode()


def make_app(latency_ms: float = 0.0) -> web.Application:
    """The aiohttp application (also usable in-process by tests)."""
    delay = latency_ms / 1000.0

    async def availability_answer(request: web.Request) -> web.Response:
        if delay:
            await asyncio.sleep(delay)
        body = AVAILABILITY_BODIES.get(request.query.get("configuration_id", ""), AVAILABILITY_BODY)
        return web.Response(body=body, content_type="application/json")

    async def booking(_request: web.Request) -> web.Response:
        if delay:
            await asyncio.sleep(delay)
        return web.Response(body=BOOKING_BODY, content_type="application/json")

    app = web.Application()
    app.router.add_get("/v3/scheduling/availability", availability_answer)
    app.router.add_get("/v3/scheduling/bookings/{booking_id}", booking)
    return app


async def _serve(port: int, latency_ms: float, max_seconds: float) -> None:
    runner = web.AppRunner(make_app(latency_ms), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=1024)
    await site.start()
    server = site._server
    assert server is not None
    bound = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"READY {bound}", flush=True)

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)

    def watch_stdin() -> None:  # the parent closed our stdin or died
        try:
            sys.stdin.read()
        finally:
            loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=watch_stdin, daemon=True).start()
    try:
        await asyncio.wait_for(stop.wait(), max_seconds)
    except TimeoutError:
        pass
    finally:
        await runner.cleanup()


class CannedServer:
    """Starts the server in a separate process; a context manager. ``url`` once started."""

    def __init__(self, latency_ms: float = 0.0, *, max_seconds: float = 900.0) -> None:
        self.latency_ms = latency_ms
        self.max_seconds = max_seconds
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> CannedServer:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--latency-ms",
                str(self.latency_ms),
                "--max-seconds",
                str(self.max_seconds),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("READY "):
            self.__exit__(None, None, None)
            raise RuntimeError(f"canned server did not start: {line!r}")
        self.url = f"http://127.0.0.1:{int(line.split()[1])}"
        return self

    def __exit__(self, *exc: object) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--max-seconds", type=float, default=900.0)
    args = parser.parse_args()
    asyncio.run(_serve(args.port, args.latency_ms, args.max_seconds))


if __name__ == "__main__":
    main()
