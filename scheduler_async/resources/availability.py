"""Availability: ``GET /v3/scheduling/availability`` (session token or public reference)."""

from __future__ import annotations

from typing import Any

from .._args import TimeLike, check_str, scheduling_auth, window
from .._config import Timeout
from .._response import APIResponse
from ..models import Availability
from ._base import Resource

__all__ = ["AsyncAvailability", "AsyncAvailabilityWithResponse"]


class AsyncAvailabilityWithResponse(Resource):
    """Availability calls that return :class:`APIResponse`."""

    __slots__ = ("_client_id",)

    def __init__(self, transport: Any, grant_id: str | None, client_id: str | None = None) -> None:
        super().__init__(transport, grant_id)
        self._client_id = client_id

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
        credential, params = scheduling_auth(
            session_id=session_id,
            configuration_id=configuration_id,
            slug=slug,
            client_id=client_id if client_id is not None else self._client_id,
        )
        params = {"start_time": str(start), "end_time": str(end), **params}
        if booking_id is not None:
            params["booking_id"] = check_str(booking_id, "booking_id")
        path = "/v3/scheduling/availability"
        raw = await self._send(
            "GET",
            path,
            credential=credential,
            params=params,
            timeout=timeout,
            max_retries=max_retries,
        )
        return self._wrap(raw, self._parse(raw, Availability, method="GET", log_path=path))


class AsyncAvailability(Resource):
    """``client.availability``: read bookable time slots."""

    __slots__ = ("with_response",)

    def __init__(self, transport: Any, grant_id: str | None, client_id: str | None = None) -> None:
        super().__init__(transport, grant_id)
        self.with_response = AsyncAvailabilityWithResponse(transport, grant_id, client_id)
        """The same calls, returning :class:`APIResponse`."""

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
    ) -> Availability:
        """Bookable slots between ``start_time`` and ``end_time``.

        Authenticate with ``session_id`` (private configurations) or name a public configuration
        with ``configuration_id`` or ``slug`` (+ ``client_id``). ``booking_id`` looks for a new
        slot for an existing round-robin booking.
        """
        resp = await self.with_response.get(
            start_time=start_time,
            end_time=end_time,
            session_id=session_id,
            configuration_id=configuration_id,
            slug=slug,
            client_id=client_id,
            booking_id=booking_id,
            timeout=timeout,
            max_retries=max_retries,
        )
        return resp.data
