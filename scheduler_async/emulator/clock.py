"""Business clocks of the emulator: :class:`Clock` (wall time plus an offset) and
:class:`FakeClock` (frozen, moved only by ``set``/``advance``)."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from scheduler_async._args import to_unix

__all__ = ["Clock", "FakeClock", "unix_seconds"]


def unix_seconds(value: datetime | float, name: str = "time") -> int:
    """Unix seconds from what the client accepts too: an aware ``datetime`` or a number."""
    if isinstance(value, datetime):
        return to_unix(value, name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be an aware datetime or Unix seconds")
    return int(value)


def _seconds(value: float | timedelta) -> int:
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    return int(value)


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

    def set(self, timestamp: datetime | float) -> None:
        """Make ``now()`` return ``timestamp`` (then keep ticking); aware datetime or seconds."""
        value = unix_seconds(timestamp, "timestamp")
        with self._lock:
            self._offset = value - int(time.time())

    def advance(self, seconds: float | timedelta) -> None:
        """Move the clock forward (or backward, if negative) by seconds or a ``timedelta``."""
        with self._lock:
            self._offset += _seconds(seconds)

    def reset(self) -> None:
        """Back to wall time."""
        with self._lock:
            self._offset = 0


class FakeClock(Clock):
    """A frozen business clock: it only moves through ``set`` and ``advance``.

    ``start`` defaults to the wall time at construction; :meth:`reset` returns to ``start``.
    """

    def __init__(self, start: datetime | float | None = None) -> None:
        super().__init__()
        self._start = int(time.time()) if start is None else unix_seconds(start, "start")
        self._now = self._start

    def now(self) -> int:
        """Current (frozen) time in Unix seconds."""
        return self._now

    def set(self, timestamp: datetime | float) -> None:
        """Jump to ``timestamp`` (aware datetime or Unix seconds)."""
        value = unix_seconds(timestamp, "timestamp")
        with self._lock:
            self._now = value

    def advance(self, seconds: float | timedelta) -> None:
        """Move forward (or backward, if negative) by seconds or a ``timedelta``."""
        with self._lock:
            self._now += _seconds(seconds)

    def reset(self) -> None:
        """Back to the start time."""
        with self._lock:
            self._now = self._start
