"""Grants: ``GET /v3/grants/{grant_id}`` (API key; ``"me"`` with an access token)."""

from __future__ import annotations

from .._config import Timeout
from .._response import APIResponse
from ..models import Grant
from ._base import PlainResource, Resource, plain

__all__ = ["AsyncGrants", "AsyncGrantsWithResponse"]


class AsyncGrantsWithResponse(Resource):
    """Grant calls that return :class:`APIResponse`."""

    __slots__ = ()

    async def get(
        self,
        *,
        grant_id: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[Grant]:
        """Get a grant (default: the client's) — its email, provider and status.

        ``grant_id="me"`` names the grant of the access token the client was given as its key
        (the API answers 400 for ``me`` with an API key, which names no grant).
        """
        path = f"/v3/grants/{self._grant(grant_id)}"
        return await self._keyed("GET", path, Grant, timeout=timeout, max_retries=max_retries)


class AsyncGrants(PlainResource[AsyncGrantsWithResponse]):
    """``client.grants``: the connected account behind a grant id."""

    __slots__ = ()

    get = plain(AsyncGrantsWithResponse.get)
