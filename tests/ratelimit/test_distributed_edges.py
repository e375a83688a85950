"""Distributed sweep edges on a real redis-server: no worker, a dead worker's chunk, Redis
unreachable, progress timing."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

import pytest
from taskiq import BrokerMessage

from scheduler_async import Progress
from scheduler_async.distributed import (
    ENV_REDELIVERY,
    ENV_REDIS_URL,
    DistributedSweepError,
    SweepBroker,
    SweepWorker,
    distributed_sweep,
    make_broker,
    register_sweep_task,
)

from .conftest import RedisServer, _free_port
from .test_distributed import Factory, queries, run

HANG_GUARD = 60.0
"""Turns a hang of the old code into a failure; never a bound on how fast things are."""


async def test_no_worker_ends_with_a_clear_error(redis_server: RedisServer) -> None:
    broker = make_broker(redis_server.url, queue_name=f"q-{uuid.uuid4()}")
    task = register_sweep_task(broker, SweepWorker(Factory("http://127.0.0.1:9")))
    await broker.startup()
    try:
        results = [
            r
            async for r in distributed_sweep(
                queries("cfg", 5), task=task, chunk_size=2, stall_timeout=0.2
            )
        ]
    finally:
        await broker.shutdown()
    assert sorted(r.query.tag[1] for r in results) == list(range(5))
    for r in results:
        assert isinstance(r.error, DistributedSweepError)
        assert "is a worker running" in str(r.error) and "stall_timeout" in str(r.error)


async def test_progress_has_a_real_elapsed_time(config_id: tuple[str, str]) -> None:
    url, config = config_id
    seen: list[Progress] = []
    await run(SweepWorker(Factory(url)), queries(config, 6), chunk_size=2, progress=seen.append)
    assert len(seen) == 6 and seen[0].elapsed > 0
    assert [p.elapsed for p in seen] == sorted(p.elapsed for p in seen)
    assert seen[-1].rate > 0 and seen[-1].eta == 0 and seen[0].eta is not None
    assert seen[0].in_flight == 5 and seen[-1].in_flight == 0


async def test_a_dead_workers_chunk_goes_to_another_worker(redis_server: RedisServer) -> None:
    queue = f"q-{uuid.uuid4()}"

    def broker() -> Any:
        return make_broker(
            redis_server.url, queue_name=queue, redelivery_timeout=0.2, xread_block=20
        )

    dead, alive = broker(), broker()
    await dead.startup()
    await alive.startup()
    try:
        await dead.kick(BrokerMessage(task_id="t1", task_name="x", message=b"chunk", labels={}))
        got = dead.listen()
        first = await anext(got)  # delivered to the first worker, which dies unacknowledged
        await got.aclose()
        assert first.data == b"chunk"
        # No new message comes: the other worker must still find the idle one and take it.
        listening = alive.listen()
        async with asyncio.timeout(HANG_GUARD):
            again = await anext(listening)
        assert again.data == b"chunk"
        await again.ack()
        await listening.aclose()
    finally:
        await dead.shutdown()
        await alive.shutdown()


def test_redelivery_timeout_default_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_REDELIVERY, raising=False)
    default: Any = make_broker("redis://127.0.0.1:9/0")
    assert isinstance(default, SweepBroker) and default.idle_timeout == 60_000
    monkeypatch.setenv(ENV_REDELIVERY, "2.5")
    assert make_broker("redis://127.0.0.1:9/0").idle_timeout == 2_500  # type: ignore[attr-defined]
    monkeypatch.setenv(ENV_REDELIVERY, "soon")
    with pytest.raises(ValueError, match=ENV_REDELIVERY):
        make_broker("redis://127.0.0.1:9/0")
    with pytest.raises(ValueError, match="redelivery_timeout"):
        make_broker("redis://127.0.0.1:9/0", redelivery_timeout=0)


async def test_unreachable_redis_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"redis://:s3cret-pass@127.0.0.1:{_free_port()}/0"  # nothing listens there
    monkeypatch.setenv(ENV_REDIS_URL, url)
    broker = make_broker()
    task = register_sweep_task(broker, SweepWorker(Factory("http://127.0.0.1:9")))
    with pytest.raises(DistributedSweepError, match=f"its URL is {ENV_REDIS_URL}'s") as info:
        await broker.startup()
    assert "s3cret-pass" not in str(info.value) and "connecting to 127.0.0.1" in str(info.value)
    with pytest.raises(DistributedSweepError, match=ENV_REDIS_URL) as info:
        async for _ in distributed_sweep(queries("cfg", 1), task=task):
            pass
    assert "s3cret-pass" not in str(info.value)
    with contextlib.suppress(Exception):
        await broker.shutdown()


async def test_timeouts_checked() -> None:
    for kw in ({"stall_timeout": 0}, {"result_timeout": -1.0}, {"stall_timeout": True}):
        with pytest.raises(ValueError, match="timeout"):
            await run(SweepWorker(Factory("http://127.0.0.1:9")), [], **kw)
