"""``client.request``: any endpoint through the client's transport (the escape hatch)."""

from __future__ import annotations

from typing import Any

import pytest
from aioresponses import CallbackResult

import scheduler_async as sa
import scheduler_sync
from scheduler_async import AsyncScheduler
from tests.helpers import BASE, CONFIG_JSON, KEY, RID, SESSION, auth_of, only_call, sent_json

CALENDARS = f"{BASE}/v3/grants/grant-1/calendars"


async def test_get_with_query_and_the_api_key(client: AsyncScheduler, mock: Any) -> None:
    url = f"{CALENDARS}?limit=5&select=id&primary=true"
    mock.get(url, payload={"request_id": RID, "data": [{"id": "primary"}], "next_cursor": None})
    resp = await client.request(
        "get", "/v3/grants/grant-1/calendars", query={"limit": 5, "select": "id", "primary": True}
    )
    assert resp.data == {"request_id": RID, "data": [{"id": "primary"}], "next_cursor": None}
    assert resp.status_code == 200 and resp.request_id == RID and resp.retries_taken == 0
    assert auth_of(only_call(mock, "GET", url)) == f"Bearer {KEY}"


async def test_session_token_body_and_encoding(client: AsyncScheduler, mock: Any) -> None:
    url = f"{BASE}/v3/scheduling/bookings/a%20b"
    mock.put(url, payload={"request_id": RID})
    await client.request("PUT", "/v3/scheduling/bookings/a b", json={"x": 1}, session_id=SESSION)
    sent = only_call(mock, "PUT", url)
    assert auth_of(sent) == f"Bearer {SESSION}" and sent_json(sent) == {"x": 1}


async def test_a_get_is_retried(client: AsyncScheduler, mock: Any) -> None:
    mock.get(CALENDARS, status=503, payload={"error": {"message": "busy"}})
    mock.get(CALENDARS, payload={"request_id": RID, "data": []})
    resp = await client.request("GET", "/v3/grants/grant-1/calendars")
    assert resp.retries_taken == 1


async def test_a_post_is_never_blindly_retried(client: AsyncScheduler, mock: Any) -> None:
    url = f"{BASE}/v3/grants/grant-1/scheduling/configurations"
    calls = []

    def answer(url: Any, **kwargs: Any) -> CallbackResult:
        calls.append(kwargs)
        return CallbackResult(status=503, payload={"error": {"message": "busy"}})

    mock.post(url, callback=answer, repeat=True)
    with pytest.raises(sa.OutcomeUnknownError) as info:
        await client.request("POST", "/v3/grants/grant-1/scheduling/configurations", json={})
    assert len(calls) == 1 and info.value.request_body == {}
    with pytest.raises(sa.InternalServerError):  # the caller vouches it is safe to repeat
        await client.request(
            "POST", "/v3/grants/grant-1/scheduling/configurations", json={}, idempotent=True
        )
    assert len(calls) == 1 + 3  # first attempt + max_retries=2 ... and the earlier one


async def test_typed_errors_never_show_the_key(client: AsyncScheduler, mock: Any) -> None:
    mock.get(CALENDARS, status=404, payload={"error": {"message": f"no such thing {KEY}"}})
    with pytest.raises(sa.NotFoundError) as info:
        await client.request("GET", "/v3/grants/grant-1/calendars")
    assert KEY not in str(info.value) and info.value.path == "/v3/grants/grant-1/calendars"


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "error"),
    [
        ("FETCH", "/v3/x", {}, "method must be one of"),
        ("GET", "v3/x", {}, "single '/'"),
        ("GET", "//evil.example/x", {}, "single '/'"),
        ("GET", "https://evil.example/x", {}, "single '/'"),
        ("GET", "/v3/x?limit=1", {}, "query="),
        ("GET", "/v3/../admin", {}, "'..'"),
        ("GET", "/v3/x\n", {}, "control"),
        ("GET", "/v3/x", {"json": {}}, "no body"),
        ("GET", "/v3/x", {"query": {"a": [1]}}, "query"),
        ("GET", "/v3/x", {"idempotent": "yes"}, "idempotent"),
        ("GET", "/v3/x", {"session_id": "a\nb"}, "session_id"),
    ],
)
async def test_bad_arguments_fail_before_io(
    client: AsyncScheduler, mock: Any, method: str, path: str, kwargs: Any, error: str
) -> None:
    with pytest.raises((TypeError, ValueError), match=error):
        await client.request(method, path, **kwargs)
    assert not mock.requests


async def test_against_the_emulator_async_and_sync(scheduler_emulator_fresh: Any) -> None:
    emu = scheduler_emulator_fresh
    emu.add_grant("grant-1", email="nylas_test_8")
    path = "/v3/grants/grant-1/scheduling/configurations"
    async with AsyncScheduler(api_key="k", grant_id="grant-1", base_url=emu.url) as client:
        made = await client.request("POST", path, json=CONFIG_JSON)
        config_id = made.data["data"]["id"]
        listed = await client.request("GET", path, query={"limit": 10})
        assert [c["id"] for c in listed.data["data"]] == [config_id]
    with scheduler_sync.Scheduler(api_key="k", grant_id="grant-1", base_url=emu.url) as sync:
        got = sync.request("GET", f"{path}/{config_id}")
        assert got.data["data"]["id"] == config_id and got.status_code == 200
        with pytest.raises(sa.NotFoundError):
            sync.request("GET", f"{path}/nope")
