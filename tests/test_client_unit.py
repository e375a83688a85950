"""Unit tests of the async client against aioresponses: exact wire requests and error mapping."""

from __future__ import annotations

import json
import logging
import pickle
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses
from aioresponses.compat import normalize_url
from yarl import URL

import scheduler_async as sa
from scheduler_async import (
    AsyncScheduler,
    ConfigurationAvailability,
    ConfigurationParticipant,
    EventBooking,
    Guest,
    ParticipantAvailability,
    ParticipantBooking,
    RetryPolicy,
)

BASE = "https://api.test"
KEY = "nyk_SECRET_API_KEY_123"
SESSION = "sess_SECRET_TOKEN_456"
RID = "5fa64c92-e840-4357-86b9-2aa364d35b88"

CONFIG_JSON: dict[str, Any] = {
    "id": "AAAA-BBBB-1111-2222",
    "requires_session_auth": False,
    "participants": [
        {
            "name": "Test",
            "email": "nylas_test_8",
            "is_organizer": True,
            "availability": {"calendar_ids": ["primary"]},
            "booking": {"calendar_id": "primary"},
        }
    ],
    "availability": {"duration_minutes": 30},
    "event_booking": {"title": "My test event"},
}
BOOKING_JSON = {
    "booking_id": "AAAA-XXXX-1111-2222",
    "event_id": "ev1",
    "title": "My test event",
    "status": "booked",
    "organizer": {"email": "nylas_test_8", "name": "Test"},
}


@pytest.fixture
def mock() -> Any:
    with aioresponses() as m:
        yield m


@pytest.fixture
async def client() -> Any:
    async with AsyncScheduler(
        api_key=KEY,
        grant_id="grant-1",
        base_url=BASE,
        retry=RetryPolicy(max_retries=2, backoff_base=0.0),
    ) as c:
        yield c


def only_call(m: aioresponses, method: str, url: str) -> Any:
    calls = m.requests[(method, normalize_url(URL(url)))]
    assert len(calls) == 1, calls
    return calls[0].kwargs


def sent_json(kwargs: dict[str, Any]) -> Any:
    return None if kwargs.get("data") is None else json.loads(kwargs["data"])


def auth_of(kwargs: dict[str, Any]) -> str | None:
    return kwargs["headers"].get("Authorization")


def seed_participant() -> ConfigurationParticipant:
    return ConfigurationParticipant(
        name="Test",
        email="nylas_test_8",
        is_organizer=True,
        availability=ParticipantAvailability(calendar_ids=("primary",)),
        booking=ParticipantBooking(calendar_id="primary"),
    )


# ---------------------------------------------------------------- configurations
async def test_configuration_create_sends_the_seed_body(client: AsyncScheduler, mock: Any) -> None:
    url = f"{BASE}/v3/grants/grant-1/scheduling/configurations"
    mock.post(url, payload={"request_id": RID, "data": CONFIG_JSON})
    config = await client.configurations.create(
        requires_session_auth=False,
        participants=[seed_participant()],
        availability=ConfigurationAvailability(duration_minutes=30),
        event_booking=EventBooking(title="My test event"),
    )
    kwargs = only_call(mock, "POST", url)
    expected = {k: v for k, v in CONFIG_JSON.items() if k != "id"}
    assert sent_json(kwargs) == expected
    assert auth_of(kwargs) == f"Bearer {KEY}"
    assert kwargs["headers"]["Content-Type"] == "application/json"
    assert config.id == "AAAA-BBBB-1111-2222"
    assert config.participants[0].availability is not None
    assert config.participants[0].availability.calendar_ids == ("primary",)


async def test_configuration_get_update_delete(client: AsyncScheduler, mock: Any) -> None:
    url = f"{BASE}/v3/grants/grant-1/scheduling/configurations/AAAA-BBBB-1111-2222"
    mock.get(url, payload={"request_id": RID, "data": CONFIG_JSON})
    mock.put(url, payload={"request_id": RID, "data": {**CONFIG_JSON, "name": "Renamed"}})
    mock.delete(url, payload={"request_id": RID})
    got = await client.configurations.get("AAAA-BBBB-1111-2222")
    assert got.event_booking.title == "My test event"
    updated = await client.configurations.update("AAAA-BBBB-1111-2222", name="Renamed")
    assert updated.name == "Renamed"
    assert sent_json(only_call(mock, "PUT", url)) == {"name": "Renamed"}
    assert await client.configurations.delete("AAAA-BBBB-1111-2222") is None
    resp = mock.requests[("DELETE", URL(url))][0].kwargs
    assert auth_of(resp) == f"Bearer {KEY}"
    assert resp["data"] is None


