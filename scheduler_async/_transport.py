"""The one door to the network: the only module that touches ``aiohttp.ClientSession``.

A resource describes a call as a :class:`Request` value and gets one :class:`Response` value back
(or a typed error)::

    response = await transport.send(
        Request(method="GET", path="/v3/scheduling/availability", query={...}, credential=cred),
        timeout=None, max_retries=None,
    )
    response.body["data"], response.request_id, response.retries, response.elapsed

Inside, :meth:`Transport.send` runs one retry loop whose first pass is the first attempt: wait
for the rate budget, make one attempt (:meth:`Transport._attempt`), and only after a failure ask
the retry policy (:mod:`scheduler_async._retry`) whether and when to go again. The call's state
(request, policy, timeouts, retries so far) travels as one :class:`_Call`. An attempt builds the
URL from the client's prebuilt base, adds the credential's header, follows same-host redirects
by hand and reads the answer with a size limit (:mod:`scheduler_async._wire`), then decodes it;
every error is built complete, once, by :mod:`scheduler_async._failures`. Logs show
``Request.log_path`` (secrets replaced), never a credential.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import platform
import random
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import aiohttp
import attrs
from yarl import URL

from . import _failures, _fork, _wire, errors
from ._auth import NO_AUTH, Credential
from ._config import Limits, Timeout
from ._failures import AttemptFailed, ContentEncodingError
from ._leak import close_without_awaiting
from ._proxy import DIRECT as _DIRECT
from ._proxy import EnvProxies
from ._retry import Failure, RetryBudget, RetryPolicy, decide, parse_retry_after
from ._scrub import Secrets, forget_locals, safe_repr
from ._version import __version__
from ._wire import MAX_REDIRECTS, REDIRECTS, read_limited, redirect_target, redirects_to_get

if TYPE_CHECKING:
    from multidict import CIMultiDictProxy

    from .ratelimit import RateLimiter

__all__ = ["Request", "Response", "Transport", "safe_repr"]

logger = logging.getLogger("scheduler_async")

_CLOSED_DURING_CALL = "the client was closed during the call"


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


@functools.lru_cache(maxsize=64)
def _client_timeout(base: Timeout) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(
        total=base.total, connect=base.connect, sock_connect=base.connect, sock_read=base.read
    )


class _Call:
    """One call's state, from its first attempt to its answer or error."""

    __slots__ = (
        "attempt_began",
        "data",
        "maybe_applied",
        "policy",
        "request",
        "retries",
        "started",
        "timeout",
        "url",
    )

    def __init__(
        self,
        request: Request,
        url: URL,
        data: bytes | None,
        timeout: Timeout,
        policy: RetryPolicy,
        started: float,
    ) -> None:
        self.request = request
        self.url = url
        self.data = data
        """The encoded body, or ``None``."""
        self.timeout = timeout
        """The timeouts of each attempt (``total`` includes its rate-limit wait)."""
        self.policy = policy
        self.started = self.attempt_began = started
        """When the call began; when its current attempt began (after any retry delay)."""
        self.retries = 0
        """Retries begun so far (0 during the first attempt)."""
        self.maybe_applied = False
        """A failed attempt may have reached the server (a retried DELETE's 404 means done)."""


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
        rate_limiter: RateLimiter,
        session: aiohttp.ClientSession | None = None,
        user_agent: str | None = None,
        max_response_bytes: int = 16 * 1024 * 1024,
        rand: random.Random | None = None,
        trust_env: bool = True,
    ) -> None:
        self.base_url = URL(base_url.rstrip("/"))
        if not self.base_url.is_absolute() or self.base_url.scheme not in ("http", "https"):
            raise ValueError("base_url must be an absolute http(s) URL")
        self._base = str(self.base_url)
        self._origin = self.base_url.origin()
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
        # Consulted before every attempt, told of every 429 (the per-client pause lives there);
        # the client chooses it (and whether it owns it).
        self.rate_limiter = rate_limiter
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
            raise errors.ClientClosedError(_CLOSED_DURING_CALL)

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
        """The one retry loop: its first pass is the first attempt."""
        session = self._get_session()
        credential = request.credential
        if credential.kind == "session":
            self.secrets.add(credential.token)
        for secret in request.secrets:
            self.secrets.add(secret)
        policy = self.retry
        if max_retries is not None:
            policy = attrs.evolve(policy, max_retries=max_retries)
        started = time.monotonic()
        url = URL(self._base + request.path, encoded=True)
        if request.query:
            url = url.with_query(request.query)
        call = _Call(
            request,
            url,
            None if request.body is None else _wire.dumps(request.body),
            self.timeout if timeout is None else Timeout.coerce(timeout, self.timeout),
            policy,
            started,
        )
        release = self._release  # limiters that learn from the answers (the default one)
        while True:
            # The rate budget (and any 429 pause) is waited for inside the call's bounds.
            await self._acquire(call)
            try:
                response = await self._attempt(session, call)
            except AttemptFailed as exc:
                failed = exc
            except BaseException:
                if release is not None:
                    release(False)
                raise
            else:
                if release is not None:
                    release(True)
                if response.status < 300:
                    self.budget.refund(self.retry.success_refund)
                    return response
                return self._not_ok(call, response)
            if release is not None:
                release(False)
            await self._before_retry(call, failed)

    def _not_ok(self, call: _Call, response: Response) -> Response:
        """The call's result from an answer of status >= 300 no retry handles: its status
        error, or for a retried DELETE that finds 404 the answer that it is done."""
        if response.status == 404 and call.maybe_applied and call.request.method == "DELETE":
            # An earlier attempt of this DELETE may have succeeded: it is done.
            self.budget.refund(self.retry.success_refund)
            rid = response.request_id
            return attrs.evolve(
                response, body={"request_id": rid} if rid else {}, gone_after_retry=True
            )
        raise _failures.status_error(call.request, response, call.retries, self.secrets)

    async def _before_retry(self, call: _Call, failed: AttemptFailed) -> None:
        """After a failed attempt: raise the call's error, or wait until the next attempt."""
        request, policy, retries, err = call.request, call.policy, call.retries, failed.error
        if failed.failure is Failure.SENT_NO_ANSWER or (
            failed.status is not None and failed.status >= 500
        ):
            call.maybe_applied = True
        decision = decide(
            repeatable=request.repeatable,
            failure=failed.failure,
            status=failed.status,
            retry_after=failed.retry_after,
            retries_done=retries,
            policy=policy,
            elapsed=time.monotonic() - call.started,
            rand=self._rand.random,
        )
        if decision.outcome_unknown:
            raise _failures.not_retried(request, err, decision.reason, retries) from err
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
            budget = self.budget
            raise _failures.budget_spent(
                err, budget.available, budget.capacity
            ) from failed.__cause__
        logger.info(
            "retrying %s %s after %s: attempt %d in %.3fs",
            request.method,
            request.where,
            decision.reason,
            retries + 2,
            decision.delay,
        )
        call.retries += 1
        await self._sleep(decision.delay)
        call.attempt_began = time.monotonic()

    async def _acquire(self, call: _Call) -> None:
        """Wait for the rate budget before an attempt, within the attempt's ``total`` timeout
        and the policy's deadline; raise a complete ``RateLimitWaitError`` if it cannot."""
        total = call.timeout.total
        deadline = None if total is None else call.attempt_began + total
        if call.policy.deadline is not None:
            by_policy = call.started + call.policy.deadline
            if deadline is None or by_policy < deadline:
                deadline = by_policy
        try:
            await self.rate_limiter.acquire(deadline=deadline)
        except errors.RateLimitWaitError as exc:
            # Nothing was sent: the error says so, with this call's details, and is not retried.
            raise _failures.rate_limit_wait(exc, call.request, call.retries) from None
        if self._closed:  # closed while this call waited for its slot
            if self._release is not None:
                self._release(False)
            raise errors.ClientClosedError(_CLOSED_DURING_CALL)

    def _attempt_timeout(self, call: _Call) -> aiohttp.ClientTimeout:
        """The attempt's timeouts: ``total`` less the rate-limit wait, within the deadline."""
        base, deadline = call.timeout, call.policy.deadline
        now = time.monotonic()
        waited = now - call.attempt_began
        if deadline is None and waited < 1e-3:  # the usual case: prebuilt
            return self._client_timeout if base is self.timeout else _client_timeout(base)
        total = None if base.total is None else max(0.001, base.total - waited)
        if deadline is not None:
            remaining = max(0.001, deadline - (now - call.started))
            total = remaining if total is None else min(total, remaining)
        return aiohttp.ClientTimeout(
            total=total, connect=base.connect, sock_connect=base.connect, sock_read=base.read
        )

    async def _attempt(self, session: aiohttp.ClientSession, call: _Call) -> Response:
        """One attempt, following redirects by hand (credentials only to our own origin).

        Returns the answer for any status the retry policy does not handle (the caller raises
        for >= 300); raises :class:`AttemptFailed` for a retryable failure.
        """
        request = call.request
        method, url, data, send_auth = request.method, call.url, call.data, True
        timeout = self._attempt_timeout(call)
        status = 0
        lost: tuple[BaseException, BaseException] | None = None
        for _hop in range(MAX_REDIRECTS + 1):
            if self._closed:  # closed while this call waited (a retry delay, a 429 pause)
                raise errors.ClientClosedError(_CLOSED_DURING_CALL)
            try:
                route = (
                    self._proxies.for_url(url.scheme, url.host, url.port)
                    if self._proxies
                    else _DIRECT
                )
                sent = _wire.headers(request.credential.token if send_auth else None, data)
                if route.headers:  # Proxy-Authorization of a plain-http proxy request
                    sent = {**(sent or {}), **route.headers}
                async with session.request(
                    method,
                    url,
                    data=data,
                    headers=sent,
                    timeout=timeout,
                    allow_redirects=False,
                    proxy=route.proxy,
                    proxy_headers=route.proxy_headers,
                ) as resp:
                    status = resp.status
                    headers = resp.headers
                    if status in REDIRECTS and "Location" in headers:
                        await resp.release()
                        target = redirect_target(url, headers["Location"], request, self.secrets)
                        if target.origin() != self._origin:
                            send_auth = False  # never send credentials to another origin
                        if redirects_to_get(status, method):
                            method, data = "GET", None
                        url = target
                        continue
                    raw = await read_limited(
                        resp, request, call.retries, self.max_response_bytes, self.secrets
                    )
            except (aiohttp.ClientError, TimeoutError, ContentEncodingError) as exc:
                lost = (
                    errors.ClientClosedError(_CLOSED_DURING_CALL)
                    if self._closed  # the session was closed under this call
                    else _failures.connection_error(
                        exc, request, call.retries, host=self.base_url.host, status=status
                    ),
                    _failures.scrubbed_cause(exc, request, self.secrets),
                )
            except RuntimeError:  # aiohttp: "Session is closed" (closed meanwhile)
                if self._closed or session.closed:
                    raise errors.ClientClosedError(_CLOSED_DURING_CALL) from None
                raise
            except asyncio.CancelledError:
                # Closing the session cancels the calls waiting for a pooled connection; a
                # cancellation of the caller's own task stays a cancellation.
                task = asyncio.current_task()
                if self._closed and task is not None and not task.cancelling():
                    raise errors.ClientClosedError(_CLOSED_DURING_CALL) from None
                raise
            break
        else:
            raise errors.APIConnectionError(
                "too many redirects",
                method=request.method,
                path=request.where,
                retries_taken=call.retries,
            )
        if lost is not None:
            # Raised outside the handler, from a stand-in: nothing (``__cause__``, ``__context__``)
            # leads back to aiohttp's exception, whose frames hold the Authorization header.
            raise lost[0] from lost[1]
        return self._decode(call, status, headers, raw)

    def _decode(
        self, call: _Call, status: int, headers: CIMultiDictProxy[str], raw: bytes | bytearray
    ) -> Response:
        """The answer of one attempt as a :class:`Response`, or its typed error."""
        request, retries, secrets = call.request, call.retries, self.secrets
        body: Any
        try:
            body = _wire.loads(raw) if raw else {}
        except (ValueError, RecursionError, MemoryError):  # any decoding failure
            body = None
        rid = headers.get("X-Request-Id")
        if type(body) is dict:
            body_rid = body.get("request_id")
            if type(body_rid) is str:
                rid = body_rid
        if rid is not None:
            rid = secrets.scrub(rid[:200], request.credential.token)
        elapsed = time.monotonic() - call.started
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %d request_id=%s %.1fms attempt=%d",
                request.method,
                request.where,
                status,
                rid,
                elapsed * 1000,
                retries + 1,
            )
        response = Response(
            status=status,
            headers=headers,
            request_id=rid,
            body=body if type(body) is dict else {},
            retries=retries,
            elapsed=elapsed,
        )
        excerpt: str | None = None
        if type(body) is not dict:
            excerpt = _failures.excerpt(raw, request, secrets)
            if status < 400:
                scrubbed = _failures.error_headers(headers, request, secrets)
                message = "the response is not a JSON object"
                raise _failures.malformed(request, response, message, excerpt, headers=scrubbed)
            # A non-JSON error page (e.g. a proxy's HTML 502): keep the status, show an excerpt.
        if status == 429 or status >= 500:
            retry_after = parse_retry_after(headers.get("Retry-After"), time.time())
            err = _failures.status_error(request, response, retries, secrets, retry_after, excerpt)
            raise AttemptFailed(Failure.STATUS, err, status=status, retry_after=retry_after)
        if excerpt is not None:
            raise _failures.status_error(request, response, retries, secrets, None, excerpt)
        return response
