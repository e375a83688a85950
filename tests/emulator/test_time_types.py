"""The emulator's helpers take the client's time types: aware datetimes or Unix seconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from scheduler_async.emulator import Emulator, FakeClock

T0 = datetime(2030, 1, 7, 9, tzinfo=UTC)


def test_add_event_with_aware_datetimes_and_seconds() -> None:
    with Emulator(clock=FakeClock(T0)) as emu:
        paris = timezone(timedelta(hours=1))
        by_dt = emu.add_event("g", "primary", T0, T0 + timedelta(hours=1))
        by_local = emu.add_event(
            "g", "primary", datetime(2030, 1, 7, 12, tzinfo=paris), T0 + timedelta(hours=4)
        )
        by_int = emu.add_event(
            "g", "primary", int(T0.timestamp()) + 7200, int(T0.timestamp()) + 9000
        )
        assert (by_dt.start_time, by_dt.end_time) == (
            int(T0.timestamp()),
            int(T0.timestamp()) + 3600,
        )
        assert by_local.start_time == int(T0.timestamp()) + 2 * 3600
        assert by_int.end_time - by_int.start_time == 1800
        assert emu.clock.now() == int(T0.timestamp())


def test_naive_datetimes_are_refused_like_in_the_client() -> None:
    with Emulator(clock=FakeClock(T0)) as emu, pytest.raises(ValueError, match="naive"):
        emu.add_event("g", "primary", datetime(2030, 1, 7, 9), T0 + timedelta(hours=1))


def test_clock_takes_datetimes_and_timedeltas() -> None:
    clock = FakeClock(T0)
    clock.advance(timedelta(minutes=11))
    assert clock.now() == int(T0.timestamp()) + 660
    clock.set(T0 + timedelta(days=1))
    assert clock.now() == int(T0.timestamp()) + 86400
    clock.reset()
    assert clock.now() == int(T0.timestamp())
    with pytest.raises(TypeError):
        clock.set("2030-01-07")  # type: ignore[arg-type]