async def test_configuration_list_walks_every_page(client: AsyncScheduler, mock: Any) -> None:
    base = f"{BASE}/v3/grants/grant-1/scheduling/configurations"
    mock.get(
        f"{base}?limit=2",
        payload={
            "request_id": "r1",
            "data": [{**CONFIG_JSON, "id": "c1"}, {**CONFIG_JSON, "id": "c2"}],
            "next_cursor": "CUR2",
        },
    )
    mock.get(
        f"{base}?limit=2&page_token=CUR2",
        payload={"request_id": "r2", "data": [{**CONFIG_JSON, "id": "c3"}], "next_cursor": None},
    )
    ids = [c.id async for c in client.configurations.list(limit=2)]
    assert ids == ["c1", "c2", "c3"]
    mock.get(f"{base}?limit=2", payload={"request_id": "r3", "data": [], "next_cursor": "X"})
    page = await client.configurations.list_page(limit=2)
    assert page.data == () and page.next_cursor == "X" and page.has_next_page


async def test_configuration_seed_form_with_upper_id_is_tolerated(
    client: AsyncScheduler, mock: Any
) -> None:
    url = f"{BASE}/v3/grants/grant-1/scheduling/configurations/x"
    seed = {k: v for k, v in CONFIG_JSON.items() if k != "id"} | {"ID": "AAAA-BBBB-1111-2222"}
    mock.get(url, payload={"request_id": RID, "data": seed})
    assert (await client.configurations.get("x")).id == "AAAA-BBBB-1111-2222"


# ---------------------------------------------------------------- sessions
async def test_session_create_and_delete(client: AsyncScheduler, mock: Any) -> None:
    mock.post(
        f"{BASE}/v3/scheduling/sessions",
        payload={"request_id": RID, "data": {"session_id": SESSION}},
    )
    session = await client.sessions.create(configuration_id="AAAA-BBBB-1111-2222", time_to_live=10)
    kwargs = only_call(mock, "POST", f"{BASE}/v3/scheduling/sessions")
    assert sent_json(kwargs) == {"configuration_id": "AAAA-BBBB-1111-2222", "time_to_live": 10}
    assert auth_of(kwargs) == f"Bearer {KEY}"
    assert session.session_id == SESSION
    assert SESSION not in repr(session)
    mock.delete(f"{BASE}/v3/scheduling/sessions/{SESSION}", payload={"request_id": RID})
    await client.sessions.delete(SESSION)
    assert auth_of(only_call(mock, "DELETE", f"{BASE}/v3/scheduling/sessions/{SESSION}")) == (
        f"Bearer {KEY}"
    )


# ---------------------------------------------------------------- availability
AVAIL = {
    "request_id": RID,
    "data": {
        "order": ["user1@example.com", "user2@example.com"],
        "time_slots": [
            {
                "emails": ["user2@example.com", "user1@example.com"],
                "start_time": 1659367800,
                "end_time": 1659369600,
            },
            {"emails": ["user1@example.com"], "start_time": 1659376800, "end_time": 1659378600},
        ],
    },
}


async def test_availability_with_session_token(client: AsyncScheduler, mock: Any) -> None:
    url = f"{BASE}/v3/scheduling/availability?start_time=1709643600&end_time=1709665200"
    mock.get(url, payload=AVAIL)
    avail = await client.availability.get(
        start_time=1709643600, end_time=1709665200, session_id=SESSION
    )
    assert auth_of(only_call(mock, "GET", url)) == f"Bearer {SESSION}"
    assert avail.order == ("user1@example.com", "user2@example.com")
    assert [s.start_time for s in avail.time_slots] == [1659367800, 1659376800]
    assert avail.time_slots[0].start == datetime(2022, 8, 1, 15, 30, tzinfo=UTC)


