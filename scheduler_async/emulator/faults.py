"""Fault, latency and rate-limit knobs of the emulator (all off by default).

Everything here runs on **real monotonic time**, not the business clock: latency and stalls are
real sleeps, the rate-limit window is real seconds.  Faults are drawn from a seeded
``random.Random(seed)`` (seed 0 unless given), one draw per request that matches a route rule, so
a test run is reproducible for a given request order.  Only ``/v3/...`` requests are affected;
the admin API under ``/_emulator/`` never is.

Order applied to each request: latency sleep → rate limit (429 ``rate_limit_error`` with an
integer ``Retry-After``) → one fault draw for the first matching route rule:

* ``error_500``: 500 ``internal_error``, nothing applied.
* ``error_503``: 503 ``service_unavailable`` with ``Retry-After``, nothing applied.
* ``error_429``: 429 ``rate_limit_error`` with ``Retry-After``, nothing applied.
* ``drop_before``: the connection is aborted before the handler runs (nothing applied).
* ``drop_after``: the handler runs (the change is applied), then the connection is aborted
  without a response.
* ``stall``: the handler runs, then the response is held for ``stall_seconds``.

Route keys, tried in this order: ``"METHOD /route/{template}"`` (e.g.
``"GET /v3/scheduling/bookings/{booking_id}"``), ``"METHOD /actual/path"``, ``"/route/{template}"``
(any method), ``"*"``.  A rule with ``times=N`` fires at most N times and then removes itself.
"""

from __future__ import annotations

import dataclasses
import math
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["FAULT_KINDS", "FaultConfig", "FaultDecision", "RateLimit", "RouteFaults"]

FAULT_KINDS = ("error_500", "error_503", "error_429", "drop_before", "drop_after", "stall")


