"""Tests of the emulator's pure availability engine."""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler_async.emulator.engine import (
    AvailabilityResult,
    ConfigError,
    Slot,
    compute_availability,
    find_slot,
    validate_config,
)

UTC = ZoneInfo("UTC")
MON = date(2025, 1, 6)  # a Monday
WEEKDAYS = [1, 2, 3, 4, 5]


def ts(day: date, hour: int = 0, minute: int = 0, tz: str = "UTC") -> int:
    """Unix seconds of local wall time ``day hour:minute`` in ``tz``."""
    dt = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(tz))
    return int(dt.timestamp())


def hm(t: int, tz: str = "UTC") -> str:
    """``HH:MM`` of ``t`` in ``tz`` (for readable assertions)."""
    return datetime.fromtimestamp(t, ZoneInfo(tz)).strftime("%H:%M")


def hours(
    days: list[int] | None = None,
    start: str = "9:00",
    end: str = "17:00",
    tz: str | None = "UTC",
    exdates: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "days": WEEKDAYS if days is None else days,
        "start": start,
        "end": end,
        "timezone": tz if tz is not None else "",
        "exdates": exdates,
    }


def person(email: str = "a@x.com", open_hours: list[dict[str, Any]] | None = None, **kw: Any):
    p: dict[str, Any] = {"email": email, **kw}
    if open_hours is not None:
        p["availability"] = {"calendar_ids": ["primary"], "open_hours": open_hours}
    return p


def config(
    participants: list[dict[str, Any]] | None = None,
    *,
    duration: int = 30,
    interval: int | None = None,
    round_to: int = 15,
    method: str = "collective",
    before: int = 0,
    after: int = 0,
    notice: int | None = 0,
    horizon: int | None = 30,
    booking_tz: str | None = None,
    rules: dict[str, Any] | None = None,
) -> dict[str, Any]:
    availability: dict[str, Any] = {
        "duration_minutes": duration,
        "round_to": round_to,
        "availability_rules": {
            "availability_method": method,
            "buffer": {"before": before, "after": after},
            **(rules or {}),
        },
    }
    if interval is not None:
        availability["interval_minutes"] = interval
    event_booking: dict[str, Any] = {"title": "Meet"}
    if booking_tz is not None:
        event_booking["timezone"] = booking_tz
    return {
        "participants": participants or [person(open_hours=[hours()])],
        "availability": availability,
        "event_booking": event_booking,
        "scheduler": {"min_booking_notice": notice, "available_days_in_future": horizon},
    }


NOW = ts(MON - timedelta(days=1))  # Sunday 00:00 UTC, before every test window


def starts(result: AvailabilityResult, tz: str = "UTC") -> list[str]:
    return [hm(s.start_time, tz) for s in result.time_slots]


def day_slots(cfg: dict[str, Any], day: date = MON, busy=None, now: int = NOW, **kw: Any):
    return compute_availability(cfg, busy or {}, ts(day), ts(day + timedelta(days=1)), now, **kw)


# --------------------------------------------------------------------------- grid


def test_basic_day_grid_and_emails() -> None:
    r = day_slots(config())
    assert len(r.time_slots) == 16
    assert r.time_slots[0] == Slot(("a@x.com",), ts(MON, 9), ts(MON, 9, 30))
    assert r.time_slots[-1] == Slot(("a@x.com",), ts(MON, 16, 30), ts(MON, 17))
    assert r.order is None


@pytest.mark.parametrize(
    ("duration", "interval", "expected_first", "expected_count", "expected_last"),
    [
        (30, None, ["09:00", "09:30", "10:00"], 16, "16:30"),  # default interval = duration
        (30, 15, ["09:00", "09:15", "09:30"], 31, "16:30"),
        (60, 45, ["09:00", "09:45", "10:30"], 10, "15:45"),
        (45, None, ["09:00", "09:45", "10:30"], 10, "15:45"),
    ],
)
def test_interval(duration, interval, expected_first, expected_count, expected_last) -> None:
    r = day_slots(config(duration=duration, interval=interval))
    got = starts(r)
    assert got[:3] == expected_first
    assert len(got) == expected_count
    assert got[-1] == expected_last
    assert all(s.end_time - s.start_time == duration * 60 for s in r.time_slots)


@pytest.mark.parametrize(
    ("start", "round_to", "interval", "expected"),
    [
        ("9:10", 15, 60, ["09:15", "10:15"]),
        ("9:10", 30, 60, ["09:30", "10:30"]),
        ("9:10", 5, 60, ["09:10", "10:10"]),
        ("9:00", 60, 60, ["09:00", "10:00", "11:00"]),
        ("9:05", 60, 30, ["10:00", "10:30", "11:00"]),
    ],
)
def test_round_to(start, round_to, interval, expected) -> None:
    cfg = config([person(open_hours=[hours(start=start, end="12:00")])], duration=60)
    cfg["availability"].update(round_to=round_to, interval_minutes=interval)
    assert starts(day_slots(cfg)) == expected


def test_round_to_uses_local_wall_clock() -> None:
    # Kathmandu is UTC+5:45: 09:10 local rounded up to 60 -> 10:00 local = 04:15 UTC.
    tz = "Asia/Kathmandu"
    cfg = config([person(open_hours=[hours(start="9:10", end="12:00", tz=tz)])], round_to=60)
    cfg["availability"]["interval_minutes"] = 60
    r = day_slots(cfg)
    assert starts(r, tz) == ["10:00", "11:00"]
    assert starts(r) == ["04:15", "05:15"]


