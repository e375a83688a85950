"""Rate-limit enforcement for the emulator: 429 with ``Retry-After``, per API key (off by default).

The real Scheduler answers a throttled request with 429, a ``rate_limit_error`` envelope and an
integer ``Retry-After`` (scheduler-api.md, "Rate limits and headers"); its limits are not
published, so the shape here is an assumption kept configurable: a GCRA (leaky bucket) of
``rate`` requests per second per key with a tolerance of ``burst`` requests, keyed by

* ``"api_key"`` (default): the bearer token (API key or session), ``"anonymous"`` without one;
* ``"grant"``: the grant in ``/v3/grants/{grant_id}/...``, else the ``configuration_id`` or
  ``slug`` asked for, else the bearer token;
* ``"application"``: one budget for everything the emulator serves.

Keys are stored as short SHA-256 digests, so no token ever appears in stats. Time is real
monotonic time (injectable ``clock``), not the emulator's business clock.

Counters, kept whether or not a limit is set: requests seen, requests answered 429, and the peak
rate observed (the most requests, admitted or not, that arrived within any 1-second window).

Wired into the emulator: ``create_app(rate_limit=100)`` / ``Emulator(rate_limit=100)`` /
``python -m scheduler_async emulator --rate-limit 100`` (off when not given). :func:`setup_routes`
(in ``app.ROUTE_MODULES``) keeps the app's limiter under :data:`RATE_LIMIT_KEY`, serves
``GET/PUT/DELETE /_emulator/rate_limit`` and restores the startup settings (counters zeroed) on
``POST /_emulator/reset``; :func:`middleware` (in ``app.MIDDLEWARES``) enforces it. For an app of
your own: ``rate_limit_middleware(limiter)`` and ``app.add_routes(admin_routes(limiter))``.
"""

from __future__ import annotations

import collections
import hashlib
import json
import math
import re
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from scheduler_async.emulator.web_common import REQUEST_ID, STORE_KEY

__all__ = [
    "KEY_BY",
    "RATE_LIMIT_KEY",
    "EmulatorRateLimit",
    "admin_routes",
    "coerce_emulator_rate_limit",
    "middleware",
    "rate_limit_middleware",
    "setup_routes",
]

KEY_BY = ("api_key", "grant", "application")
"""What a rate budget is kept per."""

