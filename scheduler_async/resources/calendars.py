"""Calendars of a grant: ``/v3/grants/{grant_id}/calendars`` (API key, or an access token)."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from .._args import check_int, check_str, path_id
from .._config import Timeout
from .._response import APIResponse
from ..models import Calendar, Page
from ..pagination import paginate, read_page
from ._base import PlainResource, Request, Resource, plain, structure_data

if TYPE_CHECKING:
    from .._transport import Response

__all__ = ["AsyncCalendars", "AsyncCalendarsWithResponse"]


def _page(request: Request, response: Response) -> Page[Calendar]:
    items = structure_data(request, response, tuple[Calendar, ...])
    return read_page(request, response, items)


class AsyncCalendarsWithResponse(Resource):
    """Calendar calls that return :class:`APIResponse`."""

    __slots__ = ()

    async def get(
        self,
        calendar_id: str,
        *,
        grant_id: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[Calendar]:
        """Get one calendar by id (``"primary"`` names the grant's primary calendar)."""
        cal = path_id(calendar_id, "calendar_id")
        path = f"/v3/grants/{self._grant(grant_id)}/calendars/{cal}"
        request = Request(method="GET", path=path, credential=self._api_key())
        return await self._call(request, Calendar, timeout=timeout, max_retries=max_retries)

    async def list_page(
        self,
        *,
        limit: int | None = None,
        page_token: str | None = None,
        grant_id: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[Page[Calendar]]:
        """Get one page of the grant's calendars; pass the previous ``next_cursor`` as token."""
        params: dict[str, str] = {}
        if limit is not None:
            check_int(limit, "limit", minimum=1)
            if limit > 200:
                raise ValueError("limit must be <= 200")
            params["limit"] = str(limit)
        if page_token is not None:
            params["page_token"] = check_str(page_token, "page_token")
        path = f"/v3/grants/{self._grant(grant_id)}/calendars"
        request = Request(method="GET", path=path, credential=self._api_key(), query=params)
        return await self._call(request, _page, timeout=timeout, max_retries=max_retries)


class AsyncCalendars(PlainResource[AsyncCalendarsWithResponse]):
    """``client.calendars``: the grant's calendars (ids for ``calendar_ids``)."""

    __slots__ = ()

    get = plain(AsyncCalendarsWithResponse.get)
    list_page = plain(AsyncCalendarsWithResponse.list_page)

    async def list(
        self,
        *,
        limit: int | None = None,
        grant_id: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> AsyncIterator[Calendar]:
        """Iterate over every calendar of the grant, page by page."""
        fetch = functools.partial(
            self.list_page, limit=limit, grant_id=grant_id, timeout=timeout, max_retries=max_retries
        )
        async for item in paginate(fetch, "page_token"):
            yield item
