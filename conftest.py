"""Root test setup: the Python blocks of README.md and docs/ run as tests (pytest-markdown-docs).

Each block runs as written against an embedded emulator (real clock, reset before every block)
through the same environment variables a user sets for a real account: ``NYLAS_API_URI``,
``NYLAS_API_KEY`` and ``NYLAS_GRANT_ID``. Blocks that cannot run alone are fenced
``python notest`` there, and there are few of them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING
from unittest import mock

import pytest

if TYPE_CHECKING:
    from scheduler_async.emulator.runner import Emulator

README_API_KEY = "readme-api-key-0123456789"
README_GRANT_ID = "readme-grant"


@pytest.fixture(scope="session")
def readme_emulator() -> Iterator[Emulator]:
    """An emulator on the real clock: README blocks compute windows from ``datetime.now()``."""
    from scheduler_async.emulator.runner import Emulator

    with Emulator() as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def _readme_block_environment(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if request.node.get_closest_marker("markdown-docs") is None:
        return
    emulator: Emulator = request.getfixturevalue("readme_emulator")
    emulator.reset()
    emulator.add_grant(README_GRANT_ID, email="ada@example.com")
    monkeypatch.setenv("NYLAS_API_URI", emulator.url)
    monkeypatch.setenv("NYLAS_API_KEY", README_API_KEY)
    monkeypatch.setenv("NYLAS_GRANT_ID", README_GRANT_ID)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """README blocks print like any test: captured, shown when one fails (``-s`` shows all).

    pytest-markdown-docs turns pytest's capture off around each block; this keeps it on.
    """
    if item.get_closest_marker("markdown-docs") is None:
        return (yield)
    capman = item.config.pluginmanager.getplugin("capturemanager")
    with mock.patch.object(capman, "global_and_fixture_disabled", contextlib.nullcontext):
        return (yield)


_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY")


@pytest.fixture(autouse=True)
def _no_proxy_from_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Clients honour HTTP(S)_PROXY: a proxy set on the test machine must not carry the tests'
    loopback traffic. Tests of proxy support set the variables themselves."""
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
