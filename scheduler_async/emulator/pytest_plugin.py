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

The server runs on its own event loop in its own thread, so the fixtures serve sync tests and
async tests (each on its own function-scoped loop) alike.  The emulator is imported lazily so
that merely loading the plugin never imports aiohttp.web.
"""

from __future__ import annotations

from collections.abc import Iterator
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
