"""Webhook notifications: signature checks, typed parsing and small receivers.

The core is pure (no I/O): :func:`verify_signature`, :func:`parse_notification` and the
framework-neutral :func:`handle_webhook_request`. :class:`WebhookReceiver` adds what a web app
needs around them (deduplication by notification id, the user's async callback run in tracked
background tasks) and serves aiohttp directly through :meth:`WebhookReceiver.aiohttp_handler`
and :func:`webhook_app`; ``aiohttp.web`` is imported only when those are used.

Nylas signs every notification with ``x-nylas-signature``: the lowercase hex HMAC-SHA256 of the
raw request body (before any gzip decompression), keyed by the destination's webhook secret.

aiohttp::

    async def on_notification(n: AnyNotification) -> None:
        if isinstance(n, BookingCreated):
            print(n.booking.booking_id, n.booking.booking_ref)

    app = webhook_app(on_notification, secret=os.environ["WEBHOOK_SECRET"], path="/webhook")

FastAPI / Starlette (any framework: pass method, query, headers and the raw body)::

    receiver = WebhookReceiver(on_notification, secret=[new_secret, old_secret])

    @api.api_route("/webhook", methods=["GET", "POST"])
    async def webhook(request: Request) -> Response:
        result = receiver.handle(
            request.method, request.query_params, request.headers, await request.body()
        )
        return Response(result.body, status_code=result.status, media_type=result.content_type)
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import hmac
import json
import logging
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

import attrs
import cattrs

from ._convert import converter
from .errors import (
    InvalidBookingRefError,
    WebhookError,
    WebhookPayloadError,
    WebhookSignatureError,
)
from .models.booking_ref import BookingRef, parse_booking_ref
from .models.webhook import (
    BookingCancelled,
    BookingCreated,
    BookingInfo,
    BookingNotification,
    BookingObject,
    BookingPending,
    BookingReminder,
    BookingRescheduled,
    Notification,
    WebhookStatus,
    WebhookTrigger,
    WebhookWithSecret,
)

if TYPE_CHECKING:
    from aiohttp import web

__all__ = [
    "DEFAULT_BODY_TIMEOUT",
    "DEFAULT_KEEPALIVE_TIMEOUT",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_PENDING",
    "MAX_NOTIFICATION_ID_LENGTH",
    "SIGNATURE_HEADER",
    "AnyNotification",
    "BookingCancelled",
    "BookingCreated",
    "BookingInfo",
    "BookingNotification",
    "BookingObject",
    "BookingPending",
    "BookingRef",
    "BookingReminder",
    "BookingRescheduled",
    "InvalidBookingRefError",
    "Notification",
    "NotificationDeduper",
    "WebhookError",
    "WebhookPayloadError",
    "WebhookReceiver",
    "WebhookResult",
    "WebhookSignatureError",
    "WebhookStatus",
    "WebhookTrigger",
    "WebhookWithSecret",
    "compute_signature",
    "handle_webhook_request",
    "parse_booking_ref",
    "parse_notification",
    "verify_signature",
    "webhook_app",
]

_log = logging.getLogger("scheduler_async.webhooks")

SIGNATURE_HEADER = "x-nylas-signature"
"""The header carrying the signature (HTTP headers are case-insensitive)."""

AnyNotification: TypeAlias = (
    BookingCreated
    | BookingPending
    | BookingRescheduled
    | BookingCancelled
    | BookingReminder
    | Notification
)
"""What :func:`parse_notification` returns."""

Secret: TypeAlias = str | bytes
SecretSource: TypeAlias = Secret | Iterable[Secret] | Callable[[], Secret | Iterable[Secret] | None]
"""One secret, several (during a rotation), or a function returning either (read per request;
``None`` from it means no secret yet: notifications get 503)."""

Callback: TypeAlias = Callable[[AnyNotification], Awaitable[Any]]

_CLASSES: dict[str, type[AnyNotification]] = {
    WebhookTrigger.BOOKING_CREATED: BookingCreated,
    WebhookTrigger.BOOKING_PENDING: BookingPending,
    WebhookTrigger.BOOKING_RESCHEDULED: BookingRescheduled,
    WebhookTrigger.BOOKING_CANCELLED: BookingCancelled,
    WebhookTrigger.BOOKING_REMINDER: BookingReminder,
}

DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024
"""Nylas caps payloads at 1 MB; the receivers refuse bodies (or decompressed bodies) above this."""

MAX_NOTIFICATION_ID_LENGTH = 256
"""Longest notification ``id`` accepted (Nylas ids are short); longer ids are a payload error."""

DEFAULT_MAX_PENDING = 100
"""Callbacks a :class:`WebhookReceiver` runs at once; past it, it answers 503 (Nylas retries)."""

_BUSY_LOG_INTERVAL = 60.0  # seconds between two "refused: busy" log lines

DEFAULT_BODY_TIMEOUT = 10.0
"""Seconds the aiohttp receiver gives a client to send the whole body (Nylas's own deadline)."""

DEFAULT_KEEPALIVE_TIMEOUT = 15.0
"""Seconds :meth:`WebhookReceiver.app` keeps an idle connection (or one still sending headers)."""


# --------------------------------------------------------------------------- signatures


def _bytes(value: str | bytes, what: str) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError(f"{what} must be str or bytes, not {type(value).__name__}")


def _secrets(secret: SecretSource | None) -> list[bytes]:
    if callable(secret):
        secret = secret()
    if secret is None:  # e.g. os.environ.get() of an unset variable
        raise ValueError("a webhook secret is required (got None)")
    items: Iterable[Secret] = (secret,) if isinstance(secret, str | bytes) else secret
    keys = [_bytes(s, "a webhook secret") for s in items]
    if not keys or any(not k for k in keys):
        raise ValueError("a webhook secret is required (empty secrets are not accepted)")
    return keys


def compute_signature(raw_body: str | bytes, secret: str | bytes) -> str:
    """The ``x-nylas-signature`` value for ``raw_body``: lowercase hex HMAC-SHA256."""
    return hmac.new(
        _bytes(secret, "secret"), _bytes(raw_body, "raw_body"), hashlib.sha256
    ).hexdigest()


def verify_signature(
    raw_body: str | bytes, signature: str | bytes | None, secret: SecretSource
) -> None:
    """Check ``signature`` against the raw request body; raise :class:`WebhookSignatureError`.

    ``secret`` may list several secrets (old and new during a rotation): any match passes. Every
    secret is compared in constant time. An optional ``sha256=`` prefix and upper-case hex are
    accepted. Pass the body exactly as received (for gzip deliveries: still compressed).
    """
    keys = _secrets(secret)
    body = _bytes(raw_body, "raw_body")
    if signature is None:
        raise WebhookSignatureError(f"missing {SIGNATURE_HEADER} header")
    given = _bytes(signature, "signature").strip().lower()
    if given.startswith(b"sha256="):
        given = given[len(b"sha256=") :]
    if not given:
        raise WebhookSignatureError(f"empty {SIGNATURE_HEADER} header")
    matched = False
    for key in keys:  # no early exit: the time does not depend on which secret matched
        expected = hmac.new(key, body, hashlib.sha256).hexdigest().encode("ascii")
        matched |= hmac.compare_digest(expected, given)
    if not matched:
        raise WebhookSignatureError("signature does not match the body for any configured secret")


# --------------------------------------------------------------------------- parsing


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, cattrs.BaseValidationError):
        return "; ".join(cattrs.transform_error(exc))
    return str(exc)


