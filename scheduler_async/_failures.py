"""From what went wrong to the typed error a caller gets: every error of a call is built here.

* an aiohttp exception of one attempt -> (failure kind, error class, message) through the
  :data:`EXCEPTIONS` table (:func:`connection_error`), chained to a :func:`scrubbed_cause`;
* an error status -> the complete :class:`~scheduler_async.errors.APIStatusError` subclass
  (:func:`status_error`);
* an answer we cannot read (not JSON, too large, a ``data`` of the wrong shape) ->
  ``MalformedResponseError`` / ``ResponseTooLargeError`` (:func:`malformed`, :func:`too_large`),
  which for a create becomes ``OutcomeUnknownError`` (:func:`unreadable`): the server may have
  applied it.

A failure the retry policy classifies travels as :class:`AttemptFailed`. Every text is scrubbed
of the client's secrets (:class:`~scheduler_async._scrub.Secrets`) and the request's credential.
Pure: no I/O, nothing sent; the transport and ``resources/_base.py`` use it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import aiohttp
from multidict import CIMultiDict

from . import errors
from ._retry import Failure
from ._scrub import ScrubbedCause, Secrets

if TYPE_CHECKING:
    from ._transport import Request, Response

__all__ = [
    "EXCEPTIONS",
    "AttemptFailed",
    "ContentEncodingError",
    "budget_spent",
    "connection_error",
    "error_headers",
    "excerpt",
    "malformed",
    "not_retried",
    "rate_limit_wait",
    "scrubbed_cause",
    "status_error",
    "too_large",
    "unreadable",
]

ContentEncodingError: Any = getattr(
    aiohttp, "http_exceptions", aiohttp
).ContentEncodingError  # raised by the payload parser while inflating gzip/deflate/br

EXCERPT = 200
"""Characters of an unreadable answer an error shows."""

_SECRET_FIELD = re.compile(r'("webhook_secret"\s*:\s*")[^"]*("?)')
"""A webhook secret in an unreadable (e.g. cut-off) JSON answer: never shown in an error."""


class AttemptFailed(Exception):
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


EXCEPTIONS: tuple[tuple[Any, Failure | None, type[errors.APIError], str], ...] = (
    # (exception types, failure kind or None = never retried, error class, message); first match
    # wins, so subclasses come before their bases.
    (
        ContentEncodingError,
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


def connection_error(
    exc: BaseException,
    request: Request,
    retries: int,
    *,
    host: str | None,
    status: int = 0,
) -> errors.APIError | AttemptFailed:
    """The typed error for an aiohttp exception, wrapped when the retry policy decides."""
    failure, cls, template = next(
        (failure, cls, template)
        for types, failure, cls, template in EXCEPTIONS
        if isinstance(exc, types)
    )
    os_error = getattr(exc, "os_error", None)
    message = template.format(
        name=type(exc).__name__,
        host=host,
        reason=getattr(os_error, "strerror", None) or type(exc).__name__,
    )
    error = cls(message, method=request.method, path=request.where, retries_taken=retries)
    if isinstance(error, errors.MalformedResponseError):
        error.status_code = status or None
        return unreadable(request, error, status)
    return error if failure is None else AttemptFailed(failure, error)


def scrubbed_cause(exc: BaseException, request: Request, secrets: Secrets) -> ScrubbedCause:
    """The stand-in chained to a connection error: ``exc``'s type and scrubbed text only."""
    return ScrubbedCause.of(exc, secrets.scrub(str(exc), request.credential.token))