def test_collective_grid_anchors_at_intersection_start() -> None:
    a = person("a@x.com", [hours(start="9:00", end="12:00")])
    b = person("b@x.com", [hours(start="9:10", end="11:00")])
    r = day_slots(config([a, b]))
    assert starts(r) == ["09:15", "09:45", "10:15"]
    assert all(s.emails == ("a@x.com", "b@x.com") for s in r.time_slots)


def test_touching_entries_are_separate_windows() -> None:
    p = person(open_hours=[hours(start="9:00", end="10:15"), hours(start="10:15", end="11:00")])
    r = day_slots(config([p], duration=45))
    # 09:00-09:45 fits the first entry; 09:45-10:30 would straddle both; second entry: 10:15.
    assert starts(r) == ["09:00", "10:15"]


def test_overlapping_entries_offer_both_grids() -> None:
    p = person(open_hours=[hours(start="9:00", end="10:00"), hours(start="9:15", end="10:15")])
    assert starts(day_slots(config([p]))) == ["09:00", "09:15", "09:30", "09:45"]


def test_end_midnight_means_end_of_day() -> None:
    for end in ("00:00", "24:00"):
        p = person(open_hours=[hours(days=[1], start="23:00", end=end)])
        assert starts(day_slots(config([p]))) == ["23:00", "23:30"]


# ------------------------------------------------------------------ notice, horizon, window


@pytest.mark.parametrize(
    ("now_hm", "notice", "expected_first"),
    [
        ((8, 0), 60, "09:00"),
        ((8, 40), 60, "10:00"),  # earliest 09:40 -> next grid point
        ((8, 40), None, "10:00"),  # null notice means 60
        ((9, 0), 0, "09:00"),
        ((9, 1), 0, "09:30"),
        ((6, 0), 240, "10:00"),
    ],
)
def test_min_booking_notice(now_hm, notice, expected_first) -> None:
    r = day_slots(config(notice=notice), now=ts(MON, *now_hm))
    assert starts(r)[0] == expected_first


def test_notice_missing_scheduler_defaults_to_60_minutes() -> None:
    cfg = config()
    del cfg["scheduler"]
    assert starts(day_slots(cfg, now=ts(MON, 8, 31)))[0] == "10:00"


def test_available_days_in_future() -> None:
    cfg = config([person()], horizon=1)  # unbounded participant
    now = ts(MON, 10)
    r = compute_availability(cfg, {}, ts(MON), ts(MON + timedelta(days=3)), now)
    assert r.time_slots[0].start_time == now
    # start < now + 1 day: the slot starting exactly at now + 86400 is excluded
    assert r.time_slots[-1].start_time == now + 86400 - 1800
    cfg0 = config(horizon=0)
    assert day_slots(cfg0).time_slots == ()


def test_horizon_default_is_30_days() -> None:
    cfg = config([person()], horizon=None)
    r = compute_availability(cfg, {}, NOW, NOW + 40 * 86400, NOW)
    assert r.time_slots[-1].start_time == NOW + 30 * 86400 - 1800


def test_query_window_clips_slots() -> None:
    r = compute_availability(config(), {}, ts(MON, 10, 5), ts(MON, 12, 10), NOW)
    assert starts(r) == ["10:30", "11:00", "11:30"]


@pytest.mark.parametrize("window", [(100, 100), (200, 100)])
def test_empty_or_inverted_window(window) -> None:
    assert compute_availability(config(), {}, *window, now=0).time_slots == ()
    rr = compute_availability(config(method="max-fairness"), {}, *window, now=0)
    assert rr.time_slots == ()
    assert rr.order == ("a@x.com",)


# --------------------------------------------------------------------------- busy and buffers


@pytest.mark.parametrize(
    ("before", "after", "expected_gap"),
    [
        (0, 0, ["11:00", "11:30"]),
        (15, 0, ["11:00", "11:30", "12:00"]),  # 12:00 - 15min < 12:00 busy end
        (0, 15, ["10:30", "11:00", "11:30"]),  # 10:30-11:00 + 15 > 11:00 busy start
        (30, 30, ["10:30", "11:00", "11:30", "12:00"]),
        (35, 0, ["11:00", "11:30", "12:00", "12:30"]),
    ],
)
def test_buffers(before, after, expected_gap) -> None:
    busy = {"a@x.com": [(ts(MON, 11), ts(MON, 12))]}
    got = starts(day_slots(config(before=before, after=after), busy=busy))
    all_starts = starts(day_slots(config()))
    assert [s for s in all_starts if s not in got] == expected_gap


def test_busy_unsorted_overlapping_and_inverted() -> None:
    busy = {
        "a@x.com": [
            (ts(MON, 14), ts(MON, 15)),
            (ts(MON, 9, 10), ts(MON, 9, 20)),
            (ts(MON, 14, 30), ts(MON, 15, 30)),
            (ts(MON, 12), ts(MON, 11)),  # inverted: ignored
            (ts(MON, 13), ts(MON, 13)),  # empty: ignored
        ]
    }
    got = starts(day_slots(config(), busy=busy))
    assert got == [
        "09:30", "10:00", "10:30", "11:00", "11:30", "12:00", "12:30", "13:00", "13:30",
        "15:30", "16:00", "16:30",
    ]  # fmt: skip


def test_busy_of_unknown_email_is_ignored() -> None:
    assert len(day_slots(config(), busy={"other@x.com": [(0, 2**40)]}).time_slots) == 16


