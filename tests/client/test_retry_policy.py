"""The pure retry policy: what is retried, how long to wait, the budget. Table-tested."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from scheduler_async._retry import (
    Failure,
    RetryBudget,
    RetryPolicy,
    backoff_delay,
    decide,
    parse_retry_after,
)

NOW = 1_700_000_000.0
POLICY = RetryPolicy(max_retries=3, backoff_base=1.0, backoff_cap=8.0, max_retry_after=30)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", 5.0),
        ("0", 0.0),
        ("1.5", 1.5),
        (" 7 ", 7.0),
        ("-3", None),
        ("nan", None),
        ("inf", None),
        ("soon", None),
        ("", None),
        (None, None),
        (format_datetime(datetime.fromtimestamp(NOW + 12, UTC), usegmt=True), 12.0),
        (format_datetime(datetime.fromtimestamp(NOW - 100, UTC), usegmt=True), 0.0),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_full_jitter_backoff_is_bounded_and_capped() -> None:
    assert backoff_delay(0, POLICY, lambda: 1.0) == 1.0
    assert backoff_delay(2, POLICY, lambda: 1.0) == 4.0
    assert backoff_delay(10, POLICY, lambda: 1.0) == 8.0
    assert backoff_delay(3, POLICY, lambda: 0.0) == 0.0
    assert backoff_delay(1, POLICY, lambda: 0.5) == 1.0


# (repeatable, failure, status) -> (retry?, outcome_unknown?)
CASES = [
    # safe to repeat: retry transient failures, never non-transient statuses
    (True, Failure.NOT_SENT, None, True, False),
    (True, Failure.SENT_NO_ANSWER, None, True, False),
    (True, Failure.STATUS, 429, True, False),
    (True, Failure.STATUS, 502, True, False),
    (True, Failure.STATUS, 503, True, False),
    (True, Failure.STATUS, 504, True, False),
    (True, Failure.STATUS, 500, True, False),
    (True, Failure.STATUS, 501, False, False),
    (True, Failure.STATUS, 400, False, False),
    (True, Failure.STATUS, 404, False, False),
    # creates: only when provably not applied
    (False, Failure.NOT_SENT, None, True, False),
    (False, Failure.STATUS, 429, True, False),
    (False, Failure.STATUS, 503, False, True),  # no Retry-After: it may have been applied
    (False, Failure.SENT_NO_ANSWER, None, False, True),
    (False, Failure.STATUS, 500, False, True),
    (False, Failure.STATUS, 502, False, True),
    (False, Failure.STATUS, 504, False, True),
    (False, Failure.STATUS, 400, False, False),
    (False, Failure.STATUS, 409, False, False),
]


@pytest.mark.parametrize(("repeatable", "failure", "status", "retry", "unknown"), CASES)
def test_decide_table(
    repeatable: bool, failure: Failure, status: int | None, retry: bool, unknown: bool
) -> None:
    d = decide(
        repeatable=repeatable,
        failure=failure,
        status=status,
        retry_after=None,
        retries_done=0,
        policy=POLICY,
        elapsed=0.0,
        rand=lambda: 0.5,
    )
    assert (d.retry, d.outcome_unknown) == (retry, unknown)
    if retry:
        assert d.delay == 0.5


@pytest.mark.parametrize(("status", "retry_after"), [(503, 2.0), (429, 2.0), (429, None)])
def test_a_create_is_repeated_only_when_the_server_said_it_did_nothing(
    status: int, retry_after: float | None
) -> None:
    d = decide(
        repeatable=False,
        failure=Failure.STATUS,
        status=status,
        retry_after=retry_after,
        retries_done=0,
        policy=POLICY,
        elapsed=0.0,
        rand=lambda: 0.5,
    )
    assert d.retry and not d.outcome_unknown
    assert d.delay == (retry_after if retry_after is not None else 0.5)


def test_retries_are_bounded_by_max_retries() -> None:
    kwargs = dict(repeatable=True, failure=Failure.NOT_SENT, status=None, retry_after=None)
    assert decide(**kwargs, retries_done=2, policy=POLICY, elapsed=0).retry  # type: ignore[arg-type]
    last = decide(**kwargs, retries_done=3, policy=POLICY, elapsed=0)  # type: ignore[arg-type]
    assert not last.retry and "exhausted" in last.reason
    none = decide(**kwargs, retries_done=0, policy=RetryPolicy(max_retries=0), elapsed=0)  # type: ignore[arg-type]
    assert not none.retry


def test_retry_after_is_honoured_and_capped() -> None:
    d = decide(
        repeatable=True,
        failure=Failure.STATUS,
        status=429,
        retry_after=12.0,
        retries_done=0,
        policy=POLICY,
        elapsed=0,
        rand=lambda: 0.1,
    )
    assert d.retry and d.delay == 12.0
    too_long = decide(
        repeatable=True,
        failure=Failure.STATUS,
        status=429,
        retry_after=31.0,
        retries_done=0,
        policy=POLICY,
        elapsed=0,
    )
    assert not too_long.retry and "above maximum" in too_long.reason


def test_deadline_stops_retries() -> None:
    policy = RetryPolicy(max_retries=5, backoff_base=1.0, deadline=2.0)
    d = decide(
        repeatable=True,
        failure=Failure.NOT_SENT,
        status=None,
        retry_after=None,
        retries_done=0,
        policy=policy,
        elapsed=1.5,
        rand=lambda: 1.0,
    )
    assert not d.retry and "deadline" in d.reason


def test_budget_takes_and_refunds() -> None:
    budget = RetryBudget(capacity=12)
    assert budget.acquire(5) and budget.acquire(5)
    assert not budget.acquire(5)
    assert budget.available == 2
    budget.refund(100)
    assert budget.available == 12


@pytest.mark.parametrize(
    "kwargs",
    [{"max_retries": -1}, {"backoff_base": -1.0}, {"deadline": 0.0}],
)
def test_policy_validation(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_policy_rejects_bool_retries() -> None:
    with pytest.raises(TypeError):
        RetryPolicy(max_retries=True)