def unreadable(request: Request, error: errors.APIError, status: int) -> errors.APIError:
    """``error`` for an answer we cannot read; for a create it may have been applied, so a
    success (or 5xx) answer becomes ``OutcomeUnknownError`` chained to ``error``."""
    if request.repeatable or 300 <= status < 500:
        return error
    unknown = errors.OutcomeUnknownError(
        "the server answered but its answer could not be read; the request may have been applied",
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


def malformed(
    request: Request,
    response: Response,
    message: str,
    excerpt: str,
    *,
    headers: Mapping[str, str] | None = None,
    cause: BaseException | None = None,
) -> errors.APIError:
    """An answer we cannot read, through :func:`unreadable` (``cause`` is chained)."""
    error = errors.MalformedResponseError(
        message,
        status_code=response.status,
        body_excerpt=excerpt,
        headers=response.headers if headers is None else headers,
        method=request.method,
        path=request.where,
        request_id=response.request_id,
        retries_taken=response.retries,
    )
    if cause is not None:
        error.__cause__ = cause
    return unreadable(request, error, response.status)


def too_large(
    request: Request,
    status: int,
    headers: Mapping[str, str],
    retries: int,
    what: str,
    limit: int,
    secrets: Secrets,
) -> errors.APIError:
    """An answer past ``max_response_bytes``, through :func:`unreadable`."""
    error = errors.ResponseTooLargeError(
        f"{what} max_response_bytes={limit}",
        status_code=status,
        headers=error_headers(headers, request, secrets),
        method=request.method,
        path=request.where,
        retries_taken=retries,
    )
    return unreadable(request, error, status)


def error_headers(
    headers: Mapping[str, str], request: Request, secrets: Secrets
) -> CIMultiDict[str]:
    """The answer's headers as an error shows them (secrets scrubbed)."""
    return CIMultiDict(secrets.scrub_headers(headers, request.credential.token))


def excerpt(raw: bytes | bytearray, request: Request, secrets: Secrets) -> str:
    """The start of an answer that is not a JSON object, as an error may show it."""
    # Scrub first, then cut: a credential across the cut cannot leave a prefix behind.
    text = secrets.scrub(
        bytes(raw[: EXCERPT + 1024]).decode("utf-8", "replace"), request.credential.token
    )
    return _SECRET_FIELD.sub(r"\1***\2", text)[:EXCERPT]


def status_error(
    request: Request,
    response: Response,
    retries: int,
    secrets: Secrets,
    retry_after: float | None = None,
    excerpt: str | None = None,
) -> errors.APIStatusError:
    """The complete typed error for an error status (secrets scrubbed from every text)."""
    token = request.credential.token
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
        "headers": error_headers(response.headers, request, secrets),
        "body": secrets.scrub_data(body, token),
        "method": request.method,
        "path": request.where,
        "request_id": response.request_id,
        "retries_taken": retries,
    }
    if cls is errors.RateLimitError:
        kwargs["retry_after"] = retry_after
    return cls(secrets.scrub(message[:2000] or "no error message", token), **kwargs)


def not_retried(
    request: Request, error: errors.APIError, reason: str, retries: int
) -> errors.OutcomeUnknownError:
    """A failure after which the server may or may not have applied a create (not retried);
    raise it ``from error``."""
    return errors.OutcomeUnknownError(
        f"the server may or may not have applied this request ({reason}); it was not retried",
        request_body=request.body,
        cause=error,
        hint=(
            "Check before repeating it: read availability or the resource "
            "(for a booking, look for it at the requested start/end time)."
        ),
        method=request.method,
        path=request.where,
        request_id=error.request_id,
        retries_taken=retries,
    )


def budget_spent(error: errors.APIError, available: float, capacity: float) -> errors.APIError:
    """``error``, its message saying it was not retried because the retry budget is spent."""
    error.message = (
        f"{error.message} (not retried: this client's retry budget is spent, "
        f"{available} of {capacity} tokens left; successful calls refill it)"
    )
    return error


def rate_limit_wait(
    exc: errors.RateLimitWaitError, request: Request, retries: int
) -> errors.RateLimitWaitError:
    """The limiter's refusal with this call's details: nothing was sent, it is not retried."""
    return errors.RateLimitWaitError(
        str(exc),
        retry_after=exc.retry_after,
        method=request.method,
        path=request.where,
        retries_taken=retries,
    )