# --------------------------------------------------------------------------- open hours details


def test_days_and_exdates() -> None:
    p = person(open_hours=[hours(days=[1, 3], exdates=["2025-01-08"])])  # Mon, Wed; not Jan 8
    r = compute_availability(config([p]), {}, ts(MON), ts(MON + timedelta(days=14)), NOW)
    got_days = sorted({datetime.fromtimestamp(s.start_time, UTC).date() for s in r.time_slots})
    assert got_days == [date(2025, 1, 6), date(2025, 1, 13), date(2025, 1, 15)]


@pytest.mark.parametrize(
    ("day", "expected_utc_first", "expected_utc_last", "count"),
    [
        (date(2024, 3, 8), "14:00", "21:30", 16),  # Friday, EST
        (date(2024, 3, 10), "13:00", "20:30", 16),  # spring-forward Sunday, EDT
        (date(2024, 3, 11), "13:00", "20:30", 16),  # Monday, EDT
        (date(2024, 11, 3), "14:00", "21:30", 16),  # fall-back Sunday, EST
    ],
)
def test_dst_days_new_york(day, expected_utc_first, expected_utc_last, count) -> None:
    tz = "America/New_York"
    p = person(open_hours=[hours(days=list(range(7)), tz=tz)])
    r = compute_availability(config([p]), {}, ts(day, tz=tz), ts(day, 23, tz=tz), ts(day) - 86400)
    assert starts(r)[0] == expected_utc_first
    assert starts(r)[-1] == expected_utc_last
    assert len(r.time_slots) == count
    assert starts(r, tz)[0] == "09:00"
    assert starts(r, tz)[-1] == "16:30"


def test_window_across_dst_change_counts_elapsed_time() -> None:
    tz = "America/New_York"
    p = person(open_hours=[hours(days=[0], start="1:00", end="4:00", tz=tz)])
    spring = date(2024, 3, 10)
    r = compute_availability(
        config([p], duration=60), {}, ts(spring, tz=tz), ts(spring, 12), ts(spring) - 86400
    )
    assert starts(r, tz) == ["01:00", "03:00"]  # 01:00 EST .. 04:00 EDT is two hours
    fall = date(2024, 11, 3)
    r = compute_availability(
        config([p], duration=60), {}, ts(fall, tz=tz), ts(fall, 12), ts(fall) - 86400
    )
    assert [s.start_time for s in r.time_slots] == [
        ts(fall, 1, tz=tz) + k * 3600 for k in range(4)
    ]  # 01:00 EDT .. 04:00 EST is four hours


@pytest.mark.parametrize(
    ("entry_tz", "person_tz", "booking_tz", "expected_utc"),
    [
        ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "08:00"),
        ("", "America/New_York", "Asia/Tokyo", "14:00"),
        (None, "America/New_York", "Asia/Tokyo", "14:00"),
        ("", "", "Asia/Tokyo", "00:00"),
        ("", None, None, "09:00"),
    ],
)
def test_timezone_precedence(entry_tz, person_tz, booking_tz, expected_utc) -> None:
    p = person(open_hours=[hours(days=list(range(7)), tz=entry_tz)])
    if person_tz is not None:
        p["timezone"] = person_tz
    cfg = config([p], booking_tz=booking_tz)
    if entry_tz is None:
        del cfg["participants"][0]["availability"]["open_hours"][0]["timezone"]
    r = compute_availability(cfg, {}, ts(MON), ts(MON + timedelta(days=1)), NOW)
    assert starts(r)[0] == expected_utc


def test_default_open_hours_and_participant_override() -> None:
    a = person("a@x.com", [hours(start="10:00", end="11:00")])
    b = person("b@x.com")  # no availability: default open hours, never busy
    c = person("c@x.com", [], timezone="America/New_York")  # empty list -> defaults as well
    rules = {"default_open_hours": [hours(start="9:00", end="12:00")]}
    r = day_slots(config([a, b, c], rules=rules))
    assert starts(r) == ["10:00", "10:30"]
    r = day_slots(config([b], rules=rules))
    assert starts(r) == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]


def test_unbounded_participant_grid_starts_at_local_midnight() -> None:
    r = day_slots(config([person()], duration=60))
    assert len(r.time_slots) == 24
    assert starts(r)[:2] == ["00:00", "01:00"]
    tz = "Asia/Kathmandu"  # UTC+5:45
    r = compute_availability(
        config([person(timezone=tz)], duration=60), {}, ts(MON), ts(MON, 6), NOW
    )
    assert starts(r, tz) == ["06:00", "07:00", "08:00", "09:00", "10:00"]
    assert starts(r) == ["00:15", "01:15", "02:15", "03:15", "04:15"]


def test_unbounded_slots_do_not_straddle_local_midnight() -> None:
    r = compute_availability(
        config([person()], duration=50), {}, ts(MON, 22), ts(MON, 23, 59) + 3600, NOW
    )
    assert starts(r) == ["22:30", "00:00"]  # 23:20-00:10 would straddle midnight


def test_unbounded_with_busy_is_bounded_only_by_busy() -> None:
    busy = {"a@x.com": [(ts(MON, 0), ts(MON, 23))]}
    r = day_slots(config([person()]), busy=busy)
    assert starts(r) == ["23:00", "23:30"]


# --------------------------------------------------------------------------- specific dates


