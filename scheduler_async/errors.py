"""The exception hierarchy: every public error class of scheduler-client lives here.

Every error the library raises derives from :class:`SchedulerError`, except
:class:`InvalidBookingRefError`, the ``ValueError`` of ``parse_booking_ref``::

    SchedulerError
    ├── ClientClosedError (RuntimeError)        the client was closed
    ├── EventLoopMismatchError (RuntimeError)   used from another event loop than its first one
    ├── LoopThreadCallError (RuntimeError)      (sync facade) called from its own loop thread
    ├── MissingCredentialsError (ValueError)    no API key / grant id where one is needed
    ├── DistributedSweepError                   a chunk of a distributed sweep failed as a whole
    ├── WebElementsError (RuntimeError)         fetch-web-elements failed (registry, checksum)
    ├── WebhookError                            a webhook notification was refused
    │   ├── WebhookSignatureError               missing or wrong ``x-nylas-signature``
    │   └── WebhookPayloadError (ValueError)    not the documented envelope
    └── APIError                                on the way to or from the server
        ├── APIStatusError                      an error status (4xx/5xx), usually an envelope
        │   ├── BadRequestError 400, AuthenticationError 401, PermissionDeniedError 403,
        │   │   NotFoundError 404, ConflictError 409, UnprocessableEntityError 422,
        │   │   InternalServerError 5xx
        │   └── RateLimitError 429 (``retry_after``)
        │       └── RateLimitWaitError          the client's own rate budget: never sent
        ├── MalformedResponseError              not JSON, truncated, wrong shape, too large
        │   └── ResponseTooLargeError
        ├── APIConnectionError                  no answer: connection refused, reset, ...
        │   └── APITimeoutError
        └── OutcomeUnknownError                 a create may or may not have happened: check
    InvalidBookingRefError (ValueError)         not a booking reference

Messages never contain the API key or a session token. Errors are picklable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from multidict import CIMultiDict

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConflictError",
    "DistributedSweepError",
    "EventLoopMismatchError",
    "InternalServerError",
    "InvalidBookingRefError",
    "LoopThreadCallError",
    "MalformedResponseError",
    "MissingCredentialsError",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "RateLimitError",
    "RateLimitWaitError",
    "ResponseTooLargeError",
    "SchedulerError",
    "UnprocessableEntityError",
    "WebElementsError",
    "WebhookError",
    "WebhookPayloadError",
    "WebhookSignatureError",
]


def _rebuild(cls: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    obj = cls.__new__(cls)
    obj.args = args
    obj.__dict__.update(state)
    return obj


class SchedulerError(Exception):
    """Base class of every error raised by scheduler-client."""

    def __reduce__(self) -> Any:
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


class ClientClosedError(SchedulerError, RuntimeError):
    """The client was used after ``aclose()``/``close()``."""


class EventLoopMismatchError(SchedulerError, RuntimeError):
    """An ``AsyncScheduler`` was used from an event loop other than the one it first ran on.

    Its connection pool belongs to that first loop. Create one client per event loop (for
    example inside the function you pass to ``asyncio.run``), or use ``scheduler_sync``.
    """


class LoopThreadCallError(SchedulerError, RuntimeError):
    """A sync client was called from its own event-loop thread, which would deadlock.

    This happens when code running *on* the client's loop (a callback, a hook) calls the sync
    facade. Code that runs in an event loop should use ``scheduler_async.AsyncScheduler``.
    """


class MissingCredentialsError(SchedulerError, ValueError):
    """An API key or grant id is needed for this call but none was configured."""


class DistributedSweepError(SchedulerError):
    """A chunk of a distributed sweep failed as a whole (worker error, lost result)."""


class WebElementsError(SchedulerError, RuntimeError):
    """``fetch-web-elements`` could not fetch the bundles: registry unreachable or unexpected,
    checksum mismatch, a file missing from the tarball (nothing is then written)."""


class InvalidBookingRefError(ValueError):
    """The text is not a booking reference (not URL-safe base64, or too short)."""


class APIError(SchedulerError):
    """An error talking to the API. ``path`` never includes the query string or a token."""

    message: str
    method: str | None
    path: str | None
    request_id: str | None
    retries_taken: int

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        path: str | None = None,
        request_id: str | None = None,
        retries_taken: int = 0,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path
        self.request_id = request_id
        self.retries_taken = retries_taken

    def __str__(self) -> str:
        where = f" ({self.method} {self.path})" if self.method and self.path else ""
        rid = f" [request_id={self.request_id}]" if self.request_id else ""
        return f"{self.message}{where}{rid}"


class APIStatusError(APIError):
    """The server answered with an error status and (usually) an error envelope."""

    status_code: int
    error_type: str | None
    provider_error: Any
    headers: Mapping[str, str]
    """Response headers (case-insensitive)."""
    body: Any

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        error_type: str | None = None,
        provider_error: Any = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        method: str | None = None,
        path: str | None = None,
        request_id: str | None = None,
        retries_taken: int = 0,
    ) -> None:
        super().__init__(
            message, method=method, path=path, request_id=request_id, retries_taken=retries_taken
        )
        self.status_code = status_code
        self.error_type = error_type
        self.provider_error = provider_error
        self.headers = CIMultiDict(headers or {})
        self.body = body

    def __str__(self) -> str:
        kind = f" {self.error_type}" if self.error_type else ""
        return f"HTTP {self.status_code}{kind}: {super().__str__()}"


class BadRequestError(APIStatusError):
    """HTTP 400: the request was invalid (bad field, slot not available, ...)."""


class AuthenticationError(APIStatusError):
    """HTTP 401: missing, wrong or expired API key or session."""


class PermissionDeniedError(APIStatusError):
    """HTTP 403."""


class NotFoundError(APIStatusError):
    """HTTP 404."""


class ConflictError(APIStatusError):
    """HTTP 409."""


class UnprocessableEntityError(APIStatusError):
    """HTTP 422."""


class RateLimitError(APIStatusError):
    """HTTP 429. ``retry_after`` is the server's ``Retry-After`` in seconds, if it sent one."""

    retry_after: float | None

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class InternalServerError(APIStatusError):
    """HTTP 5xx."""


