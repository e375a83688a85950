"""Recurring group events: RRULE/EXDATE expansion, DST, instance ids."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from scheduler_async.emulator.recurrence import (
    RecurrenceError,
    expand,
    instance_id,
    occurs_at,
    split_instance_id,
    validate_recurrence,
)

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


def _ts(zone: ZoneInfo, *args: int) -> int:
    return int(datetime(*args, tzinfo=zone).timestamp())  # type: ignore[misc]


def _local(ts: int, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ts, zone)


def test_weekly_with_exdate_across_dst_keeps_wall_clock() -> None:
    # US DST ends on Sunday 2026-11-01; a Monday 09:00 class runs before and after it.
    start = _ts(NY, 2026, 10, 19, 9, 0)
    occ = expand(
        "m1",
        start_time=start,
        end_time=start + 3600,
        recurrence=[
            "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=5",
            "EXDATE;TZID=America/New_York:20261026T090000",
        ],
        timezone="America/New_York",
        window_start=start - 1,
        window_end=start + 60 * 86400,
    )
    days = [_local(o.start_time, NY) for o in occ]
    assert [d.date().isoformat() for d in days] == [
        "2026-10-19",
        "2026-11-02",
        "2026-11-09",
        "2026-11-16",
    ]
    assert {(d.hour, d.minute) for d in days} == {(9, 0)}
    # the UTC offset changed, so the UTC hour did
    assert [o.event_id for o in occ][:2] == ["m1_20261019T130000Z", "m1_20261102T140000Z"]
    assert all(o.end_time - o.start_time == 3600 for o in occ)
    assert {o.master_id for o in occ} == {"m1"}


@pytest.mark.parametrize(
    "exdate",
    [
        "EXDATE:20260330T070000Z",  # UTC instant (Berlin is UTC+2 after 2026-03-29)
        "EXDATE;TZID=Europe/Berlin:20260330T090000",
        "EXDATE:20260330T090000",  # floating: read in the event's zone
        "EXDATE;VALUE=DATE:20260330",
    ],
)
def test_exdate_forms_across_spring_forward(exdate: str) -> None:
    start = _ts(BERLIN, 2026, 3, 23, 9, 0)
    occ = expand(
        "ev",
        start_time=start,
        end_time=start + 1800,
        recurrence=["RRULE:FREQ=WEEKLY;UNTIL=20260413T235959Z", exdate],
        timezone="Europe/Berlin",
        window_start=start,
        window_end=start + 40 * 86400,
    )
    assert [_local(o.start_time, BERLIN).strftime("%m-%d %H:%M") for o in occ] == [
        "03-23 09:00",
        "04-06 09:00",
        "04-13 09:00",
    ]


def test_window_overlap_and_floating_until() -> None:
    start = _ts(UTC, 2026, 1, 5, 10, 0)  # type: ignore[arg-type]
    rec = ["RRULE:FREQ=DAILY;UNTIL=20260109T100000"]
    all_occ = expand(
        "d",
        start_time=start,
        end_time=start + 3600,
        recurrence=rec,
        timezone=None,
        window_start=0,
        window_end=start + 30 * 86400,
    )
    assert len(all_occ) == 5
    # a window starting mid-instance still returns that instance (overlap)
    mid = expand(
        "d",
        start_time=start,
        end_time=start + 3600,
        recurrence=rec,
        timezone=None,
        window_start=start + 86400 + 1800,
        window_end=start + 2 * 86400 + 1,
    )
    assert [o.start_time for o in mid] == [start + 86400, start + 2 * 86400]


def test_one_off_event_is_one_occurrence_with_own_id() -> None:
    occ = expand(
        "solo",
        start_time=100,
        end_time=200,
        recurrence=None,
        timezone=None,
        window_start=150,
        window_end=160,
    )
    assert [(o.event_id, o.master_id) for o in occ] == [("solo", None)]
    after = expand(
        "solo",
        start_time=100,
        end_time=200,
        recurrence=[],
        timezone=None,
        window_start=200,
        window_end=300,
    )
    assert after == []


def test_instance_ids_round_trip_and_occurs_at() -> None:
    start = _ts(NY, 2026, 3, 2, 18, 30)
    iid = instance_id("abc_def", start)
    assert iid == "abc_def_20260302T233000Z"
    assert split_instance_id(iid) == ("abc_def", start)
    assert split_instance_id("plain") is None
    rec = ["RRULE:FREQ=WEEKLY;COUNT=3"]
    kw = {
        "start_time": start,
        "end_time": start + 60,
        "recurrence": rec,
        "timezone": "America/New_York",
    }
    # 2026-03-08 is the US spring-forward: the next week's 18:30 local is 22:30Z
    assert occurs_at("m", at=start + 7 * 86400 - 3600, **kw)  # type: ignore[arg-type]
    assert not occurs_at("m", at=start + 7 * 86400, **kw)  # type: ignore[arg-type]
    assert not occurs_at("m", at=start + 21 * 86400 - 3600, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "lines",
    [["RRULE:FREQ=SOMETIMES"], ["NOPE:1"], ["EXDATE:2026-01-01"], ["RRULE"], [5]],
)
def test_bad_recurrence_is_rejected(lines: list[str]) -> None:
    with pytest.raises(RecurrenceError):
        validate_recurrence(lines, "UTC")


def test_unknown_zone_is_rejected() -> None:
    with pytest.raises(RecurrenceError):
        validate_recurrence(["RRULE:FREQ=DAILY"], "Mars/Olympus")