@dataclass(frozen=True)
class RouteFaults:
    """Fault probabilities (0..1, summing to at most 1) for one route key."""

    error_500: float = 0.0
    error_503: float = 0.0
    error_429: float = 0.0
    drop_before: float = 0.0
    drop_after: float = 0.0
    stall: float = 0.0
    stall_seconds: float = 1.0
    retry_after: int = 1
    times: int | None = None

    def __post_init__(self) -> None:
        total = 0.0
        for kind in FAULT_KINDS:
            p = getattr(self, kind)
            if not isinstance(p, int | float) or isinstance(p, bool) or not 0.0 <= p <= 1.0:
                raise ValueError(f"{kind} must be a probability between 0 and 1")
            total += p
        if total > 1.0 + 1e-9:
            raise ValueError("fault probabilities must sum to at most 1")
        if self.stall_seconds < 0:
            raise ValueError("stall_seconds must be >= 0")
        if not isinstance(self.retry_after, int) or self.retry_after < 0:
            raise ValueError("retry_after must be a non-negative integer")
        if self.times is not None and (not isinstance(self.times, int) or self.times < 1):
            raise ValueError("times must be a positive integer or None")

    def to_json(self) -> dict[str, Any]:
        """JSON form (admin API)."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class RateLimit:
    """At most ``requests`` requests per ``window_seconds`` of real time (fixed window)."""

    requests: int
    window_seconds: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.requests, int) or self.requests < 1:
            raise ValueError("rate_limit.requests must be a positive integer")
        if self.window_seconds <= 0:
            raise ValueError("rate_limit.window_seconds must be > 0")


@dataclass(frozen=True)
class FaultDecision:
    """What to do to one request."""

    kind: str
    stall_seconds: float = 0.0
    retry_after: int = 1


_FIELDS = {f.name for f in dataclasses.fields(RouteFaults)}


def _route_faults(value: RouteFaults | Mapping[str, Any]) -> RouteFaults:
    if isinstance(value, RouteFaults):
        return value
    unknown = set(value) - _FIELDS
    if unknown:
        raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
    return RouteFaults(**value)


class FaultConfig:
    """Thread-safe fault knobs shared by the app (emulator thread) and tests (their thread)."""

    def __init__(self, *, latency_ms: float = 0, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._initial_latency = float(latency_ms)
        self._initial_seed = 0 if seed is None else seed
        self.latency_ms = float(latency_ms)
        self.seed = self._initial_seed
        self.rate_limit: RateLimit | None = None
        self._routes: dict[str, RouteFaults] = {}
        self._remaining: dict[str, int] = {}
        self._rng = random.Random(self.seed)
        self._window_start = 0.0
        self._window_count = 0

    # ------------------------------------------------------------------ configuration

    def configure(
        self,
        *,
        latency_ms: float | None = None,
        rate_limit: RateLimit | tuple[int, float] | Mapping[str, Any] | bool | None = False,
        seed: int | None = None,
        routes: Mapping[str, RouteFaults | Mapping[str, Any]] | None = None,
    ) -> None:
        """Change the knobs given; others stay.

        ``rate_limit``: ``(requests, window_seconds)``, a :class:`RateLimit`, a mapping with
        those keys, or ``None`` to switch it off (``False``, the default, leaves it unchanged).
        ``routes`` replaces all route rules.  ``seed`` reseeds the RNG.
        """
        parsed_routes = None if routes is None else {k: _route_faults(v) for k, v in routes.items()}
        limit: RateLimit | None = None
        if rate_limit is not False and rate_limit is not None and rate_limit is not True:
            if isinstance(rate_limit, RateLimit):
                limit = rate_limit
            elif isinstance(rate_limit, tuple):
                limit = RateLimit(int(rate_limit[0]), float(rate_limit[1]))
            else:
                limit = RateLimit(
                    int(rate_limit["requests"]), float(rate_limit.get("window_seconds", 1.0))
                )
        if latency_ms is not None and latency_ms < 0:
            raise ValueError("latency_ms must be >= 0")
        with self._lock:
            if latency_ms is not None:
                self.latency_ms = float(latency_ms)
            if rate_limit is not False:
                self.rate_limit = limit
                self._window_count = 0
            if seed is not None:
                self.seed = seed
                self._rng = random.Random(seed)
            if parsed_routes is not None:
                self._routes = parsed_routes
                self._remaining = {
                    k: v.times for k, v in parsed_routes.items() if v.times is not None
                }

    def set_route(self, route: str = "*", **faults: Any) -> RouteFaults:
        """Set (replace) the fault rule of one route key, e.g. ``set_route("*", error_503=0.2)``."""
        rule = _route_faults(faults)
        with self._lock:
            self._routes[route] = rule
            if rule.times is not None:
                self._remaining[route] = rule.times
            else:
                self._remaining.pop(route, None)
        return rule

    def clear_route(self, route: str) -> None:
        """Remove one route rule (no error if absent)."""
        with self._lock:
            self._routes.pop(route, None)
            self._remaining.pop(route, None)

    def reset(self) -> None:
        """Everything back to the construction values; RNG reseeded."""
        with self._lock:
            self.latency_ms = self._initial_latency
            self.seed = self._initial_seed
            self._rng = random.Random(self.seed)
            self.rate_limit = None
            self._routes = {}
            self._remaining = {}
            self._window_count = 0

    @property
    def routes(self) -> dict[str, RouteFaults]:
        """A copy of the route rules."""
        with self._lock:
            return dict(self._routes)

    def to_json(self) -> dict[str, Any]:
        """JSON form (admin API)."""
        with self._lock:
            limit = self.rate_limit
            return {
                "latency_ms": self.latency_ms,
                "seed": self.seed,
                "rate_limit": None
                if limit is None
                else {"requests": limit.requests, "window_seconds": limit.window_seconds},
                "routes": {
                    k: {**v.to_json(), "remaining": self._remaining.get(k)}
                    for k, v in self._routes.items()
                },
            }

    def configure_from_json(self, body: Mapping[str, Any]) -> None:
        """Apply an admin ``PUT /_emulator/faults`` body (keys present are replaced)."""
        unknown = set(body) - {"latency_ms", "rate_limit", "seed", "routes"}
        if unknown:
            raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
        routes = body.get("routes")
        if routes is not None and not isinstance(routes, Mapping):
            raise ValueError("routes must be an object of route key -> fault rule")
        rate_limit = body.get("rate_limit", False)
        if rate_limit not in (False, None) and not isinstance(rate_limit, Mapping):
            raise ValueError("rate_limit must be an object {requests, window_seconds} or null")
        latency = body.get("latency_ms")
        if latency is not None and (
            isinstance(latency, bool) or not isinstance(latency, int | float)
        ):
            raise ValueError("latency_ms must be a number")
        seed = body.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError("seed must be an integer")
        self.configure(latency_ms=latency, rate_limit=rate_limit, seed=seed, routes=routes)

    # ------------------------------------------------------------------ per request

    @property
    def active(self) -> bool:
        """True when a rate limit or any route rule is set (cheap check on the hot path)."""
        return self.rate_limit is not None or bool(self._routes)

    def check_rate_limit(self) -> int | None:
        """Count one request; the ``Retry-After`` seconds if it is over the limit, else None."""
        limit = self.rate_limit
        if limit is None:
            return None
        now = time.monotonic()
        with self._lock:
            if now - self._window_start >= limit.window_seconds:
                self._window_start = now
                self._window_count = 0
            self._window_count += 1
            if self._window_count <= limit.requests:
                return None
            left = limit.window_seconds - (now - self._window_start)
            return max(1, math.ceil(left))

    def decide(self, method: str, template: str | None, path: str) -> FaultDecision | None:
        """Draw the fault (if any) for one request."""
        if not self._routes:
            return None
        keys = [f"{method} {template}"] if template else []
        keys += [f"{method} {path}"]
        if template:
            keys.append(template)
        keys.append("*")
        with self._lock:
            for key in keys:
                rule = self._routes.get(key)
                if rule is not None:
                    break
            else:
                return None
            draw = self._rng.random()
            cumulative = 0.0
            for kind in FAULT_KINDS:
                cumulative += getattr(rule, kind)
                if draw < cumulative:
                    break
            else:
                return None
            remaining = self._remaining.get(key)
            if remaining is not None:
                if remaining <= 1:
                    self._routes.pop(key, None)
                    self._remaining.pop(key, None)
                else:
                    self._remaining[key] = remaining - 1
            return FaultDecision(kind, rule.stall_seconds, rule.retry_after)