def test_specific_time_replaces_open_hours_on_that_date() -> None:
    p = person(open_hours=[hours()])
    p["specific_time_availability"] = [{"date": "2025-01-06", "start": "13:00", "end": "14:00"}]
    r = compute_availability(config([p]), {}, ts(MON), ts(MON + timedelta(days=2)), NOW)
    monday = [s for s in r.time_slots if s.start_time < ts(MON + timedelta(days=1))]
    assert [hm(s.start_time) for s in monday] == ["13:00", "13:30"]
    assert len(r.time_slots) - len(monday) == 16  # Tuesday unchanged


def test_specific_time_adds_a_day_outside_open_hours_and_uses_its_timezone() -> None:
    p = person(open_hours=[hours()])
    sat = "2025-01-11"
    p["specific_time_availability"] = [
        {"date": sat, "start": "10:00", "end": "11:00", "timezone": "Europe/Berlin"}
    ]
    r = day_slots(config([p]), day=date(2025, 1, 11))
    assert starts(r) == ["09:00", "09:30"]  # 10:00 Berlin = 09:00 UTC


def test_specific_time_0000_0000_blocks_the_date() -> None:
    p = person(open_hours=[hours()])
    p["specific_time_availability"] = [{"date": "2025-01-06", "start": "00:00", "end": "00:00"}]
    assert day_slots(config([p])).time_slots == ()
    unbounded = person()
    unbounded["specific_time_availability"] = p["specific_time_availability"]
    assert day_slots(config([unbounded])).time_slots == ()
    assert len(day_slots(config([unbounded]), day=MON + timedelta(days=1)).time_slots) == 48


@pytest.mark.parametrize("level", ["participant", "config"])
def test_only_specific_time_availability(level) -> None:
    p = person(open_hours=[hours()])
    p["specific_time_availability"] = [{"date": "2025-01-07", "start": "15:00", "end": "16:00"}]
    rules: dict[str, Any] = {}
    if level == "participant":
        p["only_specific_time_availability"] = True
    else:
        rules["only_specific_time_availability"] = True
    cfg = config([p], rules=rules)
    r = compute_availability(cfg, {}, ts(MON), ts(MON + timedelta(days=5)), NOW)
    assert [s.start_time for s in r.time_slots] == [
        ts(MON + timedelta(days=1), 15),
        ts(MON + timedelta(days=1), 15, 30),
    ]


def test_default_specific_time_merges_and_participant_wins() -> None:
    a = person("a@x.com", [hours(start="8:00", end="18:00")])
    a["specific_time_availability"] = [{"date": "2025-01-06", "start": "10:00", "end": "11:00"}]
    b = person("b@x.com", [hours(start="8:00", end="18:00")])
    rules = {
        "default_specific_time_availability": [
            {"date": "2025-01-06", "start": "9:00", "end": "12:00", "timezone": "UTC"},
            {"date": "2025-01-07", "start": "00:00", "end": "00:00", "timezone": "UTC"},
        ]
    }
    cfg = config([a, b], method="max-availability", rules=rules)
    r = compute_availability(cfg, {}, ts(MON), ts(MON + timedelta(days=2)), NOW)
    by_start = {hm(s.start_time): s.emails for s in r.time_slots}
    assert by_start == {
        "09:00": ("b@x.com",),
        "09:30": ("b@x.com",),
        "10:00": ("a@x.com", "b@x.com"),
        "10:30": ("a@x.com", "b@x.com"),
        "11:00": ("b@x.com",),
        "11:30": ("b@x.com",),
    }  # Tuesday blocked for both by the default entry


# --------------------------------------------------------------------------- methods and order


def two_people(method: str) -> dict[str, Any]:
    a = person("a@x.com", [hours(start="9:00", end="12:00")])
    b = person("b@x.com", [hours(start="9:00", end="12:00")])
    return config([a, b], method=method, duration=60)


TWO_BUSY = {"a@x.com": [(ts(MON, 9), ts(MON, 10))], "b@x.com": [(ts(MON, 10), ts(MON, 11))]}


def test_collective_needs_everyone() -> None:
    r = day_slots(two_people("collective"), busy=TWO_BUSY)
    assert [(hm(s.start_time), s.emails) for s in r.time_slots] == [
        ("11:00", ("a@x.com", "b@x.com"))
    ]
    assert r.order is None
    assert "order" not in r.to_json()


@pytest.mark.parametrize("method", ["max-fairness", "max-availability"])
def test_round_robin_needs_one(method) -> None:
    r = day_slots(two_people(method), busy=TWO_BUSY)
    assert [(hm(s.start_time), s.emails) for s in r.time_slots] == [
        ("09:00", ("b@x.com",)),
        ("10:00", ("a@x.com",)),
        ("11:00", ("a@x.com", "b@x.com")),
    ]
    assert r.order == ("a@x.com", "b@x.com")


def test_max_fairness_order_by_last_booked() -> None:
    ppl = [person(e, [hours()]) for e in ("a@x.com", "b@x.com", "c@x.com", "d@x.com")]
    cfg = config(ppl, method="max-fairness")
    r = day_slots(cfg, last_booked={"a@x.com": 500, "b@x.com": 100, "d@x.com": 100})
    assert r.order == ("c@x.com", "b@x.com", "d@x.com", "a@x.com")
    assert r.time_slots[0].emails == r.order
    assert r.to_json()["order"] == ["c@x.com", "b@x.com", "d@x.com", "a@x.com"]


