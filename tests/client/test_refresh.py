"""Self-refreshing sessions: renewal before the TTL ends, on 401, and single flight."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import scheduler_async as sa
from scheduler_async import (
    AsyncScheduler,
    AsyncSessionRefresher,
    ConfigurationAvailability,
    ConfigurationParticipant,
    EventBooking,
    ParticipantAvailability,
)
from tests.helpers import at

NOW = at(8)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def env(scheduler_emulator_fresh: Any) -> Any:
    emu = scheduler_emulator_fresh
    emu.clock.set(NOW)
    async with AsyncScheduler(api_key="k", grant_id="g-r", base_url=emu.url) as client:
        config = await client.configurations.create(
            requires_session_auth=True,
            participants=[
                ConfigurationParticipant(
                    email="h@example.com",
                    is_organizer=True,
                    availability=ParticipantAvailability(calendar_ids=("primary",)),
                )
            ],
            availability=ConfigurationAvailability(duration_minutes=30),
            event_booking=EventBooking(title="r"),
        )
        yield emu, client, config.id


async def test_concurrent_callers_share_one_session(env: Any) -> None:
    emu, client, config_id = env
    clock = Clock()
    async with AsyncSessionRefresher(
        client, configuration_id=config_id, time_to_live=5, refresh_margin=30, clock=clock
    ) as refresher:
        tokens = await asyncio.gather(*(refresher.session_id() for _ in range(50)))
        assert len(set(tokens)) == 1 and refresher.renewals == 1
        assert "renewals=1" in repr(refresher) and tokens[0] not in repr(refresher)

        clock.now += 5 * 60 - 31  # still more than the margin left
        assert await refresher.session_id() == tokens[0]
        clock.now += 2  # inside the margin: renew, once, for everybody
        again = await asyncio.gather(*(refresher.session_id() for _ in range(50)))
        assert len(set(again)) == 1 and again[0] != tokens[0] and refresher.renewals == 2
        token = again[0]
    stored = {s.session_id: s for s in emu.store.sessions.values()}
    assert stored[token].deleted  # aclose revoked the current session
    assert not stored[tokens[0]].deleted  # the renewed one simply runs out


async def test_run_renews_after_a_401(env: Any) -> None:
    _, client, config_id = env
    async with AsyncSessionRefresher(client, configuration_id=config_id) as refresher:
        first = await refresher.session_id()
        await client.sessions.delete(first)  # revoked behind the refresher's back
        used: list[str] = []

        async def call(token: str) -> sa.Availability:
            used.append(token)
            return await client.availability.get(
                start_time=NOW + 3600 * 2, end_time=NOW + 3600 * 3, session_id=token
            )

        avail = await refresher.run(call)
        assert len(avail.time_slots) == 2
        assert used[0] == first and used[1] != first and refresher.renewals == 2


async def test_refresher_validates_arguments(env: Any) -> None:
    _, client, _ = env
    with pytest.raises(ValueError):
        AsyncSessionRefresher(client)
    with pytest.raises(ValueError):
        AsyncSessionRefresher(client, configuration_id="c", time_to_live=31)
    with pytest.raises(ValueError):
        AsyncSessionRefresher(client, configuration_id="c", time_to_live=1, refresh_margin=60)
