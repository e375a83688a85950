"""kill -9 of an emulator with ``--state`` in the middle of 200 concurrent bookings."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import sqlite3
import subprocess
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import aiohttp
import requests

from .support import KEY, cli_emulator, config_body

SLOTS = 100
REQUESTS = 200  # two per slot: half of them must lose


def _emulator(state: Path) -> AbstractContextManager[tuple[subprocess.Popen[str], str]]:
    return cli_emulator("--state", str(state))


async def _book_all(url: str, config_id: str, proc: subprocess.Popen[str]) -> set[str]:
    """Fire every booking at once; SIGKILL the server after the 60th success; the ids of the
    bookings whose success the client saw."""
    day = (int(time.time()) // 86_400 + 2) * 86_400
    seen: set[str] = set()

    async def book(http: aiohttp.ClientSession, k: int) -> None:
        start = day + (k % SLOTS) * 1800
        body: dict[str, Any] = {
            "start_time": start,
            "end_time": start + 1800,
            "guest": {"name": "G", "email": f"g{k}@example.com"},
        }
        try:
            async with http.post(
                f"{url}/v3/scheduling/bookings", params={"configuration_id": config_id}, json=body
            ) as r:
                if r.status == 200:
                    seen.add((await r.json())["data"]["booking_id"])
                    if len(seen) == 60:
                        os.kill(proc.pid, signal.SIGKILL)
        except (TimeoutError, aiohttp.ClientError):
            pass  # outcome unknown: the server died

    connector = aiohttp.TCPConnector(limit=REQUESTS)
    async with aiohttp.ClientSession(connector=connector) as http:
        await asyncio.gather(*(book(http, k) for k in range(REQUESTS)))
    return seen


def test_kill_9_during_concurrent_bookings_loses_no_acknowledged_booking(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    with _emulator(state) as (proc, url):
        r = requests.post(
            f"{url}/v3/grants/grant-1/scheduling/configurations", json=config_body(), headers=KEY
        )
        assert r.status_code == 200, r.text
        config_id = r.json()["data"]["id"]
        seen = asyncio.run(_book_all(url, config_id, proc))
        assert proc.wait(30) == -signal.SIGKILL
    assert len(seen) >= 60
    with sqlite3.connect(state) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    with _emulator(state) as (_, url):  # the killed process's lock is gone
        r = requests.get(f"{url}/_emulator/bookings")
        assert r.status_code == 200
        bookings = {b["booking_id"]: b for b in r.json()["data"]}
        missing = seen - bookings.keys()
        assert not missing, f"{len(missing)} acknowledged bookings lost"
        live = sorted(
            (b["start_time"], b["end_time"]) for b in bookings.values() if b["status"] == "booked"
        )
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(live)), "double-booked"
        events = requests.get(
            f"{url}/v3/grants/grant-1/events",
            params={"calendar_id": "primary", "limit": 200},
            headers=KEY,
        )
        assert events.status_code == 200, events.text
        booked_events = {e["id"] for e in events.json()["data"]}
        assert {b["event_id"] for b in bookings.values()} <= booked_events  # never half a booking
