"""A sweep over 3 `taskiq worker` processes sharing one RedisRateLimiter, one real Redis, the
emulator enforcing a rate limit: every query answered once, (near) zero 429s."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from scheduler_async import AvailabilityQuery
from scheduler_async.distributed import (
    ENV_APPLICATION,
    ENV_CLIENT_FACTORY,
    ENV_RATE,
    ENV_REDIS_URL,
    SweepWorker,
    distributed_sweep,
    make_broker,
    register_sweep_task,
)
from scheduler_async.emulator import Emulator

from .conftest import RedisServer, at

RATE = 100
"""Requests per second: the emulator's limit and the workers' shared budget."""

ROOT = Path(__file__).resolve().parents[2]


def start_workers(env: dict[str, str], workdir: Path, n: int) -> list[subprocess.Popen[bytes]]:
    """``n`` separate ``taskiq worker`` processes serving ``scheduler_async.distributed``."""
    workers = []
    for i in range(n):
        with (workdir / f"worker{i}.log").open("wb") as log:
            cmd = [sys.executable, "-m", "taskiq", "worker", "scheduler_async.distributed:broker"]
            cmd += ["--workers", "1", "--no-configure-logging", "--shutdown-timeout", "5"]
            workers.append(
                subprocess.Popen(
                    cmd,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=workdir,
                    start_new_session=True,  # its own process group: stopped with its children
                )
            )
    return workers


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM each worker's process group; SIGKILL what is still there after 10 s."""
    for w in workers:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(w.pid, signal.SIGTERM)
    for w in workers:
        with contextlib.suppress(subprocess.TimeoutExpired):
            w.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(w.pid, signal.SIGKILL)
        w.wait()


def read_logs(workdir: Path) -> str:
    return "\n".join(p.read_text(errors="replace")[-1500:] for p in workdir.glob("worker*.log"))


async def test_three_worker_processes_answer_every_query_once(
    redis_server: RedisServer,
    config_id: tuple[str, str],
    scheduler_emulator_fresh: Emulator,
    tmp_path: Path,
) -> None:
    url, config = config_id
    limit = scheduler_emulator_fresh.rate_limit
    # One budget for the whole emulator (the fixture's reset turns it off again). Its tolerance
    # is half a second's worth: the emulator shares this process (and a loaded 2-core box), so
    # it sometimes stalls and then takes queued requests in one gulp, which would look like a
    # burst. Three workers each sending RATE on their own would still be refused wholesale.
    limit.configure(rate=RATE, burst=RATE // 2, key_by="application")
    limit.reset_stats()
    env = {
        **os.environ,
        ENV_REDIS_URL: redis_server.url,
        ENV_RATE: str(RATE),
        ENV_APPLICATION: "test-app",
        ENV_CLIENT_FACTORY: "ratelimit.dist_factory:emulator_client",
        "NYLAS_API_URI": url,
        "NYLAS_API_KEY": "k",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)]),
    }
    broker = make_broker(redis_server.url)
    task = register_sweep_task(broker, SweepWorker())  # the driver only sends
    await broker.startup()  # declares the stream's consumer group before anything is sent
    workers = start_workers(env, tmp_path, 3)
    try:
        qs = [
            AvailabilityQuery(
                start_time=at(24 * (i % 7)), end_time=at(24 * (i % 7) + 8),
                configuration_id=config, tag=i,
            )
            for i in range(300)
        ]  # fmt: skip
        results = [
            r
            async for r in distributed_sweep(
                qs, task=task, chunk_size=10, concurrency=5, result_timeout=120
            )
        ]
    finally:
        await broker.shutdown()
        stop_workers(workers)
    logs = read_logs(tmp_path)
    assert sorted(r.query.tag for r in results) == list(range(300)), logs
    assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
    stats = limit.stats()
    assert stats["requests"] >= 300
    # Three processes, one budget: the emulator refused (next to) nothing.
    assert stats["rejected"] <= 3, stats
