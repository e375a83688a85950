"""Fixtures of the emulator tests (helpers without fixtures are in :mod:`.support`)."""

from __future__ import annotations

import pytest

from scheduler_async.emulator import Emulator, FakeClock, Store

from .support import T0


@pytest.fixture
def emu(scheduler_emulator_fresh: Emulator) -> Emulator:
    """A fresh emulator (shared server, state reset) with its clock at :data:`.support.T0`."""
    scheduler_emulator_fresh.clock.set(T0)
    return scheduler_emulator_fresh


@pytest.fixture
def store() -> Store:
    """A store on a frozen clock at :data:`.support.T0`."""
    return Store(FakeClock(T0))
