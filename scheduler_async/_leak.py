"""Closing an aiohttp session without awaiting: for a client dropped unclosed, or one whose
event loop is gone (``EventLoopMismatchError``).

``session.close()`` is a coroutine of the session's loop; when nobody can await it (a
``__del__``, a closed loop), this closes its connector in place instead: the pooled
connections are closed by their loop when it still runs, and the session counts as closed, so
aiohttp's generic "Unclosed client session"/"Unclosed connector" warnings do not follow the
client's own, named one.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiohttp

__all__ = ["close_without_awaiting"]


def close_without_awaiting(session: aiohttp.ClientSession) -> None:
    """Close ``session``'s connector now, from any thread, without awaiting anything."""
    connector: Any = session.connector
    if connector is None or connector.closed:
        return
    close = getattr(connector, "_close", None)  # the synchronous half of ``close()``
    if close is None:  # pragma: no cover - a future aiohttp without it
        return
    loop: asyncio.AbstractEventLoop = connector._loop
    if loop.is_closed():
        # The connector can only mark itself closed; the sockets are closed here.
        protocols = [p for conns in connector._conns.values() for p, _ in conns]
        protocols += list(connector._acquired)
        with contextlib.suppress(Exception):
            close()
        for protocol in protocols:
            _close_transport_of_closed_loop(getattr(protocol, "transport", None))
        return
    if not loop.is_running() or asyncio._get_running_loop() is loop:
        with contextlib.suppress(Exception):  # a loop of this thread: closes its connections
            close()
        return
    with contextlib.suppress(RuntimeError):  # the loop runs in another thread: ask it
        loop.call_soon_threadsafe(close)


def _close_transport_of_closed_loop(transport: Any) -> None:
    """Close an asyncio socket transport whose loop is closed (``close()`` would need the
    loop): what the loop would have run next, at once. Other transports are left to GC."""
    lost = getattr(transport, "_call_connection_lost", None)
    if transport is None or lost is None or getattr(transport, "_sock", None) is None:
        return
    with contextlib.suppress(Exception):
        lost(None)
