"""The bytes of one exchange: JSON in and out, redirect hops, answers read with a size limit.

Helpers of :mod:`scheduler_async._transport` (which alone holds the session and sends):

* :func:`dumps` / :func:`loads`: orjson when installed (the ``fast`` extra), else ``json``, with
  the same decoded values;
* :func:`headers`: the ``Content-Type`` and ``Authorization`` one attempt adds;
* :func:`redirect_target` and :func:`redirects_to_get`: where a same-host redirect leads (absolute
  http(s) only, never with a ``user:password``) and the method it is followed with;
* :func:`read_limited`: the decoded body, refused as soon as it passes ``max_response_bytes``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from yarl import URL

from . import _failures, errors
from ._scrub import Secrets

if TYPE_CHECKING:
    import aiohttp

    from ._transport import Request

__all__ = [
    "MAX_REDIRECTS",
    "REDIRECTS",
    "dumps",
    "headers",
    "loads",
    "read_limited",
    "redirect_target",
    "redirects_to_get",
]

REDIRECTS = frozenset({301, 302, 303, 307, 308})
"""Statuses followed (by hand, when they carry a ``Location``)."""
MAX_REDIRECTS = 5
"""Hops followed before the call fails with ``APIConnectionError("too many redirects")``."""

try:  # the optional ``fast`` extra: same decoded values, a third of the CPU
    import orjson

    loads: Callable[[bytes | bytearray], Any] = orjson.loads

    def dumps(value: Any) -> bytes:
        """``value`` as compact JSON bytes."""
        return orjson.dumps(value)

except ImportError:  # pragma: no cover - depends on the environment
    loads = json.loads

    def dumps(value: Any) -> bytes:
        """``value`` as compact JSON bytes."""
        return json.dumps(value, separators=(",", ":")).encode("utf-8")


def headers(token: str | None, data: bytes | None) -> dict[str, str] | None:
    """The headers an attempt adds to the session's: ``None`` when it adds none."""
    if data is None and token is None:
        return None  # the session's default headers only: no per-request merge
    sent = {}
    if data is not None:
        sent["Content-Type"] = "application/json"
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    return sent


def redirect_target(current: URL, location: str, request: Request, secrets: Secrets) -> URL:
    """The URL a ``Location`` points to: absolute http(s) only, never with a user:password."""
    try:
        target = current.join(URL(location))
        ok = target.scheme in ("http", "https") and bool(target.host)
    except ValueError:
        ok = False
    if not ok:
        raise errors.APIConnectionError(
            f"refused to follow a redirect to a non-http(s) or invalid URL: "
            f"{secrets.scrub(location[:100], request.credential.token)!r}",
            method=request.method,
            path=request.where,
        )
    if target.raw_user is not None or target.raw_password is not None:
        # aiohttp would turn user:password@ into an Authorization: Basic header.
        target = target.with_user(None)
    return target


def redirects_to_get(status: int, method: str) -> bool:
    """Whether a redirect of ``status`` is followed as a GET without body (else as sent)."""
    return status == 303 or (status in (301, 302) and method != "HEAD")


async def read_limited(
    resp: aiohttp.ClientResponse, request: Request, retries: int, limit: int, secrets: Secrets
) -> bytes | bytearray:
    """The decoded body, read until done or until it passes ``limit`` bytes.

    ``Content-Length`` counts the bytes on the wire, which gzip, deflate or br may inflate
    a thousandfold, so the limit is checked on the decoded stream as it arrives (aiohttp
    inflates in bounded steps); the read stops, and the connection is dropped, as soon as
    it passes. Peak memory stays within about twice the limit.
    """
    length = resp.content_length
    if length is not None and length > limit:
        what = f"response body of {length} bytes exceeds"
        raise _failures.too_large(request, resp.status, resp.headers, retries, what, limit, secrets)
    body = bytearray()
    content = resp.content
    while True:
        chunk = await content.readany()
        if not chunk:
            return body
        if len(body) + len(chunk) > limit:
            resp.close()  # stop reading: do not inflate or download the rest
            what = "decoded response body exceeds"
            raise _failures.too_large(
                request, resp.status, resp.headers, retries, what, limit, secrets
            )
        body += chunk
