"""The emulator server sheds idle connections: keep-alive ones after their last answer, and ones
that never complete a request, once ``idle_timeout`` has passed."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from scheduler_async.emulator import Emulator, FakeClock

from .support import T0

IDLE = 0.3
SAFETY = 30.0  # only a stuck test waits this long (aiohttp's own idle default is an hour)


@pytest.fixture(scope="module")
def quick() -> Iterator[Emulator]:
    with Emulator(clock=FakeClock(T0), idle_timeout=IDLE) as emu:
        yield emu


def _connect(emu: Emulator) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", int(emu.url.rsplit(":", 1)[1])))
    sock.settimeout(SAFETY)
    return sock


def _wait_closed(sock: socket.socket) -> None:
    while sock.recv(65536):  # b"" once the server closed its side
        pass


def test_idle_keep_alive_connection_is_closed_after_the_timeout(quick: Emulator) -> None:
    with _connect(quick) as sock:
        sock.sendall(b"GET /_emulator/health HTTP/1.1\r\nHost: emu\r\n\r\n")
        answer = b""
        while b'"ok"' not in answer:
            answer += sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200") and b"Connection: close" not in answer
        answered = time.monotonic()
        _wait_closed(sock)
        assert time.monotonic() - answered >= IDLE / 2  # kept alive for a while, then shed


def test_connection_without_a_complete_request_is_closed(quick: Emulator) -> None:
    with _connect(quick) as sock:
        sock.sendall(b"GET /_emulator/health HTTP/1.1\r\nHost: em")  # and nothing more
        _wait_closed(sock)


def test_idle_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="idle_timeout"):
        Emulator(idle_timeout=0)


def test_cli_takes_the_idle_timeout() -> None:
    from scheduler_async.__main__ import _parser

    args = _parser().parse_args(["emulator", "--idle-timeout", "2.5"])
    assert args.idle_timeout == 2.5
    assert _parser().parse_args(["emulator"]).idle_timeout is None  # Emulator's default (30 s)
