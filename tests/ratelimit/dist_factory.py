"""Client factory the multi-process test's workers import (``SCHEDULER_SWEEP_CLIENT_FACTORY``)."""

from __future__ import annotations

import os

from scheduler_async import AsyncScheduler, Limits, RetryPolicy
from scheduler_async.distributed import ENV_APPLICATION, ENV_RATE, ENV_REDIS_URL
from scheduler_async.ratelimit import RateLimiter
from scheduler_async.ratelimit_redis import RedisRateLimiter


def emulator_client() -> tuple[AsyncScheduler, RateLimiter | None]:
    """A client of the emulator in ``NYLAS_API_URI`` whose budget (``SCHEDULER_SWEEP_RATE``
    requests per second for all workers) is shared through the Redis in
    ``SCHEDULER_SWEEP_REDIS_URL``."""
    rate = os.environ.get(ENV_RATE)
    limiter = RedisRateLimiter(
        float(rate) if rate else None,
        application=os.environ.get(ENV_APPLICATION) or "test",
        url=os.environ[ENV_REDIS_URL],
    )
    client = AsyncScheduler(
        api_key=os.environ["NYLAS_API_KEY"],
        retry=RetryPolicy(max_retries=5, backoff_base=0.05),
        limits=Limits(max_connections=20),
        rate_limit=limiter,
    )
    return client, limiter
