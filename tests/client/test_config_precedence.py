"""Where the base URL comes from: explicit arguments beat the environment, every cell tested."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scheduler_async import AsyncScheduler
from scheduler_async._args import MAX_UNIX_SECONDS, to_unix
from scheduler_async._config import REGIONS, resolve_base_url
from scheduler_sync import Scheduler

ENV_URL = "http://127.0.0.1:9999"


@pytest.mark.parametrize(
    ("base_url", "region", "env", "expected"),
    [
        ("https://proxy.example", None, {}, "https://proxy.example"),
        ("https://proxy.example", None, {"NYLAS_API_URI": ENV_URL}, "https://proxy.example"),
        (None, "eu", {}, REGIONS["eu"]),
        (None, "eu", {"NYLAS_API_URI": ENV_URL}, REGIONS["eu"]),  # explicit region beats env
        (None, "us", {"NYLAS_API_URI": ENV_URL}, REGIONS["us"]),
        (None, None, {"NYLAS_API_URI": ENV_URL}, ENV_URL),
        (None, None, {"NYLAS_API_URI": ""}, REGIONS["us"]),
        (None, None, {}, REGIONS["us"]),
        ("https://proxy.example/", None, {}, "https://proxy.example"),
        ("https://proxy.example/nylas/", None, {}, "https://proxy.example/nylas"),
    ],
)
def test_precedence_table(
    base_url: str | None, region: str | None, env: dict[str, str], expected: str
) -> None:
    assert resolve_base_url(base_url, region, env) == expected


@pytest.mark.parametrize("env", [{}, {"NYLAS_API_URI": ENV_URL}])
def test_region_and_base_url_together_is_an_error(env: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="either region= or base_url="):
        resolve_base_url("https://proxy.example", "eu", env)


def test_unknown_region() -> None:
    with pytest.raises(ValueError, match="region must be one of"):
        resolve_base_url(None, "ap", {})


@pytest.mark.parametrize(
    ("value", "source", "env"),
    [
        ("https://api.us.nylas.com/v3", "base_url", {}),
        ("https://api.us.nylas.com/v3/", "base_url", {}),
        (None, "NYLAS_API_URI", {"NYLAS_API_URI": "https://api.eu.nylas.com/v3"}),
    ],
)
def test_a_v3_suffix_is_refused_with_the_fix(
    value: str | None, source: str, env: dict[str, str]
) -> None:
    with pytest.raises(ValueError, match=rf"{source} must not end in /v3") as info:
        resolve_base_url(value, None, env)
    assert "https://api." in str(info.value) and "/v3'" not in str(info.value)


@pytest.mark.parametrize("value", ["api.us.nylas.com", "ftp://host", "file:///etc/passwd"])
def test_base_url_must_be_http(value: str) -> None:
    with pytest.raises(ValueError, match="http"):
        resolve_base_url(value, None, {})


async def test_async_client_uses_the_explicit_region_over_the_env(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NYLAS_API_URI", ENV_URL)
    async with AsyncScheduler(api_key="k" * 20, region="eu") as client:
        assert client.base_url == REGIONS["eu"]
    async with AsyncScheduler(api_key="k" * 20) as client:
        assert client.base_url == ENV_URL
    with pytest.raises(ValueError, match="either region= or base_url="):
        AsyncScheduler(api_key="k" * 20, region="eu", base_url="https://x.example")


def test_sync_client_follows_the_same_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NYLAS_API_URI", ENV_URL)
    with Scheduler(api_key="k" * 20, region="eu") as client:
        assert client.base_url == REGIONS["eu"]
    with pytest.raises(ValueError, match="must not end in /v3"):
        Scheduler(api_key="k" * 20, base_url="https://api.us.nylas.com/v3")


def test_milliseconds_are_refused_with_a_message_that_says_so() -> None:
    ms = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp()) * 1000
    with pytest.raises(ValueError, match="looks like milliseconds") as info:
        to_unix(ms, "start_time")
    assert str(ms // 1000) in str(info.value)
    assert to_unix(MAX_UNIX_SECONDS, "start_time") == MAX_UNIX_SECONDS
