"""The emulator's rate-limit enforcement: GCRA per key, counters, middleware and admin API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from scheduler_async.emulator.app import create_app
from scheduler_async.emulator.rate_limit import RATE_LIMIT_KEY, EmulatorRateLimit


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def test_off_by_default_but_counts_peak() -> None:
    clock = Clock()
    lim = EmulatorRateLimit(clock=clock)
    assert not lim.enabled
    for i in range(30):
        clock.now = 500.0 + i * 0.05  # 20 per second
        assert lim.check("k") is None
    assert lim.requests == 30 and lim.rejected == 0
    assert lim.peak_rate == 20


def test_gcra_per_key_with_retry_after() -> None:
    clock = Clock()
    lim = EmulatorRateLimit(rate=2, burst=1, clock=clock)
    assert lim.check("a") is None
    assert lim.check("a") == 1  # next slot 0.5 s away: Retry-After is whole seconds, >= 1
    assert lim.check("b") is None  # another key has its own budget
    clock.now += 0.5
    assert lim.check("a") is None
    clock.now += 0.25
    assert lim.check("a") == 1
    assert lim.rejected == 2 and lim.requests == 5
    assert lim.peak_rate == 5  # rejected requests count toward the observed rate


def test_retry_after_rounds_up_long_waits_and_burst() -> None:
    clock = Clock()
    lim = EmulatorRateLimit(rate=0.25, burst=2, clock=clock)  # one per 4 s, two at once
    assert lim.check("a", clock.now) is None
    assert lim.check("a", clock.now) is None
    assert lim.check("a", clock.now) == 4
    clock.now += 1.5
    assert lim.check("a") == 3  # 2.5 s left -> 3


def test_steady_client_at_the_rate_is_never_refused() -> None:
    clock = Clock()
    lim = EmulatorRateLimit(rate=100, clock=clock)
    assert lim.burst == 10
    for i in range(1000):
        jitter = 0.004 if i % 7 == 0 else 0.0  # a little early now and then
        assert lim.check("k", 500.0 + i / 100 - jitter) is None
    assert lim.rejected == 0
    assert lim.peak_rate in (100, 101)


def test_keys_never_hold_tokens_and_follow_key_by() -> None:
    lim = EmulatorRateLimit(rate=5)
    auth = "Bearer secret-api-key"
    k = lim.key(authorization=auth, path="/v3/scheduling/availability")
    assert "secret" not in k and k.startswith("token:")
    assert lim.key(authorization=None, path="/v3/scheduling/availability") == "anonymous"
    lim.configure(rate=5, key_by="grant")
    g1 = lim.key(authorization=auth, path="/v3/grants/g1/scheduling/configurations")
    g2 = lim.key(authorization=auth, path="/v3/grants/g2/scheduling/configurations")
    assert g1 != g2 and "g1" not in g1
    by_cfg = lim.key(
        authorization=None, path="/v3/scheduling/availability", query={"configuration_id": "c"}
    )
    assert by_cfg.startswith("configuration_id:")
    lim.configure(rate=5, key_by="application")
    assert lim.key(authorization=auth, path="/v3/x") == lim.key(authorization=None, path="/v3/y")
    for bad in ({"rate": 0}, {"rate": True}, {"rate": 1, "burst": 0}, {"rate": 1, "key_by": "x"}):
        with pytest.raises(ValueError):
            lim.configure_from_json(bad)
    with pytest.raises(ValueError):
        lim.configure_from_json({"rate": 1, "window": 2})


@pytest.fixture
async def emulator() -> AsyncIterator[tuple[str, EmulatorRateLimit]]:
    """The real emulator app, its limiter off (but counting) until the admin API sets one."""
    app = create_app()
    limiter = app[RATE_LIMIT_KEY]
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/"), limiter
    finally:
        await server.close()


async def test_middleware_answers_429_envelope_and_admin_reports(
    emulator: tuple[str, EmulatorRateLimit],
) -> None:
    base, limiter = emulator
    url = base + "/v3/grants/g1/scheduling/configurations"
    headers = {"Authorization": "Bearer key-1"}
    async with aiohttp.ClientSession() as http:
        async with http.put(base + "/_emulator/rate_limit", json={"rate": 1, "burst": 2}) as r:
            assert r.status == 200
            assert (await r.json())["data"]["rate"] == 1.0
        statuses = []
        for _ in range(4):
            async with http.get(url, headers=headers) as r:
                statuses.append(r.status)
                if r.status == 429:
                    body = await r.json()
                    assert r.headers["Retry-After"] == "1"
                    assert body["error"]["type"] == "rate_limit_error"
                    assert body["request_id"] == r.headers["X-Request-Id"]
        assert statuses[:2] != [429, 429] and statuses.count(429) == 2
        # another API key has its own budget; the admin API is never limited
        async with http.get(url, headers={"Authorization": "Bearer key-2"}) as r:
            assert r.status != 429
        for _ in range(3):
            async with http.get(base + "/_emulator/rate_limit") as r:
                data = (await r.json())["data"]
        assert data["requests"] == 5 and data["rejected"] == 2 and data["peak_rate"] == 5
        assert data["keys"] == 2
        async with http.put(base + "/_emulator/rate_limit", json={"rate": -1}) as r:
            assert r.status == 400
            assert (await r.json())["error"]["type"] == "invalid_request_error"
        async with http.delete(base + "/_emulator/rate_limit") as r:
            assert (await r.json())["data"]["requests"] == 0
        assert not limiter.enabled
