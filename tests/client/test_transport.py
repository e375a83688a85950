"""The transport against aioresponses: error mapping, retries, secrets, lifecycle."""

from __future__ import annotations

import json
import logging
import pickle
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import aiohttp
import pytest
from yarl import URL

import scheduler_async as sa
from scheduler_async import (
    AsyncScheduler,
    Guest,
    RetryPolicy,
)
from tests.helpers import (
    BASE,
    BOOKING_JSON,
    KEY,
    RID,
    SESSION,
    MockAPI,
    only_call,
)


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, sa.BadRequestError),
        (401, sa.AuthenticationError),
        (403, sa.PermissionDeniedError),
        (404, sa.NotFoundError),
        (409, sa.ConflictError),
        (422, sa.UnprocessableEntityError),
        (429, sa.RateLimitError),
        (500, sa.InternalServerError),
        (503, sa.InternalServerError),
    ],
)
async def test_error_statuses_map_to_classes(
    client: AsyncScheduler, mock: Any, status: int, cls: type[sa.APIStatusError]
) -> None:
    url = f"{BASE}/v3/scheduling/bookings/BK1?configuration_id=CFG"
    envelope = {
        "request_id": "req-err",
        "error": {"type": "some_error", "message": "it broke", "provider_error": {"x": 1}},
    }
    mock.get(url, status=status, payload=envelope, headers={"Retry-After": "7"})
    with pytest.raises(cls) as info:
        await client.bookings.get("BK1", configuration_id="CFG", max_retries=0)
    err = info.value
    assert err.status_code == status
    assert err.error_type == "some_error"
    assert err.message == "it broke"
    assert err.request_id == "req-err"
    assert err.provider_error == {"x": 1}
    assert err.headers["Retry-After"] == "7" and err.headers["retry-after"] == "7"
    assert err.path == "/v3/scheduling/bookings/BK1"
    assert "it broke" in str(err) and str(status) in str(err)
    if isinstance(err, sa.RateLimitError):
        assert err.retry_after == 7.0
    clone = pickle.loads(pickle.dumps(err))
    assert type(clone) is cls and clone.status_code == status and str(clone) == str(err)


async def test_html_502_is_a_typed_error_with_excerpt(client: AsyncScheduler, mock: Any) -> None:
    url = f"{BASE}/v3/grants/grant-1/scheduling/configurations/c1"
    page = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    mock.get(url, status=502, body=page, content_type="text/html")
    with pytest.raises(sa.InternalServerError) as info:
        await client.configurations.get("c1", max_retries=0)
    assert info.value.status_code == 502
    assert "502 Bad Gateway" in str(info.value)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ('{"request_id": "r", "data": {"booking_id": "b"', "not a JSON object"),
        ('["a"]', "not a JSON object"),
        ('{"request_id": "r"}', "no 'data'"),
        ('{"request_id": "r", "data": {"booking_id": 5}}', "booking_id"),
        ('{"request_id": "r", "data": "oops"}', "unexpected response shape"),
    ],
)
async def test_malformed_success_bodies(
    client: AsyncScheduler, mock: Any, body: str, fragment: str
) -> None:
    url = f"{BASE}/v3/scheduling/bookings/BK1?configuration_id=CFG"
    mock.get(url, status=200, body=body)
    with pytest.raises(sa.MalformedResponseError) as info:
        await client.bookings.get("BK1", configuration_id="CFG")
    assert info.value.status_code == 200
    assert fragment in str(info.value)


async def test_malformed_answer_to_a_create_is_outcome_unknown(
    client: AsyncScheduler, mock: Any
) -> None:
    mock.post(f"{BASE}/v3/scheduling/bookings?configuration_id=CFG", status=200, body="{}")
    with pytest.raises(sa.OutcomeUnknownError) as info:
        await client.bookings.create(
            start_time=10, end_time=20, guest=Guest(name="a", email="a@x"), configuration_id="CFG"
        )
    assert isinstance(info.value.cause, sa.MalformedResponseError)
    assert info.value.request_body["start_time"] == 10


async def test_response_too_large_is_refused(mock: Any) -> None:
    url = f"{BASE}/v3/scheduling/bookings/BK1?configuration_id=CFG"
    mock.get(url, payload={"request_id": "r", "data": {**BOOKING_JSON, "title": "x" * 5000}})
    async with AsyncScheduler(base_url=BASE, max_response_bytes=1024) as c:
        with pytest.raises(sa.ResponseTooLargeError):
            await c.bookings.get("BK1", configuration_id="CFG")


