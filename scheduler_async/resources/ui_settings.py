"""Booking-page settings: ``GET /v3/scheduling/ui-settings`` (session token or public reference)."""

from __future__ import annotations

from .._args import check_str
from .._config import Timeout
from .._response import APIResponse
from ..models.ui_settings import UISettings
from ._base import PlainResource, Request, Resource, plain

__all__ = ["AsyncUISettings", "AsyncUISettingsWithResponse"]

_PATH = "/v3/scheduling/ui-settings"


class AsyncUISettingsWithResponse(Resource):
    """UI-settings calls that return :class:`APIResponse`."""

    __slots__ = ()

    async def get(
        self,
        *,
        session_id: str | None = None,
        configuration_id: str | None = None,
        slug: str | None = None,
        client_id: str | None = None,
        booking_id: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[UISettings]:
        """What the ``<nylas-scheduling>`` booking page loads first for a configuration.

        Authenticate like availability: ``session_id`` (private configurations), or a public
        ``configuration_id``, or ``slug`` (+ ``client_id``). ``booking_id`` (rescheduling)
        adds the booking to prefill (:attr:`UISettings.booking`).
        """
        credential, query = self._scheduling_auth(session_id, configuration_id, slug, client_id)
        if booking_id is not None:
            query = {**query, "booking_id": check_str(booking_id, "booking_id")}
        request = Request(method="GET", path=_PATH, credential=credential, query=query)
        return await self._call(request, UISettings, timeout=timeout, max_retries=max_retries)


class AsyncUISettings(PlainResource[AsyncUISettingsWithResponse]):
    """``client.ui_settings``: the booking page's view of a configuration."""

    __slots__ = ()

    get = plain(AsyncUISettingsWithResponse.get)
