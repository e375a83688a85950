"""The client against a hostile or broken server (issue 10, items 1-3 and 5-7).

Every test runs an aiohttp test server on loopback and asserts the exact exception type, how
many requests the server saw, and that no credential shows in any text an error exposes.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import pickle
import subprocess
import sys
import traceback
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

import scheduler_async as sa
import scheduler_sync
from scheduler_async import (
    AsyncScheduler,
    AvailabilityQuery,
    BookingRequest,
    Guest,
    RetryPolicy,
    _transport,
    _wire,
)

KEY = "sk_live_SECRET_key_000"
SESSION = "sess_SECRET_token_111"
DEEP = b"[" * 100_000 + b"]" * 100_000
ROOT = Path(__file__).resolve().parents[2]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Hostile:
    """A loopback server whose every route runs ``handler``; counts the requests it saw."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[web.Request] = []
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._route)
        self.server = TestServer(app, host="127.0.0.1", port=0)

    async def _route(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request)
        return await self.handler(request)

    @property
    def url(self) -> str:
        return str(self.server.make_url(""))


@pytest.fixture
async def hostile() -> AsyncIterator[Callable[[Handler], Awaitable[Hostile]]]:
    started: list[Hostile] = []

    async def start(handler: Handler) -> Hostile:
        h = Hostile(handler)
        await h.server.start_server()
        started.append(h)
        return h

    yield start
    for h in started:
        await h.server.close()


def _client(url: str, **kwargs: Any) -> AsyncScheduler:
    kwargs.setdefault("retry", RetryPolicy(max_retries=0))
    return AsyncScheduler(api_key=KEY, grant_id="g", client_id="c", base_url=url, **kwargs)


def _exposed(exc: BaseException) -> list[str]:
    """Every text an error exposes: str, repr, body, headers, excerpt, pickle, traceback."""
    texts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    texts.append(pickle.dumps(exc).decode("latin-1"))
    for name in ("body", "provider_error", "body_excerpt", "request_id", "message", "path"):
        texts.append(repr(getattr(exc, name, None)))
    headers = getattr(exc, "headers", None)
    if headers is not None:
        texts.append(repr(list(headers.items())))
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):
        texts += _exposed(cause)
    return texts


def _assert_clean(exc: BaseException, *secrets: str) -> None:
    for text in _exposed(exc):
        for secret in secrets:
            assert secret not in text, text
            assert secret[:10] not in text, text  # not even a cut-off prefix


# -- item 1: decompression bomb ------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_decompression_bomb_is_refused_with_bounded_memory(encoding: str, chunked: bool) -> None:
    """254 KiB of gzip inflating to 256 MiB: refused after 4 MiB, RSS grows < 4x the limit."""
    if encoding == "br":
        pytest.importorskip("brotli")
    limit = 4 << 20
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.client.bomb_probe",
            encoding,
            str(int(chunked)),
            str(limit),
            "0",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,  # hang guard only
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["error"] == "ResponseTooLargeError"
    assert result["requests"] == 1
    assert result["rss_growth_kib"] * 1024 < 4 * limit, result


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_size_limit_counts_decoded_bytes(
    hostile: Callable[[Handler], Awaitable[Hostile]], encoding: str
) -> None:
    body = json.dumps({"data": {"time_slots": []}, "pad": "x" * 5000}).encode()
    packed = gzip.compress(body) if encoding == "gzip" else zlib.compress(body)

    async def small_on_the_wire(request: web.Request) -> web.Response:
        return web.Response(body=packed, headers={"Content-Encoding": encoding})

    server = await hostile(small_on_the_wire)
    assert len(packed) < 1000 < len(body)
    async with _client(server.url, max_response_bytes=len(body) - 1) as client:
        with pytest.raises(sa.ResponseTooLargeError):
            await client.availability.get(start_time=1, end_time=2, configuration_id="c")
    async with _client(server.url, max_response_bytes=len(body)) as client:
        avail = await client.availability.get(start_time=1, end_time=2, configuration_id="c")
    assert avail.time_slots == ()
    assert len(server.requests) == 2


# -- item 2: decoding failures of any kind -------------------------------------------------


@pytest.fixture(params=["orjson", "json"])
def decoder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "json":
        monkeypatch.setattr(_wire, "loads", json.loads)
    return str(request.param)