class MalformedResponseError(APIError):
    """The answer was not the JSON envelope the API documents (HTML error page, truncated, ...)."""

    status_code: int | None
    body_excerpt: str
    headers: Mapping[str, str]

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        body_excerpt: str = "",
        headers: Mapping[str, str] | None = None,
        method: str | None = None,
        path: str | None = None,
        request_id: str | None = None,
        retries_taken: int = 0,
    ) -> None:
        super().__init__(
            message, method=method, path=path, request_id=request_id, retries_taken=retries_taken
        )
        self.status_code = status_code
        self.body_excerpt = body_excerpt
        self.headers = CIMultiDict(headers or {})

    def __str__(self) -> str:
        status = f"HTTP {self.status_code}: " if self.status_code is not None else ""
        excerpt = f" body starts: {self.body_excerpt!r}" if self.body_excerpt else ""
        return f"{status}{super().__str__()}{excerpt}"


class ResponseTooLargeError(MalformedResponseError):
    """The response body exceeded the client's ``max_response_bytes``; it was not read."""


class APIConnectionError(APIError):
    """No usable answer: the connection failed, was reset, or the request never completed."""


class APITimeoutError(APIConnectionError):
    """The request timed out (connect, read or total)."""


class OutcomeUnknownError(APIError):
    """A create (or other non-repeatable write) may or may not have been applied by the server.

    It was **not** retried, because repeating it could double-book. Check before acting again:
    read availability or the resource (``request_body`` says what was asked), then decide.
    ``cause`` is the underlying error (a timeout, a dropped connection, or a 5xx status error).
    """

    request_body: Any
    cause: BaseException | None
    hint: str

    def __init__(
        self,
        message: str,
        *,
        request_body: Any = None,
        cause: BaseException | None = None,
        hint: str = "",
        method: str | None = None,
        path: str | None = None,
        request_id: str | None = None,
        retries_taken: int = 0,
    ) -> None:
        super().__init__(
            message, method=method, path=path, request_id=request_id, retries_taken=retries_taken
        )
        self.request_body = request_body
        self.cause = cause
        self.hint = hint

    def __str__(self) -> str:
        hint = f" {self.hint}" if self.hint else ""
        return f"{super().__str__()}.{hint}"


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status: int) -> type[APIStatusError]:
    """The exception class for an HTTP error status."""
    if status in _STATUS_CLASSES:
        return _STATUS_CLASSES[status]
    if status >= 500:
        return InternalServerError
    return APIStatusError


class WebhookError(SchedulerError):
    """A webhook notification could not be accepted (base of the two below)."""


class WebhookSignatureError(WebhookError):
    """The ``x-nylas-signature`` header is missing or does not match the body (no secret shown)."""


class WebhookPayloadError(WebhookError, ValueError):
    """The notification body is not the JSON envelope the API documents."""


class RateLimitWaitError(RateLimitError):
    """The client's own rate budget (see :mod:`scheduler_async.ratelimit`) cannot let a request
    through before its deadline, so it was not sent.

    No request reached the server: ``status_code`` is 429 to keep ``except RateLimitError``
    handling both cases, ``request_id`` is ``None`` and ``retry_after`` is the seconds until the
    budget would have let it through.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("status_code", 429)
        kwargs.setdefault("error_type", "client_rate_limit")
        super().__init__(message, retry_after=retry_after, **kwargs)
