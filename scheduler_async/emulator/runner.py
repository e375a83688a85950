"""The :class:`Emulator`: the Scheduler API emulator served on its own thread and event loop.

Running the server on a dedicated thread means sync tests, async tests (on any loop) and the
sync facade can all call it without deadlocking the caller's loop::

    with Emulator() as emu:                       # http://127.0.0.1:<ephemeral port>
        emu.add_grant("grant-1", email="host@example.com")
        emu.add_event("grant-1", "primary", start, end)
        ... point a client at emu.url ...
        emu.clock.advance(3600)                   # business time; no sleeping
        emu.set_faults("POST /v3/scheduling/bookings", error_503=1.0, times=1)

Webhooks (the store's :class:`~.webhook_delivery.WebhookHub`, wired into the app): destinations
come from ``POST /v3/webhooks`` (with the challenge handshake) or :meth:`Emulator.add_webhook`;
every booking change is queued and sent by a background worker.  :meth:`Emulator.deliver_webhooks`
sends what is due now (after ``emu.clock.advance(...)``: reminders and retries) and waits for
the answers; :meth:`Emulator.webhook_deliveries` is the log; :meth:`Emulator.set_webhook_faults`
duplicates or delays deliveries.

The admin API over HTTP (``/_emulator/...``) needs one of the API keys when ``api_keys`` are
given (:attr:`Emulator.admin_headers` carries one); the Python methods here never do.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Coroutine, Iterable
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

from scheduler_async.emulator.app import DEFAULT_CLIENT_ID, create_app
from scheduler_async.emulator.faults import FaultConfig, RouteFaults
from scheduler_async.emulator.persistence import STATE_FILE_KEY, StateFile
from scheduler_async.emulator.rate_limit import EmulatorRateLimit, coerce_emulator_rate_limit
from scheduler_async.emulator.seed import load_seed_file
from scheduler_async.emulator.snapshots import SNAPSHOTS_KEY, Snapshots
from scheduler_async.emulator.store import Booking, Clock, Event, Grant, Store
from scheduler_async.emulator.webhooks import (
    BOOKING_TRIGGERS,
    DeliveryAttempt,
    StoredWebhook,
    WebhookFaults,
    WebhookHub,
)

__all__ = ["Emulator"]

DEFAULT_API_KEY = "emulator-api-key"
#: Seconds a connection may stay idle (between requests, or before its first one is complete)
#: before the server closes it (aiohttp's own default is an hour).  Longer than the client's
#: pool expiry (15 s), so a pooled connection is not reused just as the server closes it.
DEFAULT_IDLE_TIMEOUT = 30.0
#: Seconds between background flushes of the state file (changes made from Python, webhook
#: deliveries); API writes are written before their answer anyway.
DEFAULT_AUTOSAVE_INTERVAL = 1.0

_T = TypeVar("_T")


class Emulator:
    """A running (after :meth:`start`) emulator; also a context manager.

    ``port=0`` picks a free port.  ``strict`` refuses unknown API keys (401) and unknown grants
    (404); ``api_keys`` lists the accepted keys (given keys are enforced even when not strict).
    ``clock`` is the business clock (default: wall time with an adjustable offset; pass a
    :class:`FakeClock` for a frozen one).  ``latency_ms`` delays every API request (real time);
    ``seed`` seeds the fault RNG.  ``rate_limit`` (requests per second per API key, or an
    :class:`~.rate_limit.EmulatorRateLimit`) answers excess requests 429 with ``Retry-After``;
    :attr:`rate_limit` holds its settings and counters (429s, peak rate) and :meth:`reset`
    restores the startup settings.  ``cors_origins``: origins browsers may call from (default
    any; see :func:`~scheduler_async.emulator.app.create_app`).  ``booking_page`` serves the
    ``<nylas-scheduling>`` page at :meth:`booking_page_url` (component from
    ``web_elements_dir``, else the public CDN).  ``idle_timeout`` (seconds, default 30) closes a
    connection that stays idle that long, between requests (keep-alive) or before its first
    request is complete, so a long-running emulator sheds the connections clients left open.

    ``state_path`` keeps the state in that SQLite file (see :mod:`.persistence`): opened, locked
    (:class:`~.persistence.StateFileError` if another process holds it, or if it comes from a
    newer version) and loaded here, written through after every API write, flushed and
    unlocked by :meth:`stop`.  :meth:`snapshot`/:meth:`restore` save and bring back the whole
    state in memory (bytes).  ``seed_file`` (see :mod:`.seed`) seeds grants, events,
    configurations and webhooks from a JSON file when the state is empty (no state file, or
    a new one); :class:`~.seed.SeedError` names the file, the place in it and the field.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        strict: bool = False,
        api_keys: Iterable[str] | None = None,
        clock: Clock | None = None,
        client_id: str = DEFAULT_CLIENT_ID,
        latency_ms: float = 0,
        seed: int | None = None,
        shutdown_timeout: float = 0.5,
        rate_limit: EmulatorRateLimit | float | None = None,
        cors_origins: str | Iterable[str] | None = None,
        booking_page: bool = False,
        web_elements_dir: str | Path | None = None,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        state_path: str | Path | None = None,
        autosave_interval: float = DEFAULT_AUTOSAVE_INTERVAL,
        seed_file: str | Path | None = None,
    ) -> None:
        if not idle_timeout > 0:
            raise ValueError("idle_timeout must be a positive number of seconds")
        self.idle_timeout = float(idle_timeout)
        self.host = host
        self.port = port
        self.strict = strict
        self.api_keys = frozenset(api_keys) if api_keys is not None else None
        self.client_id = client_id
        self.cors_origins = cors_origins
        self.booking_page = booking_page
        self.web_elements_dir = web_elements_dir
        self.clock: Clock = clock if clock is not None else Clock()
        self.store = Store(self.clock, strict=strict)
        self.faults = FaultConfig(latency_ms=latency_ms, seed=seed)
        self.rate_limit = coerce_emulator_rate_limit(rate_limit)
        """The rate limit enforced per API key (off unless given) and its counters."""
        self.app: web.Application | None = None  # a new one per start (apps bind to a loop)
        self._shutdown_timeout = shutdown_timeout
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._bound_port: int | None = None
        self._startup_error: BaseException | None = None
        self.state_path = Path(state_path) if state_path is not None else None
        self.autosave_interval = autosave_interval
        self.state_file: StateFile | None = None
        """The open state file (between construction or :meth:`start` and :meth:`stop`)."""
        if self.state_path is not None:
            self.state_file = StateFile(self.state_path, self.store)
            try:
                loaded = self.state_file.load()
                if seed_file is not None and not loaded:
                    load_seed_file(self.store, seed_file)
                    self.state_file.flush(verify=True)
            except BaseException:
                self.state_file.close()
                self.state_file = None
                raise
        elif seed_file is not None:
            load_seed_file(self.store, seed_file)
        self.snapshots = Snapshots(self.store, self.state_file)

    # ------------------------------------------------------------------ lifecycle

    @property
    def api_key(self) -> str:
        """An API key the emulator accepts (the first configured one, else a placeholder)."""
        if self.api_keys:
            return sorted(self.api_keys)[0]
        return DEFAULT_API_KEY

    @property
    def admin_headers(self) -> dict[str, str]:
        """Headers for the admin API over HTTP (``/_emulator/...``): ``Authorization: Bearer
        <api_key>`` when the emulator was given API keys (it then requires one), else none."""
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_keys else {}

    @property
    def running(self) -> bool:
        """True between a successful :meth:`start` and :meth:`stop`."""
        return self._bound_port is not None

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``http://127.0.0.1:41237``."""
        if self._bound_port is None:
            raise RuntimeError("the emulator is not running; call start() first")
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self._bound_port}"

    def booking_page_url(self, **params: str) -> str:
        """URL of the booking page (needs ``booking_page=True``); ``params`` pick what it shows:
        ``configuration_id``, ``slug`` + ``client_id``, ``session_id``, ``*_booking_ref``..."""
        from urllib.parse import urlencode

        from scheduler_async.emulator.booking_page import BOOKING_PAGE_PATH

        query = f"?{urlencode(params)}" if params else ""
        return f"{self.url}{BOOKING_PAGE_PATH}{query}"

    def start(self) -> Emulator:
        """Start serving on a daemon thread named ``scheduler-emulator`` (idempotent)."""
        with self._lock:
            if self._thread is not None:
                return self
            if self.state_path is not None and self.state_file is None:
                self.state_file = StateFile(self.state_path, self.store)  # restarted
                self.snapshots.state_file = self.state_file
                self.state_file.rewrite()
            ready = threading.Event()
            self._startup_error = None
            thread = threading.Thread(
                target=self._thread_main, args=(ready,), name="scheduler-emulator", daemon=True
            )
            thread.start()
            ready.wait()
            if self._startup_error is not None:
                thread.join()
                self._close_state_file()
                error, self._startup_error = self._startup_error, None
                raise RuntimeError(f"emulator failed to start: {error}") from error
            self._thread = thread
            return self

    def stop(self) -> None:
        """Stop serving, close the sockets, join the thread and flush, close and unlock the
        state file, if any (idempotent)."""
        with self._lock:
            thread, loop, stop_event = self._thread, self._loop, self._stop_event
            if thread is None:
                self._close_state_file()
                return
            if loop is not None and stop_event is not None and not loop.is_closed():
                with contextlib.suppress(RuntimeError):  # loop already closed
                    loop.call_soon_threadsafe(stop_event.set)
            thread.join()
            self._thread = None
            self._loop = None
            self._stop_event = None
            self._bound_port = None
            self._close_state_file()

    def _close_state_file(self) -> None:
        state_file, self.state_file = self.state_file, None
        self.snapshots.state_file = None
        if state_file is not None:
            state_file.close()

    def _thread_main(self, ready: threading.Event) -> None:
        try:
            asyncio.run(self._serve(ready))
        except BaseException as exc:  # surfaced by start()
            if not ready.is_set():
                self._startup_error = exc
                ready.set()

    async def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        self.app = create_app(
            self.store,
            strict=self.strict,
            api_keys=self.api_keys,
            client_id=self.client_id,
            faults=self.faults,
            rate_limit=self.rate_limit,
            cors_origins=self.cors_origins,
            booking_page=self.booking_page,
            web_elements_dir=self.web_elements_dir,
        )
        self.app[SNAPSHOTS_KEY] = self.snapshots
        if self.state_file is not None:
            self.app[STATE_FILE_KEY] = self.state_file
            self.state_file.start_autosave(self.autosave_interval)
        runner = web.AppRunner(
            self.app,
            access_log=None,
            shutdown_timeout=self._shutdown_timeout,
            keepalive_timeout=self.idle_timeout,
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port, backlog=1024)
            await site.start()
            self._bound_port = site.port
            ready.set()
            await self._stop_event.wait()
        finally:
            await runner.cleanup()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self.running else "stopped"
        return f"<Emulator {where} strict={self.strict}>"

    # ------------------------------------------------------------------ seeding and inspection

    def reset(self) -> None:
        """Forget all state (webhooks, their queue and log too), switch every fault off and
        reset the clock."""
        self.store.reset()
        self.clock.reset()
        self.faults.reset()

    def snapshot(self) -> bytes:
        """The whole state (grants to webhooks, the clock included) as bytes; see
        :meth:`restore` and ``POST /_emulator/snapshot``."""
        return self.snapshots.snapshot()

    def restore(self, snapshot: bytes) -> None:
        """Bring back the state of a :meth:`snapshot` (replacing the current one; faults are
        left as they are).  Restoring the same bytes again is fast: it reuses the records the
        first restore built and puts back what changed since."""
        self.snapshots.restore(snapshot)

    def add_grant(
        self,
        grant_id: str,
        *,
        email: str | None = None,
        calendars: Iterable[str] = (),
        primary_calendar_id: str = "primary",
    ) -> Grant:
        """Create a grant with a primary calendar (and extra calendar ids)."""
        return self.store.add_grant(
            grant_id, email=email, calendars=calendars, primary_calendar_id=primary_calendar_id
        )

    def add_event(
        self,
        grant_id: str,
        calendar_id: str,
        start: datetime | int,
        end: datetime | int,
        *,
        busy: bool = True,
        status: str = "confirmed",
        title: str = "",
        description: str = "",
        event_id: str | None = None,
    ) -> Event:
        """Put an event on a calendar (``"primary"`` allowed) that blocks availability if busy.

        ``start``/``end`` are aware datetimes or Unix seconds, as everywhere in the client.
        """
        return self.store.add_event(
            grant_id,
            calendar_id,
            start,
            end,
            busy=busy,
            status=status,
            title=title,
            description=description,
            event_id=event_id,
        )

    def events(self, grant_id: str, calendar_id: str = "primary") -> list[Event]:
        """Events on a calendar, sorted by start (cancelled ones included)."""
        return self.store.events_on(grant_id, calendar_id)

    def booking(self, booking_id: str) -> Booking:
        """The stored booking (also deleted ones), for inspection."""
        with self.store.lock:
            return self.store.bookings[booking_id]

    def booking_salt(self, booking_id: str) -> str:
        """The salt to send in ``PUT /v3/scheduling/bookings/{id}`` (URL-safe base64)."""
        return self.store.booking_salt(booking_id)

    def booking_reference(self, booking_id: str) -> str:
        """The booking reference of the organizer's confirmation link."""
        return self.store.booking_reference(booking_id)

    def set_faults(self, route: str = "*", **faults: Any) -> RouteFaults:
        """Set the fault rule for one route key (see :mod:`scheduler_async.emulator.faults`)."""
        return self.faults.set_route(route, **faults)

    # ------------------------------------------------------------------ webhooks

    @property
    def webhooks(self) -> WebhookHub:
        """The webhook hub: destinations, delivery queue, log and fault knobs."""
        return self.store.webhook_hub(application_id=self.client_id)

    def add_webhook(
        self,
        webhook_url: str,
        trigger_types: Iterable[str] = BOOKING_TRIGGERS,
        *,
        description: str | None = None,
        compressed_delivery: bool = False,
    ) -> StoredWebhook:
        """Register a destination directly, without the challenge handshake.

        ``POST /v3/webhooks`` (what the SDKs call) runs the handshake; this seeding shortcut
        does not, so it needs no running receiver.  The record's ``secret`` signs deliveries.
        """
        return self.webhooks.create(
            {
                "webhook_url": webhook_url,
                "trigger_types": list(trigger_types),
                "description": description,
                "compressed_delivery": compressed_delivery,
            }
        )

    def webhook_deliveries(
        self, *, webhook_id: str | None = None, notification_id: str | None = None
    ) -> list[DeliveryAttempt]:
        """The delivery log, oldest first: one entry per POST (attempt, copy, status, ok)."""
        return self.webhooks.deliveries(webhook_id=webhook_id, notification_id=notification_id)

    def set_webhook_faults(
        self, *, duplicate: int | None = None, delay_seconds: int | None = None
    ) -> WebhookFaults:
        """``duplicate`` extra copies of every notification (same ``id``, so a receiver's dedupe
        is exercised); ``delay_seconds`` of emulator-clock time before a first attempt is due.
        Arguments left ``None`` keep their value; :meth:`reset` turns both off."""
        body = {"duplicate": duplicate, "delay_seconds": delay_seconds}
        faults = self.webhooks.faults
        faults.update({k: v for k, v in body.items() if v is not None})
        return faults

    def _submit(
        self, factory: Callable[[], Coroutine[Any, Any, _T]]
    ) -> concurrent.futures.Future[_T]:
        loop = self._loop
        if loop is None or not self.running or loop.is_closed():
            raise RuntimeError("the emulator is not running; call start() first")
        return asyncio.run_coroutine_threadsafe(factory(), loop)

    def deliver_webhooks(self) -> list[DeliveryAttempt]:
        """Send every delivery due at the emulator clock's now and wait for the answers.

        Call it after moving the clock from Python (``emu.clock.advance(...)``) to fire due
        reminders and retries deterministically (``POST /_emulator/clock`` does it by itself).
        Returns the attempts that finished.  Each webhook is served on its own, and the wait
        is bounded by the attempt timeout: an attempt stuck behind a hanging destination keeps
        going in the background (see :meth:`webhook_deliveries`).  Blocks the calling thread:
        from async code use :meth:`deliver_webhooks_async`, so a receiver served on your event
        loop can answer.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError(
                "deliver_webhooks() would block this thread's event loop (a receiver served on "
                "it could not answer): use 'await emu.deliver_webhooks_async()'"
            )
        hub = self.webhooks
        return self._submit(hub.deliver_due).result()

    async def deliver_webhooks_async(self) -> list[DeliveryAttempt]:
        """:meth:`deliver_webhooks` for async code (awaits without blocking your loop)."""
        hub = self.webhooks
        return await asyncio.wrap_future(self._submit(hub.deliver_due))