# ---------------------------------------------------------------- retries
async def test_get_is_retried_on_503_then_succeeds(client: AsyncScheduler, mock: Any) -> None:
    url = f"{BASE}/v3/scheduling/bookings/BK1?configuration_id=CFG"
    err = {"request_id": "r", "error": {"type": "unavailable", "message": "busy"}}
    mock.get(url, status=503, payload=err)
    mock.get(url, status=502, payload=err)
    mock.get(url, payload={"request_id": "ok", "data": BOOKING_JSON})
    resp = await client.bookings.with_response.get("BK1", configuration_id="CFG")
    assert resp.retries_taken == 2 and resp.request_id == "ok"
    assert len(mock.requests[("GET", URL(url))]) == 3


async def test_create_is_not_retried_after_500(client: AsyncScheduler, mock: Any) -> None:
    url = f"{BASE}/v3/scheduling/bookings?configuration_id=CFG"
    mock.post(
        url, status=500, payload={"request_id": "r500", "error": {"type": "x", "message": "m"}}
    )
    with pytest.raises(sa.OutcomeUnknownError) as info:
        await client.bookings.create(
            start_time=10, end_time=20, guest=Guest(name="a", email="a@x"), configuration_id="CFG"
        )
    assert len(mock.requests[("POST", URL(url))]) == 1
    assert info.value.request_id == "r500"
    assert isinstance(info.value.cause, sa.InternalServerError)


async def test_create_is_not_retried_after_disconnect(client: AsyncScheduler, mock: Any) -> None:
    url = f"{BASE}/v3/scheduling/bookings?configuration_id=CFG"
    mock.post(url, exception=aiohttp.ServerDisconnectedError())
    with pytest.raises(sa.OutcomeUnknownError):
        await client.bookings.create(
            start_time=10, end_time=20, guest=Guest(name="a", email="a@x"), configuration_id="CFG"
        )
    assert len(mock.requests[("POST", URL(url))]) == 1


async def test_create_is_retried_after_429_and_connect_failure(
    client: AsyncScheduler, mock: Any
) -> None:
    url = f"{BASE}/v3/scheduling/bookings?configuration_id=CFG"
    mock.post(
        url,
        status=429,
        payload={"request_id": "r", "error": {"type": "rate_limit_error", "message": "slow"}},
        headers={"Retry-After": "0"},
    )
    mock.post(
        url,
        exception=aiohttp.ClientConnectorError(
            aiohttp.client_reqrep.ConnectionKey("h", 1, False, True, None, None, None),
            OSError(111, "Connection refused"),
        ),
    )
    mock.post(url, payload={"request_id": "ok", "data": BOOKING_JSON})
    resp = await client.bookings.with_response.create(
        start_time=10, end_time=20, guest=Guest(name="a", email="a@x"), configuration_id="CFG"
    )
    assert resp.retries_taken == 2 and resp.data.booking_id == BOOKING_JSON["booking_id"]


async def test_retry_after_above_maximum_is_raised(mock: Any) -> None:
    url = f"{BASE}/v3/scheduling/bookings/BK1?configuration_id=CFG"
    mock.get(
        url,
        status=429,
        payload={"request_id": "r", "error": {"type": "rate_limit_error", "message": "slow"}},
        headers={"Retry-After": "3600"},
    )
    async with AsyncScheduler(base_url=BASE, retry=RetryPolicy(max_retry_after=5)) as c:
        with pytest.raises(sa.RateLimitError) as info:
            await c.bookings.get("BK1", configuration_id="CFG")
    assert info.value.retry_after == 3600
    assert len(mock.requests[("GET", URL(url))]) == 1


async def test_retried_delete_that_finds_404_is_done(client: AsyncScheduler, mock: Any) -> None:
    url = f"{BASE}/v3/scheduling/bookings/BK1?configuration_id=CFG"
    mock.delete(url, exception=aiohttp.ServerDisconnectedError())
    mock.delete(
        url, status=404, payload={"request_id": "r", "error": {"type": "nf", "message": "gone"}}
    )
    resp = await client.bookings.with_response.delete("BK1", configuration_id="CFG")
    assert resp.gone_after_retry and resp.retries_taken == 1


