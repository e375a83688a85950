"""The aiohttp side of :class:`~scheduler_async.webhooks.WebhookReceiver` (imported on use).

Kept apart so that ``import scheduler_async.webhooks`` does not load ``aiohttp.web``; like the
rest of the package outside the transport, it imports aiohttp only inside the functions.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import StreamReader, web

    from .webhooks import WebhookReceiver, WebhookResult

_log = logging.getLogger("scheduler_async.webhooks")

MAX_LINE_SIZE = 8190
"""Longest request line or header line the receiver's app accepts (bytes)."""

MAX_HEADERS = 64
"""Most request headers the receiver's app accepts."""

LINGERING_TIME = 1.0
"""Seconds the app drains a refused request's unread body before closing the connection."""


async def _read_body(content: StreamReader, limit: int) -> bytes | None:
    """The whole body, or None once it exceeds ``limit`` bytes.

    ``StreamReader.read(n)`` returns what is buffered (up to ``n``), not ``n`` bytes: a body
    arriving in several TCP segments or chunks needs the loop.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await content.read(limit + 1 - size)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)


def _response(result: WebhookResult) -> web.Response:
    from aiohttp import web

    return web.Response(status=result.status, body=result.body, content_type=result.content_type)


async def _answer_and_close(request: web.Request, status: int, text: str) -> web.StreamResponse:
    """Answer, then close the connection without reading the rest of the body."""
    from aiohttp import web

    resp = web.Response(status=status, text=text)
    resp.force_close()
    await resp.prepare(request)
    await resp.write_eof()
    request.protocol.force_close()
    return resp


async def serve_request(receiver: WebhookReceiver, request: web.Request) -> web.StreamResponse:
    """Serve one request for ``receiver`` (see :meth:`WebhookReceiver.aiohttp_handler`)."""
    if request.method != "POST":
        return _response(receiver.handle(request.method, request.query, request.headers, b""))
    if receiver.busy:  # answered before reading: the body would only be dropped
        return _response(receiver.handle(request.method, request.query, request.headers, b""))
    limit = receiver.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        return await _answer_and_close(request, 413, "body too large")
    try:
        async with asyncio.timeout(receiver.body_timeout):
            body = await _read_body(request.content, limit)
    except TimeoutError:
        _log.warning(
            "webhook request body not received within %s s; connection closed",
            receiver.body_timeout,
        )
        return await _answer_and_close(request, 408, "request body not received in time")
    if body is None:
        return await _answer_and_close(request, 413, "body too large")
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding == "gzip" and not body.startswith(b"\x1f\x8b"):
        # aiohttp decompressed the body already: the signature covers the compressed one
        _log.warning(
            "gzip webhook body was decompressed by aiohttp before verification; "
            "serve the receiver with handler_args={'auto_decompress': False}"
        )
        return web.Response(status=500, text="server decompressed the body")
    return _response(receiver.handle(request.method, request.query, request.headers, body))


def build_app(receiver: WebhookReceiver, path: str) -> web.Application:
    """The ``web.Application`` of :meth:`WebhookReceiver.app`."""
    from aiohttp import web

    app = web.Application(
        client_max_size=receiver.max_body_bytes + 1,
        handler_args={
            "auto_decompress": False,  # verify over the raw (gzipped) body
            # aiohttp arms this timer when a connection opens and after each answer; it closes
            # a connection still waiting for a complete request: the only header timeout.
            "keepalive_timeout": receiver.keepalive_timeout,
            "lingering_time": LINGERING_TIME,
            "handler_cancellation": True,  # a Server argument: handler_args reach it too
            "max_line_size": MAX_LINE_SIZE,
            "max_field_size": MAX_LINE_SIZE,
            "max_headers": MAX_HEADERS,
        },
    )
    app.router.add_route("*", path, receiver.aiohttp_handler)

    async def _cleanup(_: web.Application) -> None:
        await receiver.aclose()

    app.on_cleanup.append(_cleanup)
    return app
