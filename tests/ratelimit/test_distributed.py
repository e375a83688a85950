"""The distributed sweep's driver and worker, on taskiq's in-memory broker and the emulator.

The multi-process run (Redis stream broker, several `taskiq worker` processes sharing a
RedisRateLimiter, the emulator enforcing a limit) is in test_distributed_processes.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from taskiq import InMemoryBroker

from scheduler_async import AsyncScheduler, AvailabilityQuery, Progress, RetryPolicy
from scheduler_async.distributed import (
    DistributedSweepError,
    SweepWorker,
    _dump,
    _load,
    distributed_sweep,
    register_sweep_task,
)
from scheduler_async.ratelimit import RateLimiter

from .conftest import at


class Factory:
    def __init__(self, url: str, *, fail: bool = False) -> None:
        self.url, self.fail, self.clients = url, fail, 0

    def __call__(self) -> tuple[AsyncScheduler, RateLimiter | None]:
        if self.fail:
            raise RuntimeError("cannot build a client")
        self.clients += 1
        client = AsyncScheduler(api_key="k", base_url=self.url, retry=RetryPolicy(backoff_base=0.0))
        return client, None


class DuplicatingWorker(SweepWorker):
    """A worker whose answers arrive twice (as after a redelivery)."""

    async def run_chunk(self, payload: str) -> str:
        once = _load(await super().run_chunk(payload))
        return _dump(once + once)


def queries(config: str, n: int) -> list[AvailabilityQuery]:
    return [
        AvailabilityQuery(
            start_time=at(24 * (i % 5)), end_time=at(24 * (i % 5) + 8),
            configuration_id=config, tag=("mine", i),
        )
        for i in range(n)
    ]  # fmt: skip


async def run(worker: SweepWorker, qs: list[AvailabilityQuery], **kw: Any) -> list[Any]:
    broker = InMemoryBroker()
    task = register_sweep_task(broker, worker)
    await broker.startup()
    try:
        return [r async for r in distributed_sweep(qs, task=task, **kw)]
    finally:
        await broker.shutdown()


async def test_every_query_answered_once_with_progress(config_id: tuple[str, str]) -> None:
    url, config = config_id
    qs = queries(config, 23)
    factory = Factory(url)
    worker = SweepWorker(factory)
    seen: list[Progress] = []
    results = await run(worker, qs, chunk_size=5, concurrency=3, progress=seen.append)
    assert sorted(r.query.tag[1] for r in results) == list(range(23))
    assert all(r.ok and r.availability is not None for r in results)
    assert all(r.query is qs[r.query.tag[1]] for r in results)  # the caller's own objects
    assert [p.done for p in seen] == list(range(1, 24)) and seen[-1].total == 23
    assert worker.chunks_done == 5 and factory.clients == 1  # one client per worker process
    # the answers match a direct call
    async with AsyncScheduler(api_key="k", base_url=url) as client:
        direct = await client.availability.get(
            start_time=qs[0].start_time, end_time=qs[0].end_time, configuration_id=config
        )
    assert next(r for r in results if r.query is qs[0]).availability == direct


async def test_duplicates_are_dropped(config_id: tuple[str, str]) -> None:
    url, config = config_id
    qs = queries(config, 9)
    results = await run(DuplicatingWorker(Factory(url)), qs, chunk_size=4)
    assert sorted(r.query.tag[1] for r in results) == list(range(9))


async def test_a_failed_chunk_yields_an_error_per_query(config_id: tuple[str, str]) -> None:
    url, config = config_id
    qs = queries(config, 7)
    results = await run(SweepWorker(Factory(url, fail=True)), qs, chunk_size=3)
    assert sorted(r.query.tag[1] for r in results) == list(range(7))
    assert all(isinstance(r.error, DistributedSweepError) for r in results)


async def test_per_query_errors_travel_back(config_id: tuple[str, str]) -> None:
    url, config = config_id
    qs = [*queries(config, 3), *queries("no-such-config", 2)]
    results = await run(SweepWorker(Factory(url)), qs, chunk_size=2)
    bad = [r for r in results if not r.ok]
    assert len(results) == 5 and len(bad) == 2
    assert {type(r.error).__name__ for r in bad} == {"NotFoundError"}


async def test_arguments_checked() -> None:
    for kw in ({"chunk_size": 0}, {"concurrency": 0}, {"chunk_size": True}):
        with pytest.raises(ValueError):
            await run(SweepWorker(Factory("http://127.0.0.1:9")), [], **kw)
