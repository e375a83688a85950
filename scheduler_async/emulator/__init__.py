"""A faithful, stateful local emulator of the Nylas v3 Scheduler API.

Python API::

    from scheduler_async.emulator import Emulator, FakeClock

    with Emulator(clock=FakeClock(1_767_000_000)) as emu:
        emu.add_grant("grant-1", email="host@example.com")
        client_base_url = emu.url

Exports :class:`Emulator` (server on its own thread), :func:`create_app` (the aiohttp
application, to host it yourself), :class:`Store`, :class:`Clock`, :class:`FakeClock`,
:class:`FaultConfig`, :class:`RouteFaults`, :class:`RateLimit` and :class:`EmulatorError`.
Names are imported lazily, so importing ``scheduler_async.emulator.engine`` alone does not import
aiohttp.  Routes and choices are documented in :mod:`.app`, :mod:`.store` and :mod:`.faults`;
the pytest fixtures in :mod:`.pytest_plugin`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scheduler_async.emulator.app import create_app
    from scheduler_async.emulator.faults import FaultConfig, RateLimit, RouteFaults
    from scheduler_async.emulator.runner import Emulator
    from scheduler_async.emulator.store import Clock, EmulatorError, FakeClock, Store

__all__ = [
    "Clock",
    "Emulator",
    "EmulatorError",
    "FakeClock",
    "FaultConfig",
    "RateLimit",
    "RouteFaults",
    "Store",
    "create_app",
]

_WHERE = {
    "create_app": "app",
    "FaultConfig": "faults",
    "RateLimit": "faults",
    "RouteFaults": "faults",
    "Emulator": "runner",
    "Clock": "store",
    "EmulatorError": "store",
    "FakeClock": "store",
    "Store": "store",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted(__all__)
