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
    # taskiq's worker ignores the first Ctrl-C: press it twice (or send SIGTERM) to stop it

    # driver
    async for result in distributed_sweep(queries, progress=print):
        ...

A chunk whose worker died (killed, crashed, lost its machine) is delivered to another worker
once it has been unacknowledged for ``SCHEDULER_SWEEP_REDELIVERY_SECONDS`` (60 s by default; set
it above the longest time one chunk takes, or a slow chunk is run twice). The driver gives up
when no chunk finishes for ``stall_timeout`` seconds (300 by default: no worker running, or all
of them gone): each remaining query then gets a :class:`DistributedSweepError` saying so.

Chunks and results travel pickled (queries hold session tokens; results hold models and
errors): use a Redis only your workers and driver can reach.
"""

from __future__ import annotations

import asyncio
import base64
import importlib
import math
import os
import pickle
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine, Iterable, Sequence
from typing import Any

import attrs
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from taskiq import (
    AckableMessage,
    AsyncBroker,
    AsyncTaskiqDecoratedTask,
    BrokerMessage,
    SendTaskError,
    TaskiqEvents,
    TaskiqState,
)
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
    "ENV_REDELIVERY",
    "ENV_REDIS_URL",
    "ChunkTask",
    "DistributedSweepError",
    "SweepBroker",
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

ENV_REDELIVERY = "SCHEDULER_SWEEP_REDELIVERY_SECONDS"
"""Seconds a delivered chunk may stay unacknowledged before another worker takes it over
(default 60)."""

ChunkTask = AsyncTaskiqDecoratedTask[[str], Coroutine[Any, Any, str]]
"""The chunk task's type: a pickled chunk in, pickled results out."""

_DEFAULT_URL = "redis://127.0.0.1:6379/0"
_TASK_NAME = "scheduler_async.distributed.sweep_chunk"


def _dump(obj: Any) -> str:
    return base64.b64encode(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)).decode("ascii")


def _load(text: str) -> Any:
    return pickle.loads(base64.b64decode(text))


_DEFAULT_REDELIVERY = 60.0


def _url_source(redis_url: str | None) -> str:
    """Where the broker's Redis URL came from, for error messages (never the URL itself: it
    may hold a password)."""
    if redis_url:
        return "its URL is the redis_url= given to make_broker"
    if os.environ.get(ENV_REDIS_URL):
        return f"its URL is {ENV_REDIS_URL}'s"
    return f"{ENV_REDIS_URL} is not set, so the default {_DEFAULT_URL} was used"


def _unreachable(exc: RedisConnectionError, source: str) -> DistributedSweepError:
    """Redis cannot be reached: Redis's own reason and where its URL came from."""
    return DistributedSweepError(
        f"cannot reach the distributed sweep's Redis ({source}): {exc}; start Redis or set "
        f"{ENV_REDIS_URL} to its URL, the same for the workers and the driver"
    )


class SweepBroker(RedisStreamBroker):
    """taskiq-redis's stream broker, with two changes for sweeps.

    * A Redis it cannot reach is a :class:`DistributedSweepError` naming
      ``SCHEDULER_SWEEP_REDIS_URL`` (at ``startup`` and when sending a chunk).
    * A worker takes over chunks left unacknowledged for ``idle_timeout`` ms (a dead worker's)
      after every read, including reads that found nothing new: taskiq-redis's own ``listen``
      only looks for them after a read that found a new message, so the last chunks of a sweep
      would wait for a message that never comes.
    """

    url_source = f"{ENV_REDIS_URL}, else {_DEFAULT_URL}"
    """Where the Redis URL came from (set by :func:`make_broker`), for error messages."""

    async def startup(self) -> None:
        """Connect and declare the consumer group."""
        try:
            await super().startup()
        except RedisConnectionError as exc:
            raise _unreachable(exc, self.url_source) from None

    async def kick(self, message: BrokerMessage) -> None:
        """Append a chunk's message to the stream."""
        try:
            await super().kick(message)
        except RedisConnectionError as exc:
            raise _unreachable(exc, self.url_source) from None

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        """New messages, then the ones idle for ``idle_timeout`` ms, in turn, forever."""
        async with Redis(connection_pool=self.connection_pool) as redis_conn:
            while True:
                fetched: Any = await redis_conn.xreadgroup(
                    self.consumer_group_name,
                    self.consumer_name,
                    {self.queue_name: ">"},
                    block=self.block,
                    noack=False,
                    count=self.count,
                )
                for stream, messages in fetched or ():
                    for msg_id, msg in messages:
                        yield AckableMessage(
                            data=msg[b"data"],
                            ack=self._ack_generator(id=msg_id, queue_name=stream),
                        )
                # XAUTOCLAIM is atomic: a message idle that long goes to one worker only.
                claimed: Any = await redis_conn.xautoclaim(
                    name=self.queue_name,
                    groupname=self.consumer_group_name,
                    consumername=self.consumer_name,
                    min_idle_time=self.idle_timeout,
                    count=self.unacknowledged_batch_size,
                )
                for msg_id, msg in claimed[1]:
                    if msg:  # an entry deleted from the stream meanwhile comes back empty
                        yield AckableMessage(
                            data=msg[b"data"],
                            ack=self._ack_generator(id=msg_id, queue_name=self.queue_name),
                        )


