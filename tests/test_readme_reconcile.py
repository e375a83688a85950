"""The guide's "outcome unknown" reconciliation, forced down both branches by the emulator.

The function under test is taken from ``docs/guide/errors-and-retries.md`` itself (the block
that defines ``book_once``), so the page cannot drift from what is tested here.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from scheduler_async import AsyncScheduler, Guest, RetryPolicy
from tests.helpers import MONDAY, config_kwargs

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "guide" / "errors-and-retries.md"
NOW = MONDAY + timedelta(hours=8)
GUEST = Guest(name="Jane Doe", email="jane@example.com")


def _book_once() -> Any:
    blocks = re.findall(r"```python\n(.*?)\n```", GUIDE.read_text(), re.DOTALL)
    (code,) = [b for b in blocks if "async def book_once(" in b]
    namespace: dict[str, Any] = {"__name__": "readme_book_once"}
    exec(compile(code, str(GUIDE), "exec"), namespace)
    return namespace["book_once"]


@pytest.fixture
async def public(scheduler_emulator_fresh: Any) -> Any:
    emu = scheduler_emulator_fresh
    emu.clock.set(NOW)
    emu.add_grant("g-readme", email="host@example.com")
    async with AsyncScheduler(
        api_key="k" * 16,
        grant_id="g-readme",
        base_url=emu.url,
        retry=RetryPolicy(backoff_base=0.0),
    ) as client:
        config = await client.configurations.create(
            **config_kwargs("host@example.com", "Intro"), requires_session_auth=False
        )
        avail = await client.availability.get(
            start_time=NOW + timedelta(hours=1),
            end_time=NOW + timedelta(hours=3),
            configuration_id=config.id,
        )
        yield emu, client, config.id, avail.time_slots[0]


def _bookings(emu: Any) -> list[Any]:
    with emu.store.lock:
        return [b for b in emu.store.bookings.values() if b.is_live]


async def test_dropped_before_the_booking_was_made_books_again(
    public: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    emu, client, config_id, slot = public
    emu.set_faults("POST /v3/scheduling/bookings", drop_before=1.0, times=1)
    booking = await _book_once()(client, config_id, slot, GUEST)
    assert booking is not None
    assert "outcome unknown" in capsys.readouterr().out
    (stored,) = _bookings(emu)  # exactly one: the second try, nothing doubled
    assert stored.booking_id == booking.booking_id and stored.start_time == slot.start_time


async def test_dropped_after_the_booking_was_made_does_not_book_twice(
    public: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    emu, client, config_id, slot = public
    emu.set_faults("POST /v3/scheduling/bookings", drop_after=1.0, times=1)
    assert await _book_once()(client, config_id, slot, GUEST) is None
    assert "outcome unknown" in capsys.readouterr().out
    (stored,) = _bookings(emu)  # the first request did book it; it was not repeated
    assert stored.start_time == slot.start_time


async def test_without_a_fault_it_simply_books(public: Any) -> None:
    emu, client, config_id, slot = public
    booking = await _book_once()(client, config_id, slot, GUEST)
    assert booking is not None and len(_bookings(emu)) == 1
