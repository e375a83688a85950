"""``client.calendars`` and ``client.grants`` end to end against the emulator (async and sync)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

import scheduler_async as sa
import scheduler_sync
from scheduler_async import AsyncScheduler
from scheduler_async.emulator.connect import CONNECT_KEY

KEY = "calendars-key"


@pytest.fixture
def emu(scheduler_emulator_fresh: Any) -> Any:
    scheduler_emulator_fresh.add_grant(
        "g-cal", email="cal@example.com", calendars=["work", "team", "home"]
    )
    return scheduler_emulator_fresh


@pytest.fixture
async def client(emu: Any) -> AsyncIterator[AsyncScheduler]:
    async with AsyncScheduler(api_key=KEY, grant_id="g-cal", base_url=emu.url) as c:
        yield c


async def test_calendars_list_pages_and_get(client: AsyncScheduler) -> None:
    ids = [c.id async for c in client.calendars.list(limit=2)]
    assert ids == ["primary", "home", "team", "work"]
    page = await client.calendars.list_page(limit=3)
    assert len(page.data) == 3 and page.has_next_page
    primary = await client.calendars.get("primary")
    assert isinstance(primary, sa.Calendar)
    assert (primary.is_primary, primary.name, primary.grant_id) == (
        True,
        "cal@example.com",
        "g-cal",
    )
    with pytest.raises(sa.NotFoundError):
        await client.calendars.get("nope")


async def test_grants_get_by_id_and_me(client: AsyncScheduler, emu: Any) -> None:
    grant = await client.grants.get()
    assert grant == sa.Grant(
        id="g-cal",
        email="cal@example.com",
        provider="google",
        grant_status="valid",
        scope=grant.scope,
        created_at=grant.created_at,
    )
    with pytest.raises(sa.BadRequestError):  # an API key names no grant
        await client.grants.get(grant_id="me")
    token = emu.app[CONNECT_KEY].issue("g-cal", "my-app").access_token
    async with AsyncScheduler(api_key=token, grant_id="me", base_url=emu.url) as as_user:
        assert (await as_user.grants.get()).id == "g-cal"
        assert [c.id async for c in as_user.calendars.list()] == ["primary", "home", "team", "work"]


def test_sync_twins(emu: Any) -> None:
    with scheduler_sync.Scheduler(api_key=KEY, grant_id="g-cal", base_url=emu.url) as client:
        assert client.grants.get().email == "cal@example.com"
        assert [c.id for c in client.calendars.list()] == ["primary", "home", "team", "work"]
        assert client.calendars.get("work").is_primary is False