async def test_availability_public_by_configuration_id_sends_no_auth(
    client: AsyncScheduler, mock: Any
) -> None:
    url = (
        f"{BASE}/v3/scheduling/availability?start_time=1709643600&end_time=1709665200"
        "&configuration_id=CFG"
    )
    mock.get(url, payload={"request_id": RID, "data": {"time_slots": None}})
    start = datetime(2024, 3, 5, 13, 0, tzinfo=UTC)
    avail = await client.availability.get(
        start_time=start, end_time=start + timedelta(hours=6), configuration_id="CFG"
    )
    assert auth_of(only_call(mock, "GET", url)) is None
    assert avail.time_slots == () and avail.order is None


async def test_availability_public_by_slug(client: AsyncScheduler, mock: Any) -> None:
    url = f"{BASE}/v3/scheduling/availability?start_time=10&end_time=20&slug=my-slug&client_id=app"
    mock.get(url, payload={"request_id": RID, "data": {"time_slots": []}})
    await client.availability.get(start_time=10, end_time=20, slug="my-slug", client_id="app")
    assert auth_of(only_call(mock, "GET", url)) is None


# ---------------------------------------------------------------- bookings
async def test_booking_create_public_and_session(client: AsyncScheduler, mock: Any) -> None:
    body = {
        "start_time": 1709643600,
        "end_time": 1709645400,
        "participants": [],
        "guest": {"name": "Jane Doe", "email": "jane.doe@example.com"},
    }
    url_pub = f"{BASE}/v3/scheduling/bookings?configuration_id=CFG"
    mock.post(url_pub, payload={"request_id": RID, "data": {"booking_id": "AAAA-XXXX-1111-2222"}})
    booking = await client.bookings.create(
        start_time=1709643600,
        end_time=1709645400,
        participants=[],
        guest=Guest(name="Jane Doe", email="jane.doe@example.com"),
        configuration_id="CFG",
    )
    kwargs = only_call(mock, "POST", url_pub)
    assert sent_json(kwargs) == body
    assert auth_of(kwargs) is None
    assert booking.booking_id == "AAAA-XXXX-1111-2222" and booking.status is None

    url = f"{BASE}/v3/scheduling/bookings"
    mock.post(url, payload={"request_id": RID, "data": BOOKING_JSON})
    booking = await client.bookings.create(
        start_time=1709643600,
        end_time=1709645400,
        guest=Guest(name="Jane Doe", email="jane.doe@example.com"),
        session_id=SESSION,
    )
    assert auth_of(only_call(mock, "POST", url)) == f"Bearer {SESSION}"
    assert booking.status is sa.BookingStatus.BOOKED
    assert booking.organizer is not None and booking.organizer.email == "nylas_test_8"


async def test_booking_get_reschedule_confirm_cancel_delete(
    client: AsyncScheduler, mock: Any
) -> None:
    url = f"{BASE}/v3/scheduling/bookings/BK1?configuration_id=CFG"
    mock.get(url, payload={"request_id": RID, "data": BOOKING_JSON})
    assert (await client.bookings.get("BK1", configuration_id="CFG")).title == "My test event"

    mock.patch(url, payload={"request_id": RID})
    resp = await client.bookings.with_response.reschedule(
        "BK1", start_time=1708714800, end_time=1708722000, configuration_id="CFG"
    )
    assert resp.data is None and resp.request_id == RID and resp.status_code == 200
    assert sent_json(only_call(mock, "PATCH", url)) == {
        "start_time": 1708714800,
        "end_time": 1708722000,
    }

    mock.put(url, payload={"request_id": RID, "data": {**BOOKING_JSON, "status": "booked"}})
    confirmed = await client.bookings.confirm("BK1", salt="c2FsdA", configuration_id="CFG")
    assert confirmed.status == "booked"
    mock.put(url, payload={"request_id": RID})
    assert (
        await client.bookings.cancel(
            "BK1", salt="c2FsdA", cancellation_reason="no", configuration_id="CFG"
        )
        is None
    )
    puts = mock.requests[("PUT", URL(url))]
    assert [json.loads(c.kwargs["data"]) for c in puts] == [
        {"salt": "c2FsdA", "status": "confirmed"},
        {"salt": "c2FsdA", "status": "cancelled", "cancellation_reason": "no"},
    ]

    mock.delete(url, payload={"request_id": "5967ca40-a2d8-4ee0-a0e0-6f18ace39a90"})
    await client.bookings.delete("BK1", cancellation_reason="sick", configuration_id="CFG")
    assert sent_json(only_call(mock, "DELETE", url)) == {"cancellation_reason": "sick"}


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