@pytest.mark.parametrize(
    ("first", "expected"),
    [(429, sa.NotFoundError), (503, None)],
    ids=["refused-429-then-404-not-found", "maybe-applied-503-then-404-done"],
)
async def test_retried_delete_404_is_done_only_after_a_maybe_applied_attempt(
    client: AsyncScheduler, mock: Any, first: int, expected: type[Exception] | None
) -> None:
    """A 429 was refused (not applied): a 404 after it means "not found", never "done"."""
    url = f"{BASE}/v3/scheduling/bookings/BK1?configuration_id=CFG"
    error = {"request_id": "r", "error": {"type": "busy", "message": "later"}}
    mock.delete(url, status=first, payload=error, headers={"Retry-After": "0"})
    mock.delete(
        url, status=404, payload={"request_id": "r", "error": {"type": "nf", "message": "gone"}}
    )
    if expected is None:
        resp = await client.bookings.with_response.delete("BK1", configuration_id="CFG")
        assert resp.gone_after_retry and resp.retries_taken == 1
    else:
        with pytest.raises(expected) as info:
            await client.bookings.delete("BK1", configuration_id="CFG")
        assert isinstance(info.value, sa.APIError) and info.value.retries_taken == 1
    assert len(mock.requests[("DELETE", URL(url))]) == 2


async def test_plain_404_delete_is_not_found(client: AsyncScheduler, mock: Any) -> None:
    url = f"{BASE}/v3/scheduling/bookings/BK1?configuration_id=CFG"
    mock.delete(
        url, status=404, payload={"request_id": "r", "error": {"type": "nf", "message": "gone"}}
    )
    with pytest.raises(sa.NotFoundError):
        await client.bookings.delete("BK1", configuration_id="CFG")


async def test_timeout_on_get_retries_then_raises_timeout(
    client: AsyncScheduler, mock: Any
) -> None:
    url = f"{BASE}/v3/scheduling/bookings/BK1?configuration_id=CFG"
    mock.get(url, exception=aiohttp.SocketTimeoutError(), repeat=True)
    with pytest.raises(sa.APITimeoutError) as info:
        await client.bookings.get("BK1", configuration_id="CFG")
    assert info.value.retries_taken == 2
    assert len(mock.requests[("GET", URL(url))]) == 3


# ---------------------------------------------------------------- secrets and lifecycle
async def test_secrets_never_leak(
    client: AsyncScheduler, mock: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="scheduler_async")
    mock.delete(
        f"{BASE}/v3/scheduling/sessions/{SESSION}",
        status=401,
        payload={"request_id": "r", "error": {"type": "unauthorized", "message": f"bad {KEY}"}},
    )
    with pytest.raises(sa.AuthenticationError) as info:
        await client.sessions.delete(SESSION)
    url = f"{BASE}/v3/scheduling/availability?start_time=1&end_time=2"
    mock.get(url, payload={"request_id": "r", "data": {"time_slots": []}})
    await client.availability.get(start_time=1, end_time=2, session_id=SESSION)
    texts = [repr(client), str(info.value), repr(info.value), caplog.text, repr(info.value.args)]
    texts.append(repr(client.bookings))
    for text in texts:
        assert KEY not in text and SESSION not in text
    assert "GET /v3/scheduling/availability -> 200" in caplog.text
    assert "/v3/scheduling/sessions/{session_id}" in caplog.text


async def test_closed_client_raises_typed_error(mock: Any) -> None:
    c = AsyncScheduler(base_url=BASE)
    await c.aclose()
    await c.aclose()
    with pytest.raises(sa.ClientClosedError):
        await c.availability.get(start_time=1, end_time=2, configuration_id="c")


async def test_user_session_is_used_and_not_closed(mock: Any) -> None:
    url = f"{BASE}/v3/scheduling/availability?start_time=1&end_time=2&configuration_id=c"
    mock.get(url, payload={"request_id": "r", "data": {"time_slots": []}})
    async with aiohttp.ClientSession() as own:
        async with AsyncScheduler(base_url=BASE, session=own) as c:
            await c.availability.get(start_time=1, end_time=2, configuration_id="c")
        assert not own.closed


