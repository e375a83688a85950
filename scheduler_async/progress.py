"""Progress of bulk calls: live counts, and a display that refreshes on a steady clock.

A bulk call (``availability.sweep``, ``bookings.create_many``) keeps a :class:`ProgressTracker`:
workers count items as they start and finish, so the numbers are true the moment they change,
not when the consumer happens to read the next result. With ``progress_bar=True`` a
:class:`ProgressDisplay` draws at once and then every ``refresh`` seconds:

- on a terminal, a tqdm bar when tqdm is installed (``pip install 'scheduler-client[progress]'``),
  else one status line redrawn in place;
- when the stream is not a terminal (CI logs, ``nohup``), one plain line every
  ``log_interval`` seconds (and a last one at the end), so logs are not flooded with ``\\r``.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

import attrs

__all__ = ["Progress", "ProgressDisplay", "ProgressTracker"]


def _duration(seconds: float | None) -> str:
    if seconds is None or math.isinf(seconds) or math.isnan(seconds):
        return "?"
    seconds = round(seconds)
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


@attrs.frozen(slots=True)
class Progress:
    """A snapshot of a bulk call: counts, throughput and the estimated time left."""

    done: int
    total: int | None
    errors: int
    in_flight: int = 0
    elapsed: float = attrs.field(default=0.0, eq=False)
    """Seconds since the start (not part of equality: two snapshots compare by counts)."""

    @property
    def rate(self) -> float:
        """Items finished per second since the start (0.0 before the first one)."""
        return self.done / self.elapsed if self.elapsed > 0 and self.done else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left at the current rate, or ``None`` while unknown."""
        if self.total is None or not self.rate:
            return None
        return max(self.total - self.done, 0) / self.rate

    def describe(self) -> str:
        """One human line: ``120/1000 done, 3 errors, 200 in flight, 85.0/s, ETA 10s``."""
        total = "?" if self.total is None else str(self.total)
        return (
            f"{self.done}/{total} done, {self.errors} errors, {self.in_flight} in flight, "
            f"{self.rate:.1f}/s, elapsed {_duration(self.elapsed)}, ETA {_duration(self.eta)}"
        )


class ProgressTracker:
    """Live counters of one bulk call; cheap to update from every worker."""

    __slots__ = ("_clock", "_started", "done", "errors", "in_flight", "total")

    def __init__(self, total: int | None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.total = total
        self.done = 0
        self.errors = 0
        self.in_flight = 0
        self._clock = clock
        self._started = clock()

    def started(self) -> None:
        """An item was sent."""
        self.in_flight += 1

    def finished(self, *, error: bool) -> None:
        """An item came back (``error`` when it failed)."""
        self.in_flight -= 1
        self.done += 1
        self.errors += error

    def snapshot(self) -> Progress:
        """The counts as they are now."""
        return Progress(
            done=self.done,
            total=self.total,
            errors=self.errors,
            in_flight=self.in_flight,
            elapsed=self._clock() - self._started,
        )


def _is_tty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):
        return False


class ProgressDisplay:
    """Draws a tracker's progress now and then on a steady refresh until closed.

    Use as an async context manager around the bulk call; ``refresh`` is the terminal redraw
    period, ``log_interval`` the period of plain lines when ``stream`` is not a terminal.
    """

    def __init__(
        self,
        tracker: ProgressTracker,
        *,
        stream: TextIO | None = None,
        refresh: float = 0.2,
        log_interval: float = 10.0,
        label: str = "progress",
        use_tqdm: bool | None = None,
    ) -> None:
        self._tracker = tracker
        self._stream = stream if stream is not None else sys.stderr
        self._tty = _is_tty(self._stream)
        self._interval = refresh if self._tty else log_interval
        self._label = label
        self._task: asyncio.Task[None] | None = None
        self._bar: Any = None
        self._drawn_width = 0
        if self._tty and use_tqdm is not False:
            try:
                from tqdm import tqdm
            except ImportError:
                if use_tqdm:
                    raise ImportError(
                        "the tqdm bar needs tqdm: pip install 'scheduler-client[progress]'"
                    ) from None
            else:
                self._bar = tqdm(
                    total=tracker.total,
                    desc=label,
                    file=self._stream,
                    unit="item",
                    dynamic_ncols=True,
                    mininterval=0,
                    leave=True,
                )

    @property
    def interval(self) -> float:
        """Seconds between two draws."""
        return self._interval

    def draw(self, *, final: bool = False) -> None:
        """Draw the current counts (called by the refresh task; public for tests)."""
        p = self._tracker.snapshot()
        if self._bar is not None:
            self._bar.n = p.done
            self._bar.set_postfix(
                errors=p.errors, in_flight=p.in_flight, refresh=False, ordered_dict=None
            )
            self._bar.refresh()
            return
        line = f"{self._label}: {p.describe()}"
        if self._tty:
            pad = max(self._drawn_width - len(line), 0)
            self._drawn_width = len(line)
            self._stream.write("\r" + line + " " * pad + ("\n" if final else ""))
        else:
            self._stream.write(line + "\n")
        self._stream.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            self.draw()

    async def __aenter__(self) -> ProgressDisplay:
        self.draw()
        self._task = asyncio.ensure_future(self._run())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop refreshing and draw the final counts once."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        self.draw(final=True)
        if self._bar is not None:
            self._bar.close()
