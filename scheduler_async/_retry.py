"""The retry policy as pure functions and small classes; the transport applies it. No I/O.

The rule that protects users' data: a request that **creates** something (a ``POST``) is repeated
only when it provably never reached the server (the connection could not be opened, or no pooled
connection became free in time) or when the server said it did nothing (429, 503). After a read
timeout, a connection dropped once the request was sent, or another 5xx, the outcome is unknown and
the caller gets :class:`~scheduler_async.errors.OutcomeUnknownError` instead of a retry.

Reads and writes that can be repeated safely (GET, PUT, DELETE, and the PATCH that sets absolute
times) are retried after any transient failure: 429, 500, 502, 503, 504, timeouts and connection
errors (repeating them cannot do harm, and a 500 is often a passing fault).
"""

from __future__ import annotations

import enum
import math
import random
from collections.abc import Callable
from email.utils import parsedate_to_datetime

import attrs

__all__ = [
    "Failure",
    "RetryBudget",
    "RetryDecision",
    "RetryPolicy",
    "backoff_delay",
    "decide",
    "parse_retry_after",
]


class Failure(enum.Enum):
    """What went wrong with one attempt, as far as repeating it is concerned."""

    NOT_SENT = "not_sent"
    """The request provably never reached the server (connect error, pool wait timeout)."""
    SENT_NO_ANSWER = "sent_no_answer"
    """It may have reached the server: read timeout, reset after sending, truncated answer."""
    STATUS = "status"
    """The server answered with an error status."""


RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
"""Statuses retried for requests that are safe to repeat."""
NOT_APPLIED_STATUSES = frozenset({429, 503})
"""Statuses meaning the server did nothing, so even a create may be repeated: a 429 always, a 503
only when it carries ``Retry-After`` (a bare 503 may come from behind the point of no return)."""


@attrs.frozen(slots=True, kw_only=True)
class RetryPolicy:
    """How failed attempts are repeated. ``max_retries=0`` disables retries."""

    max_retries: int = 2
    """Retries after the first attempt."""
    backoff_base: float = 0.5
    """Seconds; attempt ``n`` waits ``uniform(0, min(backoff_cap, backoff_base * 2**n))``."""
    backoff_cap: float = 8.0
    """Upper bound of one backoff delay, seconds."""
    max_retry_after: float = 60.0
    """A ``Retry-After`` longer than this is not waited for: the error is raised instead."""
    deadline: float | None = None
    """Overall seconds across all attempts and waits; ``None`` means no overall bound."""
    budget_capacity: int = 500
    """Size of the per-client retry token bucket (botocore's retry quota)."""
    retry_cost: int = 5
    """Tokens a retry costs."""
    throttle_retry_cost: int = 0
    """Tokens a retry after a 429 with ``Retry-After`` costs: the server said when, and the
    rate limiter slows the whole client down, so throttling never spends the budget that
    guards against outages."""
    timeout_retry_cost: int = 10
    """Tokens a retry after a timeout or connection error costs."""
    success_refund: int = 1
    """Tokens a successful call puts back."""

    def __attrs_post_init__(self) -> None:
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int):
            raise TypeError("max_retries must be an int")
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if self.backoff_base < 0 or self.backoff_cap < 0 or self.max_retry_after < 0:
            raise ValueError("backoff_base, backoff_cap and max_retry_after must be >= 0")
        if self.deadline is not None and self.deadline <= 0:
            raise ValueError("deadline must be > 0 seconds")


class RetryBudget:
    """A token bucket shared by every call of one client, so an outage is not a retry storm.

    Each retry takes tokens; each success refunds a few. When the bucket is empty, failures are
    raised at once instead of retried. Not thread-safe: it lives on the client's event loop.
    """

    def __init__(self, capacity: int = 500) -> None:
        self.capacity = capacity
        self._tokens = capacity

    @property
    def available(self) -> int:
        """Tokens left."""
        return self._tokens

    def acquire(self, cost: int) -> bool:
        """Take ``cost`` tokens for a retry; ``False`` (and nothing taken) if there are too few."""
        if cost > self._tokens:
            return False
        self._tokens -= cost
        return True

    def refund(self, amount: int) -> None:
        """Return tokens after a success, never above capacity."""
        self._tokens = min(self.capacity, self._tokens + amount)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), or ``None``.

    Garbage, NaN and negative values give ``None``; a date in the past gives ``0``.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when is None or when.tzinfo is None:
            return None
        return max(0.0, when.timestamp() - now)
    if math.isnan(seconds) or math.isinf(seconds) or seconds < 0:
        return None
    return seconds


def backoff_delay(attempt: int, policy: RetryPolicy, rand: Callable[[], float]) -> float:
    """Full-jitter exponential backoff for retry number ``attempt`` (0-based)."""
    ceiling = min(policy.backoff_cap, policy.backoff_base * (2 ** min(attempt, 30)))
    return float(ceiling * rand())


@attrs.frozen(slots=True)
class RetryDecision:
    """What to do after a failed attempt."""

    retry: bool
    delay: float = 0.0
    outcome_unknown: bool = False
    reason: str = ""


def decide(
    *,
    repeatable: bool,
    failure: Failure,
    status: int | None,
    retry_after: float | None,
    retries_done: int,
    policy: RetryPolicy,
    elapsed: float,
    rand: Callable[[], float] = random.random,
) -> RetryDecision:
    """Decide whether to retry a failed attempt and how long to wait first.

    ``repeatable`` is true for requests safe to repeat (GET, PUT, DELETE, absolute PATCH) and false
    for creates. ``outcome_unknown`` is set when a create failed in a way that may have applied it.
    The retry budget is the transport's business (it is stateful); this function is pure.
    """
    if failure is Failure.STATUS:
        assert status is not None
        if status not in RETRYABLE_STATUSES:
            unknown = not repeatable and status >= 500
            return RetryDecision(False, outcome_unknown=unknown, reason=f"status {status}")
        if not repeatable and (
            status not in NOT_APPLIED_STATUSES or (status == 503 and retry_after is None)
        ):
            return RetryDecision(False, outcome_unknown=True, reason=f"status {status}")
        reason = f"status {status}"
    elif failure is Failure.SENT_NO_ANSWER:
        if not repeatable:
            return RetryDecision(False, outcome_unknown=True, reason="no answer after sending")
        reason = "no answer after sending"
    else:
        reason = "connection not established"

    if retries_done >= policy.max_retries:
        return RetryDecision(False, reason=f"{reason}; retries exhausted")
    if retry_after is not None and retry_after > policy.max_retry_after:
        return RetryDecision(False, reason=f"{reason}; Retry-After {retry_after:g}s above maximum")
    delay = backoff_delay(retries_done, policy, rand)
    if retry_after is not None:
        delay = max(delay, retry_after)
    if policy.deadline is not None and elapsed + delay >= policy.deadline:
        return RetryDecision(False, reason=f"{reason}; deadline reached")
    return RetryDecision(True, delay=delay, reason=reason)
