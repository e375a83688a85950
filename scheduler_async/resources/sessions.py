"""Scheduler sessions: ``/v3/scheduling/sessions`` (API key auth)."""

from __future__ import annotations

from typing import Any

from .._args import check_int, check_str, path_id
from .._config import Timeout
from .._response import APIResponse
from ..models import Session
from ._base import PlainResource, Request, Resource, plain

__all__ = ["AsyncSessions", "AsyncSessionsWithResponse"]

_SESSION_LOG_PATH = "/v3/scheduling/sessions/{session_id}"


class AsyncSessionsWithResponse(Resource):
    """Session calls that return :class:`APIResponse`."""

    __slots__ = ()

    async def create(
        self,
        *,
        configuration_id: str | None = None,
        slug: str | None = None,
        time_to_live: int | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[Session]:
        """Open a session for a configuration (by id or slug); ``time_to_live`` is in minutes."""
        if (configuration_id is None) == (slug is None):
            raise ValueError("pass exactly one of configuration_id or slug")
        body: dict[str, Any] = {}
        if configuration_id is not None:
            body["configuration_id"] = check_str(configuration_id, "configuration_id")
        if slug is not None:
            body["slug"] = check_str(slug, "slug")
        if time_to_live is not None:
            check_int(time_to_live, "time_to_live", minimum=1)
            if time_to_live > 30:
                raise ValueError("time_to_live is in minutes and must be <= 30")
            body["time_to_live"] = time_to_live
        return await self._keyed(
            "POST",
            "/v3/scheduling/sessions",
            Session,
            body=body,
            repeatable=False,
            timeout=timeout,
            max_retries=max_retries,
        )

    async def delete(
        self,
        session_id: str,
        *,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[None]:
        """Delete (revoke) a session."""
        sid = path_id(session_id, "session_id")
        request = Request(
            method="DELETE",
            path=f"/v3/scheduling/sessions/{sid}",
            log_path=_SESSION_LOG_PATH,
            credential=self._api_key(),
            secrets=(session_id,),
        )
        return await self._call(request, None, timeout=timeout, max_retries=max_retries)


class AsyncSessions(PlainResource[AsyncSessionsWithResponse]):
    """``client.sessions``: open and revoke scheduler sessions for private configurations."""

    __slots__ = ()

    create = plain(AsyncSessionsWithResponse.create)
    delete = plain(AsyncSessionsWithResponse.delete)
