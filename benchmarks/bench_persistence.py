"""Emulator persistence: restore time of a large snapshot and API write throughput with a
SQLite state file (``--state``) vs in memory.

    .venv/bin/python benchmarks/bench_persistence.py [--quick]

1. ``emu.restore(snapshot)`` of 1,000 configurations and 10,000 bookings (10,000 calendar
   events with them): the first restore (parses the JSON and builds the records) and the
   next ones, each after a test's worth of writes (the records are reused and what changed
   is put back, as for the ``scheduler_emulator_world`` fixture).
2. Bookings per second through ``POST /v3/scheduling/bookings`` (aiohttp, 16 in flight),
   the emulator in memory vs with ``state_path`` (one SQLite transaction per write), and
   the ratio; on an empty store and on one holding the world above (the write-through's
   per-write cost at that size).  The emulator runs on a thread of this process (as under
   the pytest fixtures: client and server share the GIL), then as the CLI in its own
   process (``--state`` vs none: as a long-lived server runs).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scheduler_async.emulator import Emulator, FakeClock

T0 = 1_767_571_200  # Monday 2026-01-05 00:00 UTC
DAY = 86_400


def _config(i: int) -> dict[str, Any]:
    return {
        "participants": [
            {
                "name": f"Host {i}",
                "email": f"h{i}@example.com",
                "is_organizer": True,
                "availability": {"calendar_ids": ["primary"]},
                "booking": {"calendar_id": "primary"},
            }
        ],
        "availability": {"duration_minutes": 30},
        "event_booking": {"title": "Intro"},
    }


def build_world(emu: Emulator, configurations: int, bookings: int) -> list[str]:
    """``configurations`` hosts with one configuration each and ``bookings`` spread over them
    (through the store: quick); the configuration ids."""
    store = emu.store
    ids = []
    for i in range(configurations):
        store.add_grant(f"g{i}", email=f"h{i}@example.com")
        ids.append(store.create_configuration(f"g{i}", _config(i)).configuration_id)
    guest = {"name": "G", "email": "g@example.com"}
    for k in range(bookings):
        start = T0 + DAY + (k // configurations) * 1800
        store.create_booking(ids[k % configurations], start, start + 1800, guest)
    return ids


def a_tests_writes(emu: Emulator, ids: list[str], round_: int) -> None:
    """What a test might do between two restores: 20 new bookings, 5 reschedules, 5 deletes
    (and the calendar events with them)."""
    store, guest = emu.store, {"name": "T", "email": "t@example.com"}
    start = T0 + 20 * DAY + round_ % 8 * 3 * 3600
    for k in range(20):
        at = start + k // len(ids) * 1800
        store.create_booking(ids[k % len(ids)], at, at + 1800, guest)
    first = list(store.bookings)[:10]
    for j, booking_id in enumerate(first[:5]):
        at = start + DAY + j * 1800
        assert store.reschedule_booking(booking_id, None, at, at + 1800).start_time == at
    for booking_id in first[5:]:
        store.delete_booking(booking_id)


def restore_times(configurations: int, bookings: int, reps: int) -> dict[str, float]:
    """Milliseconds of the first restore and of the next ``reps``, each after a test's worth
    of writes (:func:`a_tests_writes`): wall median, and CPU min/median/max/mean (the
    process's, so the server thread's work and the garbage collector's count)."""
    with Emulator(clock=FakeClock(T0)) as emu:
        ids = build_world(emu, configurations, bookings)
        snap = emu.snapshot()
        first = time.perf_counter()
        emu.restore(snap)
        first = time.perf_counter() - first
        samples, cpu = [], []
        for k in range(reps):
            a_tests_writes(emu, ids, k)
            t, c = time.perf_counter(), time.process_time()
            emu.restore(snap)
            samples.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        assert len(emu.store.bookings) == bookings  # the writes are gone
    return {
        "snapshot_mb": len(snap) / 1e6,
        "first_ms": first * 1e3,
        "median_ms": statistics.median(samples) * 1e3,
        "cpu_min_ms": min(cpu) * 1e3,
        "cpu_median_ms": statistics.median(cpu) * 1e3,
        "cpu_max_ms": max(cpu) * 1e3,
        "cpu_mean_ms": statistics.mean(cpu) * 1e3,
    }


async def _book(url: str, config_ids: list[str], n: int, concurrency: int, t0: int = T0) -> float:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for k in range(n):
        queue.put_nowait(k)
    guest = {"name": "G", "email": "g@example.com"}

    async def worker(http: aiohttp.ClientSession) -> None:
        while not queue.empty():
            k = queue.get_nowait()
            start = t0 + 20 * DAY + (k // len(config_ids)) * 1800
            body = {"start_time": start, "end_time": start + 1800, "guest": guest}
            params = {"configuration_id": config_ids[k % len(config_ids)]}
            async with http.post(f"{url}/v3/scheduling/bookings", params=params, json=body) as r:
                if r.status != 200:
                    raise RuntimeError(await r.text())
                await r.read()

    async with aiohttp.ClientSession() as http:
        t = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        return time.perf_counter() - t


def write_throughput(
    n: int, world: tuple[int, int], concurrency: int = 16, reps: int = 3
) -> dict[str, float]:
    """Bookings per second in memory and with a state file (best of ``reps``, the two
    interleaved so that a busy moment of the machine hits both alike), and the ratio."""
    best = {"memory": float("inf"), "state": float("inf")}
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(reps):
            for label in best:
                path = Path(tmp) / f"state-{rep}.db" if label == "state" else None
                with Emulator(clock=FakeClock(T0), state_path=path) as emu:
                    ids = build_world(emu, *world)
                    if emu.state_file is not None:
                        emu.state_file.flush(verify=True)
                    took = asyncio.run(_book(emu.url, ids, n, concurrency))
                    best[label] = min(best[label], took)
    out = {f"{label}_per_s": n / took for label, took in best.items()}
    out["ratio"] = out["state_per_s"] / out["memory_per_s"]
    return out


def write_throughput_cli(n: int, configs: int = 20, concurrency: int = 16) -> dict[str, float]:
    """As :func:`write_throughput`, against ``python -m scheduler_async emulator`` in its own
    process (as a long-lived server runs), without and with ``--state``."""
    out: dict[str, float] = {}
    t0 = (int(time.time()) // DAY + 1) * DAY
    with tempfile.TemporaryDirectory() as tmp:
        for label, extra in (("memory", []), ("state", ["--state", f"{tmp}/state.db"])):
            cmd = [sys.executable, "-m", "scheduler_async", "emulator", "--port", "0", *extra]
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
            try:
                assert proc.stdout is not None
                url = proc.stdout.readline().split("listening on ")[1].split()[0]
                ids = asyncio.run(_configs(url, configs))
                out[f"{label}_per_s"] = n / asyncio.run(_book(url, ids, n, concurrency, t0))
            finally:
                proc.send_signal(signal.SIGINT)
                proc.wait(30)
                if proc.stdout is not None:
                    proc.stdout.close()
    out["ratio"] = out["state_per_s"] / out["memory_per_s"]
    return out


async def _configs(url: str, n: int) -> list[str]:
    ids = []
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer k"}) as http:
        for i in range(n):
            path = f"{url}/v3/grants/g{i}/scheduling/configurations"
            async with http.post(path, json=_config(i)) as r:
                ids.append((await r.json())["data"]["id"])
    return ids


def main(argv: list[str] | None = None) -> int:
    """Run both benchmarks and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    args = parser.parse_args(argv)
    configs, bookings = (50, 500) if args.quick else (1_000, 10_000)
    r = restore_times(configs, bookings, reps=3 if args.quick else 30)
    print(
        f"restore {configs} configurations + {bookings} bookings "
        f"({r['snapshot_mb']:.1f} MB): first {r['first_ms']:.1f} ms, then after a test's "
        f"writes median {r['median_ms']:.1f} ms (CPU min/median/max/mean "
        f"{r['cpu_min_ms']:.1f}/{r['cpu_median_ms']:.1f}/{r['cpu_max_ms']:.1f}/"
        f"{r['cpu_mean_ms']:.1f} ms)"
    )
    for world in ((20, 0), (configs, bookings)):
        w = write_throughput(200 if args.quick else 1_000, world, reps=1 if args.quick else 3)
        print(
            f"bookings/s on a store of {world[1]} bookings: in memory {w['memory_per_s']:.0f}, "
            f"--state {w['state_per_s']:.0f}, ratio {w['ratio']:.2f}"
        )
    w = write_throughput_cli(200 if args.quick else 2_000)
    print(
        f"bookings/s, emulator in its own process: in memory {w['memory_per_s']:.0f}, "
        f"--state {w['state_per_s']:.0f}, ratio {w['ratio']:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
