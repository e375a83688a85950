"""A default client against a rate-limited emulator (a new user's bulk job), and the retry
budget: 429s with Retry-After do not spend it; a spent budget says so in the error."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from scheduler_async import (
    AsyncScheduler,
    AvailabilityQuery,
    InternalServerError,
    RetryPolicy,
    SchedulerSettings,
)
from tests.helpers import config_kwargs

from .conftest import MONDAY

RATE = 20  # the emulator's default burst is a tenth of it: 2


async def test_default_client_rides_out_a_rate_limit_storm(scheduler_emulator_fresh: Any) -> None:
    emu = scheduler_emulator_fresh
    emu.clock.set(int(MONDAY.timestamp()))
    emu.add_grant("g", email="host@example.com")
    async with AsyncScheduler(api_key="k", grant_id="g", base_url=emu.url) as setup:
        config = await setup.configurations.create(
            **config_kwargs(
                "host@example.com", "Storm", scheduler=SchedulerSettings(min_booking_notice=0)
            )
        )
    emu.rate_limit.configure(rate=RATE)
    queries = [
        AvailabilityQuery(
            start_time=MONDAY + timedelta(days=i),
            end_time=MONDAY + timedelta(days=i, hours=8),
            configuration_id=config.id,
        )
        for i in range(40)
    ]
    async with AsyncScheduler(api_key="k", grant_id="g", base_url=emu.url) as client:
        results = await client.availability.sweep_all(queries)  # 50 in flight by default
        assert all(r.ok for r in results), [r.error for r in results if r.error]
        stats = emu.rate_limit.stats()
        assert stats["rejected"] <= 0.15 * stats["requests"], stats
        assert client._transport.budget.available == client._transport.budget.capacity

    emu.rate_limit.configure(rate=RATE)  # a fresh budget on the server, a fresh client
    emu.rate_limit.reset_stats()
    async with AsyncScheduler(api_key="k", grant_id="g", base_url=emu.url) as client:
        pages = await asyncio.gather(*(client.configurations.list_page(limit=1) for _ in range(30)))
        assert len(pages) == 30
        stats = emu.rate_limit.stats()
        assert stats["rejected"] <= 0.15 * stats["requests"], stats
        # An ordinary call that meets a 429 afterwards is still retried.
        emu.rate_limit.configure(rate=1, burst=1)
        await client.configurations.list_page(limit=1)
        page = await client.configurations.with_response.list_page(limit=1)
        assert page.retries_taken == 1


@pytest.fixture
async def server() -> Any:
    """Every request answered 429 (Retry-After 0) then 200, or 503 throughout."""
    state = {"n": 0, "mode": "429"}

    async def handle(request: web.Request) -> web.Response:
        state["n"] += 1
        if state["mode"] == "503" or state["n"] % 2:
            status = 503 if state["mode"] == "503" else 429
            body = {"request_id": f"r{state['n']}", "error": {"type": "e", "message": "busy"}}
            return web.json_response(body, status=status, headers={"Retry-After": "0"})
        return web.json_response({"request_id": "ok", "data": [], "next_cursor": None})

    app = web.Application()
    app.router.add_get("/v3/grants/g/scheduling/configurations", handle)
    srv = TestServer(app, host="127.0.0.1")
    await srv.start_server()
    try:
        yield str(srv.make_url("")).rstrip("/"), state
    finally:
        await srv.close()


async def test_429_with_retry_after_costs_no_retry_budget(server: Any) -> None:
    url, _ = server
    policy = RetryPolicy(backoff_base=0.0, budget_capacity=10)
    async with AsyncScheduler(api_key="k", grant_id="g", base_url=url, retry=policy) as client:
        for _ in range(5):  # each meets one 429 and is retried
            page = await client.configurations.with_response.list_page(limit=1)
            assert page.retries_taken == 1
        assert client._transport.budget.available == 10


async def test_spent_budget_is_named_in_the_error(server: Any) -> None:
    url, state = server
    state["mode"] = "503"
    policy = RetryPolicy(backoff_base=0.0, budget_capacity=5, max_retries=3)
    async with AsyncScheduler(api_key="k", grant_id="g", base_url=url, retry=policy) as client:
        with pytest.raises(InternalServerError) as info:
            await client.configurations.list_page(limit=1)
    assert info.value.retries_taken == 1  # one retry (5 tokens), then the budget was spent
    assert "retry budget is spent" in str(info.value)
