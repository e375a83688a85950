"""Hostile input and hostile servers: redirects, encoding, truncation, size limits, secrets."""

from __future__ import annotations

import logging
import traceback
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

import scheduler_async as sa
from scheduler_async import AsyncScheduler, RetryPolicy
from scheduler_async._scrub import ScrubbedCause

KEY = "sk_live_SECRET_key_000"
SESSION = "sess_SECRET_token_111"


async def _server(routes: web.RouteTableDef, host: str = "127.0.0.1") -> TestServer:
    app = web.Application()
    app.add_routes(routes)
    server = TestServer(app, host=host, port=0)
    await server.start_server()
    return server


async def test_redirect_to_another_host_drops_authorization() -> None:
    seen: list[str | None] = []
    other_routes = web.RouteTableDef()

    @other_routes.get("/landing")
    async def landing(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        return web.json_response({"request_id": "r2", "data": {"time_slots": []}})

    other = await _server(other_routes, host="localhost")
    routes = web.RouteTableDef()

    @routes.get("/v3/scheduling/availability")
    async def redirect(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        raise web.HTTPFound(f"http://localhost:{other.port}/landing")

    same_host_routes = web.RouteTableDef()
    server = await _server(routes)
    try:
        async with AsyncScheduler(base_url=str(server.make_url(""))) as client:
            await client.availability.get(start_time=1, end_time=2, session_id=SESSION)
    finally:
        await server.close()
        await other.close()
    assert seen == [f"Bearer {SESSION}", None]
    del same_host_routes


async def test_same_host_redirect_keeps_authorization() -> None:
    seen: list[str | None] = []
    routes = web.RouteTableDef()

    @routes.get("/v3/scheduling/availability")
    async def redirect(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        raise web.HTTPTemporaryRedirect("/moved")

    @routes.get("/moved")
    async def moved(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        return web.json_response({"request_id": "r", "data": {"time_slots": []}})

    server = await _server(routes)
    try:
        async with AsyncScheduler(base_url=str(server.make_url(""))) as client:
            await client.availability.get(start_time=1, end_time=2, session_id=SESSION)
    finally:
        await server.close()
    assert seen == [f"Bearer {SESSION}", f"Bearer {SESSION}"]


async def test_query_and_path_values_are_encoded() -> None:
    seen: list[tuple[str, dict[str, str]]] = []
    routes = web.RouteTableDef()

    @routes.route("*", "/{tail:.*}")
    async def anything(request: web.Request) -> web.Response:
        seen.append((request.raw_path, dict(request.query)))
        return web.json_response({"request_id": "r", "data": {"booking_id": "b", "time_slots": []}})

    server = await _server(routes)
    try:
        async with AsyncScheduler(base_url=str(server.make_url(""))) as client:
            await client.availability.get(
                start_time=1, end_time=2, slug="a&admin=1 #x", client_id="c/../d"
            )
            await client.bookings.get("../../v3/grants/other", configuration_id="x")
    finally:
        await server.close()
    assert seen[0][1] == {
        "start_time": "1",
        "end_time": "2",
        "slug": "a&admin=1 #x",
        "client_id": "c/../d",
    }
    assert seen[1][0].startswith("/v3/scheduling/bookings/..%2F..%2Fv3%2Fgrants%2Fother?")


async def test_truncated_body_is_retried_then_a_connection_error() -> None:
    calls = 0
    routes = web.RouteTableDef()

    @routes.get("/v3/scheduling/availability")
    async def truncated(request: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        resp.content_length = 500
        await resp.prepare(request)
        await resp.write(b'{"request_id": "r", "data": {"time_')
        assert request.transport is not None
        request.transport.close()
        return resp

    server = await _server(routes)
    try:
        async with AsyncScheduler(
            base_url=str(server.make_url("")),
            retry=RetryPolicy(max_retries=1, backoff_base=0.0),
        ) as client:
            with pytest.raises(sa.APIConnectionError) as info:
                await client.availability.get(start_time=1, end_time=2, configuration_id="c")
    finally:
        await server.close()
    assert calls == 2 and info.value.retries_taken == 1


async def test_oversized_streamed_body_is_refused() -> None:
    routes = web.RouteTableDef()

    @routes.get("/v3/scheduling/availability")
    async def huge(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        await resp.prepare(request)  # chunked: no Content-Length to check up front
        for _ in range(64):
            await resp.write(b" " * 65536)
        return resp

    server = await _server(routes)
    try:
        async with AsyncScheduler(
            base_url=str(server.make_url("")), max_response_bytes=1_000_000
        ) as client:
            with pytest.raises(sa.ResponseTooLargeError):
                await client.availability.get(start_time=1, end_time=2, configuration_id="c")
    finally:
        await server.close()


async def test_wrong_types_are_typed_errors_not_attribute_errors() -> None:
    routes = web.RouteTableDef()

    @routes.get("/v3/scheduling/availability")
    async def wrong(request: web.Request) -> web.Response:
        return web.json_response(
            {"request_id": "rq-9", "data": {"time_slots": [{"emails": "x", "start_time": "1"}]}}
        )

    @routes.get("/v3/scheduling/bookings/b")
    async def error_as_string(request: web.Request) -> web.Response:
        return web.json_response({"request_id": "rq-10", "error": "boom"}, status=400)

    server = await _server(routes)
    try:
        async with AsyncScheduler(base_url=str(server.make_url(""))) as client:
            with pytest.raises(sa.MalformedResponseError) as info:
                await client.availability.get(start_time=1, end_time=2, configuration_id="c")
            with pytest.raises(sa.BadRequestError) as err:
                await client.bookings.get("b", configuration_id="c")
    finally:
        await server.close()
    assert info.value.request_id == "rq-9" and info.value.status_code == 200
    assert err.value.message == "boom" and err.value.request_id == "rq-10"


def test_tls_verification_stays_on_by_default() -> None:
    import inspect

    from scheduler_async import _transport

    source = inspect.getsource(_transport)
    assert "ssl=False" not in source and "verify_ssl" not in source


async def test_no_secret_in_any_repr_or_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    routes = web.RouteTableDef()

    @routes.route("*", "/{tail:.*}")
    async def deny(request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        return web.json_response(
            {"request_id": "r", "error": {"type": "unauthorized", "message": f"bad {auth}"}},
            status=401,
        )

    server = await _server(routes)
    try:
        async with AsyncScheduler(
            api_key=KEY, grant_id="g", base_url=str(server.make_url(""))
        ) as client:
            errors: list[BaseException] = []
            for call in (
                client.configurations.get("c"),
                client.sessions.delete(SESSION),
                client.availability.get(start_time=1, end_time=2, session_id=SESSION),
            ):
                try:
                    await call
                except sa.AuthenticationError as exc:
                    errors.append(exc)
            ours = [r.getMessage() for r in caplog.records if r.name.startswith("scheduler")]
            texts: list[Any] = [repr(client), str(client), *ours]
            texts += [str(e) for e in errors] + [repr(e) for e in errors]
            texts += [repr(getattr(e, "body", None)) for e in errors]
            texts += [repr(client._transport), repr(client.sessions.with_response)]
    finally:
        await server.close()
    assert len(errors) == 3 and len(ours) == 3
    for text in texts:
        assert KEY not in text and SESSION not in text, text


# -- secrets in every text an error exposes, locals included --------------------------------------


def _exposed_text(exc: BaseException) -> str:
    """Everything an error lets a reader render: str/repr, headers and body, and the traceback
    of it and of every exception chained to it (suppressed context too), with frame locals.

    The outermost frame (the test's own, which holds the fixtures) is left out.
    """
    assert exc.__traceback__ is not None
    parts: list[str] = []
    tb = exc.__traceback__.tb_next
    parts += traceback.TracebackException(type(exc), exc, tb, capture_locals=True).format()
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        e = todo.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        parts += [str(e), repr(e), repr(getattr(e, "headers", None))]
        parts += [repr(getattr(e, "body", None)), str(getattr(e, "body_excerpt", ""))]
        if e is not exc:
            parts += traceback.TracebackException.from_exception(e, capture_locals=True).format()
        todo += [c for c in (e.__cause__, e.__context__, getattr(e, "cause", None)) if c]
        assert not type(e).__module__.startswith(("aiohttp", "cattrs")), repr(e)
    return "".join(parts)


async def test_percent_encoded_key_echoed_in_a_502_page_and_a_header_is_scrubbed() -> None:
    routes = web.RouteTableDef()

    @routes.route("*", "/{tail:.*}")
    async def echo(request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "").replace(" ", "%20")
        return web.Response(
            status=502,
            text=f"<html>bad gateway for {auth} and {auth.replace('%20', '%2520')}</html>",
            content_type="text/html",
            headers={"X-Echo": auth, f"X-{KEY}": "1"},
        )

    server = await _server(routes)
    try:
        async with AsyncScheduler(
            api_key=KEY,
            grant_id="g",
            base_url=str(server.make_url("")),
            retry=RetryPolicy(max_retries=0),
        ) as client:
            with pytest.raises(sa.InternalServerError) as info:
                await client.configurations.get("c")
    finally:
        await server.close()
    err = info.value
    assert "Bearer%20***" in str(err) and err.headers["X-Echo"] == "Bearer%20***"
    text = _exposed_text(err)
    assert KEY not in text and "bad gateway" in text


@pytest.mark.parametrize("failure", ["refused", "dropped"])
async def test_connection_error_traceback_with_locals_never_shows_the_key(failure: str) -> None:
    routes = web.RouteTableDef()

    @routes.route("*", "/{tail:.*}")
    async def drop(request: web.Request) -> web.Response:
        assert request.transport is not None
        request.transport.close()
        return web.Response()

    server = await _server(routes)
    url = str(server.make_url(""))
    if failure == "refused":
        await server.close()  # nothing listens there any more
    try:
        async with AsyncScheduler(
            api_key=KEY, grant_id="g", base_url=url, retry=RetryPolicy(max_retries=0)
        ) as client:
            with pytest.raises(sa.APIConnectionError) as info:
                await client.configurations.get("c")
    finally:
        await server.close()
    err = info.value
    cause = err.__cause__
    # The cause's type and (scrubbed) text are kept, aiohttp's exception and frames are not.
    assert isinstance(cause, ScrubbedCause) and cause.__traceback__ is None
    assert cause.type_name.startswith("aiohttp.") and cause.text
    text = _exposed_text(err)
    assert "Authorization" not in text and KEY not in text


@pytest.mark.parametrize("value", ["list", "dict"])
async def test_webhook_secret_of_a_wrong_type_is_not_in_the_structuring_error(value: str) -> None:
    secret = "whsec-TOP-SECRET-41dD3"
    routes = web.RouteTableDef()

    @routes.post("/v3/webhooks/rotate-secret/wh-1")
    async def rotate(request: web.Request) -> web.Response:
        wrong: Any = [secret] if value == "list" else {"value": secret}
        data = {"id": "wh-1", "webhook_secret": wrong, "trigger_types": ["booking.created"]}
        return web.json_response({"request_id": "r", "data": data})

    server = await _server(routes)
    try:
        async with AsyncScheduler(api_key=KEY, base_url=str(server.make_url(""))) as client:
            with pytest.raises(sa.APIError) as info:
                await client.webhooks.rotate_secret("wh-1")
    finally:
        await server.close()
    text = _exposed_text(info.value)
    assert secret not in text and "webhook_secret" in text
