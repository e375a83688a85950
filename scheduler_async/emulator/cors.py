"""CORS for the emulator, so a browser page on another origin (the booking page) can call it.

The ``<nylas-scheduling>`` web component sends ``Content-Type: application/json`` and custom
``X-*`` headers on every call, so every call is preflighted.  :func:`cors_middleware` answers
the preflight (``OPTIONS`` with ``Access-Control-Request-Method``) itself, on every path, with
``204`` and the allowed methods and headers, and puts ``Access-Control-Allow-Origin`` and
``Access-Control-Expose-Headers: X-Request-Id, Retry-After`` on every other answer, error
envelopes included.  Add it as the FIRST (outermost) middleware so it wraps everything the
emulator answers, faults and errors included; preflights never reach the inner middlewares
(they are not delayed, faulted or rate-limited).

Allowed origins default to any (``*``; the emulator is a local tool and the component never
sends cookies).  With a list, an allowed ``Origin`` is echoed (with ``Vary: Origin``), other
origins get no CORS headers (the browser then blocks the call) and their preflight is a 403.
A preflight asking ``Access-Control-Request-Private-Network`` (Chromium, public page calling
a loopback emulator) is granted for allowed origins.

``exclude`` names requests CORS never applies to (the emulator passes its admin API): their
preflight is a 403 without CORS headers, a request whose ``Origin`` is not the emulator's own
origin (a browser page elsewhere; browsers send ``Origin`` on cross-origin POSTs even when no
preflight is needed) is refused with 403 before it runs, and answers carry no CORS headers.

A small middleware rather than ``aiohttp-cors``: the emulator ships in the core package whose
dependencies stay aiohttp/attrs/cattrs/anyio, aiohttp-cors needs every route registered with it
(and an explicit ``OPTIONS`` resource each), and it adds nothing to answers it does not route
(404/405 envelopes) -- the component needs the headers on those too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping

from aiohttp import web

__all__ = [
    "ALLOWED_HEADERS",
    "ALLOWED_METHODS",
    "EXPOSED_HEADERS",
    "cors_middleware",
    "is_cors_middleware",
]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]

ALLOWED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ALLOWED_HEADERS = (
    "authorization",
    "content-type",
    "x-nylas-application-public-id",
    "x-nylas-web-elements-version",
    "x-source",
)
EXPOSED_HEADERS = ("X-Request-Id", "Retry-After")
PREFLIGHT_MAX_AGE = 600  # seconds a browser may cache a preflight answer

_MARKER = "_scheduler_emulator_cors"


def _parse_origins(allowed_origins: str | Iterable[str] | None) -> frozenset[str] | None:
    """None means any origin."""
    if allowed_origins is None:
        return None
    items = [allowed_origins] if isinstance(allowed_origins, str) else list(allowed_origins)
    origins: set[str] = set()
    for item in items:
        for part in item.split(","):
            origin = part.strip().rstrip("/")
            if origin == "*":
                return None
            if origin:
                origins.add(origin)
    return frozenset(origins)


def cors_middleware(
    allowed_origins: str | Iterable[str] | None = None,
    *,
    exclude: Callable[[web.Request], bool] | None = None,
) -> Middleware:
    """Build the CORS middleware.

    ``allowed_origins``: None, ``"*"`` or an iterable containing ``"*"`` = any origin; else
    origins such as ``"http://localhost:8000"`` (an iterable, or one comma-separated string).
    ``exclude(request)`` true: CORS does not apply, cross-origin browser requests are refused.
    """
    origins = _parse_origins(allowed_origins)

    def excluded(request: web.Request) -> web.StreamResponse | None:
        # None: let the request through (no CORS headers); else the refusal.
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            return web.Response(status=403, text="CORS does not apply to this path")
        origin = request.headers.get("Origin")
        if origin is not None and origin.rstrip("/") != f"{request.scheme}://{request.host}":
            return web.Response(status=403, text="cross-origin requests are refused here")
        return None

    def allow_origin(request: web.Request) -> str | None:
        if origins is None:
            return "*"
        origin = request.headers.get("Origin", "").rstrip("/")
        return origin if origin in origins else None

    def decorate(headers: MutableMapping[str, str], allowed: str | None) -> None:
        if origins is not None:
            headers["Vary"] = "Origin"
        if allowed is None:
            return
        headers["Access-Control-Allow-Origin"] = allowed
        headers["Access-Control-Expose-Headers"] = ", ".join(EXPOSED_HEADERS)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if exclude is not None and exclude(request):
            refusal = excluded(request)
            return refusal if refusal is not None else await handler(request)
        allowed = allow_origin(request)
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            headers: dict[str, str] = {}
            decorate(headers, allowed)
            if allowed is None:
                return web.Response(status=403, headers=headers, text="origin not allowed")
            headers["Access-Control-Allow-Methods"] = ", ".join(ALLOWED_METHODS)
            headers["Access-Control-Allow-Headers"] = ", ".join(ALLOWED_HEADERS)
            headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
            if request.headers.get("Access-Control-Request-Private-Network", "") == "true":
                headers["Access-Control-Allow-Private-Network"] = "true"
            return web.Response(status=204, headers=headers)
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # not turned into an envelope by an inner middleware
            decorate(exc.headers, allowed)
            raise
        if not response.prepared:
            decorate(response.headers, allowed)
        return response

    setattr(middleware, _MARKER, True)  # lets callers avoid adding it twice
    return middleware


def is_cors_middleware(obj: object) -> bool:
    """True for a middleware built by :func:`cors_middleware`."""
    return bool(getattr(obj, _MARKER, False))