async def test_deeply_nested_json_is_malformed_everywhere(
    hostile: Callable[[Handler], Awaitable[Hostile]], decoder: str
) -> None:
    async def answer(request: web.Request) -> web.Response:
        start = request.query.get("start_time")
        if request.method == "POST" and (await request.json())["start_time"] == 300:
            return web.json_response({"data": {"booking_id": "b1"}, "request_id": "r"})
        if start == "300":
            return web.json_response({"data": {"time_slots": []}, "request_id": "r"})
        return web.Response(body=DEEP, content_type="application/json")

    server = await hostile(answer)
    guest = Guest(name="G", email="g@example.com")
    async with _client(server.url) as client:
        with pytest.raises(sa.MalformedResponseError) as got:
            await client.availability.get(start_time=1, end_time=2, configuration_id="c")
        assert type(got.value) is sa.MalformedResponseError
        with pytest.raises(sa.OutcomeUnknownError) as created:
            await client.bookings.create(
                start_time=1, end_time=2, guest=guest, configuration_id="c"
            )
        assert type(created.value.cause) is sa.MalformedResponseError
        sweep = await client.availability.sweep_all(
            [
                AvailabilityQuery(start_time=s, end_time=s + 1, configuration_id="c")
                for s in (100, 200, 300)
            ]
        )
        by_start = {r.query.start_time: r for r in sweep}
        assert type(by_start[100].error) is sa.MalformedResponseError
        assert type(by_start[200].error) is sa.MalformedResponseError
        assert by_start[300].ok
        made = await client.bookings.create_many_all(
            [
                BookingRequest(start_time=s, end_time=s + 1, guest=guest, configuration_id="c")
                for s in (100, 300)
            ]
        )
        outcome = {r.request.start_time: r for r in made}
        assert outcome[100].outcome_unknown and outcome[300].ok
    assert len(server.requests) == 2 + 3 + 2  # nothing was retried


def test_deeply_nested_json_is_malformed_in_the_sync_facade(
    hostile_sync_url: str, decoder: str
) -> None:
    with scheduler_sync.Scheduler(
        api_key=KEY, base_url=hostile_sync_url, retry=RetryPolicy(max_retries=0)
    ) as client:
        with pytest.raises(sa.MalformedResponseError):
            client.availability.get(start_time=1, end_time=2, configuration_id="c")
        results = client.availability.sweep_all(
            [AvailabilityQuery(start_time=1, end_time=2, configuration_id="c")] * 2
        )
    assert [type(r.error) for r in results] == [sa.MalformedResponseError] * 2


@pytest.fixture
def hostile_sync_url() -> Any:
    """A deep-JSON server in its own thread, for the sync facade."""
    from anyio.from_thread import start_blocking_portal

    async def deep(request: web.Request) -> web.Response:
        return web.Response(body=DEEP, content_type="application/json")

    async def start() -> TestServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", deep)
        server = TestServer(app, host="127.0.0.1", port=0)
        await server.start_server()
        return server

    with start_blocking_portal() as portal:
        server = portal.call(start)
        try:
            yield str(server.make_url(""))
        finally:
            portal.call(server.close)


async def test_deeply_nested_error_body_is_cut_and_the_error_pickles(
    hostile: Callable[[Handler], Awaitable[Hostile]],
) -> None:
    deep = "[" * 1000 + '"bottom"' + "]" * 1000  # within orjson's nesting limit (1024)
    text = f'{{"error": {{"type": "invalid", "message": {deep}, "provider_error": {deep}}}}}'

    async def answer(request: web.Request) -> web.Response:
        return web.Response(text=text, status=400, content_type="application/json")

    server = await hostile(answer)
    async with _client(server.url) as client:
        with pytest.raises(sa.BadRequestError) as got:
            await client.bookings.get("b", configuration_id="c")
    copy = pickle.loads(pickle.dumps(got.value))
    assert type(copy) is sa.BadRequestError and copy.status_code == 400
    assert "nested too deep" in repr(got.value.provider_error)
    assert len(server.requests) == 1


# -- item 3: envelope shape ----------------------------------------------------------------


@pytest.mark.parametrize("data", ["temporarily degraded", [], 0, True])
async def test_data_of_the_wrong_json_type_is_malformed(
    hostile: Callable[[Handler], Awaitable[Hostile]], data: Any
) -> None:
    async def answer(request: web.Request) -> web.Response:
        return web.json_response({"request_id": "r", "data": data})

    server = await hostile(answer)
    async with _client(server.url) as client:
        calls = [
            client.availability.get(start_time=1, end_time=2, configuration_id="c"),
            client.bookings.get("b", configuration_id="c"),
            client.configurations.get("c"),
        ]
        if data == []:  # an empty list is a valid page
            assert (await client.configurations.list_page()).data == ()
        else:
            calls.append(client.configurations.list_page())
        for call in calls:
            with pytest.raises(sa.MalformedResponseError) as got:
                await call
            assert type(got.value) is sa.MalformedResponseError, call
        with pytest.raises(sa.OutcomeUnknownError):
            await client.sessions.create(configuration_id="c")
    assert len(server.requests) == 5