def parse_notification(raw_body: str | bytes | Mapping[str, Any]) -> AnyNotification:
    """Parse a notification body into a typed notification.

    The five ``booking.*`` types give their classes (``booking_ref`` decoded into
    :class:`~scheduler_async.models.BookingRef`); any other ``type`` (a new trigger, a
    ``.truncated`` payload) gives a generic :class:`Notification` with raw ``data``. Wrong JSON
    types, missing required fields, JSON nested too deeply for the parser and an ``id`` longer
    than :data:`MAX_NOTIFICATION_ID_LENGTH` raise :class:`WebhookPayloadError`.
    """
    if isinstance(raw_body, Mapping):
        obj: Any = dict(raw_body)
    else:
        try:
            obj = json.loads(raw_body)
        except (ValueError, TypeError) as exc:
            raise WebhookPayloadError(f"notification body is not JSON: {exc}") from None
        except RecursionError:
            raise WebhookPayloadError("notification body is nested too deeply") from None
    if not isinstance(obj, dict):
        raise WebhookPayloadError(
            f"notification body must be a JSON object, not {type(obj).__name__}"
        )
    kind = obj.get("type")
    if not isinstance(kind, str):
        raise WebhookPayloadError("notification has no string 'type'")
    ident = obj.get("id")
    if isinstance(ident, str) and len(ident) > MAX_NOTIFICATION_ID_LENGTH:
        raise WebhookPayloadError(
            f"notification id is longer than {MAX_NOTIFICATION_ID_LENGTH} characters"
        )
    cls: type[AnyNotification] = _CLASSES.get(kind, Notification)
    try:
        result = converter.structure(obj, cls)
    except (cattrs.BaseValidationError, InvalidBookingRefError, TypeError, ValueError) as exc:
        raise WebhookPayloadError(f"invalid {kind} notification: {_error_text(exc)}") from None
    except RecursionError:
        raise WebhookPayloadError(f"invalid {kind} notification: nested too deeply") from None
    return result


