"""Settings from the environment: whitespace, control characters, and HTTP(S)_PROXY / NO_PROXY.

The proxy tests send real requests through a tiny forward proxy on loopback (aiohttp.web on its
own thread) to the emulator, and count what the proxy forwarded.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aioresponses import aioresponses
from anyio.from_thread import start_blocking_portal
from yarl import URL

from scheduler_async import APIConnectionError, AsyncScheduler
from scheduler_async._proxy import DIRECT, EnvProxies, Route
from scheduler_sync import Scheduler

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authorization", "transfer-encoding", "te"}
KEY = "nyk_v0_abcdefghijklmnop"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # (the proxy variables are cleared for every test by the root conftest)
    for name in ("NYLAS_API_KEY", "NYLAS_GRANT_ID", "NYLAS_API_URI"):
        monkeypatch.delenv(name, raising=False)


# -- whitespace and control characters ---------------------------------------------------------
def test_settings_from_the_environment_are_stripped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NYLAS_API_KEY", f"  {KEY}\n")  # as read from a secrets file
    monkeypatch.setenv("NYLAS_GRANT_ID", "grant-1\r\n")
    client = AsyncScheduler()
    assert client.grant_id == "grant-1"
    assert client._transport.api_key_credential().token == KEY


def test_an_explicit_key_is_stripped_too() -> None:
    client = AsyncScheduler(api_key=f"{KEY}\n")
    assert client._transport.api_key_credential().token == KEY


def test_a_blank_environment_key_means_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NYLAS_API_KEY", " \n")
    from scheduler_async import MissingCredentialsError

    with pytest.raises(MissingCredentialsError):
        AsyncScheduler()._transport.api_key_credential()


@pytest.mark.parametrize("bad", ["\n", "\x00", "\t", "\x1b", "\x7f", "\x85"])
def test_a_key_with_a_control_character_inside_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    key = f"nyk_v0_abc{bad}defghijklmnop"
    raised = []
    if bad != "\x00":  # an environment variable cannot hold a NUL
        monkeypatch.setenv("NYLAS_API_KEY", key)
        with pytest.raises(ValueError, match=r"^NYLAS_API_KEY contains a control char") as env:
            AsyncScheduler()
        raised.append(env)
    with pytest.raises(ValueError, match=r"^api_key contains a control character") as arg:
        AsyncScheduler(api_key=key)
    with pytest.raises(ValueError, match=r"^api_key contains a control character") as sync:
        Scheduler(api_key=key)
    for info in (*raised, arg, sync):
        assert "nyk_v0_abc" not in str(info.value) and "defghijklmnop" not in str(info.value)


def test_a_key_that_is_not_a_string_is_a_type_error_without_its_value() -> None:
    with pytest.raises(TypeError, match=r"^api_key must be a str$"):
        AsyncScheduler(api_key=b"nyk_v0_bytes_key")  # type: ignore[arg-type]


def test_trust_env_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match="trust_env"):
        AsyncScheduler(trust_env="no")  # type: ignore[arg-type]


# -- proxies -----------------------------------------------------------------------------------
class LoopbackProxy:
    """A plain-HTTP forward proxy: counts each absolute-form request and forwards it."""

    def __init__(self) -> None:
        self.forwarded: list[str] = []
        self.proxy_auth: list[str | None] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if not request.raw_path.startswith("http://"):  # not a proxy request
            return web.Response(status=400, text="not a proxy request")
        self.forwarded.append(f"{request.method} {request.raw_path}")
        self.proxy_auth.append(request.headers.get("Proxy-Authorization"))
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        async with (
            aiohttp.ClientSession(auto_decompress=False) as session,
            session.request(
                request.method,
                request.raw_path,
                headers=headers,
                data=await request.read(),
                allow_redirects=False,
            ) as answer,
        ):
            body = await answer.read()
            out = {
                k: v
                for k, v in answer.headers.items()
                if k.lower() not in _HOP_BY_HOP and k.lower() != "content-length"
            }
            return web.Response(status=answer.status, body=body, headers=out)


@pytest.fixture(scope="module")
def proxy() -> Iterator[LoopbackProxy]:
    """The loopback proxy, served on its own thread for the module's tests."""
    server = LoopbackProxy()

    async def start() -> web.AppRunner:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", server.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        server.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        return runner

    with start_blocking_portal() as portal:
        runner = portal.call(start)
        try:
            yield server
        finally:
            portal.call(runner.cleanup)


@pytest.fixture
def emu(scheduler_emulator_fresh: Any, proxy: LoopbackProxy) -> Any:
    scheduler_emulator_fresh.add_grant("grant-1", email="org@example.com")
    proxy.forwarded.clear()
    proxy.proxy_auth.clear()
    return scheduler_emulator_fresh


async def _list(emu: Any, **kwargs: Any) -> None:
    async with AsyncScheduler(
        api_key=emu.api_key, grant_id="grant-1", base_url=emu.url, **kwargs
    ) as client:
        assert (await client.configurations.list_page()).data == ()
        assert (await client.configurations.list_page()).data == ()


