"""Shared test setup: the unit-test fixtures ``mock`` and ``client``.

``client`` is an ``AsyncScheduler`` on ``helpers.BASE`` (answers come from ``mock``); the
integration tests define their own ``client`` against the emulator, which overrides this one.
Constants and helper functions live in ``tests/helpers.py`` (``helpers.MockAPI`` is the
aioresponses that works on aiohttp 3.14; use it wherever a test mocks HTTP).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from scheduler_async import AsyncScheduler, RetryPolicy
from tests.helpers import BASE, KEY, MockAPI


@pytest.fixture
def mock() -> Iterator[MockAPI]:
    """Answers every aiohttp request of the test (nothing reaches the network)."""
    with MockAPI() as m:
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
