"""Run in a subprocess by tests/client/test_lifecycle.py: a client created before ``os.fork``.

Usage: ``python -m tests.client.fork_probe {sync,async} {call,exit} URL [asyncio|uvloop]``.
The parent makes a call (so
the session and, for sync, the loop thread exist), forks, and waits for the child (a 60 s hang
guard). The child either calls the client (``call``) or just exits (``exit``), then exits the
normal way (atexit hooks run). The parent then calls again and closes. One JSON line on stdout.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from typing import Any

import scheduler_sync
from scheduler_async import AsyncScheduler, NotFoundError, RetryPolicy, SchedulerError

KEY = "fork-probe-api-key"


def _outcome(fn: Any) -> dict[str, Any]:
    started = time.monotonic()
    try:
        fn()
        kind, message = "ok", ""
    except NotFoundError:  # a real round trip: the emulator answered 404
        kind, message = "answered", ""
    except SchedulerError as exc:
        kind, message = type(exc).__name__, str(exc)
    return {"kind": kind, "message": message, "seconds": round(time.monotonic() - started, 3)}


def main(mode: str, child_action: str, url: str, backend: str = "uvloop") -> dict[str, Any]:
    retry = RetryPolicy(max_retries=0)
    if backend == "asyncio":  # the sync facade's loop without the fast extra's uvloop
        from scheduler_sync import _runtime

        _runtime._BACKEND_OPTIONS = {}
    if mode == "sync":
        client: Any = scheduler_sync.Scheduler(base_url=url, api_key=KEY, retry=retry)

        def call() -> None:
            client.sessions.delete("sess_unknown_token_1")

        def close() -> None:
            client.close()

    else:
        aclient = AsyncScheduler(base_url=url, api_key=KEY, retry=retry)
        loop = asyncio.new_event_loop()

        def call() -> None:
            loop.run_until_complete(aclient.sessions.delete("sess_unknown_token_1"))

        def close() -> None:
            loop.run_until_complete(aclient.aclose())
            loop.close()

    before = _outcome(call)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        import faulthandler

        faulthandler.enable()
        faulthandler.dump_traceback_later(50, exit=True)  # shows where a hang is
        os.close(read_fd)
        result: dict[str, Any] = {}
        if child_action == "call":
            if mode == "sync":
                result = _outcome(call)
            else:

                async def fresh() -> None:
                    try:
                        await aclient.sessions.delete("sess_unknown_token_1")
                    finally:
                        await aclient.aclose()

                result = _outcome(lambda: asyncio.run(fresh()))
        os.write(write_fd, json.dumps(result).encode())
        os.close(write_fd)
        sys.exit(0)  # the normal way out: atexit hooks (the sync runtime's close) run
    os.close(write_fd)
    deadline = time.monotonic() + 60  # hang guard only
    status = None
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.01)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        status = None  # it hung: the guard killed it
    child = json.loads(os.read(read_fd, 65536) or b"null")
    after = _outcome(call)
    close()
    return {
        "before": before,
        "child": child,
        "child_exit": None if status is None else os.waitstatus_to_exitcode(status),
        "parent_after": after,
    }


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:5])))
