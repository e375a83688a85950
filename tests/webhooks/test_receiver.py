"""The webhook receiver against hostile or merely real networks: bodies in pieces, deep JSON,
missing secrets, replays, backpressure and slow clients."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from scheduler_async.webhooks import (
    MAX_NOTIFICATION_ID_LENGTH,
    AnyNotification,
    NotificationDeduper,
    WebhookPayloadError,
    WebhookReceiver,
    handle_webhook_request,
    parse_notification,
)
from tests.webhooks.test_webhooks import SECRET, hexsig, sample, signed

# --------------------------------------------------------------------------- raw HTTP


def head(length: int | None, signature: str, *, path: str = "/webhook") -> bytes:
    """A POST's request head: ``Content-Length`` when given, else chunked."""
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"X-Nylas-Signature: {signature}\r\n{framing}\r\nConnection: close\r\n\r\n"
    ).encode()


def chunk(data: bytes, *, last: bool = False) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data) + (b"0\r\n\r\n" if last else b"")


def split(body: bytes, parts: int) -> list[bytes]:
    step = -(-len(body) // parts)
    return [body[i : i + step] for i in range(0, len(body), step)]


async def exchange(port: int, pieces: list[bytes], pause: float = 0.05) -> int:
    """Send ``pieces`` as separate TCP writes, ``pause`` apart; the answer's status."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for i, piece in enumerate(pieces):
            if i:
                await asyncio.sleep(pause)  # the server reads what arrived so far meanwhile
            writer.write(piece)
            await writer.drain()
        answer = await reader.read()  # Connection: close -> read to EOF
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    return int(answer.split(b" ", 2)[1])


@contextlib.asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[int]:
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        assert server.port is not None
        yield server.port
    finally:
        await server.close()


class Collect:
    def __init__(self) -> None:
        self.got: list[AnyNotification] = []

    async def __call__(self, n: AnyNotification) -> None:
        self.got.append(n)


def mounted(receiver: WebhookReceiver) -> web.Application:
    """The handler in a user's own app (none of the receiver app's settings)."""
    app = web.Application()
    app.router.add_route("*", "/webhook", receiver.aiohttp_handler)
    return app


def padded_body(size: int) -> bytes:
    raw = sample("booking.created")
    raw["data"]["object"]["booking_info"]["event_description"] = ""
    short = len(json.dumps(raw).encode())
    raw["data"]["object"]["booking_info"]["event_description"] = "x" * (size - short)
    body = json.dumps(raw).encode()
    assert len(body) == size
    return body


# --------------------------------------------------------------------------- 1. whole body


@pytest.mark.parametrize("how", ["app", "mounted"])
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
@pytest.mark.parametrize("size", [1_700, 100_000])
async def test_body_in_pieces_is_read_whole(how: str, framing: str, size: int) -> None:
    """A signed body arriving in two TCP segments, a pause apart, is verified whole: 200."""
    collect = Collect()
    receiver = WebhookReceiver(collect, secret=SECRET)
    body = padded_body(size)
    first, second = split(body, 2)
    if framing == "chunked":
        pieces = [head(None, hexsig(body)) + chunk(first), chunk(second, last=True)]
    else:
        pieces = [head(len(body), hexsig(body)) + first, second]
    async with serve(receiver.app() if how == "app" else mounted(receiver)) as port:
        assert await exchange(port, pieces) == 200
        await receiver.join()
    assert [n.id for n in collect.got] == ["notif-1"]


@pytest.mark.parametrize("how", ["app", "mounted"])
async def test_body_over_the_cap_in_pieces_is_413(how: str) -> None:
    receiver = WebhookReceiver(Collect(), secret=SECRET, max_body_bytes=1_000)
    body = padded_body(1_700)
    first, second = split(body, 2)
    async with serve(receiver.app() if how == "app" else mounted(receiver)) as port:
        chunked = [head(None, hexsig(body)) + chunk(first), chunk(second, last=True)]
        assert await exchange(port, chunked) == 413
        declared = [head(len(body), hexsig(body)) + first, second]
        assert await exchange(port, declared) == 413
    assert receiver.pending == 0 and len(receiver.deduper) == 0


# --------------------------------------------------------------------------- 2. deep JSON


def deep(depth: int = 100_000) -> bytes:
    return b'{"type":"x","id":"n","time":1,"data":' + b"[" * depth + b"]" * depth + b"}"


def test_deeply_nested_json_is_a_payload_error() -> None:
    with pytest.raises(WebhookPayloadError, match="nested too deeply"):
        parse_notification(deep())
    body = deep()
    result = handle_webhook_request(
        "POST", {}, {"X-Nylas-Signature": hexsig(body)}, body, secret=SECRET
    )
    assert result.status == 400 and result.notification is None


# --------------------------------------------------------------------------- 3. no secret


def test_missing_secret_is_503(caplog: pytest.LogCaptureFixture) -> None:
    body, headers = signed(sample("booking.created"))
    for source in (None, lambda: None):
        result = handle_webhook_request("POST", {}, headers, body, secret=source)  # type: ignore[arg-type]
        assert (result.status, result.body) == (503, b"no webhook secret configured")

    def broken() -> str:
        raise RuntimeError(f"vault unreachable while reading {SECRET}")

    caplog.set_level(logging.ERROR, logger="scheduler_async.webhooks")
    result = handle_webhook_request("POST", {}, headers, body, secret=broken)
    assert (result.status, result.body) == (503, b"no webhook secret configured")
    assert "RuntimeError" in caplog.text and SECRET not in caplog.text
    receiver = WebhookReceiver(Collect(), secret=broken)
    assert receiver.handle("POST", {}, headers, body).status == 503
    with pytest.raises(ValueError):
        WebhookReceiver(Collect(), secret=None)  # type: ignore[arg-type]


async def test_missing_secret_over_http_is_503() -> None:
    receiver = WebhookReceiver(Collect(), secret=lambda: None)
    body, headers = signed(sample("booking.created"))
    async with serve(receiver.app()) as port:
        assert await exchange(port, [head(len(body), headers["X-Nylas-Signature"]) + body]) == 503


# --------------------------------------------------------------------------- 4. replay


def test_max_age_checks_the_signed_time() -> None:
    old = sample("booking.created")  # time: 2024-07-01
    body, headers = signed(old)
    assert handle_webhook_request("POST", {}, headers, body, secret=SECRET).status == 200
    stale = handle_webhook_request("POST", {}, headers, body, secret=SECRET, max_age=86_400)
    assert (stale.status, stale.notification) == (400, None)
    fresh = sample("booking.created")
    fresh["time"] = int(time.time())
    body, headers = signed(fresh)
    dedupe = NotificationDeduper()
    receiver = WebhookReceiver(Collect(), secret=SECRET, max_age=300)
    assert receiver.max_age == 300
    ok = handle_webhook_request(
        "POST", {}, headers, body, secret=SECRET, max_age=300, deduper=dedupe
    )
    assert ok.status == 200 and ok.notification is not None
    with pytest.raises(ValueError):
        WebhookReceiver(Collect(), secret=SECRET, max_age=0)


def test_notification_id_length_is_capped() -> None:
    raw = sample("booking.created")
    raw["id"] = "i" * MAX_NOTIFICATION_ID_LENGTH
    assert parse_notification(raw).id == raw["id"]
    raw["id"] = "i" * 1_000_000
    with pytest.raises(WebhookPayloadError, match="longer than"):
        parse_notification(raw)
    body, headers = signed(raw)
    assert handle_webhook_request("POST", {}, headers, body, secret=SECRET).status == 400


# --------------------------------------------------------------------------- 5. backpressure


async def test_max_pending_answers_503_and_forgets_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    release = asyncio.Event()
    got: list[str] = []

    async def hang(n: AnyNotification) -> None:
        await release.wait()
        got.append(n.id)

    receiver = WebhookReceiver(hang, secret=SECRET, max_pending=2)

    def post(ident: str) -> int:
        raw = sample("booking.created")
        raw["id"] = ident
        body, headers = signed(raw)
        return receiver.handle("POST", {}, headers, body).status

    assert [post("a"), post("b")] == [200, 200]
    assert post("c") == 503 and receiver.pending == 2 and receiver.refused_busy == 1
    assert [post("d") for _ in range(50)] == [503] * 50
    assert len([r for r in caplog.records if "max_pending" in r.getMessage()]) == 1  # no flood
    async with serve(receiver.app()) as port:  # the aiohttp handler refuses before reading
        body, headers = signed(sample("booking.created"))
        assert await exchange(port, [head(len(body), headers["X-Nylas-Signature"]) + body]) == 503
        release.set()  # before the app's cleanup, which would cancel the callbacks
        await receiver.join()
    assert post("c") == 200  # the refused one was not remembered: its redelivery goes through
    await receiver.join()
    assert got == ["a", "b", "c"]


# --------------------------------------------------------------------------- 6. slow clients


async def read_until_closed(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sent before it closed the connection.  A server that closes with
    our trickled bytes still unread resets the connection (RST) instead of a clean FIN: what it
    sent before is still ours, so keep it (``reader.read()`` would raise and drop it)."""
    got = bytearray()
    with contextlib.suppress(ConnectionError):
        while chunk := await reader.read(65536):
            got += chunk
    return bytes(got)


