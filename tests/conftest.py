"""Shared test setup: the aioresponses shim and the unit-test fixtures ``mock`` and ``client``.

``client`` is an ``AsyncScheduler`` on ``helpers.BASE`` (answers come from ``mock``); the
integration tests define their own ``client`` against the emulator, which overrides this one.
Constants and helper functions live in ``tests/helpers.py``.

aioresponses 0.7.9 builds ``ClientResponse`` without the ``stream_writer`` argument that
aiohttp >= 3.14 requires (pnuckowski/aioresponses#289); this shim supplies a stand-in.
"""

from __future__ import annotations

import types
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import aioresponses.core as _arcore
import pytest
from aioresponses import aioresponses

from scheduler_async import AsyncScheduler, RetryPolicy
from tests.helpers import BASE, KEY


class _CompatClientResponse(aiohttp.ClientResponse):
    def __init__(self, method: str, url: Any, *, stream_writer: Any = None, **kwargs: Any) -> None:
        if stream_writer is None:
            stream_writer = types.SimpleNamespace(output_size=0)
        super().__init__(method, url, stream_writer=stream_writer, **kwargs)


_arcore.ClientResponse = _CompatClientResponse  # type: ignore[misc]


@pytest.fixture
def mock() -> Iterator[aioresponses]:
    """Answers every aiohttp request of the test (nothing reaches the network)."""
    with aioresponses() as m:
        yield m


@pytest.fixture
async def client() -> AsyncIterator[AsyncScheduler]:
    """A unit-test client: API key, grant ``grant-1``, two retries without backoff."""
    async with AsyncScheduler(
        api_key=KEY,
        grant_id="grant-1",
        base_url=BASE,
        retry=RetryPolicy(max_retries=2, backoff_base=0.0),
    ) as c:
        yield c
