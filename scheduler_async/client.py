"""``AsyncScheduler``: the client. One aiohttp session per client, reused for every call."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import attrs

from ._closing import AsyncClosing
from ._config import REGIONS, Limits, Timeout, resolve_base_url, resolve_setting
from ._raw import QueryValue, raw_request
from ._response import APIResponse
from ._retry import RetryPolicy
from ._transport import Transport
from .ratelimit import RateLimiter, RateLimitSpec, coerce_rate_limit
from .resources import (
    AsyncAvailability,
    AsyncBookings,
    AsyncCalendars,
    AsyncConfigurations,
    AsyncGrants,
    AsyncSessions,
    AsyncUISettings,
)
from .resources._base import api_response
from .resources.group_events import AsyncGroupEvents
from .resources.webhooks import AsyncWebhooks

if TYPE_CHECKING:
    import aiohttp

__all__ = ["REGIONS", "AsyncScheduler"]


class AsyncScheduler(AsyncClosing):
    """Async client of the Nylas v3 Scheduler API.

    Use it as ``async with AsyncScheduler(...) as client:`` or call :meth:`aclose` when done.
    Credentials default to the environment: ``NYLAS_API_KEY``, ``NYLAS_GRANT_ID`` and
    ``NYLAS_API_URI`` (base URL); an explicit argument always wins, and ``region`` with
    ``base_url`` is a ``ValueError`` (the table is in the README). The API key is only needed
    for configurations and sessions; public configurations are reached with
    ``configuration_id``/``slug`` and no key at all.

    The aiohttp session is created lazily inside the running event loop on first use. Pass
    ``session=`` to use your own ``aiohttp.ClientSession`` (it is then never closed by us).
    A client belongs to the event loop it first ran on; share it across tasks, not loops. A
    client dropped without :meth:`aclose` closes its connections as it is collected and warns
    with a ``ResourceWarning`` naming it (shown under ``python -X dev`` and in pytest).

    ``rate_limit`` is the budget consulted before every attempt (retries included) and told of
    every 429: ``None`` (default) starts gently and, after a 429, paces this client's calls at a
    rate learned from the server's answers; a number is requests per second in this process
    (:class:`LocalRateLimiter`); a :class:`RateLimiter` such as ``RedisRateLimiter`` is shared,
    and stays yours to close. A call whose wait would outlast its ``timeout`` or the retry
    deadline fails at once with :class:`RateLimitWaitError` (a ``RateLimitError``) and sends
    nothing.

    Settings are stripped of surrounding whitespace (a key read from a file with its newline
    works); a key with a control character inside is a ``ValueError`` naming the setting, never
    showing the key. ``HTTP_PROXY``/``HTTPS_PROXY``/``NO_PROXY`` are honoured, read when the
    client is created (``~/.netrc`` is not read); ``trust_env=False`` ignores them. With
    ``session=`` your session decides.
    """

    configurations: AsyncConfigurations
    """Create, get, list, update and delete configurations (API key)."""
    sessions: AsyncSessions
    """Open and revoke scheduler sessions (API key)."""
    availability: AsyncAvailability
    """Read bookable time slots (session token or public reference)."""
    bookings: AsyncBookings
    """Create and manage bookings (session token or public reference)."""
    group_events: AsyncGroupEvents
    """Group events of group configurations: list, create, update, delete, import (API key)."""
    webhooks: AsyncWebhooks
    """Register and manage booking webhooks; rotate their secrets (API key)."""
    ui_settings: AsyncUISettings
    """What the booking page loads for a configuration (session token or public reference)."""
    calendars: AsyncCalendars
    """The grant's calendars: ids to put in ``calendar_ids`` (API key)."""
    grants: AsyncGrants
    """The grant itself: email, provider, status (API key; ``me`` with an access token)."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        grant_id: str | None = None,
        region: Literal["us", "eu"] | None = None,
        base_url: str | None = None,
        client_id: str | None = None,
        timeout: Timeout | float = Timeout(),  # noqa: B008 - immutable
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        limits: Limits = Limits(),  # noqa: B008 - immutable
        session: aiohttp.ClientSession | None = None,
        user_agent: str | None = None,
        max_response_bytes: int = 16 * 1024 * 1024,
        rate_limit: RateLimitSpec = None,
        trust_env: bool = True,
    ) -> None:
        environ = os.environ
        api_key = resolve_setting(api_key, "api_key", "NYLAS_API_KEY", environ, secret=True)
        grant_id = resolve_setting(grant_id, "grant_id", "NYLAS_GRANT_ID", environ)
        base_url = resolve_base_url(base_url, region, environ)
        policy = retry if retry is not None else RetryPolicy()
        if max_retries is not None:
            policy = attrs.evolve(policy, max_retries=max_retries)
        if isinstance(max_response_bytes, bool) or not isinstance(max_response_bytes, int):
            raise TypeError("max_response_bytes must be an int")
        if max_response_bytes <= 0:
            raise ValueError("max_response_bytes must be > 0")
        if not isinstance(trust_env, bool):
            raise TypeError("trust_env must be a bool")
        limiter = coerce_rate_limit(rate_limit)
        self._owns_limiter = limiter is not rate_limit
        self._transport = Transport(
            base_url=base_url,
            api_key=api_key,
            timeout=Timeout.coerce(timeout, Timeout()),
            limits=limits,
            retry=policy,
            session=session,
            user_agent=user_agent,
            max_response_bytes=max_response_bytes,
            rate_limiter=limiter,
            trust_env=trust_env,
        )
        self.grant_id = grant_id
        self._has_api_key = api_key is not None
        self.configurations = AsyncConfigurations(self._transport, grant_id)
        self.sessions = AsyncSessions(self._transport, grant_id)
        self.availability = AsyncAvailability(self._transport, grant_id, client_id)
        self.bookings = AsyncBookings(self._transport, grant_id, client_id)
        self.group_events = AsyncGroupEvents(self._transport, grant_id, client_id)
        self.webhooks = AsyncWebhooks(self._transport, grant_id, client_id)
        self.ui_settings = AsyncUISettings(self._transport, grant_id, client_id)
        self.calendars = AsyncCalendars(self._transport, grant_id, client_id)
        self.grants = AsyncGrants(self._transport, grant_id, client_id)

    @property
    def base_url(self) -> str:
        """The API base URL in use."""
        return str(self._transport.base_url)

    @property
    def rate_limit(self) -> RateLimiter:
        """The rate limiter in use (see ``rate_limit=``)."""
        return self._transport.rate_limiter

    @property
    def closed(self) -> bool:
        """Whether the client was closed."""
        return self._transport.closed

    def __repr__(self) -> str:
        return f"AsyncScheduler(base_url={self.base_url!r}, grant_id={self.grant_id!r})"

    def __del__(self, _warn: Any = warnings.warn) -> None:
        # Dropped without aclose(): say which client leaked (aiohttp's own warning names only
        # "client session") and close its connections without awaiting.
        try:
            leaked = self._transport.abandon()
        except Exception:  # pragma: no cover - interpreter shutdown, a half-built client
            return
        if leaked:
            _warn(
                f"unclosed {self!r}: use 'async with AsyncScheduler(...) as client:' or "
                "'await client.aclose()'",
                ResourceWarning,
                source=self,
            )

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, QueryValue] | None = None,
        json: Any = None,
        session_id: str | None = None,
        idempotent: bool | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[dict[str, Any]]:
        """Call an endpoint this client does not wrap, through the same transport.

        ``path`` is the path under ``base_url`` (``"/v3/grants/<grant_id>/calendars"``;
        percent-encode ids yourself), ``query`` its parameters, ``json`` the request body. It
        authenticates with ``session_id`` (a session token) if given, else with the client's
        API key (none when it has none). Limits, the rate budget, scrubbing of secrets and the
        typed errors are those of every call. Retries follow the method: GET, HEAD, OPTIONS,
        PUT and DELETE are retried; POST and PATCH never once they may have reached the
        server (``OutcomeUnknownError``), unless you pass ``idempotent=True``
        (``idempotent=False`` stops retries of a PUT/DELETE).

        Returns an :class:`APIResponse` whose ``data`` is the whole decoded JSON object
        (``request_id``, ``data``, ``next_cursor``, ...). An answer that is not a JSON object
        is a ``MalformedResponseError``.
        """
        request = raw_request(
            method,
            path,
            query=query,
            json=json,
            session_id=session_id,
            api_key=self._transport.api_key_credential() if self._has_api_key else None,
            idempotent=idempotent,
        )
        response = await self._transport.send(request, timeout=timeout, max_retries=max_retries)
        return api_response(response, response.body)

    async def aclose(self) -> None:
        """Close the connection pool (not a session or a rate limiter you passed in). Safe to
        call twice."""
        await self._transport.aclose()
        if self._owns_limiter:
            await self._transport.rate_limiter.aclose()
