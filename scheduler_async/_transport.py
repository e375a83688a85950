"""The one door to the network: the only module that touches ``aiohttp.ClientSession``.

It builds URLs and headers, applies authentication, timeouts and the retry policy, reads answers
with a size limit, maps envelopes to data or typed errors, and logs each attempt (never a secret).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import platform
import random
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
import attrs
from yarl import URL

from . import errors
from ._config import Limits, Timeout
from ._retry import Failure, RetryBudget, RetryPolicy, decide, parse_retry_after
from ._version import __version__

__all__ = ["Credential", "RawResponse", "Transport"]

logger = logging.getLogger("scheduler_async")

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 5
_EXCERPT = 200


@attrs.frozen(slots=True)
class Credential:
    """A bearer credential (API key or session token), or none for public access."""

    token: str | None = attrs.field(repr=False)
    kind: str = "none"


NO_AUTH = Credential(None, "none")


class RawResponse:
    """A successful answer: its decoded JSON body and metadata (internal, built per call)."""

    __slots__ = (
        "body",
        "elapsed",
        "gone_after_retry",
        "headers",
        "request_id",
        "retries_taken",
        "status_code",
    )

    def __init__(
        self,
        *,
        status_code: int,
        headers: Mapping[str, str],
        body: dict[str, Any],
        request_id: str | None,
        retries_taken: int,
        elapsed: float,
        gone_after_retry: bool = False,
    ) -> None:
        self.status_code = status_code
        self.headers = headers
        self.body = body
        self.request_id = request_id
        self.retries_taken = retries_taken
        self.elapsed = elapsed
        self.gone_after_retry = gone_after_retry


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


@functools.lru_cache(maxsize=64)
def _client_timeout(base: Timeout) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(
        total=base.total, connect=base.connect, sock_connect=base.connect, sock_read=base.read
    )


def _retry_after(err: errors.APIStatusError) -> float | None:
    """Seconds the server asked us to wait (``Retry-After``), on any status."""
    return parse_retry_after(err.headers.get("Retry-After"), time.time())


def _excerpt(raw: bytes) -> str:
    return raw[:_EXCERPT].decode("utf-8", "replace")


class Transport:
    """Sends requests on one pooled ``aiohttp.ClientSession``, created lazily in the loop."""

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
    ) -> None:
        self.base_url = URL(base_url.rstrip("/"))
        if not self.base_url.is_absolute() or self.base_url.scheme not in ("http", "https"):
            raise ValueError("base_url must be an absolute http(s) URL")
        self._base = str(self.base_url)
        self._api_key = api_key
        self.timeout = timeout
        self.limits = limits
        self.retry = retry
        self.budget = RetryBudget(retry.budget_capacity)
        self._session = session
        self._owns_session = session is None
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._paused_until = 0.0  # monotonic time before which no request is sent (shared 429)
        self._rand = rand or random.Random()
        self.max_response_bytes = max_response_bytes
        self.user_agent = user_agent or (
            f"scheduler-client/{__version__} python/{platform.python_version()} "
            f"aiohttp/{aiohttp.__version__}"
        )

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        """Whether :meth:`aclose` was called."""
        return self._closed

    def api_key_credential(self) -> Credential:
        """The API key as a credential; raises if none is configured."""
        if not self._api_key:
            raise errors.MissingCredentialsError(
                "this call needs an API key: pass api_key= or set NYLAS_API_KEY"
            )
        return Credential(self._api_key, "api_key")

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise errors.ClientClosedError("the client is closed")
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            if self._loop is not None:
                raise errors.EventLoopMismatchError(
                    "this AsyncScheduler was first used on another event loop, which owns its "
                    "connection pool; create one client per event loop (e.g. inside the "
                    "coroutine given to asyncio.run), or use scheduler_sync.Scheduler"
                )
            self._loop = loop
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

    async def aclose(self) -> None:
        """Close the pooled session (unless the user supplied it). Idempotent."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None and self._owns_session and not session.closed:
            await session.close()
            await asyncio.sleep(0)

    # -- requests --------------------------------------------------------------------------
    async def request(
        self,
        method: str,
        path: str,
        *,
        log_path: str,
        credential: Credential,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        repeatable: bool,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> RawResponse:
        """Send one logical request with retries; return its JSON body or raise a typed error.

        ``path`` is already percent-encoded; ``log_path`` is the same path with secrets replaced
        and is what logs and errors show. ``repeatable`` says whether the request is safe to send
        twice (see :mod:`scheduler_async._retry`).
        """
        session = self._get_session()
        policy = self.retry
        if max_retries is not None:
            policy = attrs.evolve(policy, max_retries=max_retries)
        attempt_timeout = Timeout.coerce(timeout, self.timeout)
        data = (
            None
            if json_body is None
            else json.dumps(json_body, separators=(",", ":")).encode("utf-8")
        )
        headers = {}
        if data is not None:
            headers["Content-Type"] = "application/json"
        url = URL(self._base + path, encoded=True)
        if params:
            url = url.with_query(params)

        started = time.monotonic()
        retries = 0
        maybe_applied = False
        while True:
            pause = self._paused_until - time.monotonic()
            if pause > 0:
                # Another call of this client was told to slow down (429): everyone waits.
                await asyncio.sleep(pause)
            try:
                result = await self._attempt(
                    session,
                    method,
                    url,
                    headers,
                    data,
                    credential,
                    self._attempt_timeout(attempt_timeout, policy, started),
                    log_path,
                    retries,
                )
            except _AttemptFailed as failed:
                err = failed.error
                err.retries_taken = retries
                if failed.failure is Failure.SENT_NO_ANSWER or (
                    failed.status is not None and failed.status >= 500
                ):
                    maybe_applied = True
                decision = decide(
                    repeatable=repeatable,
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
                        request_body=json_body,
                        cause=err,
                        hint=(
                            "Check before repeating it: read availability or the resource "
                            "(for a booking, look for it at the requested start/end time)."
                        ),
                        method=method,
                        path=log_path,
                        request_id=err.request_id,
                        retries_taken=retries,
                    ) from err
                cost = (
                    self.retry.timeout_retry_cost
                    if failed.failure is not Failure.STATUS
                    else self.retry.retry_cost
                )
                if failed.status == 429:
                    wait = decision.delay if decision.retry else (failed.retry_after or 0.0)
                    wait = min(wait, policy.max_retry_after)
                    self._paused_until = max(self._paused_until, time.monotonic() + wait)
                if not decision.retry or not self.budget.acquire(cost):
                    raise err from failed.__cause__
                logger.info(
                    "retrying %s %s after %s: attempt %d in %.3fs",
                    method,
                    log_path,
                    decision.reason,
                    retries + 2,
                    decision.delay,
                )
                retries += 1
                await asyncio.sleep(decision.delay)
                continue
            status, resp_headers, body, rid = result
            if status == 404 and method == "DELETE" and maybe_applied:
                # An earlier attempt of this DELETE may have succeeded: it is done.
                self.budget.refund(self.retry.success_refund)
                return RawResponse(
                    status_code=status,
                    headers=resp_headers,
                    body={"request_id": rid} if rid else {},
                    request_id=rid,
                    retries_taken=retries,
                    elapsed=time.monotonic() - started,
                    gone_after_retry=True,
                )
            if status >= 300:
                raise self._status_error(
                    status, resp_headers, body, rid, method, log_path, retries, credential
                )
            self.budget.refund(self.retry.success_refund)
            return RawResponse(
                status_code=status,
                headers=resp_headers,
                body=body,
                request_id=rid,
                retries_taken=retries,
                elapsed=time.monotonic() - started,
            )

    @staticmethod
    def _attempt_timeout(
        base: Timeout, policy: RetryPolicy, started: float
    ) -> aiohttp.ClientTimeout:
        if policy.deadline is None:
            return _client_timeout(base)
        remaining = max(0.001, policy.deadline - (time.monotonic() - started))
        total = remaining if base.total is None else min(base.total, remaining)
        return aiohttp.ClientTimeout(
            total=total, connect=base.connect, sock_connect=base.connect, sock_read=base.read
        )

    async def _attempt(
        self,
        session: aiohttp.ClientSession,
        method: str,
        url: URL,
        headers: dict[str, str],
        data: bytes | None,
        credential: Credential,
        timeout: aiohttp.ClientTimeout,
        log_path: str,
        retries: int,
    ) -> tuple[int, Mapping[str, str], dict[str, Any], str | None]:
        """One attempt, following same-method redirects by hand. Returns status/headers/body/id."""
        t0 = time.monotonic()
        send_auth = credential.token is not None
        cur_method, cur_url, cur_data = method, url, data
        for _hop in range(_MAX_REDIRECTS + 1):
            hdrs = dict(headers)
            if send_auth and credential.token is not None:
                hdrs["Authorization"] = f"Bearer {credential.token}"
            try:
                async with session.request(
                    cur_method,
                    cur_url,
                    data=cur_data,
                    headers=hdrs,
                    timeout=timeout,
                    allow_redirects=False,
                ) as resp:
                    status = resp.status
                    resp_headers = resp.headers
                    if status in _REDIRECTS and "Location" in resp_headers:
                        await resp.release()
                        target = cur_url.join(URL(resp_headers["Location"]))
                        if target.origin() != self.base_url.origin():
                            send_auth = False  # never send credentials to another host
                        if status == 303 or (status in (301, 302) and cur_method != "HEAD"):
                            cur_method, cur_data = "GET", None
                        cur_url = target
                        continue
                    raw = await self._read_limited(resp, method, log_path, retries)
            except aiohttp.ClientConnectorCertificateError as exc:
                raise errors.APIConnectionError(
                    f"TLS certificate verification failed: {exc.__class__.__name__}",
                    method=method,
                    path=log_path,
                ) from exc
            except aiohttp.ConnectionTimeoutError as exc:
                raise _AttemptFailed(
                    Failure.NOT_SENT,
                    errors.APITimeoutError(
                        "timed out waiting for a connection", method=method, path=log_path
                    ),
                ) from exc
            except aiohttp.ClientConnectorError as exc:
                raise _AttemptFailed(
                    Failure.NOT_SENT,
                    errors.APIConnectionError(
                        f"could not connect to {self.base_url.host}: "
                        f"{exc.os_error.strerror or type(exc).__name__}",
                        method=method,
                        path=log_path,
                    ),
                ) from exc
            except (aiohttp.SocketTimeoutError, TimeoutError) as exc:
                raise _AttemptFailed(
                    Failure.SENT_NO_ANSWER,
                    errors.APITimeoutError(
                        "timed out waiting for the answer", method=method, path=log_path
                    ),
                ) from exc
            except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
                raise _AttemptFailed(
                    Failure.SENT_NO_ANSWER,
                    errors.APIConnectionError(
                        f"connection lost before a complete answer ({exc.__class__.__name__})",
                        method=method,
                        path=log_path,
                    ),
                ) from exc
            except aiohttp.ClientError as exc:
                raise _AttemptFailed(
                    Failure.SENT_NO_ANSWER,
                    errors.APIConnectionError(
                        f"request failed ({exc.__class__.__name__})", method=method, path=log_path
                    ),
                ) from exc
            break
        else:
            raise errors.APIConnectionError("too many redirects", method=method, path=log_path)

        rid_header = resp_headers.get("X-Request-Id")
        body: Any
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        rid = rid_header
        if isinstance(body, dict) and isinstance(body.get("request_id"), str):
            rid = body["request_id"]
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s -> %d request_id=%s %.1fms attempt=%d",
                method,
                log_path,
                status,
                rid,
                (time.monotonic() - t0) * 1000,
                retries + 1,
            )
        if not isinstance(body, dict):
            if status >= 400:
                # A non-JSON error page (e.g. a proxy's HTML 502): keep status, show an excerpt.
                err = self._status_error(
                    status, resp_headers, None, rid, method, log_path, retries, credential
                )
                err.message = f"non-JSON error response: {_excerpt(raw)!r}"
                err.body = _excerpt(raw)
                if status == 429 or status >= 500:
                    raise _AttemptFailed(
                        Failure.STATUS, err, status=status, retry_after=_retry_after(err)
                    )
                raise err
            raise errors.MalformedResponseError(
                "the response is not a JSON object",
                status_code=status,
                body_excerpt=_excerpt(raw),
                headers=resp_headers,
                method=method,
                path=log_path,
                request_id=rid,
            )
        if status == 429 or status >= 500:
            err = self._status_error(
                status, resp_headers, body, rid, method, log_path, retries, credential
            )
            raise _AttemptFailed(Failure.STATUS, err, status=status, retry_after=_retry_after(err))
        return status, resp_headers, body, rid

    async def _read_limited(
        self, resp: aiohttp.ClientResponse, method: str, log_path: str, retries: int
    ) -> bytes:
        limit = self.max_response_bytes
        length = resp.content_length
        if length is not None and length > limit:
            raise errors.ResponseTooLargeError(
                f"response body of {length} bytes exceeds max_response_bytes={limit}",
                status_code=resp.status,
                headers=resp.headers,
                method=method,
                path=log_path,
                retries_taken=retries,
            )
        if length is not None:
            return await resp.read()  # bounded by Content-Length, checked above
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(65536):
            size += len(chunk)
            if size > limit:
                raise errors.ResponseTooLargeError(
                    f"response body exceeds max_response_bytes={limit}",
                    status_code=resp.status,
                    headers=resp.headers,
                    method=method,
                    path=log_path,
                    retries_taken=retries,
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _status_error(
        self,
        status: int,
        headers: Mapping[str, str],
        body: Any,
        rid: str | None,
        method: str,
        log_path: str,
        retries: int,
        credential: Credential,
    ) -> errors.APIStatusError:
        error = body.get("error") if isinstance(body, dict) else None
        error_type: str | None = None
        provider_error: Any = None
        if isinstance(error, dict):
            message = str(error.get("message") or "")
            error_type = error.get("type") if isinstance(error.get("type"), str) else None
            provider_error = error.get("provider_error")
        elif isinstance(error, str):
            message = error
        else:
            message = ""
        message = self._scrub(message or "no error message", credential)
        body = self._scrub_data(body, credential)
        provider_error = self._scrub_data(provider_error, credential)
        cls = errors.status_error_class(status)
        kwargs: dict[str, Any] = {
            "status_code": status,
            "error_type": error_type,
            "provider_error": provider_error,
            "headers": headers,
            "body": body,
            "method": method,
            "path": log_path,
            "request_id": rid,
            "retries_taken": retries,
        }
        if cls is errors.RateLimitError:
            kwargs["retry_after"] = parse_retry_after(headers.get("Retry-After"), time.time())
        return cls(message, **kwargs)

    def _scrub_data(self, data: Any, credential: Credential) -> Any:
        """``data`` with every secret inside its strings replaced (error bodies only)."""
        if isinstance(data, str):
            return self._scrub(data, credential)
        if isinstance(data, dict):
            return {k: self._scrub_data(v, credential) for k, v in data.items()}
        if isinstance(data, list):
            return [self._scrub_data(v, credential) for v in data]
        return data

    def _scrub(self, text: str, credential: Credential) -> str:
        for secret in (self._api_key, credential.token):
            if secret and secret in text:
                text = text.replace(secret, "***")
        return text
