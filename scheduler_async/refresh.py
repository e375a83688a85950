"""Self-refreshing scheduler sessions.

A session token lives ``time_to_live`` minutes (at most 30). :class:`AsyncSessionRefresher` keeps
one valid token for a configuration: it creates a session on first use, renews it shortly before
its TTL runs out or after the server refused it (401), and lets concurrent callers share a single
renewal instead of each creating its own session.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from ._args import check_int
from ._closing import AsyncClosing
from .errors import AuthenticationError, SchedulerError

if TYPE_CHECKING:
    from .client import AsyncScheduler

__all__ = ["AsyncSessionRefresher"]

T = TypeVar("T")


class AsyncSessionRefresher(AsyncClosing):
    """Keeps a valid scheduler session for one configuration (by id or slug).

    ``refresh_margin`` seconds before the TTL ends, the next caller renews the session; every
    concurrent caller waits for that one renewal. :meth:`run` also renews once when the server
    answers 401 for the token it used. Use it as an async context manager, or call
    :meth:`aclose` (which revokes the current session) when done.
    """

    def __init__(
        self,
        client: AsyncScheduler,
        *,
        configuration_id: str | None = None,
        slug: str | None = None,
        time_to_live: int = 10,
        refresh_margin: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if (configuration_id is None) == (slug is None):
            raise ValueError("pass exactly one of configuration_id or slug")
        check_int(time_to_live, "time_to_live", minimum=1)
        if time_to_live > 30:
            raise ValueError("time_to_live is in minutes and must be <= 30")
        if refresh_margin < 0 or refresh_margin >= time_to_live * 60:
            raise ValueError("refresh_margin must be >= 0 and shorter than the TTL")
        self._client = client
        self._configuration_id = configuration_id
        self._slug = slug
        self._ttl = time_to_live
        self._margin = refresh_margin
        self._clock = clock
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = asyncio.Lock()
        self._closed = False
        self.renewals = 0
        """How many sessions were created so far."""

    def __repr__(self) -> str:
        target = self._configuration_id or self._slug
        return f"AsyncSessionRefresher(configuration={target!r}, renewals={self.renewals})"

    async def session_id(self) -> str:
        """A session token valid for at least ``refresh_margin`` more seconds."""
        token = self._token
        if token is not None and self._clock() < self._renew_at:
            return token
        return await self._renew(stale=token)

    async def invalidate(self, session_id: str) -> None:
        """Report that ``session_id`` was refused; the next :meth:`session_id` renews (once)."""
        if self._token == session_id:
            self._renew_at = 0.0

    async def run(self, call: Callable[[str], Awaitable[T]]) -> T:
        """``await call(token)``; if it raises 401 for that token, renew once and call again."""
        token = await self.session_id()
        try:
            return await call(token)
        except AuthenticationError:
            await self.invalidate(token)
            return await call(await self.session_id())

    async def aclose(self) -> None:
        """Revoke the current session (best effort) and stop renewing."""
        self._closed = True
        token, self._token = self._token, None
        if token is not None and not self._client.closed:
            with contextlib.suppress(SchedulerError):
                await self._client.sessions.delete(token)

    async def _renew(self, *, stale: str | None) -> str:
        async with self._lock:
            if self._closed:
                raise RuntimeError("this session refresher is closed")
            token = self._token
            if token is not None and token != stale and self._clock() < self._renew_at:
                return token  # someone else renewed while we waited: share it
            started = self._clock()
            session = await self._client.sessions.create(
                configuration_id=self._configuration_id,
                slug=self._slug,
                time_to_live=self._ttl,
            )
            self._token = session.session_id
            self._renew_at = started + self._ttl * 60 - self._margin
            self.renewals += 1
            return session.session_id