def test_max_availability_order_by_booking_counts() -> None:
    ppl = [person(e, [hours()]) for e in ("a@x.com", "b@x.com", "c@x.com")]
    cfg = config(ppl, method="max-availability")
    r = day_slots(cfg, booking_counts={"a@x.com": 3, "c@x.com": 1}, last_booked={"b@x.com": 1})
    assert r.order == ("b@x.com", "c@x.com", "a@x.com")
    busy = {"c@x.com": [(ts(MON, 9), ts(MON, 9, 30))]}
    r = day_slots(cfg, busy=busy, booking_counts={"a@x.com": 3, "c@x.com": 1})
    assert r.time_slots[0].emails == ("b@x.com", "a@x.com")
    assert r.time_slots[1].emails == ("b@x.com", "c@x.com", "a@x.com")


def test_round_robin_participant_offers_only_own_grid() -> None:
    a = person("a@x.com", [hours(start="9:00", end="11:00")])
    b = person("b@x.com", [hours(start="9:15", end="11:00")])
    r = day_slots(config([a, b], method="max-availability", duration=60))
    assert [(hm(s.start_time), s.emails) for s in r.time_slots] == [
        ("09:00", ("a@x.com",)),
        ("09:15", ("b@x.com",)),
        ("10:00", ("a@x.com",)),
    ]


@pytest.mark.parametrize("method", ["round-robin", None, ""])
def test_unknown_method_is_collective(method) -> None:
    cfg = two_people("collective")
    cfg["availability"]["availability_rules"]["availability_method"] = method
    r = day_slots(cfg, busy=TWO_BUSY)
    assert r.order is None
    assert [hm(s.start_time) for s in r.time_slots] == ["11:00"]


def test_to_json_shape() -> None:
    r = compute_availability(two_people("max-fairness"), TWO_BUSY, ts(MON, 9), ts(MON, 10), NOW)
    assert r.to_json() == {
        "time_slots": [{"emails": ["b@x.com"], "start_time": ts(MON, 9), "end_time": ts(MON, 10)}],
        "order": ["a@x.com", "b@x.com"],
    }


# --------------------------------------------------------------------------- find_slot


def test_find_slot_agrees_with_compute() -> None:
    cfg = two_people("max-fairness")
    full = day_slots(cfg, busy=TWO_BUSY)
    for s in full.time_slots:
        assert find_slot(cfg, TWO_BUSY, s.start_time, s.end_time, NOW) == s
    col = two_people("collective")
    assert find_slot(col, TWO_BUSY, ts(MON, 11), ts(MON, 12), NOW) == Slot(
        ("a@x.com", "b@x.com"), ts(MON, 11), ts(MON, 12)
    )


@pytest.mark.parametrize(
    ("start", "end", "now"),
    [
        (ts(MON, 9), ts(MON, 10), NOW),  # a is busy (collective)
        (ts(MON, 11, 15), ts(MON, 12, 15), NOW),  # outside open hours
        (ts(MON, 10, 30), ts(MON, 11, 30), NOW),  # off the grid and busy
        (ts(MON, 11), ts(MON, 11, 30), NOW),  # wrong duration
        (ts(MON, 11), ts(MON, 12), ts(MON, 11, 1)),  # already started (notice 0)
        (ts(MON, 11), ts(MON, 12), ts(MON, 11) - 30 * 86400),  # beyond the horizon
    ],
)
def test_find_slot_rejects(start, end, now) -> None:
    assert find_slot(two_people("collective"), TWO_BUSY, start, end, now) is None


def test_find_slot_off_grid_free_time() -> None:
    cfg = config()
    assert find_slot(cfg, {}, ts(MON, 9, 15), ts(MON, 9, 45), NOW) is None
    assert find_slot(cfg, {}, ts(MON, 9, 30), ts(MON, 10), NOW) == Slot(
        ("a@x.com",), ts(MON, 9, 30), ts(MON, 10)
    )
    with_notice = config(notice=60)
    assert find_slot(with_notice, {}, ts(MON, 9, 30), ts(MON, 10), ts(MON, 8, 31)) is None
    assert find_slot(with_notice, {}, ts(MON, 9, 30), ts(MON, 10), ts(MON, 8, 30)) is not None


# --------------------------------------------------------------------------- validation


def test_validate_accepts_full_echo() -> None:
    cfg = config(rules={"default_open_hours": [hours(tz="")], "round_robin_group_id": ""})
    cfg["participants"][0].update(timezone="", is_organizer=True)
    cfg["scheduler"]["min_booking_notice"] = None
    assert validate_config(cfg) is None