def _redelivery_seconds(value: float | None) -> float:
    if value is None:
        text = os.environ.get(ENV_REDELIVERY)
        try:
            value = float(text) if text else _DEFAULT_REDELIVERY
        except ValueError:
            raise ValueError(
                f"{ENV_REDELIVERY} must be a number of seconds, got {text!r}"
            ) from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("redelivery_timeout must be a number of seconds")
    if not 0 < value < math.inf:
        raise ValueError("redelivery_timeout must be > 0 seconds")
    return float(value)


def make_broker(
    redis_url: str | None = None,
    *,
    queue_name: str = "scheduler-sweep",
    redelivery_timeout: float | None = None,
    **stream_options: Any,
) -> AsyncBroker:
    """A taskiq broker on a Redis stream (acknowledged delivery) with results in Redis.

    Workers read one chunk at a time from the stream (not taskiq's default of 100), so the
    first worker to start does not claim most of a sweep while the others are still starting.
    ``redelivery_timeout`` (seconds; default ``$SCHEDULER_SWEEP_REDELIVERY_SECONDS``, else 60)
    is how long a chunk may stay unacknowledged before another worker runs it (a dead
    worker's chunk); keep it above the longest time one chunk takes. ``stream_options`` go to
    :class:`SweepBroker` (taskiq-redis's ``RedisStreamBroker`` options).
    """
    url = redis_url or os.environ.get(ENV_REDIS_URL) or _DEFAULT_URL
    idle_ms = max(1, round(_redelivery_seconds(redelivery_timeout) * 1000))
    backend: RedisAsyncResultBackend[Any] = RedisAsyncResultBackend(url, result_ex_time=3600)
    options: dict[str, Any] = {"xread_count": 1, "idle_timeout": idle_ms, **stream_options}
    stream = SweepBroker(url, queue_name=queue_name, **options)
    stream.url_source = _url_source(redis_url)
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
    stall_timeout: float | None = 300.0,
) -> AsyncIterator[SweepResult]:
    """Send the queries to the workers in chunks; yield each query's result once, as chunks end.

    ``concurrency`` is per chunk inside a worker. ``result_timeout`` (seconds, ``None`` for no
    bound) limits the wait for each chunk, counted from when it is sent; a chunk that times out
    or fails yields a :class:`DistributedSweepError` for each of its queries.
    ``stall_timeout`` (seconds, default 300; ``None`` waits forever) ends the sweep when no
    chunk has finished for that long (no worker running, or all of them gone): every query
    still unanswered then yields a ``DistributedSweepError`` saying so. Keep it above the
    redelivery timeout (:func:`make_broker`) so a dead worker's chunk can be run again first.
    ``progress`` gets a :class:`Progress` (with ``elapsed``, so ``rate`` and ``eta``) per
    answered query. The task's broker must be started (``await broker.startup()``) in the
    driver process.
    """
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError("chunk_size must be an int >= 1")
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError("concurrency must be an int >= 1")
    for name, value in (("result_timeout", result_timeout), ("stall_timeout", stall_timeout)):
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 < value < math.inf
        ):
            raise ValueError(f"{name} must be a number of seconds > 0, or None")
    started = time.monotonic()
    items = list(queries)
    total = len(items)
    chunks = _chunks(items, chunk_size)
    sent = []
    for chunk in chunks:
        try:
            sent.append(await task.kiq(_dump((chunk, concurrency))))
        except SendTaskError as exc:  # taskiq's wrapper of the broker's error
            if isinstance(exc.__cause__, DistributedSweepError):  # Redis unreachable
                raise exc.__cause__ from None
            raise

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
    chunk_of = {asyncio.ensure_future(wait(i)): i for i in range(len(chunks))}
    pending = set(chunk_of)
    last_finished = time.monotonic()
    try:
        while pending:
            limit = (
                None
                if stall_timeout is None
                else max(0.0, last_finished + stall_timeout - time.monotonic())
            )
            finished, pending = await asyncio.wait(
                pending, timeout=limit, return_when=asyncio.FIRST_COMPLETED
            )
            outcomes: list[tuple[int, list[tuple[int, SweepResult]] | BaseException]]
            if finished:
                last_finished = time.monotonic()
                outcomes = sorted((fut.result() for fut in finished), key=lambda o: o[0])
            else:  # nothing for stall_timeout seconds: give the rest up
                stalled = DistributedSweepError(
                    f"no chunk finished for {stall_timeout:g} s (stall_timeout): is a worker "
                    "running (taskiq worker scheduler_async.distributed:broker) on the same "
                    f"Redis ({ENV_REDIS_URL})?"
                )
                for fut in pending:
                    fut.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                outcomes = sorted((chunk_of[fut], stalled) for fut in pending)
                pending = set()
            for i, outcome in outcomes:
                if isinstance(outcome, BaseException):
                    err = (
                        outcome
                        if isinstance(outcome, DistributedSweepError)
                        else DistributedSweepError(
                            f"chunk {i} failed on the workers ({type(outcome).__name__})"
                        )
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
                        progress(
                            Progress(
                                done,
                                total,
                                errors,
                                in_flight=total - done,
                                elapsed=time.monotonic() - started,
                            )
                        )
                    yield result
    finally:
        for fut in pending:
            fut.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
