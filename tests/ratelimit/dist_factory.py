"""Client factory the multi-process test's workers import (``SCHEDULER_SWEEP_CLIENT_FACTORY``)."""

from __future__ import annotations

import os

from scheduler_async import AsyncScheduler, Limits, RetryPolicy
from scheduler_async.ratelimit import RateLimiter


def emulator_client() -> tuple[AsyncScheduler, RateLimiter | None]:
    """A client of the emulator in ``NYLAS_API_URI``.

    TODO(transport wiring): pass ``rate_limit=RedisRateLimiter(...)`` (i.e. use
    ``client_from_env``) once ``AsyncScheduler`` accepts it, and have the emulator enforce a limit.
    """
    client = AsyncScheduler(
        api_key=os.environ["NYLAS_API_KEY"],
        retry=RetryPolicy(max_retries=5, backoff_base=0.05),
        limits=Limits(max_connections=20),
    )
    return client, None
