"""The one door to the network: the only module that touches ``aiohttp.ClientSession``.

A resource describes a call as a :class:`Request` value and gets one :class:`Response` value back
(or a typed error)::

    response = await transport.send(
        Request(method="GET", path="/v3/scheduling/availability", query={...}, credential=cred),
        timeout=None, max_retries=None,
    )
    response.body["data"], response.request_id, response.retries, response.elapsed

Inside: :meth:`Transport.send` makes one attempt; only when that attempt fails does the retry
loop (:meth:`Transport._send_again`, the policy of :mod:`scheduler_async._retry`) run. An attempt
builds the URL from the client's prebuilt base, adds the credential's header, follows same-host
redirects by hand, reads the answer with a size limit and decodes it (orjson when installed, the
``fast`` extra; the same results as ``json``). aiohttp exceptions map to (failure kind, error
class) through the :data:`_EXCEPTIONS` table; every error is built complete, once. Logs show
``Request.log_path`` (secrets replaced), never a credential.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import platform
import random
import re
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import aiohttp
import attrs
from multidict import CIMultiDict
from yarl import URL

from . import _fork, errors
from ._auth import NO_AUTH, Credential
from ._config import Limits, Timeout
from ._leak import close_without_awaiting
from ._proxy import DIRECT as _DIRECT
from ._proxy import EnvProxies
from ._retry import Failure, RetryBudget, RetryPolicy, decide, parse_retry_after
from ._scrub import ScrubbedCause, Secrets, forget_locals, safe_repr
from ._version import __version__
from .ratelimit import LocalRateLimiter, RateLimiter

if TYPE_CHECKING:
    from multidict import CIMultiDictProxy

__all__ = ["Request", "Response", "Transport", "safe_repr"]

logger = logging.getLogger("scheduler_async")

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_ContentEncodingError: Any = getattr(
    aiohttp, "http_exceptions", aiohttp
).ContentEncodingError  # raised by the payload parser while inflating gzip/deflate/br

_MAX_REDIRECTS = 5
_EXCERPT = 200

try:  # the optional ``fast`` extra: same decoded values, a third of the CPU
    import orjson

    _loads: Callable[[bytes | bytearray], Any] = orjson.loads

    def _dumps(value: Any) -> bytes:
        return orjson.dumps(value)

except ImportError:  # pragma: no cover - depends on the environment
    _loads = json.loads

    def _dumps(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode("utf-8")


@attrs.frozen(slots=True, kw_only=True)
class Request:
    """One API call as a resource describes it; the transport sends it (with retries)."""

    method: str
    path: str
    """Percent-encoded path, e.g. ``/v3/scheduling/bookings/b%2F1``."""
    log_path: str | None = None
    """What logs and errors show instead of ``path`` when the path holds a secret."""
    credential: Credential = NO_AUTH
    query: Mapping[str, str] | None = None
    body: Any = None
    """JSON-ready request body, or ``None`` for none."""
    repeatable: bool = True
    """Safe to send twice. ``False`` for creates: never repeated once they may have arrived,
    and a success answer we cannot read is an ``OutcomeUnknownError``."""
    secrets: tuple[str, ...] = attrs.field(default=(), repr=False)
    """Credentials carried elsewhere than the header (e.g. a session id in the path): the
    client scrubs them from every error text, as it does its API key and session tokens."""

    @property
    def where(self) -> str:
        """The path as logs and errors show it."""
        return self.log_path or self.path


@attrs.frozen(slots=True, kw_only=True)
class Response:
    """A successful answer: the decoded JSON object and what the call took."""

    status: int
    headers: Mapping[str, str] = attrs.field(repr=False)
    request_id: str | None
    body: dict[str, Any] = attrs.field(repr=False)
    retries: int
    """Retries the call needed (0 = the first attempt succeeded)."""
    elapsed: float
    """Seconds from the first attempt to the answer, waits included."""
    gone_after_retry: bool = False
    """A retried DELETE found the object gone: an earlier attempt deleted it."""


class _AttemptFailed(Exception):
    """Internal: one attempt failed in a way the retry policy classifies."""

    def __init__(
        self,
        failure: Failure,
        error: errors.APIError,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(str(error))
        self.failure = failure
        self.error = error
        self.status = status
        self.retry_after = retry_after


_EXCEPTIONS: tuple[tuple[Any, Failure | None, type[errors.APIError], str], ...] = (
    # (exception types, failure kind or None = never retried, error class, message); first match
    # wins, so subclasses come before their bases.
    (
        _ContentEncodingError,
        None,
        errors.MalformedResponseError,
        "the answer's content encoding could not be decoded",
    ),
    (
        (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError),
        None,
        errors.APIConnectionError,
        "refused to follow an invalid or non-http(s) URL ({name})",
    ),
    (
        aiohttp.ClientConnectorCertificateError,
        None,
        errors.APIConnectionError,
        "TLS certificate verification failed: {name}",
    ),
    (
        aiohttp.ConnectionTimeoutError,
        Failure.NOT_SENT,
        errors.APITimeoutError,
        "timed out waiting for a connection",
    ),
    (
        aiohttp.ClientConnectorError,
        Failure.NOT_SENT,
        errors.APIConnectionError,
        "could not connect to {host}: {reason}",
    ),
    (
        (aiohttp.SocketTimeoutError, TimeoutError),
        Failure.SENT_NO_ANSWER,
        errors.APITimeoutError,
        "timed out waiting for the answer",
    ),
    (
        (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError),
        Failure.SENT_NO_ANSWER,
        errors.APIConnectionError,
        "connection lost before a complete answer ({name})",
    ),
    (
        aiohttp.ClientError,
        Failure.SENT_NO_ANSWER,
        errors.APIConnectionError,
        "request failed ({name})",
    ),
)
"""How an aiohttp exception of one attempt becomes a failure kind and a typed error."""


@functools.lru_cache(maxsize=64)
def _client_timeout(base: Timeout) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(
        total=base.total, connect=base.connect, sock_connect=base.connect, sock_read=base.read
    )


_SECRET_FIELD = re.compile(r'("webhook_secret"\s*:\s*")[^"]*("?)')
"""A webhook secret in an unreadable (e.g. cut-off) JSON answer: never shown in an error."""


class Transport:
    """Sends :class:`Request` values on one pooled ``aiohttp.ClientSession``, created lazily."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None,
        timeout: Timeout,
        limits: Limits,
        retry: RetryPolicy,
        session: aiohttp.ClientSession | None = None,
        user_agent: str | None = None,
        max_response_bytes: int = 16 * 1024 * 1024,
        rand: random.Random | None = None,
        rate_limiter: RateLimiter | None = None,
        trust_env: bool = True,
    ) -> None:
        self.base_url = URL(base_url.rstrip("/"))
        if not self.base_url.is_absolute() or self.base_url.scheme not in ("http", "https"):
            raise ValueError("base_url must be an absolute http(s) URL")
        self._base = str(self.base_url)
        self._origin = self.base_url.origin()
        self._api_key = api_key
        self._api_key_credential = Credential(api_key, "api_key") if api_key else None
        self.secrets = Secrets([api_key])
        """Every credential this client knows; scrubbed from every error text."""
        self._fork_error: str | None = None
        self._closing: asyncio.Event | None = None  # set by aclose: wakes retry waits
        self.timeout = timeout
        self._client_timeout = _client_timeout(timeout)
        self.limits = limits
        self.retry = retry
        self.budget = RetryBudget(retry.budget_capacity)
        self._session = session
        self._owns_session = session is None
        # HTTP(S)_PROXY / NO_PROXY, for our own session only (a given session has its own).
        self._proxies = EnvProxies() if trust_env and session is None else None
        for credential in self._proxies.credentials if self._proxies else ():
            self.secrets.add(credential)
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        # Consulted before every attempt, told of every 429 (the per-client pause lives there).
        self.rate_limiter: RateLimiter = (
            rate_limiter if rate_limiter is not None else LocalRateLimiter(slow_start=True)
        )
        # ``release(accepted)`` after each attempt, for limiters that learn from the answers
        # (the default one does); not part of the RateLimiter protocol.
        self._release: Callable[[bool], None] | None = getattr(self.rate_limiter, "release", None)
        self._rand = rand or random.Random()
        self.max_response_bytes = max_response_bytes
        self.user_agent = user_agent or (
            f"scheduler-client/{__version__} python/{platform.python_version()} "
            f"aiohttp/{aiohttp.__version__}"
        )
        _fork.register(self, Transport._forked)  # the child drops what it inherited

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._closed

    def api_key_credential(self) -> Credential:
        """The API key as a credential; raises if none is configured."""
        if self._api_key_credential is None:
            raise errors.MissingCredentialsError(
                "this call needs an API key: pass api_key= or set NYLAS_API_KEY"
            )
        return self._api_key_credential

    def _forked(self) -> None:
        """In the child of ``os.fork``: forget the parent's session and loop, never close them.

        A client that owns its session starts a fresh one on first use in the child; one given
        a ``session=`` cannot be used there (that session belongs to the parent).
        """
        if self._session is not None:
            # Never closed, never freed: closing would shut sockets the parent still uses, and
            # freeing uvloop handles that believe their loop runs crashes the child at exit.
            _fork.keep_forever(self._session)
            if not self._owns_session:
                self._fork_error = (
                    "this client was given a session= in the parent process before os.fork(); "
                    "that session belongs to the parent: create a new client in the child"
                )
        self._session = None
        self._loop = None
        self._closing = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed or self._fork_error:
            raise errors.ClientClosedError(self._fork_error or "the client is closed")
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            if self._loop is not None:
                self._drop_if_loop_closed()
                raise errors.EventLoopMismatchError(
                    "this AsyncScheduler was first used on another event loop, which owns its "
                    "connection pool; create one client per event loop (e.g. inside the "
                    "coroutine given to asyncio.run), or use scheduler_sync.Scheduler"
                )
            self._loop = loop
            self._closing = asyncio.Event()
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self.limits.max_connections,
                limit_per_host=self.limits.max_connections_per_host,
                keepalive_timeout=self.limits.keepalive_expiry,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                headers={
                    "User-Agent": self.user_agent,
                    "Accept": "application/json, application/gzip",
                },
            )
            # aiohttp silently repeats an idempotent request once when a reused keep-alive
            # connection drops. Our retry policy owns every repeat (it must see, count and log
            # it, e.g. to report a retried DELETE that finds 404 as done), so switch that off.
            self._session._retry_connection = False
        return self._session

    def _drop_if_loop_closed(self) -> None:
        """Our session of a first loop that is closed now: nothing else will ever close it."""
        loop, session = self._loop, self._session
        if session is not None and self._owns_session and loop is not None and loop.is_closed():
            self._session = None
            close_without_awaiting(session)

    def abandon(self) -> bool:
        """For an owner collected without ``aclose``: close our session without awaiting.

        Returns whether there was an open session of ours (a leak worth a warning).
        """
        session = self._session
        if self._closed or not self._owns_session or session is None or session.closed:
            return False
        self._session = None
        close_without_awaiting(session)
        return True

    async def _sleep(self, delay: float) -> None:
        """Wait ``delay`` seconds, or until :meth:`aclose` (then ``ClientClosedError``)."""
        closing = self._closing
        if closing is not None and delay > 0:
            try:
                async with asyncio.timeout(delay):
                    await closing.wait()
            except TimeoutError:
                pass
        elif delay > 0:
            await asyncio.sleep(delay)
        if self._closed:
            raise errors.ClientClosedError("the client was closed during the call")

    async def aclose(self) -> None:
        """Close the pooled session (unless the user supplied it). Idempotent.

        Calls waiting to retry end at once with ``ClientClosedError``; calls in flight end with
        their answer or ``ClientClosedError``.
        """
        self._closed = True
        if self._closing is not None:
            self._closing.set()
        session, self._session = self._session, None
        if session is not None and self._owns_session and not session.closed:
            await session.close()
            await asyncio.sleep(0)

    # -- sending ---------------------------------------------------------------------------
    async def send(
        self,
        request: Request,
        *,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> Response:
        """Send ``request``; return the answer or raise a typed error.

        The first attempt goes straight out; the retry policy runs only after a failure.
        ``timeout`` and ``max_retries`` override the client's settings for this call.
        """
        try:
            return await self._send(request, timeout=timeout, max_retries=max_retries)
        except errors.SchedulerError as exc:
            # The finished frames of this call held raw answers, headers and the credential:
            # a traceback rendered with locals must not show them.
            forget_locals(exc)
            raise

    async def _send(
        self, request: Request, *, timeout: Timeout | float | None, max_retries: int | None
    ) -> Response:
        session = self._get_session()
        credential = request.credential
        if credential.kind == "session":
            self.secrets.add(credential.token)
        for secret in request.secrets:
            self.secrets.add(secret)
        base = self.timeout if timeout is None else Timeout.coerce(timeout, self.timeout)
        policy = self.retry
        if max_retries is not None:
            policy = attrs.evolve(policy, max_retries=max_retries)
        started = time.monotonic()
        url = URL(self._base + request.path, encoded=True)
        if request.query:
            url = url.with_query(request.query)
        data = None if request.body is None else _dumps(request.body)
        # The rate budget (and any 429 pause) is waited for inside the call's bounds.
        await self._acquire(request, base, policy, started, started, 0)
        if base is self.timeout and policy.deadline is None and time.monotonic() - started < 1e-3:
            attempt_timeout = self._client_timeout  # prebuilt: the usual case
        else:
            attempt_timeout = self._attempt_timeout(base, policy, started, started)
        release = self._release
        try:
            response = await self._attempt(
                session,
                request,
                url,
                data,
                attempt_timeout,
                0,
                started,
            )
        except _AttemptFailed as failed:
            if release is not None:
                release(False)
            return await self._send_again(
                session, request, url, data, base, policy, started, failed
            )
        except BaseException:
            if release is not None:
                release(False)
            raise
        if release is not None:
            release(True)
        if response.status >= 300:
            raise self._status_error(request, response, 0)
        self.budget.refund(self.retry.success_refund)
        return response

    async def _acquire(
        self,
        request: Request,
        base: Timeout,
        policy: RetryPolicy,
        started: float,
        attempt_began: float,
        retries: int,
    ) -> None:
        """Wait for the rate budget before an attempt, within the attempt's ``total`` timeout
        and the policy's deadline; raise a complete ``RateLimitWaitError`` if it cannot."""
        total = base.total
        deadline = None if total is None else attempt_began + total
        if policy.deadline is not None:
            by_policy = started + policy.deadline
            if deadline is None or by_policy < deadline:
                deadline = by_policy
        try:
            await self.rate_limiter.acquire(deadline=deadline)
            if self._closed:  # closed while this call waited for its slot
                if self._release is not None:
                    self._release(False)
                raise errors.ClientClosedError("the client was closed during the call")
        except errors.RateLimitWaitError as exc:
            # Nothing was sent: the error says so, with this call's details, and is not retried.
            raise errors.RateLimitWaitError(
                str(exc),
                retry_after=exc.retry_after,
                method=request.method,
                path=request.where,
                retries_taken=retries,
            ) from None

    async def _send_again(
        self,
        session: aiohttp.ClientSession,
        request: Request,
        url: URL,
        data: bytes | None,
        base: Timeout,
        policy: RetryPolicy,
        started: float,
        failed: _AttemptFailed,
    ) -> Response:
        """The retry loop, entered after the first failed attempt."""
        retries = 0
        maybe_applied = False
        while True:
            err = failed.error
            if failed.failure is Failure.SENT_NO_ANSWER or (
                failed.status is not None and failed.status >= 500
            ):
                maybe_applied = True
            decision = decide(
                repeatable=request.repeatable,
                failure=failed.failure,
                status=failed.status,
                retry_after=failed.retry_after,
                retries_done=retries,
                policy=policy,
                elapsed=time.monotonic() - started,
                rand=self._rand.random,
            )
            if decision.outcome_unknown:
                raise errors.OutcomeUnknownError(
                    "the server may or may not have applied this request "
                    f"({decision.reason}); it was not retried",
                    request_body=request.body,
                    cause=err,
                    hint=(
                        "Check before repeating it: read availability or the resource "
                        "(for a booking, look for it at the requested start/end time)."
                    ),
                    method=request.method,
                    path=request.where,
                    request_id=err.request_id,
                    retries_taken=retries,
                ) from err
            if failed.failure is not Failure.STATUS:
                cost = self.retry.timeout_retry_cost
            elif failed.status == 429 and failed.retry_after is not None:
                # The server said when; the rate limiter paces the client meanwhile.
                cost = self.retry.throttle_retry_cost
            else:
                cost = self.retry.retry_cost
            if failed.status == 429:
                # Every call of this client (of every process, with a shared limiter) slows
                # down; a pause longer than ``max_retry_after`` is not trusted beyond it.
                wait = decision.delay if decision.retry else (failed.retry_after or 0.0)
                await self.rate_limiter.on_rate_limited(min(wait, policy.max_retry_after))
            if not decision.retry:
                raise err from failed.__cause__
            if not self.budget.acquire(cost):
                err.message = (
                    f"{err.message} (not retried: this client's retry budget is spent, "
                    f"{self.budget.available} of {self.budget.capacity} tokens left; "
                    f"successful calls refill it)"
                )
                raise err from failed.__cause__
            logger.info(
                "retrying %s %s after %s: attempt %d in %.3fs",
                request.method,
                request.where,
                decision.reason,
                retries + 2,
                decision.delay,
            )
            retries += 1
            await self._sleep(decision.delay)
            attempt_began = time.monotonic()
            await self._acquire(request, base, policy, started, attempt_began, retries)
            release = self._release
            try:
                response = await self._attempt(
                    session,
                    request,
                    url,
                    data,
                    self._attempt_timeout(base, policy, started, attempt_began),
                    retries,
                    started,
                )
            except _AttemptFailed as again:
                if release is not None:
                    release(False)
                failed = again
                continue
            except BaseException:
                if release is not None:
                    release(False)
                raise
            if release is not None:
                release(True)
            if response.status == 404 and request.method == "DELETE" and maybe_applied:
                # An earlier attempt of this DELETE may have succeeded: it is done.
                self.budget.refund(self.retry.success_refund)
                rid = response.request_id
                return attrs.evolve(
                    response, body={"request_id": rid} if rid else {}, gone_after_retry=True
                )
            if response.status >= 300:
                raise self._status_error(request, response, retries)
            self.budget.refund(self.retry.success_refund)
            return response

    @staticmethod
    def _attempt_timeout(
        base: Timeout, policy: RetryPolicy, started: float, attempt_began: float
    ) -> aiohttp.ClientTimeout:
        """The attempt's timeouts: ``total`` less the rate-limit wait, within the deadline."""
        now = time.monotonic()
        waited = now - attempt_began
        if policy.deadline is None and waited < 1e-3:
            return _client_timeout(base)
        total = None if base.total is None else max(0.001, base.total - waited)
        if policy.deadline is not None:
            remaining = max(0.001, policy.deadline - (now - started))
            total = remaining if total is None else min(total, remaining)
        return aiohttp.ClientTimeout(
            total=total, connect=base.connect, sock_connect=base.connect, sock_read=base.read
        )

    def _headers(
        self, request: Request, data: bytes | None, send_auth: bool
    ) -> dict[str, str] | None:
        token = request.credential.token if send_auth else None
        if data is None and token is None:
            return None  # the session's default headers only: no per-request merge
        headers = {}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    async def _attempt(
        self,
        session: aiohttp.ClientSession,
        request: Request,
        url: URL,
        data: bytes | None,
        timeout: aiohttp.ClientTimeout,
        retries: int,
        started: float,
    ) -> Response:
        """One attempt, following redirects by hand (credentials only to our own origin).

        Returns the answer for any status the retry policy does not handle (the caller raises
        for >= 300); raises :class:`_AttemptFailed` for a retryable failure.
        """
        method, cur_url, cur_data, send_auth = request.method, url, data, True
        status = 0
        lost: tuple[BaseException, BaseException] | None = None
        for _hop in range(_MAX_REDIRECTS + 1):
            if self._closed:  # closed while this call waited (a retry delay, a 429 pause)
                raise errors.ClientClosedError("the client was closed during the call")
            try:
                route = (
                    self._proxies.for_url(cur_url.scheme, cur_url.host, cur_url.port)
                    if self._proxies
                    else _DIRECT
                )
                sent = self._headers(request, cur_data, send_auth)
                if route.headers:  # Proxy-Authorization of a plain-http proxy request
                    sent = {**(sent or {}), **route.headers}
                async with session.request(
                    method,
                    cur_url,
                    data=cur_data,
                    headers=sent,
                    timeout=timeout,
                    allow_redirects=False,
                    proxy=route.proxy,
                    proxy_headers=route.proxy_headers,
                ) as resp:
                    status = resp.status
                    headers = resp.headers
                    if status in _REDIRECTS and "Location" in headers:
                        await resp.release()
                        target = self._redirect_target(cur_url, headers["Location"], request)
                        if target.origin() != self._origin:
                            send_auth = False  # never send credentials to another origin
                        if status == 303 or (status in (301, 302) and method != "HEAD"):
                            method, cur_data = "GET", None
                        cur_url = target
                        continue
                    raw = await self._read_limited(resp, request, retries)
            except (aiohttp.ClientError, TimeoutError, _ContentEncodingError) as exc:
                lost = (
                    self._connection_error(exc, request, retries, status),
                    self._cause(exc, request),
                )
            except RuntimeError:  # aiohttp: "Session is closed" (closed meanwhile)
                if self._closed or session.closed:
                    raise errors.ClientClosedError(
                        "the client was closed during the call"
                    ) from None
                raise
            except asyncio.CancelledError:
                # Closing the session cancels the calls waiting for a pooled connection; a
                # cancellation of the caller's own task stays a cancellation.
                task = asyncio.current_task()
                if self._closed and task is not None and not task.cancelling():
                    raise errors.ClientClosedError(
                        "the client was closed during the call"
                    ) from None
                raise
            break
        else:
            raise errors.APIConnectionError(
                "too many redirects",
                method=request.method,
                path=request.where,
                retries_taken=retries,
            )
        if lost is not None:
            # Raised outside the handler, from a stand-in: nothing (``__cause__``, ``__context__``)
            # leads back to aiohttp's exception, whose frames hold the Authorization header.
            raise lost[0] from lost[1]
        return self._decode(request, status, headers, raw, retries, started)

    def _redirect_target(self, current: URL, location: str, request: Request) -> URL:
        """The URL a ``Location`` points to: absolute http(s) only, never with a user:password."""
        try:
            target = current.join(URL(location))
            ok = target.scheme in ("http", "https") and bool(target.host)
        except ValueError:
            ok = False
        if not ok:
            raise errors.APIConnectionError(
                f"refused to follow a redirect to a non-http(s) or invalid URL: "
                f"{self.secrets.scrub(location[:100], request.credential.token)!r}",
                method=request.method,
                path=request.where,
            )
        if target.raw_user is not None or target.raw_password is not None:
            # aiohttp would turn user:password@ into an Authorization: Basic header.
            target = target.with_user(None)
        return target

    def _cause(self, exc: BaseException, request: Request) -> ScrubbedCause:
        """The stand-in chained to a connection error: ``exc``'s type and scrubbed text only."""
        return ScrubbedCause.of(exc, self.secrets.scrub(str(exc), request.credential.token))

    def _unreadable(
        self, request: Request, error: errors.MalformedResponseError, status: int
    ) -> errors.APIError:
        """A response we cannot read; for a create the server may have applied it."""
        if request.repeatable or 300 <= status < 500:
            return error
        unknown = errors.OutcomeUnknownError(
            "the server answered but its answer could not be read; the request may have been "
            "applied",
            request_body=request.body,
            cause=error,
            hint="It was most likely created: look it up before creating it again.",
            method=request.method,
            path=request.where,
            request_id=error.request_id,
            retries_taken=error.retries_taken,
        )
        unknown.__cause__ = error
        return unknown

    def _decode(
        self,
        request: Request,
        status: int,
        headers: CIMultiDictProxy[str],
        raw: bytes | bytearray,
        retries: int,
        started: float,
    ) -> Response:
        body: Any
        try:
            body = _loads(raw) if raw else {}
        except (ValueError, RecursionError, MemoryError):  # any decoding failure
            body = None
        rid = headers.get("X-Request-Id")
        if type(body) is dict:
            body_rid = body.get("request_id")
            if type(body_rid) is str:
                rid = body_rid
        if rid is not None:
            rid = self.secrets.scrub(rid[:200], request.credential.token)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %d request_id=%s %.1fms attempt=%d",
                request.method,
                request.where,
                status,
                rid,
                (time.monotonic() - started) * 1000,
                retries + 1,
            )
        response = Response(
            status=status,
            headers=headers,
            request_id=rid,
            body=body if type(body) is dict else {},
            retries=retries,
            elapsed=time.monotonic() - started,
        )
        if type(body) is not dict:
            # Scrub first, then cut: a credential across the cut cannot leave a prefix behind.
            excerpt: str | None = _SECRET_FIELD.sub(
                r"\1***\2",
                self.secrets.scrub(
                    bytes(raw[: _EXCERPT + 1024]).decode("utf-8", "replace"),
                    request.credential.token,
                ),
            )[:_EXCERPT]
            if status < 400:
                malformed = errors.MalformedResponseError(
                    "the response is not a JSON object",
                    status_code=status,
                    body_excerpt=excerpt or "",
                    headers=self._error_headers(headers, request),
                    method=request.method,
                    path=request.where,
                    request_id=rid,
                    retries_taken=retries,
                )
                raise self._unreadable(request, malformed, status)
            # A non-JSON error page (e.g. a proxy's HTML 502): keep the status, show an excerpt.
        else:
            excerpt = None
        if status == 429 or status >= 500:
            retry_after = parse_retry_after(headers.get("Retry-After"), time.time())
            err = self._status_error(request, response, retries, retry_after, excerpt)
            raise _AttemptFailed(Failure.STATUS, err, status=status, retry_after=retry_after)
        if excerpt is not None:
            raise self._status_error(request, response, retries, None, excerpt)
        return response

    def _connection_error(
        self, exc: BaseException, request: Request, retries: int, status: int = 0
    ) -> errors.SchedulerError | _AttemptFailed:
        """The typed error for an aiohttp exception, wrapped when the retry policy decides."""
        if self._closed:  # the session was closed under this call
            return errors.ClientClosedError("the client was closed during the call")
        failure, cls, template = next(
            (failure, cls, template)
            for types, failure, cls, template in _EXCEPTIONS
            if isinstance(exc, types)
        )
        os_error = getattr(exc, "os_error", None)
        message = template.format(
            name=type(exc).__name__,
            host=self.base_url.host,
            reason=getattr(os_error, "strerror", None) or type(exc).__name__,
        )
        error = cls(message, method=request.method, path=request.where, retries_taken=retries)
        if isinstance(error, errors.MalformedResponseError):
            error.status_code = status or None
            return self._unreadable(request, error, status)
        return error if failure is None else _AttemptFailed(failure, error)

    async def _read_limited(
        self, resp: aiohttp.ClientResponse, request: Request, retries: int
    ) -> bytes | bytearray:
        """The decoded body, read until done or until it passes ``max_response_bytes``.

        ``Content-Length`` counts the bytes on the wire, which gzip, deflate or br may inflate
        a thousandfold, so the limit is checked on the decoded stream as it arrives (aiohttp
        inflates in bounded steps); the read stops, and the connection is dropped, as soon as
        it passes. Peak memory stays within about twice the limit.
        """
        limit = self.max_response_bytes
        length = resp.content_length
        if length is not None and length > limit:
            raise self._too_large(
                resp, request, retries, f"response body of {length} bytes exceeds"
            )
        body = bytearray()
        content = resp.content
        while True:
            chunk = await content.readany()
            if not chunk:
                return body
            if len(body) + len(chunk) > limit:
                resp.close()  # stop reading: do not inflate or download the rest
                raise self._too_large(resp, request, retries, "decoded response body exceeds")
            body += chunk

    def _too_large(
        self, resp: aiohttp.ClientResponse, request: Request, retries: int, what: str
    ) -> errors.APIError:
        error = errors.ResponseTooLargeError(
            f"{what} max_response_bytes={self.max_response_bytes}",
            status_code=resp.status,
            headers=self._error_headers(resp.headers, request),
            method=request.method,
            path=request.where,
            retries_taken=retries,
        )
        return self._unreadable(request, error, resp.status)

    def _error_headers(self, headers: Mapping[str, str], request: Request) -> CIMultiDict[str]:
        return CIMultiDict(self.secrets.scrub_headers(headers, request.credential.token))

    def _status_error(
        self,
        request: Request,
        response: Response,
        retries: int,
        retry_after: float | None = None,
        excerpt: str | None = None,
    ) -> errors.APIStatusError:
        """The complete typed error for an error status (secrets scrubbed from every text)."""
        token = request.credential.token
        secrets = self.secrets
        body: Any = response.body
        error = body.get("error")
        error_type: str | None = None
        provider_error: Any = None
        if excerpt is not None:
            message = f"non-JSON error response: {excerpt!r}"
            body = excerpt
        elif isinstance(error, dict):
            msg = error.get("message")
            message = msg if isinstance(msg, str) else ""
            error_type = error.get("type") if isinstance(error.get("type"), str) else None
            provider_error = error.get("provider_error")
        elif isinstance(error, str):
            message = error
        else:
            message = ""
        status = response.status
        cls = errors.status_error_class(status)
        kwargs: dict[str, Any] = {
            "status_code": status,
            "error_type": secrets.scrub(error_type, token) if error_type else None,
            "provider_error": secrets.scrub_data(provider_error, token),
            "headers": self._error_headers(response.headers, request),
            "body": secrets.scrub_data(body, token),
            "method": request.method,
            "path": request.where,
            "request_id": response.request_id,
            "retries_taken": retries,
        }
        if cls is errors.RateLimitError:
            kwargs["retry_after"] = retry_after
        return cls(secrets.scrub(message[:2000] or "no error message", token), **kwargs)