# -- item 5: redirects ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "location", ["file:///etc/passwd", "javascript:alert(1)", "ftp://127.0.0.1/x", "http://[::1"]
)
async def test_redirect_to_a_non_http_url_is_a_connection_error(
    hostile: Callable[[Handler], Awaitable[Hostile]], location: str
) -> None:
    async def redirect(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": location})

    server = await hostile(redirect)
    async with _client(server.url) as client:
        with pytest.raises(sa.APIConnectionError) as got:
            await client.availability.get(start_time=1, end_time=2, session_id=SESSION)
    assert type(got.value) is sa.APIConnectionError
    assert len(server.requests) == 1
    _assert_clean(got.value, KEY, SESSION)


async def test_redirect_with_user_password_sends_no_basic_auth(
    hostile: Callable[[Handler], Awaitable[Hostile]],
) -> None:
    async def answer(request: web.Request) -> web.Response:
        if request.path.startswith("/v3/"):
            port = request.url.port
            return web.Response(
                status=307, headers={"Location": f"http://mallory:pw@127.0.0.1:{port}/landing"}
            )
        return web.json_response({"request_id": "r", "data": {"time_slots": []}})

    server = await hostile(answer)
    async with _client(server.url) as client:
        await client.availability.get(start_time=1, end_time=2, session_id=SESSION)
    auths = [r.headers.get("Authorization") for r in server.requests]
    assert auths == [f"Bearer {SESSION}", f"Bearer {SESSION}"]  # same origin; never Basic


@pytest.mark.parametrize("other_host", ["localhost", "127.0.0.1"])
async def test_redirect_to_another_origin_carries_no_credential(
    hostile: Callable[[Handler], Awaitable[Hostile]], other_host: str
) -> None:
    async def landing(request: web.Request) -> web.Response:
        return web.json_response({"request_id": "r", "data": {"time_slots": []}})

    other = await hostile(landing)  # another port is another origin, even on 127.0.0.1

    async def redirect(request: web.Request) -> web.Response:
        return web.Response(
            status=302, headers={"Location": f"http://{other_host}:{other.server.port}/x"}
        )

    server = await hostile(redirect)
    async with _client(server.url) as client:
        await client.availability.get(start_time=1, end_time=2, session_id=SESSION)
        await client.sessions.delete("sess_other_token_9")  # API key auth
    assert [r.headers.get("Authorization") for r in server.requests] == [
        f"Bearer {SESSION}",
        f"Bearer {KEY}",
    ]
    assert [r.headers.get("Authorization") for r in other.requests] == [None, None]


# -- item 6: secrets -----------------------------------------------------------------------


def _echo_page(request: web.Request, pad: int) -> str:
    return (
        "<html>" + "." * pad + f"{request.headers.get('Authorization')} {request.path}"
        f"<pre>{dict(request.headers)}</pre></html>"
    )


@pytest.mark.parametrize("pad", [0, 190, 200])
@pytest.mark.parametrize("status", [502, 404, 200])
async def test_echoing_error_page_leaks_no_credential(
    hostile: Callable[[Handler], Awaitable[Hostile]], status: int, pad: int
) -> None:
    async def echo(request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        return web.Response(
            status=status,
            text=_echo_page(request, pad),
            content_type="text/html",
            headers={"X-Echo": auth, "X-Request-Id": f"rid {auth}", "X-Path": request.path},
        )

    server = await hostile(echo)
    raised: list[BaseException] = []
    async with _client(server.url) as client:
        for call in (
            client.configurations.get("c"),
            client.sessions.delete(SESSION),
            client.availability.get(start_time=1, end_time=2, session_id=SESSION),
        ):
            try:
                await call
            except sa.APIError as exc:
                raised.append(exc)
    assert len(raised) == 3 and len(server.requests) == 3
    expected = {200: sa.MalformedResponseError, 404: sa.NotFoundError, 502: sa.InternalServerError}
    assert [type(e) for e in raised] == [expected[status]] * 3
    for exc in raised:
        _assert_clean(exc, KEY, SESSION)


async def test_emulator_does_not_echo_a_deleted_session_token(
    scheduler_emulator_fresh: Any,
) -> None:
    emu = scheduler_emulator_fresh
    token = "sess_not_a_real_token_42"
    async with (
        aiohttp.ClientSession() as session,
        session.delete(
            f"{emu.url}/v3/scheduling/sessions/{token}",
            headers={"Authorization": "Bearer emulator-api-key"},
        ) as resp,
    ):
        text = await resp.text()
    assert resp.status == 404
    assert token not in text


async def test_secret_in_an_aiohttp_exception_text_is_scrubbed_from_the_chain() -> None:
    from scheduler_async._failures import scrubbed_cause

    client = _client("http://127.0.0.1:9")
    transport = client._transport
    request = _transport.Request(
        method="DELETE",
        path=f"/v3/scheduling/sessions/{SESSION}",
        log_path="/v3/scheduling/sessions/{session_id}",
        secrets=(SESSION,),
    )
    transport.secrets.add(SESSION)
    exc = aiohttp.ConnectionTimeoutError(f"Connection timeout to host http://h{request.path}")
    cause = scrubbed_cause(exc, request, transport.secrets)
    assert SESSION not in str(cause) and "ConnectionTimeoutError" in str(cause)
    plain = aiohttp.ServerDisconnectedError()
    stand_in = scrubbed_cause(
        plain, request, transport.secrets
    )  # a stand-in even with nothing in its text
    assert stand_in.type_name == "aiohttp.client_exceptions.ServerDisconnectedError"
    assert stand_in.__traceback__ is None and "Server disconnected" in stand_in.text


# -- item 7: scrubbing never mangles -------------------------------------------------------


@pytest.mark.parametrize("api_key", ["k", "boo", "booked", "1234567"])
async def test_short_api_key_does_not_mangle_messages(
    hostile: Callable[[Handler], Awaitable[Hostile]], api_key: str
) -> None:
    message = "time slot has just been booked by k 1234567"

    async def conflict(request: web.Request) -> web.Response:
        error = {"type": "conflict", "message": message}
        return web.json_response({"request_id": "r", "error": error}, status=409)

    server = await hostile(conflict)
    async with AsyncScheduler(api_key=api_key, grant_id="g", base_url=server.url) as client:
        with pytest.raises(sa.ConflictError) as got:
            await client.configurations.get("c")
    assert got.value.message == message
    assert got.value.body["error"]["message"] == message
    assert len(server.requests) == 1


# -- retry deadline and redirects ------------------------------------------------------------


async def test_each_attempt_is_clipped_to_what_is_left_of_the_deadline(
    hostile: Callable[[Handler], Awaitable[Hostile]],
) -> None:
    """A 503 after 0.6 s, then a stall: with ``deadline=1.0`` the retry gets the 0.4 s left.

    The stall answers (with success) after 0.9 s: an attempt given the whole deadline, or the
    client's 30 s timeout, would get that answer; one clipped to what is left times out first.
    """
    done = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        if len(server.requests) == 1:
            await asyncio.sleep(0.6)
            error = {"type": "unavailable", "message": "busy"}
            return web.json_response({"request_id": "r1", "error": error}, status=503)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), 0.9)
        return web.json_response({"request_id": "r2", "data": {"time_slots": []}})

    server = await hostile(slow)
    policy = RetryPolicy(max_retries=3, backoff_base=0.0, deadline=1.0)
    async with _client(server.url, retry=policy, timeout=30.0) as client:
        try:
            with pytest.raises(sa.APITimeoutError) as info:
                await client.availability.get(start_time=1, end_time=2, configuration_id="c")
        finally:
            done.set()
    assert len(server.requests) == 2 and info.value.retries_taken == 1


@pytest.mark.parametrize("status", [307, 308])
async def test_post_redirected_same_origin_by_307_or_308_is_repeated_as_post(
    hostile: Callable[[Handler], Awaitable[Hostile]], status: int
) -> None:
    seen: list[tuple[str, str, bytes, str | None]] = []

    async def moved(request: web.Request) -> web.Response:
        seen.append(
            (
                request.method,
                request.path,
                await request.read(),
                request.headers.get("Authorization"),
            )
        )
        if request.path != "/moved":
            return web.Response(status=status, headers={"Location": "/moved"})
        data = {"booking_id": "b1", "event_id": "e1", "title": "t", "status": "booked"}
        return web.json_response({"request_id": "r", "data": data})

    server = await hostile(moved)
    async with _client(server.url) as client:
        booking = await client.bookings.create(
            start_time=10, end_time=20, guest=Guest(name="a", email="a@x"), session_id=SESSION
        )
    assert booking.booking_id == "b1"
    (method1, _, body1, auth1), (method2, path2, body2, auth2) = seen
    assert (method1, method2, path2) == ("POST", "POST", "/moved")
    assert body2 == body1 and json.loads(body1)["guest"]["email"] == "a@x"
    assert auth1 == auth2 == f"Bearer {SESSION}"
