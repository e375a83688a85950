"""A sweep over worker processes against the emulator's enforced rate limit (issue 15).

    .venv/bin/python benchmarks/bench_distributed.py [--rate 200] [--queries 20000]
        [--workers 4] [--mode shared|per-process|both] [--out FILE.json]

Starts a ``redis-server`` (Debian's, on a free loopback port, temporary directory), the emulator
in its own process with ``--rate-limit R`` (one budget per API key: all workers use one key),
and ``--workers`` ``taskiq worker scheduler_async.distributed:broker`` processes. The driver
(this process) sends the queries in chunks with :func:`scheduler_async.distributed.
distributed_sweep` and gathers every result. Two modes:

* ``shared``: every worker's client has ``rate_limit=RedisRateLimiter(R)``: one budget for all;
* ``per-process``: every worker's client has ``rate_limit=LocalRateLimiter(R)``: each process
  has its own budget and its own 429 pause (what separate processes did before).

Reported per mode: wall time (first chunk sent to last result) against the ideal ``queries / R``,
the emulator's counters (requests, 429s, the peak rate seen in any 1-second window) and failed
queries. Targets for ``shared``: peak <= 1.05 R, 429s <= 1 % of requests, wall <= 1.15 x ideal.
Both modes use the same retry policy (``max_retries=8``), so the 429s of ``per-process`` are
retried rather than lost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
API_KEY = "bench-api-key"
T0 = 1_893_456_000  # 2030-01-01T00:00:00Z, a Tuesday


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_port(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    give_up = time.monotonic() + 30
    while time.monotonic() < give_up:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port} within 30 s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    """A throwaway ``redis-server`` on a free loopback port; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server not found (apt-get install redis-server)")
    port = _free_port()
    cmd = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir)]
    cmd += ["--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        _wait_port(port, proc, "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        _stop(proc)


@contextlib.contextmanager
def emulator(rate: float, workdir: Path) -> Iterator[str]:
    """``python -m scheduler_async emulator --rate-limit R`` in its own process; yields its URL."""
    port = _free_port()
    cmd = [sys.executable, "-m", "scheduler_async", "emulator", "--port", str(port)]
    cmd += ["--rate-limit", f"{rate:g}"]
    with (workdir / "emulator.log").open("wb") as log:
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
        )
    try:
        _wait_port(port, proc, "emulator")
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(proc)


@contextlib.contextmanager
def workers(n: int, env: dict[str, str], workdir: Path) -> Iterator[None]:
    """``n`` ``taskiq worker`` processes (one worker process each)."""
    procs = []
    try:
        for i in range(n):
            cmd = [sys.executable, "-m", "taskiq", "worker", "scheduler_async.distributed:broker"]
            cmd += ["--workers", "1", "--no-configure-logging", "--shutdown-timeout", "5"]
            cmd += ["--max-async-tasks", "10"]  # chunks at once per worker: no hoarding
            with (workdir / f"worker{i}.log").open("wb") as log:
                procs.append(
                    subprocess.Popen(
                        cmd,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        cwd=ROOT,
                        start_new_session=True,
                    )
                )
        yield
    finally:
        for p in procs:
            _stop(p)


async def _seed(url: str) -> str:
    """A grant and a public configuration; returns the configuration id."""
    from scheduler_async import (
        AsyncScheduler,
        ConfigurationAvailability,
        ConfigurationParticipant,
        EventBooking,
        ParticipantAvailability,
        ParticipantBooking,
        SchedulerSettings,
    )

    async with aiohttp.ClientSession() as http:
        body = {"grant_id": "g-bench", "email": "host@example.com"}
        async with http.post(f"{url}/_emulator/grants", json=body) as r:
            r.raise_for_status()
        async with http.post(f"{url}/_emulator/clock", json={"now": T0}) as r:
            r.raise_for_status()
    async with AsyncScheduler(api_key=API_KEY, grant_id="g-bench", base_url=url) as client:
        config = await client.configurations.create(
            participants=[
                ConfigurationParticipant(
                    email="host@example.com",
                    is_organizer=True,
                    availability=ParticipantAvailability(calendar_ids=("primary",)),
                    booking=ParticipantBooking(calendar_id="primary"),
                )
            ],
            availability=ConfigurationAvailability(duration_minutes=30),
            event_booking=EventBooking(title="Bench"),
            scheduler=SchedulerSettings(min_booking_notice=0),
        )
    return config.id


async def _stats(url: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{url}/_emulator/rate_limit") as r,
    ):
        data: dict[str, Any] = (await r.json())["data"]
        return data


