"""pytest plugin: a Scheduler API emulator running on its own thread.

Registered through the ``pytest11`` entry point ``scheduler_emulator``, so the fixtures are
available in any project that installs ``scheduler-client``:

``scheduler_emulator`` (session scope)
    A started :class:`~scheduler_async.emulator.Emulator` on ``127.0.0.1`` and an ephemeral port,
    default (lenient) mode, with a :class:`~scheduler_async.emulator.FakeClock` that only moves
    when a test moves it.  State persists between tests; use the fresh fixture to reset it.
``scheduler_emulator_fresh`` (function scope)
    The same emulator after :meth:`Emulator.reset` (state, faults and clock back to start).
``scheduler_emulator_url`` (function scope)
    ``scheduler_emulator.url``, e.g. ``"http://127.0.0.1:41237"``.
``scheduler_emulator_world`` (function scope)
    The session emulator restored to a *world* built once per session: override the
    session-scoped ``scheduler_emulator_world_builder`` fixture to return a function
    ``build(emu)`` that seeds it (Python calls or HTTP); the world is snapshotted once
    (``scheduler_emulator_world_snapshot``, bytes) and restored before every test, clock
    included, with faults off, so tests start from the same state and cannot leak into each
    other.  Restoring 1,000 configurations and 10,000 bookings takes a few tens of ms.

The fixtures' emulator enforces no API key, so its admin API (``/_emulator/...``) needs no
``Authorization``.  An ``Emulator(api_keys=[...])`` of your own requires one of its keys there
(``/_emulator/health`` and the booking page aside): send ``headers=emu.admin_headers``.  The
Python methods (``emu.reset()``, ``emu.add_grant(...)``, ...) never need a key.

The server runs on its own event loop in its own thread, so the fixtures serve sync tests and
async tests (each on its own function-scoped loop) alike.  The emulator is imported lazily so
that merely loading the plugin never imports aiohttp.web.

Webhooks.  The emulator POSTs a signed notification for every booking change to the webhooks
registered on it (``POST /v3/webhooks``, which runs the challenge handshake against your
receiver, or ``emu.add_webhook(url)``, which does not); a background worker sends them, so a
test waits for them deterministically with ``emu.deliver_webhooks()`` (sync tests) or
``await emu.deliver_webhooks_async()`` (async tests; never the sync one there: a receiver served
on the test's loop could not answer).  An async test, the receiver on its own loop::

    async def test_booking_notifies(scheduler_emulator_fresh):
        emu = scheduler_emulator_fresh
        got = []

        async def on_notification(n):
            got.append(n)

        secrets = []  # filled once the webhook exists; read per request
        receiver = WebhookReceiver(on_notification, secret=lambda: secrets)
        runner = web.AppRunner(receiver.app("/hook"))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{emu.url}/v3/webhooks", headers={"Authorization": "Bearer k"},
                                 json={"trigger_types": ["booking.created"],
                                       "webhook_url": f"http://127.0.0.1:{site.port}/hook"}) as r:
                secrets.append((await r.json())["data"]["webhook_secret"])
            ...  # book through the API (AsyncScheduler or raw HTTP)
        await emu.deliver_webhooks_async()  # every due delivery attempted and answered
        await receiver.join()               # your callback ran
        assert [type(n) for n in got] == [BookingCreated]
        await runner.cleanup()

Time-driven deliveries follow the emulator clock: ``emu.clock.advance(s)`` then
``deliver_webhooks[_async]()`` (or ``POST /_emulator/clock``, which delivers by itself) fires
``booking.reminder`` (configuration reminders of type ``webhook``) and the retries of failed
attempts (3 attempts, 5 and then 10 minutes apart).  ``emu.webhook_deliveries()`` is the log
(attempt, copy, HTTP status, ok); ``emu.set_webhook_faults(duplicate=1)`` sends every
notification twice (same ``id``: test your dedupe), ``delay_seconds=`` holds first attempts
back in clock time.  The fresh fixture's reset forgets webhooks, deliveries and faults.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from scheduler_async.emulator.runner import Emulator


@pytest.fixture(scope="session")
def scheduler_emulator() -> Iterator[Emulator]:
    """A session-wide emulator on its own thread; stopped at the end of the session."""
    from scheduler_async.emulator.runner import Emulator
    from scheduler_async.emulator.store import FakeClock

    with Emulator(clock=FakeClock()) as emulator:
        yield emulator


@pytest.fixture
def scheduler_emulator_fresh(scheduler_emulator: Emulator) -> Emulator:
    """The session emulator with its state, faults and clock reset for this test."""
    scheduler_emulator.reset()
    return scheduler_emulator


@pytest.fixture
def scheduler_emulator_url(scheduler_emulator: Emulator) -> str:
    """Base URL of the session emulator (no trailing slash)."""
    return scheduler_emulator.url


@pytest.fixture(scope="session")
def scheduler_emulator_world_builder() -> Callable[[Emulator], None]:
    """Override (session scope) to return ``build(emu)``, which seeds the shared world."""

    def build(emulator: Emulator) -> None:
        del emulator  # the default world is empty

    return build


@pytest.fixture(scope="session")
def scheduler_emulator_world_snapshot(
    scheduler_emulator: Emulator, scheduler_emulator_world_builder: Callable[[Emulator], None]
) -> bytes:
    """The world built once per session (on a reset emulator), as snapshot bytes."""
    scheduler_emulator.reset()
    scheduler_emulator_world_builder(scheduler_emulator)
    return scheduler_emulator.snapshot()


@pytest.fixture
def scheduler_emulator_world(
    scheduler_emulator: Emulator, scheduler_emulator_world_snapshot: bytes
) -> Emulator:
    """The session emulator restored to the world snapshot (faults off) for this test."""
    scheduler_emulator.faults.reset()
    scheduler_emulator.restore(scheduler_emulator_world_snapshot)
    return scheduler_emulator