def test_public_names_have_docstrings() -> None:
    for name in sa.__all__:
        obj = getattr(sa, name)
        if callable(obj) and not name.startswith("_"):
            assert obj.__doc__, name


def test_a_client_refuses_a_second_event_loop() -> None:
    import asyncio

    client = AsyncScheduler(base_url=BASE)
    url = f"{BASE}/v3/scheduling/availability?start_time=1&end_time=2&configuration_id=c"

    async def use() -> None:
        with MockAPI() as m:
            m.get(url, payload={"request_id": "r", "data": {"time_slots": []}})
            await client.availability.get(start_time=1, end_time=2, configuration_id="c")

    asyncio.run(use())
    with pytest.raises(sa.EventLoopMismatchError, match="one client per event loop"):
        asyncio.run(use())
    asyncio.run(client.aclose())  # no connection was opened: the pool closes cleanly
    assert client.closed


async def test_non_json_429_keeps_retry_after(mock: Any) -> None:
    url = f"{BASE}/v3/scheduling/bookings/BK1?configuration_id=CFG"
    mock.get(
        url, status=429, body="slow down", content_type="text/plain", headers={"retry-after": "9"}
    )
    async with AsyncScheduler(base_url=BASE, retry=RetryPolicy(max_retries=0)) as c:
        with pytest.raises(sa.RateLimitError) as info:
            await c.bookings.get("BK1", configuration_id="CFG")
    assert info.value.retry_after == 9.0
    assert info.value.headers["Retry-After"] == "9"
    assert "slow down" in str(info.value) and info.value.body == "slow down"


async def test_sub_second_datetimes_are_floored(client: AsyncScheduler, mock: Any) -> None:
    url = (
        f"{BASE}/v3/scheduling/availability"
        "?start_time=1709643600&end_time=1709665200&configuration_id=c"
    )
    mock.get(url, payload={"request_id": "r", "data": {"time_slots": []}})
    start = datetime(2024, 3, 5, 13, 0, 0, 999_999, tzinfo=UTC)
    await client.availability.get(
        start_time=start, end_time=start + timedelta(hours=6), configuration_id="c"
    )
    assert only_call(mock, "GET", url) is not None


# ---------------------------------------------------------------- the transport's pieces
@pytest.mark.parametrize(
    ("exc", "failure", "cls", "text"),
    [
        (
            aiohttp.ClientConnectorCertificateError(
                aiohttp.client_reqrep.ConnectionKey("h", 443, True, True, None, None, None),
                OSError("bad cert"),
            ),
            None,
            sa.APIConnectionError,
            "TLS certificate verification failed: ClientConnectorCertificateError",
        ),
        (
            aiohttp.ConnectionTimeoutError(),
            "NOT_SENT",
            sa.APITimeoutError,
            "timed out waiting for a connection",
        ),
        (
            aiohttp.ClientConnectorError(
                aiohttp.client_reqrep.ConnectionKey("h", 443, True, True, None, None, None),
                OSError(111, "Connection refused"),
            ),
            "NOT_SENT",
            sa.APIConnectionError,
            "could not connect to api.test: Connection refused",
        ),
        (
            aiohttp.SocketTimeoutError(),
            "SENT_NO_ANSWER",
            sa.APITimeoutError,
            "timed out waiting for the answer",
        ),
        (TimeoutError(), "SENT_NO_ANSWER", sa.APITimeoutError, "timed out waiting for the answer"),
        (
            aiohttp.ServerDisconnectedError(),
            "SENT_NO_ANSWER",
            sa.APIConnectionError,
            "connection lost before a complete answer (ServerDisconnectedError)",
        ),
        (
            aiohttp.ClientPayloadError("cut"),
            "SENT_NO_ANSWER",
            sa.APIConnectionError,
            "connection lost before a complete answer (ClientPayloadError)",
        ),
        (
            aiohttp.InvalidURL("x"),
            None,
            sa.APIConnectionError,
            "refused to follow an invalid or non-http(s) URL (InvalidURL)",
        ),
        (
            aiohttp.NonHttpUrlClientError("file:///etc/passwd"),
            None,
            sa.APIConnectionError,
            "refused to follow an invalid or non-http(s) URL (NonHttpUrlClientError)",
        ),
        (
            aiohttp.TooManyRedirects(None, ()),  # type: ignore[arg-type]
            "SENT_NO_ANSWER",
            sa.APIConnectionError,
            "request failed (TooManyRedirects)",
        ),
        (
            aiohttp.http_exceptions.ContentEncodingError("bad gzip"),
            None,
            sa.MalformedResponseError,
            "the answer's content encoding could not be decoded",
        ),
    ],
)
def test_exception_table_maps_to_failure_and_complete_error(
    exc: BaseException, failure: str | None, cls: type, text: str
) -> None:
    from scheduler_async._failures import AttemptFailed, connection_error
    from scheduler_async._retry import Failure
    from scheduler_async._transport import Request

    request = Request(method="GET", path="/v3/x/SECRET", log_path="/v3/x/{id}")
    out = connection_error(exc, request, 3, host="api.test")
    if failure is None:
        error = out
    else:
        assert isinstance(out, AttemptFailed) and out.failure is Failure[failure]
        error = out.error
    assert type(error) is cls
    # built complete, once: message, where and how many retries preceded it
    assert (error.message, error.method, error.path, error.retries_taken) == (
        text,
        "GET",
        "/v3/x/{id}",
        3,
    )


