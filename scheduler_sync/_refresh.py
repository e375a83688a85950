"""``SessionRefresher``: the sync twin of :class:`~scheduler_async.AsyncSessionRefresher`.

Hand-written (its ``run`` takes a plain callable, which no generator can derive from an
``async`` callback) and re-exported by the generated ``scheduler_sync`` package. It runs on the
event loop of the sync client it is given, so the renewal is shared by every thread.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from scheduler_async.errors import AuthenticationError
from scheduler_async.refresh import AsyncSessionRefresher

__all__ = ["SessionRefresher"]

T = TypeVar("T")


class SessionRefresher:
    """Keeps a valid scheduler session for one configuration, for sync code and threads.

    ``client`` is a ``scheduler_sync.Scheduler``. Concurrent threads share one renewal. Use it as
    a context manager or call :meth:`close` (which revokes the current session).
    """

    def __init__(
        self,
        client: Any,
        *,
        configuration_id: str | None = None,
        slug: str | None = None,
        time_to_live: int = 10,
        refresh_margin: float = 30.0,
    ) -> None:
        self._rt = client._rt
        self._inner: AsyncSessionRefresher = AsyncSessionRefresher(
            client._inner,
            configuration_id=configuration_id,
            slug=slug,
            time_to_live=time_to_live,
            refresh_margin=refresh_margin,
        )

    def __repr__(self) -> str:
        return repr(self._inner).replace("AsyncSessionRefresher", "SessionRefresher", 1)

    def __enter__(self) -> SessionRefresher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def renewals(self) -> int:
        """How many sessions were created so far."""
        return self._inner.renewals

    def session_id(self) -> str:
        """A session token valid for at least ``refresh_margin`` more seconds."""
        result: str = self._rt.call(self._inner.session_id)
        return result

    def invalidate(self, session_id: str) -> None:
        """Report that ``session_id`` was refused; the next :meth:`session_id` renews (once)."""
        self._rt.call(functools.partial(self._inner.invalidate, session_id))

    def run(self, call: Callable[[str], T]) -> T:
        """``call(token)``; if it raises 401 for that token, renew once and call again."""
        token = self.session_id()
        try:
            return call(token)
        except AuthenticationError:
            self.invalidate(token)
            return call(self.session_id())

    def close(self) -> None:
        """Revoke the current session (best effort) and stop renewing. Idempotent."""
        if not self._rt.closed:
            self._rt.call(self._inner.aclose)