async def trickle_until_closed(
    port: int, first: bytes, rest: bytes, gap: float
) -> tuple[int, bytes]:
    """Send ``first``, then ``rest`` one byte per ``gap`` s until the server closes the
    connection; the bytes of ``rest`` sent, and what the server answered."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answer = asyncio.ensure_future(read_until_closed(reader))  # completes at the server's close
    sent = 0
    try:
        writer.write(first)
        while sent < len(rest) and not answer.done():
            writer.write(rest[sent : sent + 1])
            sent += 1
            await asyncio.wait([answer], timeout=gap)
        return sent, await answer
    except ConnectionError:
        return sent, await answer
    finally:
        answer.cancel()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def test_slow_body_is_cut_off() -> None:
    receiver = WebhookReceiver(Collect(), secret=SECRET, body_timeout=0.3)
    body, headers = signed(sample("booking.created"))
    for app in (receiver.app(), mounted(receiver)):
        async with serve(app) as port:
            sent, answer = await trickle_until_closed(
                port, head(len(body), headers["X-Nylas-Signature"]), body, gap=0.05
            )
        assert answer.startswith(b"HTTP/1.1 408 ") and sent < len(body)
    assert receiver.pending == 0


async def test_slow_headers_are_cut_off() -> None:
    receiver = WebhookReceiver(Collect(), secret=SECRET, keepalive_timeout=0.3)
    body, headers = signed(sample("booking.created"))
    line, rest = (head(len(body), headers["X-Nylas-Signature"]) + body).split(b"\r\n", 1)
    async with serve(receiver.app()) as port:
        sent, answer = await trickle_until_closed(port, line + b"\r\n", rest, gap=0.05)
    assert answer == b"" and sent < rest.index(b"\r\n\r\n")  # closed before the head ended


def test_app_settings_reach_the_server() -> None:
    args: dict[str, Any] = WebhookReceiver(Collect(), secret=SECRET).app()._handler_args or {}
    assert args["handler_cancellation"] is True and args["keepalive_timeout"] == 15.0
