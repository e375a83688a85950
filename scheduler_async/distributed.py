"""Availability sweeps spread over worker processes with taskiq (optional extra ``distributed``).

The driver splits the queries into chunks and sends each chunk as a taskiq task through a Redis
stream; every worker process runs the chunks it receives with ``client.availability.sweep`` on
one ``AsyncScheduler`` whose rate budget is a :class:`~scheduler_async.ratelimit_redis.
RedisRateLimiter`, so all workers together stay within the application's limit and a 429 seen by
one pauses them all. The driver gathers the results as chunks finish, with progress, and yields
one :class:`~scheduler_async.sweep.SweepResult` per query (a query answered twice, after a
redelivery, is yielded once; a chunk that fails as a whole yields an error for each of its
queries).

Recipe (one Redis, N workers, one driver)::

    export SCHEDULER_SWEEP_REDIS_URL=redis://127.0.0.1:6379/0
    export NYLAS_API_URI=http://127.0.0.1:8080 NYLAS_API_KEY=...   # read by AsyncScheduler
    export SCHEDULER_SWEEP_RATE=100 SCHEDULER_SWEEP_APPLICATION=my-app
    taskiq worker scheduler_async.distributed:broker --workers 4 --max-async-tasks 10

    # driver
    async for result in distributed_sweep(queries, progress=print):
        ...

Chunks and results travel pickled (queries hold session tokens; results hold models and
errors): use a Redis only your workers and driver can reach.
"""

from __future__ import annotations

import asyncio
import base64
import importlib
import os
import pickle
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Sequence
from typing import Any

import attrs
from taskiq import AsyncBroker, AsyncTaskiqDecoratedTask, TaskiqEvents, TaskiqState
from taskiq_redis import RedisAsyncResultBackend, RedisStreamBroker

from .client import AsyncScheduler
from .errors import DistributedSweepError
from .ratelimit import RateLimiter
from .ratelimit_redis import RedisRateLimiter
from .sweep import AvailabilityQuery, Progress, SweepResult

__all__ = [
    "ENV_APPLICATION",
    "ENV_CLIENT_FACTORY",
    "ENV_RATE",
    "ENV_REDIS_URL",
    "ChunkTask",
    "DistributedSweepError",
    "SweepWorker",
    "broker",
    "client_from_env",
    "distributed_sweep",
    "factory_from_env",
    "make_broker",
    "register_sweep_task",
    "sweep_chunk",
]

ENV_REDIS_URL = "SCHEDULER_SWEEP_REDIS_URL"
"""Redis for the task stream, the results and the shared rate budget."""
ENV_RATE = "SCHEDULER_SWEEP_RATE"
"""Requests per second shared by all workers (unset: no shared rate, only 429 pauses shared)."""
ENV_APPLICATION = "SCHEDULER_SWEEP_APPLICATION"
"""Name of the shared budget (your application id); ``default`` if unset."""
ENV_CLIENT_FACTORY = "SCHEDULER_SWEEP_CLIENT_FACTORY"
"""``module:function`` returning ``(AsyncScheduler, limiter or None)`` for the workers
(default :func:`client_from_env`)."""

ChunkTask = AsyncTaskiqDecoratedTask[[str], Coroutine[Any, Any, str]]
"""The chunk task's type: a pickled chunk in, pickled results out."""

_DEFAULT_URL = "redis://127.0.0.1:6379/0"
_TASK_NAME = "scheduler_async.distributed.sweep_chunk"


def _dump(obj: Any) -> str:
    return base64.b64encode(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)).decode("ascii")


def _load(text: str) -> Any:
    return pickle.loads(base64.b64decode(text))


def make_broker(
    redis_url: str | None = None, *, queue_name: str = "scheduler-sweep"
) -> AsyncBroker:
    """A taskiq broker on a Redis stream (acknowledged delivery) with results in Redis.

    Workers read one chunk at a time from the stream (not taskiq's default of 100), so the
    first worker to start does not claim most of a sweep while the others are still starting.
    """
    url = redis_url or os.environ.get(ENV_REDIS_URL) or _DEFAULT_URL
    backend: RedisAsyncResultBackend[Any] = RedisAsyncResultBackend(url, result_ex_time=3600)
    stream = RedisStreamBroker(url, queue_name=queue_name, xread_count=1)
    return stream.with_result_backend(backend)


def client_from_env() -> tuple[AsyncScheduler, RateLimiter | None]:
    """The worker's client and its limiter: settings from the environment, the budget shared
    through Redis."""
    url = os.environ.get(ENV_REDIS_URL) or _DEFAULT_URL
    rate_text = os.environ.get(ENV_RATE)
    limiter = RedisRateLimiter(
        float(rate_text) if rate_text else None,
        application=os.environ.get(ENV_APPLICATION) or "default",
        url=url,
    )
    return AsyncScheduler(rate_limit=limiter), limiter