def _bad(path: str, value: Any) -> dict[str, Any]:
    cfg = config([person(open_hours=[hours()])])
    target: Any = cfg
    keys = path.split(".")
    for k in keys[:-1]:
        target = target[int(k)] if isinstance(target, list) else target[k]
    last = keys[-1]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return cfg


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("availability.duration_minutes", 0, "duration_minutes: must be positive"),
        ("availability.duration_minutes", None, "duration_minutes: is required"),
        ("availability.duration_minutes", "30", "must be an integer"),
        ("availability.duration_minutes", True, "must be an integer"),
        ("availability.interval_minutes", -5, "interval_minutes: must be positive"),
        ("availability.round_to", 7, "round_to: must be a positive multiple of 5"),
        ("availability.availability_rules.buffer", {"before": 125}, "buffer.before"),
        ("availability.availability_rules.buffer", {"after": 3}, "buffer.after"),
        ("scheduler.min_booking_notice", -1, "min_booking_notice: must not be negative"),
        ("participants", [], "at least one participant"),
        ("participants.0.email", "", "email: must be a non-empty string"),
        ("participants.0.timezone", "Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
        ("event_booking.timezone", "Not/AZone", "event_booking.timezone: unknown time zone"),
        ("participants.0.availability.open_hours.0.start", "9am", "must be a 24-hour time"),
        ("participants.0.availability.open_hours.0.end", "25:00", "must be a 24-hour time"),
        ("participants.0.availability.open_hours.0.start", "24:00", "time out of range"),
        ("participants.0.availability.open_hours.0.end", "8:00", "end must be after start"),
        ("participants.0.availability.open_hours.0.days", [1, 7], "days[1]: must be an integer"),
        ("participants.0.availability.open_hours.0.timezone", "X/Y", "unknown time zone"),
        ("participants.0.availability.open_hours.0.exdates", ["2025-13-01"], "exdates[0]"),
        ("participants.0.availability.open_hours", "9-5", "open_hours: must be a list"),
        (
            "participants.0.specific_time_availability",
            [{"date": "2025/01/06", "start": "9:00", "end": "10:00"}],
            "specific_time_availability[0].date: must be a date",
        ),
        (
            "participants.0.specific_time_availability",
            [{"date": "2025-01-06", "start": "10:00", "end": "9:00"}],
            "end must be after start",
        ),
    ],
)
def test_validate_config_errors(path, value, message) -> None:
    cfg = _bad(path, value)
    with pytest.raises(ConfigError, match=".*".join(map(_esc, message.split(".*")))):
        validate_config(cfg)
    with pytest.raises(ConfigError):
        compute_availability(cfg, {}, ts(MON), ts(MON, 23), NOW)


def _esc(s: str) -> str:
    import re

    return re.escape(s)


def test_validate_duplicate_participants_and_missing_availability() -> None:
    cfg = config([person("a@x.com"), person("a@x.com")])
    with pytest.raises(ConfigError, match=r"participants\[1\].email: duplicate"):
        validate_config(cfg)
    cfg = config()
    del cfg["availability"]
    with pytest.raises(ConfigError, match="availability: must be an object"):
        validate_config(cfg)
    assert issubclass(ConfigError, ValueError)


# --------------------------------------------------------------------------- properties

ZONES = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Asia/Kathmandu"]
BASE = ts(date(2024, 3, 4))  # a Monday; the windows below cross both 2024 spring DST changes
EMAILS = ["p0@x.com", "p1@x.com", "p2@x.com"]