# --------------------------------------------------------------------------- dedupe


class NotificationDeduper:
    """Remembers the last ``max_size`` notification ids (LRU), to drop redeliveries."""

    def __init__(self, max_size: int = 10_000) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self.max_size = max_size
        self._ids: collections.OrderedDict[str, None] = collections.OrderedDict()

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, notification_id: object) -> bool:
        return notification_id in self._ids

    def check_and_add(self, notification_id: str) -> bool:
        """Record ``notification_id``; True if it was seen before (a duplicate)."""
        if notification_id in self._ids:
            self._ids.move_to_end(notification_id)
            return True
        self._ids[notification_id] = None
        if len(self._ids) > self.max_size:
            self._ids.popitem(last=False)
        return False


# --------------------------------------------------------------------------- neutral handler


@attrs.frozen(slots=True, kw_only=True)
class WebhookResult:
    """What to answer, and the notification to process (None for a challenge, duplicate, error)."""

    status: int
    body: bytes = b""
    content_type: str = "text/plain"
    notification: AnyNotification | None = None
    duplicate: bool = False


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lname = name.lower()
    for key, val in headers.items():
        if key.lower() == lname:
            return val
    return None


def _decompress(body: bytes, encoding: str, limit: int) -> bytes:
    if encoding == "gzip":
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        decoder = zlib.decompressobj()
    else:
        raise WebhookPayloadError(f"unsupported Content-Encoding {encoding!r}")
    try:
        out = decoder.decompress(body, limit + 1)
    except zlib.error as exc:
        raise WebhookPayloadError(f"body is not valid {encoding}: {exc}") from None
    if len(out) > limit:
        raise WebhookPayloadError("decompressed body is too large")
    return out


def _keys_or_none(secret: SecretSource | None) -> list[bytes] | None:
    """The secrets, or None (logged) when the source yields none or fails: answer 503."""
    try:
        return _secrets(secret)
    except ValueError:
        # e.g. a secret source read per request that has no secret yet (the webhook is being
        # created): not the sender's fault; a non-200 makes Nylas retry later.
        _log.error("webhook notification refused: no webhook secret is configured")
    except Exception as exc:  # a secret manager or callable failed; its message may hold secrets
        _log.error(
            "webhook notification refused: the webhook secret source raised %s",
            type(exc).__name__,
        )
    return None


