"""The emulator's helpers take the client's time types: aware datetimes or Unix seconds."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from scheduler_async.emulator import Emulator, FakeClock
from tests.helpers import MONDAY

NOW = MONDAY + timedelta(hours=9)


def test_add_event_with_aware_datetimes_and_seconds() -> None:
    with Emulator(clock=FakeClock(NOW)) as emu:
        paris = timezone(timedelta(hours=1))
        by_dt = emu.add_event("g", "primary", NOW, NOW + timedelta(hours=1))
        by_local = emu.add_event(
            "g", "primary", datetime(2030, 1, 7, 12, tzinfo=paris), NOW + timedelta(hours=4)
        )
        by_int = emu.add_event(
            "g", "primary", int(NOW.timestamp()) + 7200, int(NOW.timestamp()) + 9000
        )
        assert (by_dt.start_time, by_dt.end_time) == (
            int(NOW.timestamp()),
            int(NOW.timestamp()) + 3600,
        )
        assert by_local.start_time == int(NOW.timestamp()) + 2 * 3600
        assert by_int.end_time - by_int.start_time == 1800
        assert emu.clock.now() == int(NOW.timestamp())


def test_naive_datetimes_are_refused_like_in_the_client() -> None:
    with Emulator(clock=FakeClock(NOW)) as emu, pytest.raises(ValueError, match="naive"):
        emu.add_event("g", "primary", datetime(2030, 1, 7, 9), NOW + timedelta(hours=1))


def test_clock_takes_datetimes_and_timedeltas() -> None:
    clock = FakeClock(NOW)
    clock.advance(timedelta(minutes=11))
    assert clock.now() == int(NOW.timestamp()) + 660
    clock.set(NOW + timedelta(days=1))
    assert clock.now() == int(NOW.timestamp()) + 86400
    clock.reset()
    assert clock.now() == int(NOW.timestamp())
    with pytest.raises(TypeError):
        clock.set("2030-01-07")  # type: ignore[arg-type]
