"""Shared HTTP plumbing of the emulator's route modules (no routes here).

App keys (:data:`STORE_KEY`, :data:`FAULTS_KEY`, :data:`SETTINGS_KEY`), the request id, the
JSON envelopes (:func:`ok`, :func:`error_response`), request parsing (:func:`read_json`,
:func:`read_json_value`, :func:`int_value`, :func:`optional_int`, :func:`required_int`,
:func:`required_time`, :func:`optional_str`) and authentication (:func:`require_api_key`,
:func:`scheduling_config`).  A feature's route module imports what it needs from here.

Request bodies (:func:`read_json`).  The public spec does not say what the service does with a
JSON endpoint given another content type; the emulator behaves like a typical JSON API:

* a non-empty body whose ``Content-Type`` is neither ``application/json`` nor
  ``application/<anything>+json`` (parameters such as ``charset`` ignored) is a 400
  ``invalid_request_error`` naming the content type, e.g. ``text/plain`` or
  ``application/x-www-form-urlencoded`` (what ``curl -d`` sends by default);
* a body without a ``Content-Type`` header is parsed as JSON (lenient);
* an empty body is judged by the endpoint alone (required or not), whatever the content type
  (the booking page sends ``Content-Type: application/json`` even on GET);
* malformed JSON, a body that is not an object, or one nested deeper than
  :data:`MAX_JSON_DEPTH` levels is a 400 ``invalid_request_error`` (never a 500).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Self

from aiohttp import web

from scheduler_async.emulator.errors import EmulatorError
from scheduler_async.emulator.faults import FaultConfig
from scheduler_async.emulator.store import Store, StoredConfiguration
from scheduler_async.emulator.validation import check_timestamp, parse_int

__all__ = [
    "CLOCK_HOOKS_KEY",
    "DEFAULT_CLIENT_ID",
    "FAULTS_KEY",
    "MAX_JSON_DEPTH",
    "REQUEST_ID",
    "SETTINGS_KEY",
    "STORE_KEY",
    "TOKEN_GRANT",
    "AppThread",
    "ClockHook",
    "EmulatorSettings",
    "Handler",
    "bearer",
    "check_api_key",
    "error_response",
    "int_value",
    "json_bytes",
    "json_response",
    "ok",
    "optional_int",
    "optional_str",
    "read_json",
    "read_json_value",
    "request_id_of",
    "require_api_key",
    "required_int",
    "required_time",
    "scheduling_config",
]

#: Deepest nesting of arrays/objects accepted in a request body.
MAX_JSON_DEPTH = 32

DEFAULT_CLIENT_ID = "scheduler-emulator"

#: An aiohttp request handler (what a middleware wraps).
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class EmulatorSettings:
    """Per-app settings: auth mode, accepted keys and the application (client) id."""

    def __init__(
        self,
        *,
        strict: bool = False,
        api_keys: frozenset[str] | None = None,
        client_id: str = DEFAULT_CLIENT_ID,
    ) -> None:
        self.strict = strict
        self.api_keys = api_keys
        self.client_id = client_id

    @property
    def enforce_keys(self) -> bool:
        """True when only the listed API keys are accepted."""
        return self.strict or bool(self.api_keys)


STORE_KEY = web.AppKey("store", Store)
FAULTS_KEY = web.AppKey("faults", FaultConfig)
SETTINGS_KEY = web.AppKey("settings", EmulatorSettings)
REQUEST_ID = web.RequestKey("scheduler_emulator_request_id", str)
#: Set (by :mod:`.connect`) when a grant route's Bearer is a live access token: its grant id.
TOKEN_GRANT = web.RequestKey("scheduler_emulator_token_grant", str)

#: Something to run after the admin API moved the business clock (e.g. due webhook deliveries).
ClockHook = Callable[[], Awaitable[None]]
#: The app's clock hooks (a feature appends to ``app.setdefault(CLOCK_HOOKS_KEY, [])``);
#: ``POST /_emulator/clock`` awaits each, in order, before it answers.
CLOCK_HOOKS_KEY: web.AppKey[list[ClockHook]] = web.AppKey("clock_hooks")

_DUMPS = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def json_bytes(body: Mapping[str, Any]) -> bytes:
    """``body`` encoded as compact UTF-8 JSON (what every emulator answer uses)."""
    return _DUMPS(body).encode()


def json_response(
    request_id: str,
    body: Mapping[str, Any],
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """``body`` as compact JSON with the ``X-Request-Id`` header."""
    hdrs = {"X-Request-Id": request_id}
    if headers:
        hdrs.update(headers)
    return web.Response(
        body=json_bytes(body), status=status, headers=hdrs, content_type="application/json"
    )


def error_response(
    request_id: str,
    status: int,
    error_type: str,
    message: str,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """The error envelope ``{"request_id", "error": {"type", "message"}}``."""
    body = {"request_id": request_id, "error": {"type": error_type, "message": message}}
    return json_response(request_id, body, status, headers)


def request_id_of(request: web.Request) -> str:
    """The request id the middleware assigned to ``request``."""
    rid: str = request[REQUEST_ID]
    return rid


def ok(request: web.Request, data: Any = None, **extra: Any) -> web.Response:
    """A 200 envelope ``{"request_id", "data"?, **extra}``."""
    body: dict[str, Any] = {"request_id": request_id_of(request)}
    if data is not None:
        body["data"] = data
    body.update(extra)
    return json_response(request_id_of(request), body)


# --------------------------------------------------------------------------- request bodies


def _is_json_type(content_type: str) -> bool:
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


def _too_deep(obj: Any, limit: int) -> bool:
    """True if ``obj`` nests arrays/objects more than ``limit`` levels (iterative walk)."""
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


async def read_json_value(request: web.Request, *, required: bool = True) -> Any:
    """The JSON body of ``request``, an object or an array (rules in the module docstring);
    ``None`` when empty and not ``required``."""
    raw = await request.read()
    if not raw.strip():
        if required:
            raise EmulatorError.invalid("request body is required")
        return None
    if "Content-Type" in request.headers and not _is_json_type(request.content_type):
        raise EmulatorError.invalid(
            f"Content-Type must be application/json, got {request.content_type!r}"
        )
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise EmulatorError.invalid("error parsing request body") from exc
    if not isinstance(obj, (dict, list)):
        raise EmulatorError.invalid("request body must be a JSON object")
    if _too_deep(obj, MAX_JSON_DEPTH):
        raise EmulatorError.invalid(f"request body is nested deeper than {MAX_JSON_DEPTH} levels")
    return obj


async def read_json(
    request: web.Request, *, required: bool = True, one_item_array: bool = False
) -> dict[str, Any]:
    """The JSON object body of ``request`` (rules in the module docstring); ``{}`` when empty
    and not ``required``.  ``one_item_array``: ``[{...}]`` is read as ``{...}`` (what some
    clients send for a group event)."""
    obj = await read_json_value(request, required=required)
    if obj is None:
        return {}
    if one_item_array and isinstance(obj, list) and len(obj) == 1:
        obj = obj[0]
    if not isinstance(obj, dict):
        raise EmulatorError.invalid("request body must be a JSON object")
    return obj


#: The emulator's one integer parser (:func:`.validation.parse_int`): an int, an integral float
#: or a string of plain ASCII digits; anything else is a 400.
int_value = parse_int


def optional_int(source: Mapping[str, Any], name: str) -> int | None:
    """An optional integer field or query parameter (``None`` if absent or empty)."""
    if source.get(name) is None or source.get(name) == "":
        return None
    return parse_int(source[name], name)


def required_int(source: Mapping[str, Any], name: str) -> int:
    """A required integer field (400 if missing or not an integer)."""
    if source.get(name) is None or source.get(name) == "":
        raise EmulatorError.invalid(f"{name} is required")
    return int_value(source[name], name)


def required_time(source: Mapping[str, Any], name: str) -> int:
    """A required Unix time within the supported range (see :mod:`.validation`)."""
    return check_timestamp(required_int(source, name), name)


def optional_str(source: Mapping[str, Any], name: str) -> str | None:
    """An optional string field (400 if present and not a string)."""
    value = source.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise EmulatorError.invalid(f"{name} must be a string")
    return value


def bearer(request: web.Request) -> str | None:
    """The Bearer token, None without ``Authorization`` (401 if malformed)."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise EmulatorError.unauthorized("Authorization must be 'Bearer <token>'")
    return token


