"""Bulk operations with bounded concurrency: availability sweeps and booking fan-out.

Results are yielded as they complete. Each result carries its query (or request) and either the
value or the error, so one failure never aborts the rest. Leaving the ``async for`` early and
closing the iterator (``contextlib.aclosing`` makes that immediate) cancels the work still in
flight. When the server answers 429, the client's transport pauses every request of the client
until the ``Retry-After`` has passed, so the whole sweep slows down together.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from typing import Any, TextIO, TypeVar

import attrs

from ._args import TimeLike
from .errors import OutcomeUnknownError, SchedulerError
from .models import AdditionalGuest, Availability, Booking, BookingParticipant, Guest

__all__ = [
    "AvailabilityQuery",
    "BookingRequest",
    "BookingResult",
    "Progress",
    "SweepResult",
    "fan_out",
]

logger = logging.getLogger("scheduler_async")

Q = TypeVar("Q")
R = TypeVar("R")


@attrs.frozen(slots=True, kw_only=True)
class AvailabilityQuery:
    """One availability question of a sweep: a window and how to reach the configuration."""

    start_time: TimeLike
    end_time: TimeLike
    configuration_id: str | None = None
    session_id: str | None = attrs.field(default=None, repr=False)
    slug: str | None = None
    client_id: str | None = None
    booking_id: str | None = None
    tag: Any = None
    """Anything of yours to recognise the answer by."""


@attrs.frozen(slots=True, kw_only=True)
class SweepResult:
    """The answer to one :class:`AvailabilityQuery`: ``availability`` or ``error``."""

    query: AvailabilityQuery
    availability: Availability | None = None
    error: SchedulerError | None = None

    @property
    def ok(self) -> bool:
        """Whether the query succeeded."""
        return self.error is None


@attrs.frozen(slots=True, kw_only=True)
class BookingRequest:
    """One booking of a fan-out (the arguments of ``bookings.create``)."""

    start_time: TimeLike
    end_time: TimeLike
    guest: Guest
    configuration_id: str | None = None
    session_id: str | None = attrs.field(default=None, repr=False)
    slug: str | None = None
    client_id: str | None = None
    participants: tuple[BookingParticipant, ...] | None = None
    additional_guests: tuple[AdditionalGuest, ...] | None = None
    additional_fields: dict[str, Any] | None = None
    timezone: str | None = None
    email_language: str | None = None
    tag: Any = None


@attrs.frozen(slots=True, kw_only=True)
class BookingResult:
    """The outcome of one :class:`BookingRequest`.

    ``booking`` when created; otherwise ``error``. ``outcome_unknown`` is true when the booking
    may exist (the error is then an :class:`OutcomeUnknownError`): check before booking again.
    """

    request: BookingRequest
    booking: Booking | None = None
    error: SchedulerError | None = None

    @property
    def ok(self) -> bool:
        """Whether the booking was created."""
        return self.error is None

    @property
    def outcome_unknown(self) -> bool:
        """Whether the booking may or may not exist."""
        return isinstance(self.error, OutcomeUnknownError)


@attrs.frozen(slots=True)
class Progress:
    """Progress of a bulk call, passed to the ``progress`` callback after each item."""

    done: int
    total: int | None
    errors: int


class _Bar:
    """A dependency-free text progress bar on stderr, redrawn at most 10 times a second."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr
        self._last = 0.0

    def __call__(self, p: Progress, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._last < 0.1:
            return
        self._last = now
        if p.total:
            filled = int(30 * p.done / p.total)
            bar = "#" * filled + "." * (30 - filled)
            text = f"\r[{bar}] {p.done}/{p.total} errors={p.errors}"
        else:
            text = f"\r{p.done} done, errors={p.errors}"
        self._stream.write(text + ("\n" if final else ""))
        self._stream.flush()


class _Crash:
    __slots__ = ("exc",)

    def __init__(self, exc: Exception) -> None:
        self.exc = exc


async def fan_out(
    items: Iterable[Q],
    call: Callable[[Q], Awaitable[R]],
    wrap: Callable[[Q, R | None, SchedulerError | None], Any],
    *,
    concurrency: int,
    progress: Callable[[Progress], None] | None = None,
    progress_bar: bool = False,
    pool_limit: int = 0,
) -> AsyncGenerator[Any, None]:
    """Run ``call`` on every item with at most ``concurrency`` in flight; yield wrapped results.

    ``SchedulerError`` (and ``ValueError``/``TypeError`` from argument checks, wrapped) become
    the item's error; anything else propagates and cancels the rest.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError("concurrency must be an int >= 1")
    if pool_limit and concurrency > pool_limit:
        logger.warning(
            "concurrency=%d is above the connection pool's max_connections=%d: at most %d "
            "requests are in flight; create the client with limits=Limits(max_connections=%d)",
            concurrency,
            pool_limit,
            pool_limit,
            concurrency,
        )
    items = list(items) if not isinstance(items, list | tuple) else items
    total = len(items)
    source = iter(items)
    results: asyncio.Queue[Any] = asyncio.Queue()
    bar = _Bar() if progress_bar else None
    done = errors = 0

    async def worker() -> None:
        try:
            for item in source:
                try:
                    value = await call(item)
                except SchedulerError as exc:
                    results.put_nowait(wrap(item, None, exc))
                except (ValueError, TypeError) as exc:
                    results.put_nowait(wrap(item, None, SchedulerError(f"invalid item: {exc}")))
                else:
                    results.put_nowait(wrap(item, value, None))
        except Exception as exc:  # a bug or an unexpected error: stop the whole fan-out
            results.put_nowait(_Crash(exc))

    workers = [asyncio.ensure_future(worker()) for _ in range(min(concurrency, total))]
    try:
        for _ in range(total):
            result = await results.get()
            if isinstance(result, _Crash):
                raise result.exc
            done += 1
            errors += result.error is not None
            if progress is not None or bar is not None:
                p = Progress(done, total, errors)
                if progress is not None:
                    progress(p)
                if bar is not None:
                    bar(p, final=done == total)
            yield result
    finally:
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
