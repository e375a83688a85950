"""A real ``redis-server`` for the limiter tests: free loopback port, temp dir, stoppable."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from scheduler_async import AsyncScheduler, SchedulerSettings
from tests.helpers import config_kwargs

REQUIRE_ENV = "SCHEDULER_REQUIRE_SERVERS"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class RedisServer:
    """One ``redis-server`` process; :meth:`kill` and :meth:`start` again on the same port."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert self.proc is None, "already running"
        log = (self.workdir / "redis.log").open("ab")
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--dir", str(self.workdir),
                "--save", "",
                "--appendonly", "no",
                "--protected-mode", "yes",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        give_up = time.monotonic() + 20
        while True:
            if self.proc.poll() is not None:
                text = (self.workdir / "redis.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}:\n{text}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            if time.monotonic() > give_up:
                raise RuntimeError("redis-server did not answer PING within 20 s")
            time.sleep(0.02)

    def kill(self) -> None:
        """Stop it abruptly (SIGKILL), as an outage would."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def restart(self) -> None:
        self.kill()
        self.start()


def redis_binary() -> str:
    """The redis-server path, or skip (fail when ``SCHEDULER_REQUIRE_SERVERS=1``)."""
    binary = shutil.which("redis-server")
    if binary is None:
        reason = "redis-server not found on PATH (apt-get install redis-server)"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{reason}; {REQUIRE_ENV}=1 requires it")
        pytest.skip(reason)
    return binary


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh redis-server on a free loopback port; stopped after the test."""
    server = RedisServer(redis_binary(), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()


MONDAY = datetime(2030, 1, 7, tzinfo=UTC)


def at(hours: float) -> int:
    return int((MONDAY + timedelta(hours=hours)).timestamp())


@pytest.fixture
async def config_id(scheduler_emulator_fresh: Any) -> AsyncIterator[tuple[str, str]]:
    emu = scheduler_emulator_fresh
    emu.clock.set(at(0))
    emu.add_grant("g-dist", email="host@example.com")
    async with AsyncScheduler(api_key="k", grant_id="g-dist", base_url=emu.url) as client:
        config = await client.configurations.create(
            **config_kwargs(
                "host@example.com", "Dist", scheduler=SchedulerSettings(min_booking_notice=0)
            )
        )
        yield emu.url, config.id
