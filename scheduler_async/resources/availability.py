"""Availability: ``GET /v3/scheduling/availability`` (session token or public reference)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterable

from .._args import TimeLike, check_str, window
from .._config import Timeout
from .._response import APIResponse
from ..errors import SchedulerError
from ..models import Availability
from ..sweep import AvailabilityQuery, Progress, SweepResult, fan_out
from ._base import PlainResource, Request, Resource, arguments_of, collect, plain

__all__ = ["AsyncAvailability", "AsyncAvailabilityWithResponse"]

_PATH = "/v3/scheduling/availability"


class AsyncAvailabilityWithResponse(Resource):
    """Availability calls that return :class:`APIResponse`."""

    __slots__ = ()

    async def get(
        self,
        *,
        start_time: TimeLike,
        end_time: TimeLike,
        session_id: str | None = None,
        configuration_id: str | None = None,
        slug: str | None = None,
        client_id: str | None = None,
        booking_id: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[Availability]:
        """Bookable slots between ``start_time`` and ``end_time``.

        Authenticate with ``session_id`` (private configurations) or name a public configuration
        with ``configuration_id`` or ``slug`` (+ ``client_id``). ``booking_id`` looks for a new
        slot for an existing round-robin booking.
        """
        start, end = window(start_time, end_time)
        credential, auth_query = self._scheduling_auth(
            session_id, configuration_id, slug, client_id
        )
        query = {"start_time": str(start), "end_time": str(end), **auth_query}
        if booking_id is not None:
            query["booking_id"] = check_str(booking_id, "booking_id")
        request = Request(method="GET", path=_PATH, credential=credential, query=query)
        return await self._call(request, Availability, timeout=timeout, max_retries=max_retries)


class AsyncAvailability(PlainResource[AsyncAvailabilityWithResponse]):
    """``client.availability``: read bookable time slots."""

    __slots__ = ()

    get = plain(AsyncAvailabilityWithResponse.get)

    async def sweep(
        self,
        queries: Iterable[AvailabilityQuery],
        *,
        concurrency: int = 50,
        progress: Callable[[Progress], None] | None = None,
        progress_bar: bool = False,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> AsyncIterator[SweepResult]:
        """Ask many availability queries with at most ``concurrency`` in flight.

        Yields a :class:`SweepResult` per query as each completes (not in input order); a failed
        query carries its error and never aborts the sweep. ``progress`` is called after each
        result; ``progress_bar=True`` draws one on stderr. Close the iterator (or use
        ``contextlib.aclosing``) to cancel what is still in flight when you stop early.
        """

        async def one(q: AvailabilityQuery) -> Availability:
            return await self.get(**arguments_of(q), timeout=timeout, max_retries=max_retries)

        def wrap(
            q: AvailabilityQuery, value: Availability | None, error: SchedulerError | None
        ) -> SweepResult:
            return SweepResult(query=q, availability=value, error=error)

        results = fan_out(
            queries,
            one,
            wrap,
            concurrency=concurrency,
            progress=progress,
            progress_bar=progress_bar,
            label="sweep",
            pool_limit=self._transport.limits.max_connections,
        )
        async with contextlib.aclosing(results):
            async for result in results:
                yield result

    sweep_all = collect(
        sweep, "Like :meth:`sweep`, collected into a list in completion order (one call from sync)."
    )