async def test_http_proxy_is_honoured_by_default(
    emu: Any, proxy: LoopbackProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    await _list(emu)
    path = f"GET {emu.url}/v3/grants/grant-1/scheduling/configurations"
    assert proxy.forwarded == [path, path]


async def test_trust_env_false_ignores_the_proxy(
    emu: Any, proxy: LoopbackProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    await _list(emu, trust_env=False)
    assert proxy.forwarded == []


@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "localhost,127.0.0.0/8", "*", "{host}:{port}"])
async def test_no_proxy_goes_direct(
    emu: Any, proxy: LoopbackProxy, monkeypatch: pytest.MonkeyPatch, no_proxy: str
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    host, port = emu.url.removeprefix("http://").split(":")
    monkeypatch.setenv("NO_PROXY", no_proxy.format(host=host, port=port))
    await _list(emu)
    assert proxy.forwarded == []


async def test_no_proxy_for_another_port_still_proxies(
    emu: Any, proxy: LoopbackProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1:1,example.com")
    await _list(emu)
    assert len(proxy.forwarded) == 2


def test_the_sync_client_uses_the_proxy_and_can_opt_out(
    emu: Any, proxy: LoopbackProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    for trust_env, expected in ((True, 1), (False, 1)):
        with Scheduler(
            api_key=emu.api_key, grant_id="grant-1", base_url=emu.url, trust_env=trust_env
        ) as client:
            assert client.configurations.list_page().data == ()
        assert len(proxy.forwarded) == expected


async def test_proxy_credentials_are_sent_and_never_shown(
    emu: Any, proxy: LoopbackProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url.replace("http://", "http://ops:proxy-pass-123@"))
    await _list(emu)
    assert proxy.proxy_auth == ["Basic b3BzOnByb3h5LXBhc3MtMTIz"] * 2  # ops:proxy-pass-123
    # a proxy that is down: the error names neither the password nor the key
    monkeypatch.setenv("HTTP_PROXY", "http://ops:proxy-pass-123@127.0.0.1:1")
    async with AsyncScheduler(
        api_key=emu.api_key, grant_id="grant-1", base_url=emu.url, max_retries=0
    ) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.configurations.list_page()
    text = f"{info.value!s} {info.value!r} {info.value.__cause__!s}"
    assert "proxy-pass-123" not in text


async def test_a_netrc_default_entry_breaks_nothing(
    emu: Any, proxy: LoopbackProxy, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # aiohttp's trust_env=True would attach this as Basic auth: every API-key call would fail
    # ("Cannot combine AUTHORIZATION header with AUTH argument").
    netrc = tmp_path / "netrc"
    netrc.write_text("default login someone password netrc-pass-123\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    await _list(emu)
    assert len(proxy.forwarded) == 2 and proxy.proxy_auth == [None, None]


def test_route_for_an_https_origin_authenticates_the_tunnel() -> None:
    proxies = EnvProxies({"https": "proxy.internal:3128", "http": "http://u:pw@proxy.internal"})
    route = proxies.for_url("https", "api.us.nylas.com", 443)
    assert route == Route("http://proxy.internal:3128")
    proxies = EnvProxies({"https": "http://ops:s3cret-pass@proxy.internal:3128"})
    route = proxies.for_url("https", "api.us.nylas.com", 443)
    assert route.proxy == "http://proxy.internal:3128" and route.headers is None
    assert route.proxy_headers == {"Proxy-Authorization": "Basic b3BzOnMzY3JldC1wYXNz"}
    assert proxies.credentials == ("s3cret-pass",)
    assert "s3cret" not in repr(proxies)


@pytest.mark.parametrize(
    ("no_proxy", "url", "direct"),
    [
        ("nylas.com", "https://api.us.nylas.com", True),
        (".nylas.com", "https://api.us.nylas.com", True),
        ("NYLAS.COM", "https://api.us.nylas.com", True),
        ("us.nylas.com:443", "https://api.us.nylas.com", True),
        ("us.nylas.com:8443", "https://api.us.nylas.com", False),
        ("otherylas.com", "https://api.us.nylas.com", False),
        ("ylas.com", "https://api.us.nylas.com", False),
        ("10.0.0.0/8, ::1", "http://10.1.2.3:80", True),
        ("10.0.0.0/8,::1", "http://[::1]:8080", True),
        ("10.0.0.0/8", "http://11.0.0.1", False),
        ("", "https://api.us.nylas.com", False),
    ],
)
def test_no_proxy_matching(no_proxy: str, url: str, direct: bool) -> None:
    proxies = EnvProxies({"http": "http://p:1", "https": "http://p:1", "no": no_proxy})
    parsed = URL(url)
    route = proxies.for_url(parsed.scheme, parsed.host, parsed.port)
    assert (route == DIRECT) is direct


def test_an_https_proxy_url_is_ignored_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    proxies = EnvProxies({"https": "https://proxy.internal:3128"})
    assert proxies.for_url("https", "api.us.nylas.com", 443) == DIRECT
    assert "only http:// proxies are supported" in caplog.text


async def test_a_session_token_with_a_control_character_is_refused_unshown(
    mock: aioresponses,
) -> None:
    token = "sess_abcdefgh\r\nX-Injected: 1"
    async with AsyncScheduler(base_url="https://api.test") as client:
        with pytest.raises(ValueError, match=r"^session_id contains a control character") as info:
            await client.availability.get(start_time=10, end_time=20, session_id=token)
    assert "sess_abcdefgh" not in str(info.value) and "Injected" not in str(info.value)
    assert mock.requests == {}