@st.composite
def open_hours_entry(draw: st.DrawFn) -> dict[str, Any]:
    start = draw(st.integers(4 * 12, 16 * 12)) * 5
    end = draw(st.integers(start // 5 + 1, 288)) * 5
    return {
        "days": draw(st.lists(st.integers(0, 6), min_size=3, max_size=7, unique=True)),
        "start": f"{start // 60}:{start % 60:02d}",
        "end": "24:00" if end == 1440 else f"{end // 60:02d}:{end % 60:02d}",
        "timezone": draw(st.sampled_from([*ZONES, ""])),
        "exdates": draw(st.sampled_from([None, [], ["2024-03-05"], ["2024-03-10", "2024-03-11"]])),
    }


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(1, 3))
    start = BASE + draw(st.integers(0, 14 * 96)) * 900 + draw(st.integers(0, 899))
    end = start + draw(st.sampled_from([3, 12, 24, 48, 96])) * 3600 + draw(st.integers(0, 3599))
    now = start - draw(st.sampled_from([-1, 0, 1, 6, 20])) * 3600 + draw(st.integers(0, 3599))
    participants = []
    busy: dict[str, list[tuple[int, int]]] = {}
    for email in EMAILS[:n]:
        p: dict[str, Any] = {"email": email, "timezone": draw(st.sampled_from(ZONES))}
        if draw(st.booleans()):
            p["availability"] = {
                "calendar_ids": ["primary"],
                "open_hours": draw(st.lists(open_hours_entry(), max_size=2)),
            }
        participants.append(p)
        busy[email] = [
            (s, s + d * 300)
            for s, d in draw(
                st.lists(
                    st.tuples(st.integers(start - 7200, end), st.integers(1, 36)),
                    max_size=25,
                )
            )
        ]
    duration = draw(st.sampled_from([15, 30, 45, 60, 50]))
    cfg = {
        "participants": participants,
        "availability": {
            "duration_minutes": duration,
            "interval_minutes": draw(st.sampled_from([None, 10, 15, 30, duration])),
            "round_to": draw(st.sampled_from([5, 15, 30, 60])),
            "availability_rules": {
                "availability_method": draw(
                    st.sampled_from(["collective", "max-fairness", "max-availability"])
                ),
                "buffer": {
                    "before": draw(st.sampled_from([0, 5, 15])),
                    "after": draw(st.sampled_from([0, 10, 30])),
                },
                "default_open_hours": draw(st.lists(open_hours_entry(), max_size=1)),
            },
        },
        "event_booking": {"title": "t", "timezone": draw(st.sampled_from(ZONES))},
        "scheduler": {
            "min_booking_notice": draw(st.sampled_from([None, 0, 60, 180])),
            "available_days_in_future": draw(st.sampled_from([2, 30])),
        },
    }
    return {"config": cfg, "busy": busy, "start": start, "end": end, "now": now}


def _tz(name: str | None, *fallbacks: str | None) -> ZoneInfo:
    for n in (name, *fallbacks):
        if n:
            return ZoneInfo(n)
    return UTC


def _within_open_hours(cfg: dict[str, Any], p: dict[str, Any], s: int, e: int) -> bool:
    """Independent oracle: does [s, e) lie inside one open-hours window of ``p``?"""
    rules = cfg["availability"]["availability_rules"]
    entries = (p.get("availability") or {}).get("open_hours") or rules.get("default_open_hours")
    booking_tz = cfg["event_booking"].get("timezone")
    if not entries:
        tz = _tz(p.get("timezone"), booking_tz)
        return datetime.fromtimestamp(s, tz).date() == datetime.fromtimestamp(e - 1, tz).date()
    for h in entries:
        tz = _tz(h.get("timezone"), p.get("timezone"), booking_tz)
        local = datetime.fromtimestamp(s, tz).date()
        if (local.isoweekday() % 7) not in h["days"] or local.isoformat() in (h["exdates"] or []):
            continue
        sh, sm = map(int, h["start"].split(":"))
        eh, em = map(int, h["end"].split(":"))
        lo = datetime(local.year, local.month, local.day, sh, sm, tzinfo=tz).timestamp()
        end_day = local + timedelta(days=1) if eh == 24 else local
        hi = datetime(end_day.year, end_day.month, end_day.day, eh % 24, em, tzinfo=tz).timestamp()
        if lo <= s and e <= hi:
            return True
    return False


def _conflicts(cfg: dict[str, Any], intervals: list[tuple[int, int]], s: int, e: int) -> bool:
    buf = cfg["availability"]["availability_rules"]["buffer"]
    b, a = buf["before"] * 60, buf["after"] * 60
    return any(s - b < be and e + a > bs for bs, be in intervals if be > bs)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_properties(sc: dict[str, Any]) -> None:
    cfg, busy, start, end, now = sc["config"], sc["busy"], sc["start"], sc["end"], sc["now"]
    r = compute_availability(cfg, busy, start, end, now)
    avail = cfg["availability"]
    dur = avail["duration_minutes"] * 60
    sched = cfg["scheduler"]
    notice = (60 if sched["min_booking_notice"] is None else sched["min_booking_notice"]) * 60
    horizon = sched["available_days_in_future"] * 86400
    method = avail["availability_rules"]["availability_method"]
    everyone = tuple(p["email"] for p in cfg["participants"])
    by_email = {p["email"]: p for p in cfg["participants"]}

    assert [s.start_time for s in r.time_slots] == sorted({s.start_time for s in r.time_slots})
    if method == "collective":
        assert r.order is None
    else:
        assert r.order is not None
        assert sorted(r.order) == sorted(everyone)
    for slot in r.time_slots:
        s, e = slot.start_time, slot.end_time
        assert e - s == dur
        assert start <= s and e <= end
        assert s >= now + notice
        assert s < now + horizon
        if method == "collective":
            assert slot.emails == everyone
        else:
            assert slot.emails
            assert r.order is not None
            assert list(slot.emails) == [x for x in r.order if x in slot.emails]
        for email in slot.emails:
            assert not _conflicts(cfg, busy[email], s, e)
            assert _within_open_hours(cfg, by_email[email], s, e)
        assert find_slot(cfg, busy, s, e, now) == slot

    # Busy time only removes: the busy result is the free result filtered by conflicts.
    free = compute_availability(cfg, {}, start, end, now)
    expected = []
    for slot in free.time_slots:
        ok = tuple(
            x for x in slot.emails if not _conflicts(cfg, busy[x], slot.start_time, slot.end_time)
        )
        if ok and (method != "collective" or ok == slot.emails):
            expected.append(Slot(ok, slot.start_time, slot.end_time))
    assert list(r.time_slots) == expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.integers(1, 10**6))
def test_chunked_queries_agree(sc: dict[str, Any], cut: int) -> None:
    cfg, busy, start, end, now = sc["config"], sc["busy"], sc["start"], sc["end"], sc["now"]
    mid = start + cut % (end - start)
    whole = compute_availability(cfg, busy, start, end, now).time_slots
    left = compute_availability(cfg, busy, start, mid, now).time_slots
    right = compute_availability(cfg, busy, mid, end, now).time_slots
    assert [s for s in whole if s.end_time <= mid or s.start_time >= mid] == [*left, *right]


def test_inputs_not_mutated() -> None:
    cfg = two_people("max-fairness")
    busy = {k: list(v) for k, v in TWO_BUSY.items()}
    cfg_copy, busy_copy = copy.deepcopy(cfg), copy.deepcopy(busy)
    day_slots(cfg, busy=busy, last_booked={"a@x.com": 1})
    assert cfg == cfg_copy and busy == busy_copy