def check_api_key(request: web.Request, token: str | None) -> None:
    """401 unless ``token`` is an accepted API key (never a session id) or the access token of
    the grant route being served (see :mod:`.connect`)."""
    if token is not None and TOKEN_GRANT in request:
        return
    if token is None:
        raise EmulatorError.unauthorized("missing API key (Authorization: Bearer <API key>)")
    store = request.app[STORE_KEY]
    settings = request.app[SETTINGS_KEY]
    if token in store.sessions:
        raise EmulatorError.unauthorized("a session token is not an API key")
    if settings.enforce_keys and token not in (settings.api_keys or ()):
        raise EmulatorError.unauthorized("invalid API key")


def require_api_key(request: web.Request) -> None:
    """401 unless the request carries an accepted API key."""
    check_api_key(request, bearer(request))


def scheduling_config(request: web.Request) -> StoredConfiguration:
    """Resolve the configuration of an availability/bookings request (see module docstring)."""
    store = request.app[STORE_KEY]
    settings = request.app[SETTINGS_KEY]
    query = request.query
    config_id = query.get("configuration_id") or None
    slug = query.get("slug") or None
    client_id = query.get("client_id") or None
    token = bearer(request)
    if token is not None:
        session = store.resolve_session(token)
        if session is not None:
            stored = store.find_configuration(configuration_id=session.configuration_id)
            if (config_id is not None and config_id != stored.configuration_id) or (
                slug is not None and slug != stored.slug
            ):
                raise EmulatorError.forbidden("the session belongs to another configuration")
            return stored
        check_api_key(request, token)
        if config_id is None and slug is None:
            raise EmulatorError.invalid(
                "configuration_id or slug is required with an API key (or use a session)"
            )
        if client_id is not None and client_id != settings.client_id:
            raise EmulatorError.not_found(f"unknown client_id {client_id!r}")
        stored = store.find_configuration(configuration_id=config_id, slug=slug)
    elif config_id is not None:
        stored = store.find_configuration(configuration_id=config_id)
    elif slug is not None:
        if client_id is None:
            raise EmulatorError.invalid("client_id is required with slug")
        if client_id != settings.client_id:
            raise EmulatorError.not_found(f"unknown client_id {client_id!r}")
        stored = store.find_configuration(slug=slug)
    else:
        raise EmulatorError.unauthorized(
            "a session token or a configuration_id (or slug and client_id) is required"
        )
    if stored.requires_session_auth:
        raise EmulatorError.unauthorized("this configuration requires a session token")
    return stored


class AppThread:
    """Serve an aiohttp app from its own thread and event loop: ``start``/``stop`` (or ``with``).

    ``factory`` builds the app on that loop; ``port`` 0 picks a free one (:attr:`port` is the
    bound one once started).
    """

    def __init__(
        self,
        factory: Callable[[], web.Application],
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        name: str = "app-server",
    ) -> None:
        self.host = host
        self.port = port
        self._factory = factory
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)

    @property
    def base_url(self) -> str:
        """``http://<host>:<port>``."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        """Start serving (raises if the server could not start)."""
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise RuntimeError(f"{self._thread.name} failed: {self._error}") from self._error
        return self

    def stop(self) -> None:
        """Stop serving and join the thread."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread.is_alive():
            self._thread.join()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        runner = web.AppRunner(self._factory(), access_log=None, shutdown_timeout=0.2)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
            self.port = site.port
            self._ready.set()
            await self._stop.wait()
        finally:
            await runner.cleanup()