async def _workers_ready(redis_url: str, n: int) -> None:
    """Wait until ``n`` workers read the task stream (Redis clients whose command is
    ``XREADGROUP``; a blocked reader is not listed as a consumer of the group yet)."""
    from redis.asyncio import Redis

    r = Redis.from_url(redis_url)
    try:
        give_up = time.monotonic() + 120
        while time.monotonic() < give_up:
            clients = await r.client_list()
            if sum(c.get("cmd") == "xreadgroup" for c in clients) >= n:
                return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"{n} workers did not start within 120 s")
    finally:
        await r.aclose()


async def _drive(redis_url: str, config: str, n: int, n_workers: int) -> dict[str, Any]:
    from scheduler_async import AvailabilityQuery
    from scheduler_async.distributed import (
        SweepWorker,
        distributed_sweep,
        make_broker,
        register_sweep_task,
    )

    broker = make_broker(redis_url)
    task = register_sweep_task(broker, SweepWorker())  # the driver only sends
    await broker.startup()
    await _workers_ready(redis_url, n_workers)
    queries = [
        AvailabilityQuery(
            start_time=T0 + 86_400 * (i % 30),
            end_time=T0 + 86_400 * (i % 30) + 8 * 3600,
            configuration_id=config,
        )
        for i in range(n)
    ]
    ok = failed = 0
    last_report = 0.0
    try:
        t0 = time.perf_counter()
        async for result in distributed_sweep(queries, task=task, chunk_size=100, concurrency=20):
            if result.ok:
                ok += 1
            else:
                failed += 1
            now = time.perf_counter()
            if now - last_report > 10:
                last_report = now
                print(f"  {ok + failed}/{n} after {now - t0:.0f} s", file=sys.stderr, flush=True)
        wall = time.perf_counter() - t0
    finally:
        await broker.shutdown()
    return {"wall_s": wall, "ok": ok, "failed": failed}


def run_mode(mode: str, rate: float, n: int, n_workers: int) -> dict[str, Any]:
    """One sweep in ``mode`` (``shared`` or ``per-process``) on fresh servers."""
    with tempfile.TemporaryDirectory(prefix="bench-dist-") as tmp:
        workdir = Path(tmp)
        with redis_server(workdir) as redis_url, emulator(rate, workdir) as url:
            config = asyncio.run(_seed(url))
            env = {
                **os.environ,
                "SCHEDULER_SWEEP_REDIS_URL": redis_url,
                "SCHEDULER_SWEEP_RATE": f"{rate:g}",
                "SCHEDULER_SWEEP_APPLICATION": "bench",
                "SCHEDULER_SWEEP_CLIENT_FACTORY": "benchmarks.dist_clients:"
                + mode.replace("-", "_"),
                "NYLAS_API_URI": url,
                "NYLAS_API_KEY": API_KEY,
                "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            }
            before = asyncio.run(_stats(url))
            with workers(n_workers, env, workdir):
                out = asyncio.run(_drive(redis_url, config, n, n_workers))
            after = asyncio.run(_stats(url))
    requests = after["requests"] - before["requests"]
    rejected = after["rejected"] - before["rejected"]
    ideal = n / rate
    return {
        "mode": mode,
        "rate": rate,
        "queries": n,
        "workers": n_workers,
        **out,
        "ideal_s": ideal,
        "wall_vs_ideal": out["wall_s"] / ideal,
        "requests": requests,
        "rejected": rejected,
        "rejected_share": rejected / requests if requests else 0.0,
        "peak_rate": after["peak_rate"],
        "peak_vs_rate": after["peak_rate"] / rate,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=200.0, help="R, requests per second")
    parser.add_argument("--queries", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--mode", choices=("shared", "per-process", "both"), default="both")
    parser.add_argument("--out", type=Path, default=None, help="write the results as JSON")
    args = parser.parse_args(argv)
    modes = ["shared", "per-process"] if args.mode == "both" else [args.mode]
    results = []
    for mode in modes:
        print(f"[bench] {mode}: {args.queries} queries, R={args.rate:g}", file=sys.stderr)
        r = run_mode(mode, args.rate, args.queries, args.workers)
        results.append(r)
        print(
            f"{mode:12} wall {r['wall_s']:.1f} s ({r['wall_vs_ideal']:.3f}x ideal "
            f"{r['ideal_s']:.0f} s); peak {r['peak_rate']} req/s ({r['peak_vs_rate']:.3f} R); "
            f"429s {r['rejected']}/{r['requests']} ({r['rejected_share']:.2%}); "
            f"ok {r['ok']}, failed {r['failed']}",
            flush=True,
        )
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