def handle_webhook_request(
    method: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    secret: SecretSource | None,
    deduper: NotificationDeduper | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_age: float | None = None,
) -> WebhookResult:
    """Decide the answer to one webhook HTTP request, for any web framework. No I/O.

    * ``GET ?challenge=X`` -> 200 with body ``X`` (the creation handshake).
    * ``POST``: signature checked (401 if bad or missing; 503 if ``secret`` yields no secret,
      e.g. a callable read before the webhook's secret is known, or returning ``None``, or
      raising), body decompressed if ``Content-Encoding`` says so, parsed (400 if malformed),
      refused with 400 if ``max_age`` seconds is set and the signed ``time`` is older,
      deduplicated by ``id`` when a ``deduper`` is given (200 with ``duplicate=True``), else
      200 with ``notification`` set.
    * Anything else -> 405.

    ``body`` must be the whole raw body. Process ``result.notification`` after answering (a
    background task): Nylas expects the 200 within 10 seconds.
    """
    if method.upper() == "GET":
        challenge = query.get("challenge")
        if not challenge:
            return WebhookResult(status=400, body=b"missing challenge parameter")
        return WebhookResult(status=200, body=challenge.encode("utf-8"))
    if method.upper() != "POST":
        return WebhookResult(status=405, body=b"method not allowed")
    if len(body) > max_body_bytes:
        return WebhookResult(status=413, body=b"body too large")
    keys = _keys_or_none(secret)
    if keys is None:
        return WebhookResult(status=503, body=b"no webhook secret configured")
    try:
        verify_signature(body, _header(headers, SIGNATURE_HEADER), keys)
    except WebhookSignatureError as exc:
        return WebhookResult(status=401, body=str(exc).encode())
    try:
        encoding = (_header(headers, "content-encoding") or "").strip().lower()
        payload = (
            _decompress(body, encoding, max_body_bytes)
            if encoding not in ("", "identity")
            else body
        )
        notification = parse_notification(payload)
    except WebhookPayloadError as exc:
        return WebhookResult(status=400, body=str(exc).encode())
    if max_age is not None and time.time() - notification.time > max_age:
        _log.warning(
            "webhook notification %s refused: its time %s is more than %s s old",
            notification.id,
            notification.time,
            max_age,
        )
        return WebhookResult(status=400, body=b"notification is too old")
    if deduper is not None and deduper.check_and_add(notification.id):
        return WebhookResult(status=200, body=b"duplicate", duplicate=True)
    return WebhookResult(status=200, body=b"ok", notification=notification)


# --------------------------------------------------------------------------- receiver


