"""A new user's bulk job against a rate limit: a default ``AsyncScheduler`` (no ``rate_limit=``)
against ``Emulator(rate_limit=20)`` (burst 2): a 100-query ``availability.sweep_all`` and a
``gather`` of 60 ``configurations.list_page``, each with a fresh client and a fresh server budget.

    .venv/bin/python benchmarks/bench_storm.py [--rate 20] [--sweep 100] [--gather 60]

Reports, per scenario: queries answered, requests refused (429) by the emulator, and wall time
against the ideal n / rate. Targets: all answered, <= 15% refused, <= 1.3x the ideal.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scheduler_async import (
    AsyncScheduler,
    AvailabilityQuery,
    ConfigurationAvailability,
    ConfigurationParticipant,
    EventBooking,
    ParticipantAvailability,
    SchedulerSettings,
)
from scheduler_async.emulator import Emulator

MONDAY = datetime(2030, 1, 7, tzinfo=UTC)


async def _scenarios(emu: Emulator, rate: float, sweep_n: int, gather_n: int) -> dict[str, Any]:
    emu.clock.set(int(MONDAY.timestamp()))
    emu.add_grant("g", email="host@example.com")
    emu.rate_limit.configure(rate=None)
    async with AsyncScheduler(api_key="k", grant_id="g", base_url=emu.url) as setup:
        config = await setup.configurations.create(
            participants=[
                ConfigurationParticipant(
                    email="host@example.com",
                    is_organizer=True,
                    availability=ParticipantAvailability(calendar_ids=("primary",)),
                )
            ],
            availability=ConfigurationAvailability(duration_minutes=30),
            event_booking=EventBooking(title="Storm"),
            scheduler=SchedulerSettings(min_booking_notice=0),
        )
    queries = [
        AvailabilityQuery(
            start_time=MONDAY + timedelta(days=i % 28),
            end_time=MONDAY + timedelta(days=i % 28, hours=8),
            configuration_id=config.id,
        )
        for i in range(sweep_n)
    ]
    out: dict[str, Any] = {}
    for name, n in (("sweep", sweep_n), ("gather", gather_n)):
        emu.rate_limit.configure(rate=rate)
        emu.rate_limit.reset_stats()
        async with AsyncScheduler(api_key="k", grant_id="g", base_url=emu.url) as client:
            t0 = time.perf_counter()
            if name == "sweep":
                results = await client.availability.sweep_all(queries)
                ok = sum(r.ok for r in results)
            else:
                pages = await asyncio.gather(
                    *(client.configurations.list_page(limit=1) for _ in range(n)),
                    return_exceptions=True,
                )
                ok = sum(not isinstance(p, BaseException) for p in pages)
            wall = time.perf_counter() - t0
        stats = emu.rate_limit.stats()
        out[name] = {
            "n": n,
            "ok": ok,
            "requests": stats["requests"],
            "refused": stats["rejected"],
            "wall_s": wall,
            "ideal_s": n / rate,
        }
    return out


def run(rate: float = 20, sweep_n: int = 100, gather_n: int = 60) -> dict[str, Any]:
    """Both scenarios against a fresh in-thread emulator."""
    with Emulator() as emu:
        return asyncio.run(_scenarios(emu, rate, sweep_n, gather_n))


def main(argv: list[str] | None = None) -> int:
    """Command line entry point: print one line per scenario."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--sweep", type=int, default=100)
    parser.add_argument("--gather", type=int, default=60)
    args = parser.parse_args(argv)
    for name, r in run(args.rate, args.sweep, args.gather).items():
        print(
            f"{name}: {r['ok']}/{r['n']} answered, {r['refused']}/{r['requests']} refused "
            f"({r['refused'] / r['requests']:.1%}), wall {r['wall_s']:.2f} s = "
            f"{r['wall_s'] / r['ideal_s']:.2f}x the ideal {r['ideal_s']:.1f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
