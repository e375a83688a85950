"""The emulator's SQLite state file (``--state FILE`` / ``Emulator(state_path=...)``).

:class:`StateFile` keeps the store's whole state (every part of :mod:`.state_parts`) in one
SQLite file (stdlib :mod:`sqlite3`, WAL journal) so that a restart answers as before: the same
ids, bookings still blocking their slots, pending webhook attempts still due.

* Layout: ``meta(key, value)`` (``format``, ``schema_version``) and ``rows(kind, id, pos,
  data)``: one row per entity of a row part (a booking, an event, a configuration...) and one
  row per blob part (``id`` empty); ``data`` is the part's JSON dump, ``pos`` keeps the
  store's order.
* Write-through: :meth:`StateFile.flush` writes what changed since the last flush in ONE
  transaction, under the store's lock (so a transaction is always a consistent state: a
  booking never lands without its event).  The app calls it after every API write, before
  the answer is sent (:func:`middleware`), so a crash loses at most the write in flight; a
  background thread also flushes every ``autosave_interval`` seconds (changes made from
  Python, webhook deliveries) and compares every entity, catching any change no hint named.
  ``synchronous=NORMAL``: a committed write survives the process being killed; an OS crash
  or power loss may lose the last transactions (the file stays consistent).
* One process per file: an exclusive ``flock`` on ``FILE.lock`` (released by the OS when
  the process dies); a second emulator gets :class:`StateFileError`.
* Schema version: a file from a newer version is refused; an older one is migrated
  (:data:`MIGRATIONS`) in one transaction when opened.

The file holds webhook secrets and booking salts: it is created readable by its owner only.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from aiohttp import web

from scheduler_async.emulator.entities import Grant
from scheduler_async.emulator.state_parts import PARTS, dump_hub, load_state

if TYPE_CHECKING:
    from scheduler_async.emulator.store import Store

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "STATE_FILE_KEY",
    "StateFile",
    "StateFileError",
    "middleware",
]

FILE_FORMAT = "scheduler-emulator-state"
#: The layout version this code writes.
SCHEMA_VERSION = 1
#: ``MIGRATIONS[v](connection)`` upgrades a file from version ``v`` to ``v + 1`` (inside the
#: opening transaction).  Parts a file lacks (added after it was written) simply load empty.
MIGRATIONS: Mapping[int, Callable[[sqlite3.Connection], None]] = MappingProxyType({})
#: Row parts compared in full (re-dumped) at every flush: few entities, mutated in place.
_SMALL_PARTS = frozenset({"group_events"})
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rows (kind TEXT NOT NULL, id TEXT NOT NULL, "
    "pos INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (kind, id)) WITHOUT ROWID",
)


class StateFileError(RuntimeError):
    """The state file cannot be used: locked by another process, from a newer version, or not
    an emulator state file."""


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _fingerprint(obj: Any) -> tuple[Any, ...]:
    # Field values by reference: the store replaces (never mutates in place) the nested
    # values of these entities, so an unchanged tuple means an unchanged entity.
    if isinstance(obj, Grant):  # its calendars are added in place (never removed)
        return (obj.email, obj.primary_calendar_id, len(obj.calendars))
    return tuple(obj.__dict__.values())


def _appended(live: dict[str, Any], known: Mapping[str, Any]) -> list[str] | None:
    """The keys added to ``live`` since ``known`` was taken, when nothing was removed (new
    keys of a dict come last); None when that cannot be told without a full comparison."""
    grown = len(live) - len(known)
    if grown < 0:
        return None
    added: list[str] = []
    for key in reversed(live):
        if key in known:
            break
        added.append(key)
        if len(added) > grown:
            return None
    return added if len(added) == grown else None


class _FileLock:
    """An exclusive, non-blocking ``flock`` on ``<path>.lock`` (POSIX)."""

    def __init__(self, path: Path) -> None:
        import fcntl

        self.path = path.with_name(path.name + ".lock")
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(self._fd, 32, 0).decode("ascii", "replace").strip()
            os.close(self._fd)
            raise StateFileError(
                f"state file {str(path)!r} is in use by another emulator process"
                + (f" (pid {holder})" if holder.isdigit() else "")
                + "; stop it or use another --state file"
            ) from None
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, str(os.getpid()).encode("ascii"), 0)

    def release(self) -> None:
        import fcntl

        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)


class StateFile:
    """The SQLite state file of one store (see the module docstring).

    Opening locks the file and checks (or migrates) its schema; :meth:`load` then reads the
    state into the store.  :meth:`close` flushes, stops the autosave thread and unlocks.
    """

    def __init__(self, path: str | os.PathLike[str], store: Store) -> None:
        self.path = Path(path)
        self.store = store
        self._lock = _FileLock(self.path)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            os.close(fd)
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            try:
                self._open_schema()
                self._conn.isolation_level = "IMMEDIATE"  # writes begin their transaction
            except BaseException:
                self._conn.close()
                raise
        except BaseException:
            self._lock.release()
            raise
        self._flush_lock = threading.Lock()
        self._known: dict[str, dict[str, Any]] = {p.name: {} for p in PARTS if p.rows}
        self._blobs: dict[str, str] = {}
        self._hub_sig: Any = None
        self._hints: dict[str, set[str]] = {}
        self._pos = self._conn.execute("SELECT coalesce(max(pos), 0) FROM rows").fetchone()[0]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: BaseException | None = None
        """The last error of a background flush (None when all went well)."""
        self._unsubscribe = store.subscribe(self._hear)

    # ----------------------------------------------------------------- schema

    def _open_schema(self) -> None:
        conn = self._conn
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise StateFileError(
                f"{str(self.path)!r} is not an emulator state file: {exc}"
            ) from None
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if not tables:
                for statement in _SCHEMA:
                    conn.execute(statement)
                conn.executemany(
                    "INSERT INTO meta VALUES (?, ?)",
                    [("format", FILE_FORMAT), ("schema_version", str(SCHEMA_VERSION))],
                )
            else:
                meta = dict(conn.execute("SELECT key, value FROM meta")) if "meta" in tables else {}
                if meta.get("format") != FILE_FORMAT:
                    raise StateFileError(
                        f"{str(self.path)!r} is an SQLite file but not an emulator state file"
                    )
                version = int(meta.get("schema_version", "0"))
                if version > SCHEMA_VERSION:
                    raise StateFileError(
                        f"state file {str(self.path)!r} was written by a newer emulator "
                        f"(schema version {version}; this one reads up to {SCHEMA_VERSION}): "
                        "upgrade scheduler-client or use another --state file"
                    )
                while version < SCHEMA_VERSION:
                    migrate = MIGRATIONS.get(version)
                    if migrate is None:
                        raise StateFileError(
                            f"state file {str(self.path)!r} has schema version {version}, "
                            "which this emulator cannot migrate"
                        )
                    migrate(conn)
                    version += 1
                conn.execute(
                    "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version),)
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    @property
    def schema_version(self) -> int:
        """The schema version recorded in the file."""
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0])

    # ----------------------------------------------------------------- load

    def read_parts(self) -> dict[str, Any]:
        """The state in the file, as :func:`~.state_parts.dump_state` parts (empty if new)."""
        parts: dict[str, Any] = {}
        rows = self._conn.execute("SELECT kind, id, data FROM rows ORDER BY pos")
        for kind, _id, data in rows:
            p = next((p for p in PARTS if p.name == kind), None)
            if p is None:
                continue  # a part this version does not know
            if p.rows is not None:
                parts.setdefault(kind, []).append(json.loads(data))
            else:
                parts[kind] = json.loads(data)
        return parts

    def load(self) -> bool:
        """Replace the store's state with the file's (if it holds any); True if it did."""
        parts = self.read_parts()
        with self.store.lock, self._flush_lock:
            if parts:
                load_state(self.store, parts)
                self._remember_all()
            else:  # a new file: the store's state (seeded from Python, its clock) goes in
                self._remember_nothing()
        if not parts:
            self.flush(verify=True)
        return bool(parts)

    def _remember_all(self) -> None:
        """Take the store's current state as what the file holds (call under both locks)."""
        store = self.store
        self._hints.clear()
        for p in PARTS:
            if p.rows is None or p.dump_row is None:
                self._blobs[p.name] = _json(p.dump(store))
                continue
            live = p.rows(store)
            if p.name in _SMALL_PARTS:
                self._known[p.name] = {k: _json(p.dump_row(o)) for k, o in live.items()}
            else:
                self._known[p.name] = {k: _fingerprint(o) for k, o in live.items()}
        self._hub_sig = self._hub_signature()

    # ----------------------------------------------------------------- write-through

    def _hear(self, kind: str, obj: Any) -> None:
        """Store listener: note which entities a change touched (hints for :meth:`flush`)."""
        area = kind.partition(".")[0]
        if area == "booking":
            self._hints.setdefault("bookings", set()).add(obj.booking_id)
            if obj.event_id:
                self._hints.setdefault("events", set()).add(obj.event_id)
        elif area == "configuration":
            self._hints.setdefault("configurations", set()).add(obj.configuration_id)
        elif area == "session":
            self._hints.setdefault("sessions", set()).add(obj.session_id)

    def hint(self, ids: Iterable[str]) -> None:
        """Mark entities (any kind, by id) as possibly changed: the next flush writes them."""
        ids = tuple(ids)
        with self.store.lock:
            for p in PARTS:
                if p.rows is not None and p.name not in _SMALL_PARTS:
                    live = p.rows(self.store)
                    found = {i for i in ids if i in live}
                    if found:
                        self._hints.setdefault(p.name, set()).update(found)

    def _hub_signature(self) -> Any:
        hub = self.store._webhook_hub
        if hub is None:
            return None
        with hub._lock:
            return (
                id(hub),
                hub._seq,
                len(hub._queue),
                len(hub.log),
                hub.log[-1] if hub.log else None,
                len(hub._reminders),
                tuple(hub.faults.__dict__.values()),
                tuple(
                    (*(v for k, v in h.__dict__.items() if k != "outcomes"), len(h.outcomes))
                    for h in hub.webhooks.values()
                ),
            )

    def _changes(self, verify: bool) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
        store = self.store
        upserts: list[tuple[str, str, str]] = []
        deletes: list[tuple[str, str]] = []
        hints, self._hints = self._hints, {}
        for p in PARTS:
            if p.rows is None or p.dump_row is None:
                if p.name == "webhooks":
                    sig = self._hub_signature()
                    if sig == self._hub_sig and not hints.get("bookings"):
                        continue
                    self._hub_sig = sig
                    hub = store._webhook_hub
                    text = _json(None if hub is None else dump_hub(hub))
                else:
                    text = _json(p.dump(store))
                if text != self._blobs.get(p.name):
                    self._blobs[p.name] = text
                    upserts.append((p.name, "", text))
                continue
            live = p.rows(store)
            known = self._known[p.name]
            if p.name in _SMALL_PARTS:
                for key, obj in live.items():
                    text = _json(p.dump_row(obj))
                    if known.get(key) != text:
                        known[key] = text
                        upserts.append((p.name, key, text))
            else:
                added = None if verify else _appended(live, known)
                if added is None:  # compare every entity
                    dirty = {k for k, o in live.items() if known.get(k) != _fingerprint(o)}
                    gone = known.keys() - live.keys()
                else:  # trust the hints: only additions to find
                    dirty = hints.get(p.name, set()).union(added)
                    gone = set()
                for key in dirty:
                    obj = live.get(key)
                    if obj is not None:
                        known[key] = _fingerprint(obj)
                        upserts.append((p.name, key, _json(p.dump_row(obj))))
                    else:
                        gone.add(key)
                for key in gone:
                    if known.pop(key, None) is not None:
                        deletes.append((p.name, key))
                continue
            for key in known.keys() - live.keys():
                del known[key]
                deletes.append((p.name, key))
        return upserts, deletes

    def flush(self, *, verify: bool = False) -> int:
        """Write what changed since the last flush, in one transaction; the rows written.

        Without ``verify``, large parts write the entities the store's change events and
        :meth:`hint` named plus those added or removed; with it, every entity is compared.
        """
        with self.store.lock, self._flush_lock:
            upserts, deletes = self._changes(verify)
            if not upserts and not deletes:
                return 0
            conn = self._conn
            # One transaction, begun by the first statement (isolation_level IMMEDIATE): few
            # calls into SQLite, each of which lets other threads take the GIL.
            try:
                rows = []
                for kind, key, text in upserts:
                    self._pos += 1
                    rows.append((kind, key, self._pos, text))
                if rows:
                    conn.executemany(
                        "INSERT INTO rows (kind, id, pos, data) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT (kind, id) DO UPDATE SET data = excluded.data",
                        rows,
                    )
                if deletes:
                    conn.executemany("DELETE FROM rows WHERE kind = ? AND id = ?", deletes)
                conn.commit()
            except BaseException:
                conn.rollback()
                self._remember_nothing()
                raise
            return len(upserts) + len(deletes)

    def _remember_nothing(self) -> None:
        # After a failed write nothing is known to be in the file: the next flush compares all.
        for known in self._known.values():
            known.clear()
        self._blobs.clear()
        self._hub_sig = None

    def rewrite(self) -> None:
        """Replace the file's content with the store's whole state (after a restore)."""
        with self.store.lock, self._flush_lock:
            try:
                self._conn.execute("DELETE FROM rows")
                self._conn.commit()
            except BaseException:
                self._conn.rollback()
                raise
            self._pos = 0
            self._remember_nothing()
            self._hints.clear()
        self.flush(verify=True)

    # ----------------------------------------------------------------- lifecycle

    def start_autosave(self, interval: float) -> None:
        """Flush (comparing everything) every ``interval`` seconds on a daemon thread."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._autosave, args=(interval,), name="scheduler-emulator-state", daemon=True
        )
        self._thread.start()

    def _autosave(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.flush(verify=True)
                self.last_error = None
            except Exception as exc:  # kept for inspection; the next tick retries
                self.last_error = exc

    def stop_autosave(self) -> None:
        """Stop the autosave thread (if running) and wait for it."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join()

    def close(self) -> None:
        """Flush everything, stop autosaving, close the database and release the lock."""
        self.stop_autosave()
        try:
            self.flush(verify=True)
        finally:
            self._unsubscribe()
            self._conn.close()
            self._lock.release()

    def integrity_check(self) -> str:
        """``PRAGMA integrity_check`` of the file (``"ok"`` when sound)."""
        with self._flush_lock:
            return str(self._conn.execute("PRAGMA integrity_check").fetchone()[0])


STATE_FILE_KEY = web.AppKey("state_file", StateFile)


@web.middleware
async def middleware(
    request: web.Request, handler: Callable[[web.Request], Any]
) -> web.StreamResponse:
    """After each write request (success or error), flush the app's state file (if any)
    before the answer goes out: a client that saw a booking succeed finds it after a crash."""
    state = request.app.get(STATE_FILE_KEY)
    if state is None or request.method not in _WRITE_METHODS:
        response: web.StreamResponse = await handler(request)
        return response
    try:
        response = await handler(request)
    finally:
        state.hint(v for v in request.match_info.values() if v)
        # admin writes (seeding, reset, clock) are few: compare everything for them
        state.flush(verify=request.path.startswith("/_emulator/"))
    return response