class WebhookReceiver:
    """Verifies, parses and deduplicates notifications, then runs ``callback`` in the background.

    The answer (200) never waits for the callback. Callback tasks are tracked: :meth:`join`
    waits for them, :meth:`aclose` waits up to a grace period and cancels the rest. A callback's
    exception is logged (``scheduler_async.webhooks``) and counted in :attr:`failures`. At most
    ``max_pending`` callbacks run at once: past it a notification gets 503 (before it is
    verified or remembered, counted in :attr:`refused_busy`, logged at most once a minute), so
    Nylas delivers it again later.

    ``secret``: one secret, several (during a rotation), or a callable read per request, e.g.
    ``lambda: secrets`` filled once ``POST /v3/webhooks`` returned the secret (the creation
    handshake needs none; a notification arriving while it yields nothing gets a 503).
    ``max_age``: refuse (400) notifications whose signed ``time`` is older (seconds; off by
    default). ``body_timeout``: seconds the aiohttp handler waits for the whole body (408 and
    the connection closed after it). ``keepalive_timeout``: how long :meth:`app` keeps an idle
    connection, or one whose request headers are still arriving.
    """

    def __init__(
        self,
        callback: Callback,
        *,
        secret: SecretSource,
        dedupe_size: int = 10_000,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_age: float | None = None,
        max_pending: int = DEFAULT_MAX_PENDING,
        body_timeout: float = DEFAULT_BODY_TIMEOUT,
        keepalive_timeout: float = DEFAULT_KEEPALIVE_TIMEOUT,
    ) -> None:
        if not callable(secret):
            _secrets(secret)  # fail early on a missing secret (a callable is read per request)
        if max_pending < 1:
            raise ValueError("max_pending must be at least 1")
        if max_age is not None and max_age <= 0:
            raise ValueError("max_age must be positive (or None for no age check)")
        if body_timeout <= 0 or keepalive_timeout <= 0:
            raise ValueError("body_timeout and keepalive_timeout must be positive")
        self._callback = callback
        self._secret = secret
        self.deduper = NotificationDeduper(dedupe_size)
        self.max_body_bytes = max_body_bytes
        self.max_age = max_age
        self.max_pending = max_pending
        self.body_timeout = body_timeout
        self.keepalive_timeout = keepalive_timeout
        self._tasks: set[asyncio.Task[Any]] = set()
        self.handled = 0
        self.duplicates = 0
        self.failures = 0
        self.refused_busy = 0
        self._busy_logged_at: float | None = None

    def __repr__(self) -> str:
        return f"<WebhookReceiver handled={self.handled} duplicates={self.duplicates}>"

    def handle(
        self, method: str, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
    ) -> WebhookResult:
        """:func:`handle_webhook_request` with this receiver's settings and deduper; starts the
        callback for a new notification (call it from a running event loop). ``body`` must be
        the whole raw body. 503 when ``max_pending`` callbacks are already running."""
        if method.upper() == "POST" and self.busy:
            return self._busy_result()
        result = handle_webhook_request(
            method,
            query,
            headers,
            body,
            secret=self._secret,
            deduper=self.deduper,
            max_body_bytes=self.max_body_bytes,
            max_age=self.max_age,
        )
        if result.duplicate:
            self.duplicates += 1
        if result.notification is not None:
            self.dispatch(result.notification)
        return result

    @property
    def busy(self) -> bool:
        """True when ``max_pending`` callbacks are running (new notifications get 503)."""
        return len(self._tasks) >= self.max_pending

    def _busy_result(self) -> WebhookResult:
        self.refused_busy += 1
        now = time.monotonic()
        if self._busy_logged_at is None or now - self._busy_logged_at >= _BUSY_LOG_INTERVAL:
            self._busy_logged_at = now  # one line per interval, not one per refused request
            _log.warning(
                "webhook notifications refused with 503: %d callbacks running (max_pending); "
                "%d refused so far",
                len(self._tasks),
                self.refused_busy,
            )
        return WebhookResult(status=503, body=b"too many notifications in progress")

    def dispatch(self, notification: AnyNotification) -> asyncio.Task[Any]:
        """Run the callback for ``notification`` in a tracked task."""
        task = asyncio.get_running_loop().create_task(self._run(notification))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run(self, notification: AnyNotification) -> None:
        try:
            await self._callback(notification)
        except asyncio.CancelledError:
            raise
        except Exception:
            self.failures += 1
            _log.exception(
                "webhook callback failed for %s notification %s", notification.type, notification.id
            )
        else:
            self.handled += 1

    @property
    def pending(self) -> int:
        """Callbacks still running."""
        return len(self._tasks)

    async def join(self) -> None:
        """Wait until every started callback has finished."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def aclose(self, grace: float = 5.0) -> None:
        """Wait up to ``grace`` seconds for running callbacks, then cancel the rest."""
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)

    async def aiohttp_handler(self, request: web.Request) -> web.StreamResponse:
        """An ``aiohttp.web`` handler: ``router.add_route("*", path, receiver.aiohttp_handler)``.

        Reads the whole body (up to ``max_body_bytes``, within ``body_timeout``) before
        verifying it. For destinations with ``compressed_delivery``, the hosting app needs
        ``web.Application(handler_args={"auto_decompress": False})`` (as :meth:`app` sets):
        the signature covers the gzipped body, which aiohttp otherwise decompresses first.
        """
        from ._webhook_aiohttp import serve_request

        return await serve_request(self, request)

    def app(self, path: str = "/webhook") -> web.Application:
        """A ``web.Application`` serving this receiver on ``path`` (callbacks closed on cleanup).

        Whichever runner serves it (``web.run_app``, ``web.AppRunner``), its connections close
        after ``keepalive_timeout`` idle (also while request headers are still arriving), header
        lines are capped at 8 KiB and 64 headers, and a handler whose client left is cancelled.
        """
        from ._webhook_aiohttp import build_app

        return build_app(self, path)


def webhook_app(
    callback: Callback,
    *,
    secret: SecretSource,
    path: str = "/webhook",
    dedupe_size: int = 10_000,
    max_age: float | None = None,
    max_pending: int = DEFAULT_MAX_PENDING,
) -> web.Application:
    """An aiohttp app receiving notifications on ``path`` and passing new ones to ``callback``.

    Shorthand for ``WebhookReceiver(callback, secret=..., ...).app(path)``; build the receiver
    yourself to keep a handle on it (counters, :meth:`WebhookReceiver.join`) or to set the
    timeouts.
    """
    receiver = WebhookReceiver(
        callback, secret=secret, dedupe_size=dedupe_size, max_age=max_age, max_pending=max_pending
    )
    return receiver.app(path)
