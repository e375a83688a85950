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
SecretSource: TypeAlias = Secret | Iterable[Secret] | Callable[[], Secret | Iterable[Secret]]
"""One secret, several (during a rotation), or a function returning either (read per request)."""

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


# --------------------------------------------------------------------------- signatures


def _bytes(value: str | bytes, what: str) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError(f"{what} must be str or bytes, not {type(value).__name__}")


def _secrets(secret: SecretSource) -> list[bytes]:
    if callable(secret):
        secret = secret()
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
    types or missing required fields raise :class:`WebhookPayloadError`.
    """
    if isinstance(raw_body, Mapping):
        obj: Any = dict(raw_body)
    else:
        try:
            obj = json.loads(raw_body)
        except (ValueError, TypeError) as exc:
            raise WebhookPayloadError(f"notification body is not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise WebhookPayloadError(
            f"notification body must be a JSON object, not {type(obj).__name__}"
        )
    kind = obj.get("type")
    if not isinstance(kind, str):
        raise WebhookPayloadError("notification has no string 'type'")
    cls: type[AnyNotification] = _CLASSES.get(kind, Notification)
    try:
        result = converter.structure(obj, cls)
    except (cattrs.BaseValidationError, InvalidBookingRefError, TypeError, ValueError) as exc:
        raise WebhookPayloadError(f"invalid {kind} notification: {_error_text(exc)}") from None
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


def handle_webhook_request(
    method: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    secret: SecretSource,
    deduper: NotificationDeduper | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> WebhookResult:
    """Decide the answer to one webhook HTTP request, for any web framework. No I/O.

    * ``GET ?challenge=X`` -> 200 with body ``X`` (the creation handshake).
    * ``POST``: signature checked (401 if bad or missing; 503 if ``secret`` yields no secret,
      e.g. a callable read before the webhook's secret is known), body decompressed if
      ``Content-Encoding`` says so, parsed (400 if malformed), deduplicated by ``id`` when a
      ``deduper`` is given (200 with ``duplicate=True``), else 200 with ``notification`` set.
    * Anything else -> 405.

    Process ``result.notification`` after answering (a background task): Nylas expects the
    200 within 10 seconds.
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
    try:
        keys = _secrets(secret)
    except ValueError:
        # e.g. a secret source read per request that has no secret yet (the webhook is being
        # created): not the sender's fault; a non-200 makes Nylas retry later.
        _log.error("webhook notification refused: no webhook secret is configured")
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
    if deduper is not None and deduper.check_and_add(notification.id):
        return WebhookResult(status=200, body=b"duplicate", duplicate=True)
    return WebhookResult(status=200, body=b"ok", notification=notification)


# --------------------------------------------------------------------------- receiver


class WebhookReceiver:
    """Verifies, parses and deduplicates notifications, then runs ``callback`` in the background.

    The answer (200) never waits for the callback. Callback tasks are tracked: :meth:`join`
    waits for them, :meth:`aclose` waits up to a grace period and cancels the rest. A callback's
    exception is logged (``scheduler_async.webhooks``) and counted in :attr:`failures`.

    ``secret``: one secret, several (during a rotation), or a callable read per request, e.g.
    ``lambda: secrets`` filled once ``POST /v3/webhooks`` returned the secret (the creation
    handshake needs none; a notification arriving while it yields nothing gets a 503).
    """

    def __init__(
        self,
        callback: Callback,
        *,
        secret: SecretSource,
        dedupe_size: int = 10_000,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        if not callable(secret):
            _secrets(secret)  # fail early on a missing secret (a callable is read per request)
        self._callback = callback
        self._secret = secret
        self.deduper = NotificationDeduper(dedupe_size)
        self.max_body_bytes = max_body_bytes
        self._tasks: set[asyncio.Task[Any]] = set()
        self.handled = 0
        self.duplicates = 0
        self.failures = 0

    def __repr__(self) -> str:
        return f"<WebhookReceiver handled={self.handled} duplicates={self.duplicates}>"

    def handle(
        self, method: str, query: Mapping[str, str], headers: Mapping[str, str], body: bytes
    ) -> WebhookResult:
        """:func:`handle_webhook_request` with this receiver's secret and deduper; starts the
        callback for a new notification (call it from a running event loop)."""
        result = handle_webhook_request(
            method,
            query,
            headers,
            body,
            secret=self._secret,
            deduper=self.deduper,
            max_body_bytes=self.max_body_bytes,
        )
        if result.duplicate:
            self.duplicates += 1
        if result.notification is not None:
            self.dispatch(result.notification)
        return result

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

        For destinations with ``compressed_delivery``, the hosting app needs
        ``web.Application(handler_args={"auto_decompress": False})`` (as :meth:`app` sets):
        the signature covers the gzipped body, which aiohttp otherwise decompresses first.
        """
        from aiohttp import web

        body = b""
        if request.method == "POST":
            if request.content_length is not None and request.content_length > self.max_body_bytes:
                return web.Response(status=413, text="body too large")
            body = await request.content.read(self.max_body_bytes + 1)
            encoding = request.headers.get("Content-Encoding", "").strip().lower()
            if encoding == "gzip" and not body.startswith(b"\x1f\x8b"):
                # aiohttp decompressed the body already: the signature covers the compressed one
                _log.warning(
                    "gzip webhook body was decompressed by aiohttp before verification; "
                    "serve the receiver with handler_args={'auto_decompress': False}"
                )
                return web.Response(status=500, text="server decompressed the body")
        result = self.handle(request.method, request.query, request.headers, body)
        return web.Response(
            status=result.status, body=result.body, content_type=result.content_type
        )

    def app(self, path: str = "/webhook") -> web.Application:
        """A ``web.Application`` serving this receiver on ``path`` (callbacks closed on cleanup)."""
        from aiohttp import web

        app = web.Application(
            client_max_size=self.max_body_bytes + 1,
            handler_args={"auto_decompress": False},  # verify over the raw (gzipped) body
        )
        app.router.add_route("*", path, self.aiohttp_handler)

        async def _cleanup(_: web.Application) -> None:
            await self.aclose()

        app.on_cleanup.append(_cleanup)
        return app


def webhook_app(
    callback: Callback,
    *,
    secret: SecretSource,
    path: str = "/webhook",
    dedupe_size: int = 10_000,
) -> web.Application:
    """An aiohttp app receiving notifications on ``path`` and passing new ones to ``callback``.

    Shorthand for ``WebhookReceiver(callback, secret=...).app(path)``; build the receiver
    yourself to keep a handle on it (counters, :meth:`WebhookReceiver.join`).
    """
    return WebhookReceiver(callback, secret=secret, dedupe_size=dedupe_size).app(path)