_GRANT_PATH = re.compile(r"^/v3/grants/([^/]+)/")
_WINDOW = 1.0

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class EmulatorRateLimit:
    """Per-key GCRA limiter with counters; thread-safe (the emulator may run in a thread).

    ``rate=None`` (default) enforces nothing but still counts. ``burst`` defaults to a tenth of
    a second's worth of requests (at least 1): a client sending at exactly ``rate`` with some
    network jitter is not refused.
    """

    def __init__(
        self,
        rate: float | None = None,
        *,
        burst: int | None = None,
        key_by: str = "api_key",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.rate: float | None = None
        self.burst = 1
        self.key_by = "api_key"
        self._tat: dict[str, float] = {}
        self._recent: collections.deque[float] = collections.deque()
        self.requests = 0
        self.rejected = 0
        self.peak_rate = 0
        self.configure(rate=rate, burst=burst, key_by=key_by)
        self._initial = (self.rate, burst, self.key_by)
        self._stores: list[Any] = []

    # ------------------------------------------------------------------ configuration
    def configure(
        self, *, rate: float | None, burst: int | None = None, key_by: str = "api_key"
    ) -> None:
        """Set (or with ``rate=None`` switch off) the limit; budgets start afresh."""
        if rate is not None:
            if isinstance(rate, bool) or not isinstance(rate, int | float):
                raise ValueError("rate must be a number of requests per second or null")
            if math.isnan(rate) or math.isinf(rate) or rate <= 0:
                raise ValueError("rate must be > 0")
        if burst is not None and (isinstance(burst, bool) or not isinstance(burst, int)):
            raise ValueError("burst must be an integer")
        if burst is not None and burst < 1:
            raise ValueError("burst must be >= 1")
        if key_by not in KEY_BY:
            raise ValueError(f"key_by must be one of {', '.join(KEY_BY)}")
        with self._lock:
            self.rate = None if rate is None else float(rate)
            self.burst = burst if burst is not None else max(1, round((rate or 0) / 10))
            self.key_by = key_by
            self._tat.clear()

    def reset_stats(self) -> None:
        """Zero the counters (the limit stays)."""
        with self._lock:
            self.requests = self.rejected = self.peak_rate = 0
            self._recent.clear()

    def reset(self) -> None:
        """Limit off and counters zeroed."""
        self.configure(rate=None)
        self.reset_stats()

    def restore(self) -> None:
        """Back to the settings it was built with, counters zeroed (the emulator's reset)."""
        rate, burst, key_by = self._initial
        self.configure(rate=rate, burst=burst, key_by=key_by)
        self.reset_stats()

    def attach(self, store: Any) -> None:
        """Call :meth:`restore` whenever ``store`` (an emulator ``Store``) is reset; once per
        store however many apps are built on it."""
        if not any(s is store for s in self._stores):
            self._stores.append(store)
            store.on_reset(self.restore)

    @property
    def enabled(self) -> bool:
        """Whether a limit is enforced."""
        return self.rate is not None

    # ------------------------------------------------------------------ per request
    def key(
        self,
        *,
        authorization: str | None,
        path: str,
        query: Mapping[str, str] | None = None,
    ) -> str:
        """The budget key of a request (a digest; never the token itself)."""
        token = None
        if authorization and authorization[:7].lower() == "bearer ":
            token = authorization[7:].strip() or None
        if self.key_by == "application":
            return "application"
        if self.key_by == "grant":
            m = _GRANT_PATH.match(path)
            if m:
                return "grant:" + _digest(m.group(1))
            q = query or {}
            for name in ("configuration_id", "slug"):
                if q.get(name):
                    return f"{name}:" + _digest(q[name])
        return "anonymous" if token is None else "token:" + _digest(token)

    def check(self, key: str, now: float | None = None) -> int | None:
        """Count one request of ``key``; ``Retry-After`` seconds if it must be refused."""
        now = self._clock() if now is None else now
        with self._lock:
            self.requests += 1
            recent = self._recent
            recent.append(now)
            while recent and recent[0] <= now - _WINDOW:
                recent.popleft()
            if len(recent) > self.peak_rate:
                self.peak_rate = len(recent)
            rate = self.rate
            if rate is None:
                return None
            interval = 1.0 / rate
            tat = max(self._tat.get(key, now), now)
            allowed_at = tat - (self.burst - 1) * interval
            if now + 1e-9 < allowed_at:
                self.rejected += 1
                return max(1, math.ceil(allowed_at - now))
            self._tat[key] = tat + interval
            return None

    def stats(self) -> dict[str, Any]:
        """Settings and counters as JSON-ready data (admin API)."""
        with self._lock:
            return {
                "rate": self.rate,
                "burst": self.burst,
                "key_by": self.key_by,
                "requests": self.requests,
                "rejected": self.rejected,
                "peak_rate": self.peak_rate,
                "keys": len(self._tat),
            }

    def configure_from_json(self, body: Mapping[str, Any]) -> None:
        """Apply an admin ``PUT /_emulator/rate_limit`` body ``{rate, burst?, key_by?}``."""
        unknown = set(body) - {"rate", "burst", "key_by"}
        if unknown:
            raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
        self.configure(
            rate=body.get("rate"), burst=body.get("burst"), key_by=body.get("key_by", "api_key")
        )


# --------------------------------------------------------------------------- aiohttp glue


def _envelope(
    request_id: str, status: int, error_type: str, message: str, headers: dict[str, str]
) -> web.Response:
    body = {"request_id": request_id, "error": {"type": error_type, "message": message}}
    return web.Response(
        body=json.dumps(body, separators=(",", ":")).encode(),
        status=status,
        headers={"X-Request-Id": request_id, **headers},
        content_type="application/json",
    )


def _refuse(
    limiter: EmulatorRateLimit,
    request: web.Request,
    request_id: Callable[[web.Request], str] | None,
) -> web.Response | None:
    """Count a ``/v3/...`` request; the 429 answer if it is over the limit, else ``None``."""
    if not request.path.startswith("/v3/"):
        return None
    key = limiter.key(
        authorization=request.headers.get("Authorization"),
        path=request.path,
        query=request.query,
    )
    retry_after = limiter.check(key)
    if retry_after is None:
        return None
    rid = request_id(request) if request_id is not None else str(uuid.uuid4())
    return _envelope(
        rid,
        429,
        "rate_limit_error",
        "Too many requests, please try again shortly.",
        {"Retry-After": str(retry_after)},
    )


def rate_limit_middleware(
    limiter: EmulatorRateLimit,
    *,
    request_id: Callable[[web.Request], str] | None = None,
) -> Any:
    """An aiohttp middleware answering 429 ``rate_limit_error`` + ``Retry-After`` when over.

    Only ``/v3/...`` requests count; the admin API never does. ``request_id`` gives the id for
    the envelope (default: a new UUID).
    """

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        refused = _refuse(limiter, request, request_id)
        return await handler(request) if refused is None else refused

    return middleware


def admin_routes(limiter: EmulatorRateLimit) -> list[web.RouteDef]:
    """``GET`` (settings + counters), ``PUT`` (configure), ``DELETE`` (off + zero counters) of
    ``/_emulator/rate_limit``; answers wrapped like the rest of the admin API."""

    def ok(data: Any) -> web.Response:
        rid = str(uuid.uuid4())
        return web.json_response({"request_id": rid, "data": data}, headers={"X-Request-Id": rid})

    async def get(request: web.Request) -> web.Response:
        return ok(limiter.stats())

    async def put(request: web.Request) -> web.Response:
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            limiter.configure_from_json(body)
        except ValueError as exc:
            rid = str(uuid.uuid4())
            return _envelope(rid, 400, "invalid_request_error", str(exc), {})
        return ok(limiter.stats())

    async def delete(request: web.Request) -> web.Response:
        limiter.reset()
        return ok(limiter.stats())

    path = "/_emulator/rate_limit"
    return [
        web.get(path, get, allow_head=False),
        web.put(path, put),
        web.delete(path, delete),
    ]


# --------------------------------------------------------------------------- emulator wiring

RATE_LIMIT_KEY = web.AppKey("rate_limit", EmulatorRateLimit)
"""The app's :class:`EmulatorRateLimit` (set by ``create_app``, else by :func:`setup_routes`)."""


def coerce_emulator_rate_limit(value: EmulatorRateLimit | float | None) -> EmulatorRateLimit:
    """``create_app(rate_limit=...)``: a limiter as is, a number of requests per second per API
    key, or ``None`` for no limit (requests still counted)."""
    if isinstance(value, EmulatorRateLimit):
        return value
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise TypeError("rate_limit must be requests per second, an EmulatorRateLimit or None")
    return EmulatorRateLimit(rate=value)


def setup_routes(app: web.Application) -> None:
    """Admin routes of the app's limiter (created, off, if ``create_app`` set none); reset with
    the store."""
    limiter = app.get(RATE_LIMIT_KEY)
    if limiter is None:
        limiter = app[RATE_LIMIT_KEY] = EmulatorRateLimit()
    limiter.attach(app[STORE_KEY])
    app.add_routes(admin_routes(limiter))


def _request_id(request: web.Request) -> str:
    return request.get(REQUEST_ID) or str(uuid.uuid4())


@web.middleware
async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Enforce (and count) the app's limit on ``/v3/...`` requests; the envelope carries the
    request's id."""
    limiter = request.app.get(RATE_LIMIT_KEY)
    refused = None if limiter is None else _refuse(limiter, request, _request_id)
    return await handler(request) if refused is None else refused