class SweepWorker:
    """Per-process worker state: one client (built lazily on the worker's loop by
    ``client_factory``, which returns it and the limiter to close with it), closed at shutdown."""

    def __init__(
        self,
        client_factory: Callable[[], tuple[AsyncScheduler, RateLimiter | None]] = client_from_env,
    ) -> None:
        self._factory = client_factory
        self._client: AsyncScheduler | None = None
        self._limiter: RateLimiter | None = None
        self._lock: asyncio.Lock | None = None
        self.chunks_done = 0

    async def client(self) -> AsyncScheduler:
        """The process's client, created on first use."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._client is None:
                self._client, self._limiter = self._factory()
            return self._client

    async def run_chunk(self, payload: str) -> str:
        """Answer one chunk: ``[(index, query), ...]`` and options in, ``[(index, result)]`` out."""
        items, concurrency = _load(payload)
        client = await self.client()
        # The query's tag carries its index here; the driver restores the caller's query.
        tagged = [attrs.evolve(q, tag=i) for i, q in items]
        out: list[tuple[int, SweepResult]] = []
        async for result in client.availability.sweep(tagged, concurrency=concurrency):
            out.append((result.query.tag, result))
        self.chunks_done += 1
        return _dump(out)

    async def aclose(self) -> None:
        """Close the client and the limiter it was given."""
        client, self._client = self._client, None
        limiter, self._limiter = self._limiter, None
        if client is not None:
            await client.aclose()
        if limiter is not None:
            await limiter.aclose()


def factory_from_env() -> Callable[[], tuple[AsyncScheduler, RateLimiter | None]]:
    """The worker's client factory: ``$SCHEDULER_SWEEP_CLIENT_FACTORY`` or
    :func:`client_from_env`."""
    spec = os.environ.get(ENV_CLIENT_FACTORY)
    if not spec:
        return client_from_env
    module, _, name = spec.partition(":")
    if not module or not name:
        raise ValueError(f"{ENV_CLIENT_FACTORY} must look like 'package.module:function'")
    factory: Callable[[], tuple[AsyncScheduler, RateLimiter | None]] = getattr(
        importlib.import_module(module), name
    )
    return factory


def register_sweep_task(target: AsyncBroker, worker: SweepWorker | None = None) -> ChunkTask:
    """Register the chunk task on ``target`` (served by ``worker``) and close it at shutdown."""
    state = worker if worker is not None else SweepWorker(factory_from_env())

    async def _shutdown(_: TaskiqState) -> None:
        await state.aclose()

    target.add_event_handler(TaskiqEvents.WORKER_SHUTDOWN, _shutdown)

    async def sweep_chunk(payload: str) -> str:
        return await state.run_chunk(payload)

    task: ChunkTask = target.task(task_name=_TASK_NAME)(sweep_chunk)
    return task


broker = make_broker()
"""The broker ``taskiq worker scheduler_async.distributed:broker`` serves (env configured)."""
sweep_chunk = register_sweep_task(broker)
"""The chunk task registered on :data:`broker`."""


def _chunks(
    items: Sequence[AvailabilityQuery], size: int
) -> list[list[tuple[int, AvailabilityQuery]]]:
    indexed = list(enumerate(items))
    return [indexed[i : i + size] for i in range(0, len(indexed), size)]


async def distributed_sweep(
    queries: Iterable[AvailabilityQuery],
    *,
    task: ChunkTask = sweep_chunk,
    chunk_size: int = 100,
    concurrency: int = 50,
    progress: Callable[[Progress], None] | None = None,
    result_timeout: float | None = None,
) -> AsyncIterator[SweepResult]:
    """Send the queries to the workers in chunks; yield each query's result once, as chunks end.

    ``concurrency`` is per chunk inside a worker. ``result_timeout`` (seconds, ``None`` for no
    bound) limits the wait for each chunk; a chunk that times out or fails yields a
    :class:`DistributedSweepError` for each of its queries. The task's broker must be started
    (``await broker.startup()``) in the driver process.
    """
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError("chunk_size must be an int >= 1")
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError("concurrency must be an int >= 1")
    items = list(queries)
    total = len(items)
    chunks = _chunks(items, chunk_size)
    sent = [await task.kiq(_dump((chunk, concurrency))) for chunk in chunks]

    async def wait(i: int) -> tuple[int, list[tuple[int, SweepResult]] | BaseException]:
        try:
            res = await sent[i].wait_result(
                timeout=-1.0 if result_timeout is None else result_timeout
            )
        except Exception as exc:  # taskiq's timeout / backend errors: the chunk is lost
            return i, exc
        if res.is_err:
            return i, res.error if isinstance(res.error, BaseException) else RuntimeError()
        return i, _load(res.return_value)

    seen: set[int] = set()
    done = errors = 0
    pending = {asyncio.ensure_future(wait(i)) for i in range(len(chunks))}
    try:
        while pending:
            finished, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for fut in finished:
                i, outcome = fut.result()
                if isinstance(outcome, BaseException):
                    err = DistributedSweepError(
                        f"chunk {i} failed on the workers ({type(outcome).__name__})"
                    )
                    answered = [(idx, SweepResult(query=q, error=err)) for idx, q in chunks[i]]
                else:
                    answered = [
                        (idx, SweepResult(query=items[idx], availability=r.availability,
                                          error=r.error))
                        for idx, r in outcome
                    ]  # fmt: skip
                for idx, result in answered:
                    if idx in seen:
                        continue
                    seen.add(idx)
                    done += 1
                    errors += result.error is not None
                    if progress is not None:
                        progress(Progress(done, total, errors))
                    yield result
    finally:
        for fut in pending:
            fut.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
