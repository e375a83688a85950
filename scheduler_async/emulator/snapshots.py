"""Snapshots of the emulator's state and the admin routes that take, restore and export them.

``emu.snapshot() -> bytes`` / ``emu.restore(bytes)`` and, behind the admin key like every
admin route::

    POST /_emulator/snapshot     the snapshot bytes (JSON; post them back to restore)
    POST /_emulator/restore      body: snapshot bytes -> {"restored": {part: count}}
    GET  /_emulator/export       the state as a seed file (API-shaped JSON, see .seed)

A snapshot holds every part of :mod:`.state_parts` (the clock included; fault settings,
rate-limit counters and hosted-login tokens are not store state and are not in it).
Restoring the same bytes again (a test fixture restoring its world before every test) reuses
the parsed snapshot and copies the records the first restore built (:mod:`.restore_cache`)
instead of building them again.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from aiohttp import web

from scheduler_async.emulator.restore_cache import RecordTemplate
from scheduler_async.emulator.state_parts import (
    decode_snapshot,
    dump_state,
    encode_snapshot,
    load_state,
)
from scheduler_async.emulator.web_common import STORE_KEY, ok

if TYPE_CHECKING:
    from scheduler_async.emulator.persistence import StateFile
    from scheduler_async.emulator.store import Store

__all__ = ["MAX_SNAPSHOT_BYTES", "SNAPSHOTS_KEY", "Snapshots", "setup_routes"]

MAX_SNAPSHOT_BYTES = 512 * 1024 * 1024


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic GC while building many records (it would scan them repeatedly)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class Snapshots:
    """Take and restore snapshots of one store (and rewrite its state file, if any)."""

    def __init__(self, store: Store, state_file: StateFile | None = None) -> None:
        self.store = store
        self.state_file = state_file
        self._last: tuple[bytes, dict[str, Any]] | None = None
        self._template: RecordTemplate | None = None  # the records _last built

    def snapshot(self) -> bytes:
        """The store's whole state as bytes (UTF-8 JSON)."""
        return encode_snapshot(dump_state(self.store))

    def _parts(self, data: bytes) -> dict[str, Any]:
        last = self._last
        if last is not None and (last[0] is data or last[0] == data):
            cached = last[1]
        else:
            cached = decode_snapshot(data)
            self._last = (data, cached)
            self._template = None
        # The records built from it share its nested values (a configuration's data, a
        # booking's guest...): the store replaces those values and never mutates them in
        # place, so the cached parse stays as it was for the next restore.
        return cached

    def restore(self, data: bytes) -> dict[str, int]:
        """Replace the store's state with a snapshot's; the number of records per part.

        :class:`~.state_parts.SnapshotError` (a 400 on the wire) if the bytes are not a
        snapshot, come from a newer emulator or are malformed.
        """
        parts = self._parts(bytes(data))
        with self.store.lock, _no_gc():
            template = self._template
            if template is not None:
                template.load(self.store, parts)
            else:
                load_state(self.store, parts)
                self._template = RecordTemplate(self.store)
            if self.state_file is not None:
                self.state_file.rewrite()
        return {k: len(v) for k, v in parts.items() if isinstance(v, list)}


SNAPSHOTS_KEY = web.AppKey("snapshots", Snapshots)


async def _snapshot(request: web.Request) -> web.Response:
    body = request.app[SNAPSHOTS_KEY].snapshot()
    return web.Response(body=body, content_type="application/json")


async def _restore(request: web.Request) -> web.Response:
    from scheduler_async.emulator.errors import EmulatorError

    if request.content_length is not None and request.content_length > MAX_SNAPSHOT_BYTES:
        raise EmulatorError(413, "invalid_request_error", "snapshot too large")
    data = await request.content.read(MAX_SNAPSHOT_BYTES + 1)
    if len(data) > MAX_SNAPSHOT_BYTES:
        raise EmulatorError(413, "invalid_request_error", "snapshot too large")
    counts = request.app[SNAPSHOTS_KEY].restore(data)
    return ok(request, {"restored": counts})


async def _export(request: web.Request) -> web.Response:
    from scheduler_async.emulator.seed import export_world

    return web.json_response(export_world(request.app[STORE_KEY]))


def setup_routes(app: web.Application) -> None:
    """Register the snapshot routes and keep the app's :class:`Snapshots`."""
    app[SNAPSHOTS_KEY] = Snapshots(app[STORE_KEY])
    app.router.add_post("/_emulator/snapshot", _snapshot)
    app.router.add_post("/_emulator/restore", _restore)
    app.router.add_get("/_emulator/export", _export, allow_head=False)
