"""Benchmark of the emulator's availability engine (``compute_availability``).

Workload (deterministic, seeded): a 30-day query window from Monday 2025-03-17 (it contains the
EU daylight-saving change of 2025-03-30), 5 participants in 5 IANA zones (London, Berlin, Madrid,
Dublin, UTC) with open hours Monday-Friday 09:00-17:00 local, 30-minute slots every 15 minutes,
buffers 5/5 minutes. Each participant has exactly 1,000 busy events, unsorted:

* 60 team meetings shared by all five (weekdays, 10:00-16:00 London, 15-50 min);
* 340 own work meetings on weekdays, stacked into two personal "meeting blocks" per day
  (double-booked invites overlap, as on real busy calendars; 15-50 min);
* 600 events around the working day: weekday early mornings (07:00-09:00) and evenings
  (17:00-21:00) and weekend daytime (15-90 min).

1,000 events a month is a very busy calendar: five such people have few common free slots, and
the workload is built so that some remain (the collective run reports ~20 slots and round robin
~450), so neither method can finish early on an empty candidate list. The earlier workload
(1,000 uniform 30-90 minute events = 33 h of meetings a day) left 0 collective slots, so the
collective run stopped after the first participant.

Run standalone: ``python benchmarks/bench_engine.py [iterations]``; or import and call ``run()``.

``python benchmarks/bench_engine.py --http [requests]`` measures the same round-robin workload end
to end (:func:`http_round_robin`): written into the emulator's store as calendar events, the
emulator in its own process, sequential availability requests over HTTP.

``python benchmarks/bench_engine.py --responsiveness`` measures the emulator under a maximal
availability query (:func:`responsiveness`): a 62-day window (the limit) of a 5-person
round-robin configuration open around the clock, never busy, with 5-minute slots (the finest grid
the slot-start limit allows over 62 days: 17,856 slots), while a second client polls
``GET /_emulator/health``; it reports the health latencies with the long window computed on a
worker thread (the emulator's behaviour) and, for comparison, on the event loop.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from scheduler_async.emulator.engine import compute_availability, find_slot

START = 1_742_169_600  # Monday 2025-03-17T00:00:00Z
DAYS = 30
EVENTS = 1000
ZONES = ("Europe/London", "Europe/Berlin", "Europe/Madrid", "Europe/Dublin", "UTC")
TEAM_MEETINGS = 60
WORK_MEETINGS = 340
BLOCKS_PER_DAY = 2

Workload = tuple[dict[str, Any], dict[str, list[tuple[int, int]]], int, int, int]


def _at(tz: ZoneInfo, day: date, minutes: int) -> int:
    return int(
        datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=tz).timestamp()
    )


def build_workload(
    seed: int = 20250317,
    method: str = "collective",
    *,
    participants: int = 5,
    events: int = EVENTS,
    days: int = DAYS,
) -> Workload:
    """(config, busy, start_time, end_time, now) of the benchmark workload.

    ``participants``, ``events`` and ``days`` shrink it for smoke tests.
    """
    rng = random.Random(seed)
    first = date(2025, 3, 17)
    all_days = [first + timedelta(days=i) for i in range(days)]
    weekdays = [d for d in all_days if d.weekday() < 5]
    team_tz = ZoneInfo(ZONES[0])
    n_team = min(TEAM_MEETINGS, events // 10)
    n_work = min(WORK_MEETINGS, events * 34 // 100)
    team: list[tuple[int, int]] = []
    for _ in range(n_team):
        s = _at(team_tz, rng.choice(weekdays), rng.randrange(10 * 4, 16 * 4) * 15)
        team.append((s, s + rng.choice((15, 25, 30, 50)) * 60))

    people: list[dict[str, Any]] = []
    busy: dict[str, list[tuple[int, int]]] = {}
    for i in range(participants):
        zone = ZONES[i % len(ZONES)]
        tz = ZoneInfo(zone)
        email = f"p{i}@example.com"
        people.append(
            {
                "email": email,
                "is_organizer": i == 0,
                "timezone": zone,
                "availability": {
                    "calendar_ids": ["primary"],
                    "open_hours": [
                        {
                            "days": [1, 2, 3, 4, 5],
                            "start": "9:00",
                            "end": "17:00",
                            "timezone": zone,
                            "exdates": None,
                        }
                    ],
                },
            }
        )
        ev = list(team)
        blocks = {
            d: [rng.randrange(9 * 4, 17 * 4) * 15 for _ in range(BLOCKS_PER_DAY)] for d in weekdays
        }
        for _ in range(n_work):
            d = rng.choice(weekdays)
            s = _at(tz, d, rng.choice(blocks[d]) + rng.choice((0, 0, 0, 15)))
            ev.append((s, s + rng.choice((15, 25, 30, 45, 50)) * 60))
        while len(ev) < events:
            d = rng.choice(all_days)
            if d.weekday() < 5:
                early = rng.randrange(7 * 12, 9 * 12)
                late = rng.randrange(17 * 12, 21 * 12)
                minutes = rng.choice((early, late)) * 5
            else:
                minutes = rng.randrange(8 * 12, 20 * 12) * 5
            s = _at(tz, d, minutes)
            ev.append((s, s + rng.choice((15, 30, 45, 60, 90)) * 60))
        rng.shuffle(ev)
        busy[email] = ev
    config = {
        "participants": people,
        "availability": {
            "duration_minutes": 30,
            "interval_minutes": 15,
            "round_to": 15,
            "availability_rules": {
                "availability_method": method,
                "buffer": {"before": 5, "after": 5},
            },
        },
        "event_booking": {"title": "Bench", "timezone": "UTC"},
        "scheduler": {"available_days_in_future": days + 1, "min_booking_notice": 60},
    }
    return config, busy, START, START + days * 86_400, START - 86_400


def _time(workload: Workload, iterations: int) -> tuple[list[float], int]:
    config, busy, start, end, now = workload
    result = compute_availability(config, busy, start, end, now)  # warm-up (zoneinfo caches)
    samples: list[float] = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        compute_availability(config, busy, start, end, now)
        samples.append((time.perf_counter() - t0) * 1000.0)
    samples.sort()
    return samples, len(result.time_slots)


def _find_slot_ms(workload: Workload, iterations: int) -> float:
    config, busy, start, _end, now = workload
    slot_start = start + 4 * 86_400 + 14 * 3600  # a Friday afternoon, any outcome
    samples = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        find_slot(config, busy, slot_start, slot_start + 1800, now)
        samples.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(samples)


def _p95(samples: list[float]) -> float:
    return samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def _presorted(workload: Workload) -> Workload:
    config, busy, start, end, now = workload
    return config, {k: sorted(v) for k, v in busy.items()}, start, end, now


def run(iterations: int = 200, **size: int) -> dict[str, float]:
    """Time the workload (ms): collective and round-robin (max-availability) median/p95 and
    slot counts, the same with busy intervals pre-sorted (as the emulator's store passes them),
    and the ``find_slot`` median. ``size`` is passed to :func:`build_workload`."""
    col_work = build_workload(method="collective", **size)
    rr_work = build_workload(method="max-availability", **size)
    col, col_slots = _time(col_work, iterations)
    rr, rr_slots = _time(rr_work, iterations)
    col_sorted, _ = _time(_presorted(col_work), max(1, iterations // 2))
    rr_sorted, _ = _time(_presorted(rr_work), max(1, iterations // 2))
    return {
        "median_ms": statistics.median(col),
        "p95_ms": _p95(col),
        "min_ms": col[0],
        "slots": float(col_slots),
        "rr_median_ms": statistics.median(rr),
        "rr_p95_ms": _p95(rr),
        "rr_slots": float(rr_slots),
        "sorted_median_ms": statistics.median(col_sorted),
        "rr_sorted_median_ms": statistics.median(rr_sorted),
        "find_slot_median_ms": _find_slot_ms(rr_work, max(1, iterations // 4)),
        "iterations": float(iterations),
    }


_HTTP_SERVER = """
import sys
sys.path.insert(0, sys.argv[1])
from benchmarks.bench_engine import build_workload
from scheduler_async.emulator import Emulator, FakeClock
config, busy, start, end, now = build_workload(method="max-availability", **eval(sys.argv[2]))
with Emulator(clock=FakeClock(now)) as emu:
    store = emu.store
    for i, person in enumerate(config["participants"]):
        grant = f"grant-p{i}"
        store.add_grant(grant, email=person["email"])
        for s, e in busy[person["email"]]:  # written in the workload's (shuffled) order
            store.add_event(grant, "primary", s, e)
    stored = store.create_configuration("grant-p0", config)
    print(emu.url, stored.configuration_id, start, end, flush=True)
    sys.stdin.read()
"""


def http_round_robin(requests_n: int = 100, **size: int) -> dict[str, float]:
    """The emulator's availability request end to end over HTTP (ms of wall time per request):
    the round-robin workload written into the emulator's store as calendar events, the
    emulator in its own process, ``requests_n`` sequential GETs from a ``requests.Session``."""
    import subprocess
    from pathlib import Path

    import requests

    root = str(Path(__file__).resolve().parents[1])
    server = subprocess.Popen(
        [sys.executable, "-c", _HTTP_SERVER, root, repr(size)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        base, config_id, start, end = server.stdout.readline().split()
        params = {"configuration_id": config_id, "start_time": start, "end_time": end}
        url = f"{base}/v3/scheduling/availability"
        samples: list[float] = []
        with requests.Session() as s:
            first = s.get(url, params=params)
            first.raise_for_status()
            slots = len(first.json()["data"]["time_slots"])
            for _ in range(3):
                s.get(url, params=params).raise_for_status()
            for _ in range(requests_n):
                t0 = time.perf_counter()
                s.get(url, params=params).raise_for_status()
                samples.append((time.perf_counter() - t0) * 1000.0)
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=30)
        if server.stdout is not None:
            server.stdout.close()
    samples.sort()
    return {
        "http_median_ms": statistics.median(samples),
        "http_p95_ms": _p95(samples),
        "http_min_ms": samples[0],
        "http_slots": float(slots),
        "http_requests": float(requests_n),
    }


def _maximal_config() -> dict[str, Any]:
    people = [{"email": f"p{i}@example.com"} for i in range(5)]
    return {
        "participants": people,
        "availability": {
            "duration_minutes": 5,
            "interval_minutes": 5,
            "round_to": 5,
            "availability_rules": {"availability_method": "max-availability"},
        },
        "event_booking": {"title": "Maximal"},
        "scheduler": {"available_days_in_future": 730, "min_booking_notice": 0},
    }


_SERVER = """
import sys
from scheduler_async.emulator import Emulator, FakeClock, api_routes
if sys.argv[2] == "loop":
    api_routes.INLINE_WINDOW_SECONDS = 10**12
with Emulator(clock=FakeClock(int(sys.argv[1]))) as emu:
    print(emu.url, flush=True)
    sys.stdin.read()
"""


def responsiveness(polls: int = 200) -> dict[str, float]:
    """Health-check latency (ms) while maximal availability queries run, off and on the loop.

    The emulator runs in its own process (as ``python -m scheduler_async emulator`` does), once
    per mode: long windows on a worker thread (its behaviour) and, for comparison, on the event
    loop.  One client thread repeats the maximal query while the main thread sends ``polls``
    health checks one after another; returns the median, p95 and maximum health latency, the
    maximal query's duration and its body size.
    """
    import subprocess
    import threading

    import requests

    from scheduler_async.emulator.validation import MAX_AVAILABILITY_WINDOW_DAYS

    out: dict[str, float] = {}
    for mode in ("thread", "loop"):
        server = subprocess.Popen(
            [sys.executable, "-c", _SERVER, str(START), mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            base = server.stdout.readline().strip()
            r = requests.post(
                f"{base}/v3/grants/grant-0/scheduling/configurations",
                json=_maximal_config(),
                headers={"Authorization": "Bearer bench"},
            )
            params = {
                "configuration_id": r.json()["data"]["id"],
                "start_time": START,
                "end_time": START + MAX_AVAILABILITY_WINDOW_DAYS * 86_400,
            }
            url = f"{base}/v3/scheduling/availability"
            durations: list[float] = []
            sizes: list[int] = []
            stop = threading.Event()

            def hammer(
                durations: list[float] = durations,
                sizes: list[int] = sizes,
                stop: threading.Event = stop,
                url: str = url,
                params: dict[str, Any] = params,
            ) -> None:
                with requests.Session() as s:
                    while not stop.is_set():
                        t0 = time.perf_counter()
                        body = s.get(url, params=params).content
                        durations.append((time.perf_counter() - t0) * 1000.0)
                        sizes.append(len(body))

            worker = threading.Thread(target=hammer)
            worker.start()
            while not durations:  # one full query first: caches warm, the next one is running
                time.sleep(0.01)
            lat: list[float] = []
            with requests.Session() as s:
                for _ in range(polls):
                    t0 = time.perf_counter()
                    s.get(f"{base}/_emulator/health").raise_for_status()
                    lat.append((time.perf_counter() - t0) * 1000.0)
            stop.set()
            worker.join()
        finally:
            assert server.stdin is not None
            server.stdin.close()
            server.wait(timeout=30)
        lat.sort()
        out[f"{mode}_health_median_ms"] = statistics.median(lat)
        out[f"{mode}_health_p95_ms"] = _p95(lat)
        out[f"{mode}_health_max_ms"] = lat[-1]
        out[f"{mode}_query_ms"] = statistics.median(durations)
        out["query_bytes"] = float(sizes[0])
    return out


def main(argv: list[str]) -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(
        prog="bench_engine.py", description="The emulator engine's speed and responsiveness."
    )
    parser.add_argument("iterations", nargs="?", type=int, default=200, help="timed runs (200)")
    parser.add_argument(
        "--responsiveness",
        action="store_true",
        help="instead: health-check latency while a maximal availability query runs",
    )
    parser.add_argument(
        "--http",
        action="store_true",
        help="instead: the emulator's round-robin availability request end to end over HTTP",
    )
    args = parser.parse_args(argv[1:])
    if args.responsiveness:
        r = responsiveness()
        print(
            f"maximal availability query ({r['query_bytes'] / 1e6:.1f} MB): "
            f"{r['thread_query_ms']:.0f} ms; health check meanwhile, long windows on a worker "
            f"thread: median {r['thread_health_median_ms']:.1f} ms, p95 "
            f"{r['thread_health_p95_ms']:.1f} ms, max {r['thread_health_max_ms']:.1f} ms; on the "
            f"event loop: median {r['loop_health_median_ms']:.1f} ms, p95 "
            f"{r['loop_health_p95_ms']:.1f} ms, max {r['loop_health_max_ms']:.1f} ms"
        )
        return
    iterations = args.iterations
    if args.http:
        h = http_round_robin(iterations)
        print(
            f"emulator availability request over HTTP, round robin, 30d x 5 x {EVENTS} busy: "
            f"median {h['http_median_ms']:.2f} ms, p95 {h['http_p95_ms']:.2f} ms, min "
            f"{h['http_min_ms']:.2f} ms ({int(h['http_slots'])} slots); {iterations} requests"
        )
        return
    r = run(iterations)
    print(
        f"compute_availability 30d x 5 participants x {EVENTS} busy, collective: "
        f"median {r['median_ms']:.2f} ms, p95 {r['p95_ms']:.2f} ms ({int(r['slots'])} slots); "
        f"max-availability: median {r['rr_median_ms']:.2f} ms, p95 {r['rr_p95_ms']:.2f} ms "
        f"({int(r['rr_slots'])} slots); busy pre-sorted: {r['sorted_median_ms']:.2f} / "
        f"{r['rr_sorted_median_ms']:.2f} ms; find_slot: median {r['find_slot_median_ms']:.3f} ms; "
        f"{iterations} iterations"
    )


if __name__ == "__main__":
    main(sys.argv)