def test_request_and_response_values() -> None:
    from scheduler_async._auth import NO_AUTH, Credential
    from scheduler_async._transport import Request, Response

    request = Request(method="GET", path="/v3/scheduling/sessions/tok")
    assert request.where == "/v3/scheduling/sessions/tok" and request.credential is NO_AUTH
    secret = Request(
        method="DELETE",
        path=f"/v3/scheduling/sessions/{SESSION}",
        log_path="/v3/scheduling/sessions/{session_id}",
        credential=Credential(SESSION, "session"),
    )
    assert secret.where == "/v3/scheduling/sessions/{session_id}"
    assert SESSION not in repr(secret.credential)
    response = Response(status=200, headers={}, request_id="r", body={}, retries=0, elapsed=0.1)
    assert not response.gone_after_retry
    with pytest.raises(AttributeError):
        response.status = 201  # type: ignore[misc]


async def test_rate_limit_retry_after_is_parsed_once(mock: Any) -> None:
    """One 429 gives one pause: the limiter is told the ``Retry-After`` the error reports (an
    HTTP date read twice would give two different waits)."""
    told: list[float | None] = []

    class Recording(sa.LocalRateLimiter):
        async def on_rate_limited(self, retry_after: float | None) -> None:
            told.append(retry_after)

    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    url = f"{BASE}/v3/scheduling/bookings/BK1?configuration_id=CFG"
    mock.get(url, status=429, payload={"error": {"message": "slow"}}, headers={"Retry-After": when})
    retry = RetryPolicy(max_retries=0, max_retry_after=120)
    async with AsyncScheduler(base_url=BASE, retry=retry, rate_limit=Recording()) as c:
        with pytest.raises(sa.RateLimitError) as info:
            await c.bookings.get("BK1", configuration_id="CFG")
    assert info.value.retries_taken == 0
    assert info.value.retry_after is not None and 20 < info.value.retry_after <= 30
    assert told == [info.value.retry_after]


@pytest.mark.parametrize("decoder", ["json", "orjson"])
async def test_json_decoders_give_the_same_models(
    decoder: str, mock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scheduler_async import _wire

    loads = pytest.importorskip(decoder).loads
    monkeypatch.setattr(_wire, "loads", loads)
    body = {
        "request_id": RID,
        "data": {
            "time_slots": [
                {"emails": ["a@x", "é@x"], "start_time": 10 + i, "end_time": 20 + i}
                for i in range(3)
            ],
            "order": ["a@x"],
        },
    }
    url = f"{BASE}/v3/scheduling/availability?start_time=1&end_time=2&configuration_id=c"
    mock.get(url, body=json.dumps(body), content_type="application/json")
    async with AsyncScheduler(base_url=BASE) as c:
        resp = await c.availability.with_response.get(
            start_time=1, end_time=2, configuration_id="c"
        )
    assert resp.request_id == RID
    assert [(s.emails, s.start_time) for s in resp.data.time_slots] == [
        (("a@x", "é@x"), 10),
        (("a@x", "é@x"), 11),
        (("a@x", "é@x"), 12),
    ]
    assert resp.data.order == ("a@x",)