@pytest.mark.parametrize("method", ["collective", "max-fairness"])
@pytest.mark.parametrize("seed", range(6))
def test_dense_calendars_match_brute_force(method: str, seed: int) -> None:
    """Hundreds of stacked, touching, empty and inverted intervals per person over two weeks:
    the result equals the busy-free result filtered by the brute-force conflict oracle, and the
    order of the busy intervals does not matter."""
    import random

    rng = random.Random(seed)
    zones = ["Europe/Berlin", "America/New_York", "UTC"]
    people = [
        person(
            EMAILS[i],
            [
                hours(start="8:00", end="18:00", tz=zones[i]),
                hours(days=[6], start="10:00", end="13:30", tz=zones[i]),
            ],
        )
        for i in range(rng.randint(1, 3))
    ]
    cfg = config(
        people,
        method=method,
        duration=rng.choice([15, 30, 45]),
        interval=rng.choice([None, 10, 15]),
        round_to=rng.choice([5, 15]),
        before=rng.choice([0, 5, 15]),
        after=rng.choice([0, 10]),
    )
    start, end, now = BASE, BASE + 14 * 86_400, BASE - 86_400
    busy: dict[str, list[tuple[int, int]]] = {}
    for p in people:
        events: list[tuple[int, int]] = []
        for _ in range(rng.randint(50, 400)):
            s = start - 7200 + rng.randrange(0, 15 * 86_400 // 60) * 60
            events.append((s, s + rng.choice([0, -300, 300, 900, 1800, 3600, 7200])))
        hot = start + 3 * 86_400 + 10 * 3600  # stacked, touching and overlapping invites
        events += [(hot + k * 900, hot + k * 900 + 900 * (1 + k % 3)) for k in range(12)]
        events += [(hot, hot + 1800)] * 5
        busy[p["email"]] = events
    r = compute_availability(cfg, busy, start, end, now)
    srt = compute_availability(cfg, {k: sorted(v) for k, v in busy.items()}, start, end, now)
    assert r == srt
    free = compute_availability(cfg, {}, start, end, now)
    expected = []
    for slot in free.time_slots:
        ok = tuple(
            x for x in slot.emails if not _conflicts(cfg, busy[x], slot.start_time, slot.end_time)
        )
        if ok and (method != "collective" or ok == slot.emails):
            expected.append(Slot(ok, slot.start_time, slot.end_time))
    assert list(r.time_slots) == expected
    assert len(free.time_slots) > len(expected) > 0


@pytest.mark.parametrize("method", ["collective", "max-availability"])
@pytest.mark.parametrize("seed", range(4))
def test_far_partly_sorted_busy_and_overlapping_windows_match_brute_force(
    method: str, seed: int
) -> None:
    """Busy lists that defeat the engine's shortcuts still give exact results: intervals decades
    away from the query (timestamps far from it, also negative ones), lists whose head is sorted
    but whose tail is not, inverted and empty intervals, and overlapping open-hours entries that
    offer the same start twice; ``find_slot`` agrees slot by slot."""
    import random

    rng = random.Random(seed)
    people = [
        person(
            EMAILS[i],
            [
                hours(start="8:00", end="18:00", tz=tz),
                hours(start="9:10", end="12:00", tz=tz),  # overlaps, with a shifted grid
                hours(days=[1, 3], start="8:00", end="18:00", tz=tz),  # duplicates the first
            ],
        )
        for i, tz in enumerate(["Europe/Berlin", "America/New_York", "Asia/Kathmandu"])
    ]
    cfg = config(people, method=method, duration=30, interval=15, before=5, after=10)
    start, end, now = BASE, BASE + 7 * 86_400, BASE - 86_400
    far = [(-(2**40), -(2**40) + 3600), (-86_400, 3600), (2**40, 2**40 + 60), (0, 2**41)]
    busy: dict[str, list[tuple[int, int]]] = {}
    for i, p in enumerate(people):
        events = [(start + k * 3600, start + k * 3600 + 1800) for k in range(0, 40, 3)]  # sorted
        for _ in range(rng.randint(100, 300)):
            s = start - 7200 + rng.randrange(0, 8 * 86_400 // 300) * 300
            events.append((s, s + rng.choice([0, -600, 300, 900, 2700, 5400])))
        tail = events[16:] + (far[:3] if i else [])  # the third list is unbounded to the right
        rng.shuffle(tail)
        busy[p["email"]] = events[:16] + tail
    busy[EMAILS[2]].append(far[3])  # busy from 1970 on: p2 is never free
    r = compute_availability(cfg, busy, start, end, now, booking_counts={EMAILS[0]: 1})
    srt = compute_availability(
        cfg, {k: sorted(v) for k, v in busy.items()}, start, end, now, booking_counts={EMAILS[0]: 1}
    )
    assert r == srt
    free = compute_availability(cfg, {}, start, end, now, booking_counts={EMAILS[0]: 1})
    expected = []
    for slot in free.time_slots:
        ok = tuple(
            x for x in slot.emails if not _conflicts(cfg, busy[x], slot.start_time, slot.end_time)
        )
        if ok and (method == "max-availability" or ok == slot.emails):
            expected.append(Slot(ok, slot.start_time, slot.end_time))
    assert list(r.time_slots) == expected
    if method == "max-availability":
        assert len(free.time_slots) > len(expected) > 0
        assert all(EMAILS[2] not in s.emails for s in expected)
    for slot in free.time_slots[::7]:
        found = find_slot(
            cfg, busy, slot.start_time, slot.end_time, now, booking_counts={EMAILS[0]: 1}
        )
        assert found == next((s for s in expected if s.start_time == slot.start_time), None)


def test_result_slots_are_ordinary_frozen_slots() -> None:
    """The engine builds ``Slot`` objects without calling ``Slot.__init__``; they must be
    indistinguishable from constructed ones (fields in order, equality, hash, repr, frozen)."""
    import attrs

    cfg = two_people("max-fairness")
    for r in (day_slots(cfg, busy=TWO_BUSY), day_slots(two_people("collective"))):
        assert r.time_slots
        for slot in r.time_slots:
            built = Slot(slot.emails, slot.start_time, slot.end_time)
            assert type(slot) is Slot
            assert slot == built and hash(slot) == hash(built) and repr(slot) == repr(built)
            assert isinstance(slot.emails, tuple) and slot.end_time > slot.start_time
            with pytest.raises(attrs.exceptions.FrozenInstanceError):
                slot.start_time = 0  # type: ignore[misc]
