"""Shared helpers of the emulator tests: HTTP setup and checks, round-robin bodies.

The times (``T0``, ``HOUR``, ``DAY``) and ``config_body`` are :mod:`tests.helpers`' (re-exported
here for the emulator tests).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests

from scheduler_async.emulator import Emulator
from tests.helpers import DAY as DAY
from tests.helpers import HOUR as HOUR
from tests.helpers import T0 as T0
from tests.helpers import config_body as config_body

KEY = {"Authorization": "Bearer test-key"}


@contextmanager
def cli_emulator(*args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``python -m scheduler_async emulator --port 0 *args`` in its own process: yields the
    process (its stdout after the "listening on" line) and the URL it listens on; stops it
    (SIGINT, then kill) and closes its pipes unless the test already did."""
    cmd = [sys.executable, "-m", "scheduler_async", "emulator", "--port", "0", *args]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "listening on http://127.0.0.1:" in line, line + (
            proc.stderr.read() if proc.stderr else ""
        )
        yield proc, line.split("listening on ", 1)[1].split()[0]
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


GRANT = "grant-1"
BOOKING: dict[str, Any] = {
    "start_time": T0 + 2 * HOUR,
    "end_time": T0 + 2 * HOUR + 1800,
    "guest": {"name": "Guest", "email": "guest@example.com"},
}


def round_robin_body(method: str = "max-fairness") -> dict[str, Any]:
    """A two-host round-robin configuration body (Ann and Bob, each on their own grant)."""
    return config_body(
        participants=[
            {
                "name": name,
                "email": f"{name.lower()}@example.com",
                "grant_id": f"grant-{name.lower()}",
                "availability": {"calendar_ids": ["primary"]},
                "booking": {"calendar_id": "primary"},
            }
            for name in ("Ann", "Bob")
        ],
        availability={
            "duration_minutes": 30,
            "availability_rules": {"availability_method": method},
        },
    )


def create_config(emu: Emulator, **overrides: Any) -> str:
    """POST a configuration (``config_body(**overrides)``) for :data:`GRANT`; its id."""
    r = requests.post(
        f"{emu.url}/v3/grants/{GRANT}/scheduling/configurations",
        json=config_body(**overrides),
        headers=KEY,
    )
    assert r.status_code == 200, r.text
    config_id: str = r.json()["data"]["id"]
    return config_id


def create_session(emu: Emulator, config_id: str, **extra: Any) -> str:
    """POST a session on ``config_id``; its id."""
    r = requests.post(
        f"{emu.url}/v3/scheduling/sessions",
        json={"configuration_id": config_id, **extra},
        headers=KEY,
    )
    assert r.status_code == 200, r.text
    session_id: str = r.json()["data"]["session_id"]
    return session_id


def assert_error(r: requests.Response, status: int, error_type: str) -> dict[str, Any]:
    """Check an error envelope (status, type, non-empty message, request id) and return it."""
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"] == "application/json"
    body: dict[str, Any] = r.json()
    assert set(body) == {"request_id", "error"}
    assert body["error"]["type"] == error_type
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    assert r.headers["X-Request-Id"] == body["request_id"]
    return body
