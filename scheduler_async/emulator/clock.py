"""Business clocks of the emulator: :class:`Clock` (wall time plus an offset) and
:class:`FakeClock` (frozen, moved only by ``set``/``advance``)."""

from __future__ import annotations

import threading
import time

__all__ = ["Clock", "FakeClock"]


class Clock:
    """The business clock (Unix seconds): wall time plus an adjustable offset.

    ``set`` and ``advance`` shift the offset, so the clock keeps ticking from the new time.
    Session TTL, booking notice and the booking horizon use this clock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0

    def now(self) -> int:
        """Current business time in Unix seconds."""
        return int(time.time()) + self._offset

    def set(self, timestamp: int) -> None:
        """Make ``now()`` return ``timestamp`` (then keep ticking)."""
        with self._lock:
            self._offset = int(timestamp) - int(time.time())

    def advance(self, seconds: float) -> None:
        """Move the clock forward (or backward, if negative) by ``seconds``."""
        with self._lock:
            self._offset += int(seconds)

    def reset(self) -> None:
        """Back to wall time."""
        with self._lock:
            self._offset = 0


class FakeClock(Clock):
    """A frozen business clock: it only moves through ``set`` and ``advance``.

    ``start`` defaults to the wall time at construction; :meth:`reset` returns to ``start``.
    """

    def __init__(self, start: int | None = None) -> None:
        super().__init__()
        self._start = int(time.time()) if start is None else int(start)
        self._now = self._start

    def now(self) -> int:
        """Current (frozen) time in Unix seconds."""
        return self._now

    def set(self, timestamp: int) -> None:
        """Jump to ``timestamp``."""
        with self._lock:
            self._now = int(timestamp)

    def advance(self, seconds: float) -> None:
        """Move forward (or backward, if negative) by ``seconds``."""
        with self._lock:
            self._now += int(seconds)

    def reset(self) -> None:
        """Back to the start time."""
        with self._lock:
            self._now = self._start
