"""Worker client factories of ``bench_distributed.py`` (``SCHEDULER_SWEEP_CLIENT_FACTORY``)."""

from __future__ import annotations

import os

from scheduler_async import AsyncScheduler, LocalRateLimiter, RetryPolicy
from scheduler_async.ratelimit import RateLimiter
from scheduler_async.ratelimit_redis import RedisRateLimiter

RETRY = RetryPolicy(max_retries=8, backoff_base=0.1)


def _rate() -> float:
    return float(os.environ["SCHEDULER_SWEEP_RATE"])


def shared() -> tuple[AsyncScheduler, RateLimiter | None]:
    """One budget of R for every worker, kept in Redis."""
    limiter = RedisRateLimiter(
        _rate(),
        application=os.environ["SCHEDULER_SWEEP_APPLICATION"],
        url=os.environ["SCHEDULER_SWEEP_REDIS_URL"],
    )
    return AsyncScheduler(retry=RETRY, rate_limit=limiter), limiter


def per_process() -> tuple[AsyncScheduler, RateLimiter | None]:
    """Each worker its own budget of R and its own 429 pause."""
    return AsyncScheduler(retry=RETRY, rate_limit=LocalRateLimiter(_rate())), None
