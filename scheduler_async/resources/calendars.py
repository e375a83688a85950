"""Calendars of a grant: ``/v3/grants/{grant_id}/calendars`` (API key, or an access token)."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator

from .._args import path_id
from .._config import Timeout
from .._response import APIResponse
from ..models import Calendar, Page
from ..pagination import page_query, paginate
from ._base import PlainResource, Resource, page_of, plain

__all__ = ["AsyncCalendars", "AsyncCalendarsWithResponse"]


_page = page_of(Calendar)


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
        path = f"/v3/grants/{self._grant(grant_id)}/calendars/{path_id(calendar_id, 'calendar_id')}"
        return await self._keyed("GET", path, Calendar, timeout=timeout, max_retries=max_retries)

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
        query = page_query(limit, page_token)
        path = f"/v3/grants/{self._grant(grant_id)}/calendars"
        return await self._keyed(
            "GET", path, _page, query=query, timeout=timeout, max_retries=max_retries
        )


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
