"""Bulk operations with bounded concurrency: availability sweeps and booking fan-out.

Results are yielded as they complete. Each result carries its query (or request) and either the
value or the error, so one failure never aborts the rest. Leaving the ``async for`` early and
closing the iterator (``contextlib.aclosing`` makes that immediate) cancels the work still in
flight. When the server answers 429, the client's rate limiter paces every request of the
client at a rate learned from the server's answers (the refused one waits its ``Retry-After``),
so the whole sweep slows down together; a fresh default client also starts gently (slow start).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from typing import Any, TypeVar

import attrs

from ._args import TimeLike
from .errors import OutcomeUnknownError, SchedulerError
from .models import (
    AdditionalGuest,
    Availability,
    Booking,
    BookingParticipant,
    Guest,
    TimeSlot,
)
from .progress import Progress, ProgressDisplay, ProgressTracker

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


class _Outcome:
    """The ``ok`` of a result of a bulk call: its ``error`` is ``None``."""

    __slots__ = ()

    error: SchedulerError | None

    @property
    def ok(self) -> bool:
        """Whether the call succeeded (``error`` is ``None``)."""
        return self.error is None


@attrs.frozen(slots=True, kw_only=True)
class SweepResult(_Outcome):
    """The answer to one :class:`AvailabilityQuery`: ``availability`` or ``error``."""

    query: AvailabilityQuery
    availability: Availability | None = None
    error: SchedulerError | None = None


@attrs.frozen(slots=True, kw_only=True)
class BookingRequest:
    """One booking of a fan-out: the arguments of ``bookings.create`` (every field but ``tag``
    is passed on), so ``slot=`` (a :class:`TimeSlot`, e.g. a seat of a group event) or
    ``start_time``/``end_time``."""

    start_time: TimeLike | None = None
    end_time: TimeLike | None = None
    guest: Guest
    slot: TimeSlot | None = None
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
    """Yours: carried to the :class:`BookingResult`, never sent."""


@attrs.frozen(slots=True, kw_only=True)
class BookingResult(_Outcome):
    """The outcome of one :class:`BookingRequest`.

    ``booking`` when created; otherwise ``error``. ``outcome_unknown`` is true when the booking
    may exist (the error is then an :class:`OutcomeUnknownError`): check before booking again.
    """

    request: BookingRequest
    booking: Booking | None = None
    error: SchedulerError | None = None

    @property
    def outcome_unknown(self) -> bool:
        """Whether the booking may or may not exist."""
        return isinstance(self.error, OutcomeUnknownError)


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
    label: str = "progress",
) -> AsyncGenerator[Any, None]:
    """Run ``call`` on every item with at most ``concurrency`` in flight; yield wrapped results.

    ``SchedulerError`` (and ``ValueError``/``TypeError`` from argument checks, wrapped) become
    the item's error; anything else propagates and cancels the rest. ``progress`` is called
    with a :class:`Progress` snapshot as each item finishes; ``progress_bar`` draws one at once
    and then on a steady refresh (see :mod:`scheduler_async.progress`).
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
    tracker = ProgressTracker(total)
    display = ProgressDisplay(tracker, label=label) if progress_bar else None

    def finished(result: Any) -> None:
        # Counted when the answer arrives, not when the consumer reads it: the counts the
        # callback and the display see are the true ones.
        tracker.finished(error=result.error is not None)
        results.put_nowait(result)
        if progress is not None:
            progress(tracker.snapshot())

    async def worker() -> None:
        try:
            for item in source:
                tracker.started()
                try:
                    value = await call(item)
                except SchedulerError as exc:
                    finished(wrap(item, None, exc))
                except (ValueError, TypeError) as exc:
                    finished(wrap(item, None, SchedulerError(f"invalid item: {exc}")))
                else:
                    finished(wrap(item, value, None))
        except Exception as exc:  # a bug or an unexpected error: stop the whole fan-out
            results.put_nowait(_Crash(exc))

    if display is not None:
        await display.__aenter__()
    workers = [asyncio.ensure_future(worker()) for _ in range(min(concurrency, total))]
    try:
        for _ in range(total):
            result = await results.get()
            if isinstance(result, _Crash):
                raise result.exc
            yield result
    finally:
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        if display is not None:
            await display.aclose()