# ---------------------------------------------------------------- arguments
async def test_bad_arguments_fail_before_io(client: AsyncScheduler, mock: Any) -> None:
    naive = datetime(2024, 1, 1, 9, 0)
    with pytest.raises(ValueError, match="naive"):
        await client.availability.get(
            start_time=naive, end_time=naive + timedelta(hours=1), configuration_id="c"
        )
    with pytest.raises(ValueError, match="before"):
        await client.availability.get(start_time=20, end_time=10, configuration_id="c")
    with pytest.raises(TypeError, match="bool"):
        await client.availability.get(start_time=True, end_time=10, configuration_id="c")
    with pytest.raises(ValueError, match="empty"):
        await client.bookings.get("", configuration_id="c")
    with pytest.raises(ValueError, match="exactly one"):
        await client.bookings.get("b")
    with pytest.raises(ValueError, match="exactly one"):
        await client.bookings.get("b", session_id="s", configuration_id="c")
    with pytest.raises(ValueError, match="client_id"):
        await client.bookings.get("b", slug="s")
    with pytest.raises(TypeError):
        await client.sessions.create(configuration_id="c", time_to_live=True)
    with pytest.raises(ValueError, match="30"):
        await client.sessions.create(configuration_id="c", time_to_live=31)
    with pytest.raises(ValueError):
        await client.bookings.get("..", configuration_id="c")
    with pytest.raises(TypeError):
        await client.configurations.list_page(limit=True)
    assert not mock.requests


async def test_path_ids_are_percent_encoded(client: AsyncScheduler, mock: Any) -> None:
    mock.get(re.compile(r".*"), payload={"request_id": "r", "data": BOOKING_JSON}, repeat=True)
    await client.bookings.get("../grants/x", configuration_id="c")
    await client.bookings.get("a b?c#d", configuration_id="c")
    paths = [key[1].raw_path for key in mock.requests]
    assert "/v3/scheduling/bookings/..%2Fgrants%2Fx" in paths
    assert "/v3/scheduling/bookings/a%20b%3Fc%23d" in paths


async def test_aware_datetimes_in_any_zone(client: AsyncScheduler, mock: Any) -> None:
    url = (
        f"{BASE}/v3/scheduling/availability"
        "?start_time=1709643600&end_time=1709665200&configuration_id=c"
    )
    mock.get(url, payload={"request_id": "r", "data": {"time_slots": []}})
    tz = timezone(timedelta(hours=-5))
    await client.availability.get(
        start_time=datetime(2024, 3, 5, 8, 0, tzinfo=tz),
        end_time=datetime(2024, 3, 5, 14, 0, tzinfo=tz),
        configuration_id="c",
    )
    assert only_call(mock, "GET", url) is not None


async def test_missing_credentials_are_typed_errors(mock: Any, monkeypatch: Any) -> None:
    monkeypatch.delenv("NYLAS_API_KEY", raising=False)
    monkeypatch.delenv("NYLAS_GRANT_ID", raising=False)
    async with AsyncScheduler(base_url=BASE) as c:
        with pytest.raises(sa.MissingCredentialsError, match="grant"):
            await c.configurations.get("x")
        with pytest.raises(sa.MissingCredentialsError, match="API key"):
            await c.sessions.create(configuration_id="x")


async def test_environment_configures_the_client(monkeypatch: Any, mock: Any) -> None:
    monkeypatch.setenv("NYLAS_API_KEY", KEY)
    monkeypatch.setenv("NYLAS_GRANT_ID", "env-grant")
    monkeypatch.setenv("NYLAS_API_URI", "https://env.test/")
    url = "https://env.test/v3/grants/env-grant/scheduling/configurations/c"
    mock.get(url, payload={"request_id": "r", "data": CONFIG_JSON})
    async with AsyncScheduler() as c:
        assert c.base_url == "https://env.test"
        await c.configurations.get("c")
    assert auth_of(only_call(mock, "GET", url)) == f"Bearer {KEY}"


def test_regions() -> None:
    assert AsyncScheduler(region="eu").base_url == "https://api.eu.nylas.com"
    assert AsyncScheduler().base_url.startswith("https://api.")
    with pytest.raises(ValueError):
        AsyncScheduler(region="mars")  # type: ignore[arg-type]


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
        with aioresponses() as m:
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
