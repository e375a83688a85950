"""Webhook state and delivery of the emulator: destinations, signed notifications, retries.

:class:`WebhookHub` keeps the ``/v3/webhooks`` destinations and a queue of delivery attempts
timed by the emulator's business clock (``clock.now()``). :meth:`WebhookHub.notify` only
enqueues (it never blocks an API answer); a background worker started by
:meth:`WebhookHub.start` sends what is due, and :meth:`WebhookHub.deliver_due` does the same on
demand: after a fake clock is advanced, ``await hub.deliver_due()`` fires the reminders and
retries that have become due, deterministically.

Delivery follows ``scheduler-api-more.md`` §1.6: POST of the JSON envelope with
``X-Nylas-Signature`` (lowercase hex HMAC-SHA256 of the raw body, keyed by the destination's
secret; over the gzipped body when ``compressed_delivery``), ``webhook_delivery_attempt`` 1..3,
a failed or timed-out attempt (no 2xx within ``timeout``) retried after ``retry_delays`` (5, then
10 minutes: the last attempt 15 minutes after the first, within the documented 10-20), the retry
going to every destination of the trigger, as documented.  Only ``active`` and ``failing``
destinations subscribed to the trigger receive notifications.  :class:`BookingNotifier` turns
the store's booking changes into notifications; :func:`webhook_hub` gives a store its hub.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import gzip
import hashlib
import hmac
import json
import secrets
import threading
import uuid
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp

from .entities import Booking
from .errors import EmulatorError
from .store import Store

__all__ = [
    "BOOKING_TRIGGERS",
    "BookingNotifier",
    "DeliveryAttempt",
    "StoredWebhook",
    "WebhookFaults",
    "WebhookHub",
    "WebhookHubError",
    "booking_object",
    "booking_object_from",
    "reminder_minutes",
    "webhook_hub",
]

BOOKING_TRIGGERS = (
    "booking.created",
    "booking.pending",
    "booking.rescheduled",
    "booking.cancelled",
    "booking.reminder",
)
DELIVERING_STATUSES = frozenset({"active", "failing"})
TEST_EVENT_SECRET = "mock-webhook-secret"
FAILING_WINDOW = 15 * 60
FAILED_WINDOW = 72 * 3600
FAILURE_RATIO = 0.95


class _ClockLike(Protocol):
    def now(self) -> int: ...


class WebhookHubError(EmulatorError):
    """An API error of the webhook routes (an :class:`EmulatorError`, so the emulator's
    middleware renders it as any other error envelope).

    The documented ones are HTTP 400 with numeric types (``70000`` unknown id, ``70005`` failed
    challenge); a malformed body is the emulator's usual 400 ``invalid_request_error``.
    """

    @classmethod
    def not_found(
        cls, message: str = "destination.id.not.found : record not found"
    ) -> WebhookHubError:
        """Unknown destination id (documented as 400 ``70000``)."""
        return cls(400, "70000", message)

    @classmethod
    def invalid(cls, message: str) -> WebhookHubError:
        """A malformed request body: 400 ``invalid_request_error``."""
        return cls(400, "invalid_request_error", message)

    @classmethod
    def unverified(cls, detail: str) -> WebhookHubError:
        """The challenge GET to the destination failed (documented 400 ``70005``)."""
        return cls(400, "70005", f"unable.verify.webhook_url : {detail}")


@dataclass
class StoredWebhook:
    """A destination and its secret (the secret is shown only by create and rotate)."""

    id: str
    webhook_url: str
    trigger_types: list[str]
    secret: str = field(repr=False)
    created_at: int
    description: str | None = None
    notification_email_addresses: list[str] = field(default_factory=list)
    compressed_delivery: bool = False
    status: str = "active"
    status_updated_at: int = 0
    updated_at: int = 0
    outcomes: collections.deque[tuple[int, bool]] = field(
        default_factory=lambda: collections.deque(maxlen=10_000), repr=False
    )
    failing_since: int | None = None

    def to_json(self, *, with_secret: bool = False) -> dict[str, Any]:
        """Wire representation (all Webhook keys, as the Python SDK requires)."""
        out: dict[str, Any] = {
            "id": self.id,
            "description": self.description,
            "trigger_types": list(self.trigger_types),
            "webhook_url": self.webhook_url,
            "status": self.status,
            "notification_email_addresses": list(self.notification_email_addresses),
            "compressed_delivery": self.compressed_delivery,
            "status_updated_at": self.status_updated_at,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }
        if with_secret:
            out["webhook_secret"] = self.secret
        return out


@dataclass
class DeliveryAttempt:
    """One POST of a notification to a destination (the admin delivery log's entries)."""

    notification_id: str
    webhook_id: str
    trigger: str
    attempt: int
    webhook_url: str
    at: int
    ok: bool = False
    status: int | None = None
    error: str | None = None
    copy: int = 0

    def to_json(self) -> dict[str, Any]:
        """JSON form for the admin API."""
        return {
            "notification_id": self.notification_id,
            "webhook_id": self.webhook_id,
            "trigger": self.trigger,
            "attempt": self.attempt,
            "webhook_url": self.webhook_url,
            "at": self.at,
            "ok": self.ok,
            "status": self.status,
            "error": self.error,
            "copy": self.copy,
        }


@dataclass
class WebhookFaults:
    """Fault knobs: ``duplicate`` extra copies of every notification (same ``id``), and
    ``delay_seconds`` of business time before a notification's first attempt is due."""

    duplicate: int = 0
    delay_seconds: int = 0

    def to_json(self) -> dict[str, Any]:
        """JSON form for the admin API."""
        return {"duplicate": self.duplicate, "delay_seconds": self.delay_seconds}

    def update(self, body: Mapping[str, Any]) -> None:
        """Apply an admin PUT body (only the given keys)."""
        for name in ("duplicate", "delay_seconds"):
            if name in body:
                value = body[name]
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise WebhookHubError.invalid(f"{name} must be a non-negative integer")
                setattr(self, name, value)


@dataclass(order=True)
class _Pending:
    due_at: int
    seq: int
    webhook_id: str = field(compare=False)
    notification_id: str = field(compare=False)
    trigger: str = field(compare=False)
    envelope: dict[str, Any] = field(compare=False, repr=False)
    attempt: int = field(compare=False, default=1)
    copy: int = field(compare=False, default=0)


@dataclass
class _Reminder:
    fire_at: int
    start_time: int
    payload_object: dict[str, Any]


# --------------------------------------------------------------------------- payload builders


def booking_object(
    trigger: str,
    *,
    booking_id: str,
    configuration_id: str,
    booking_info: Mapping[str, Any],
    booking_ref: str | None = None,
) -> dict[str, Any]:
    """``data.object`` of a booking notification, keys per trigger as in the fact sheet §1.5.

    ``booking_ref`` is kept for created/pending/rescheduled only; ``object: "booking"`` is added
    for created/rescheduled; ``booking_type: "organizer-confirmation"`` for pending. Keys of
    ``booking_info`` that do not belong to ``trigger`` are dropped, ``None`` values omitted
    (``participants`` and ``additional_fields`` may be ``None`` on the wire and stay).
    """
    if trigger not in BOOKING_TRIGGERS:
        raise ValueError(f"not a booking trigger: {trigger!r}")
    only: dict[str, tuple[str, ...]] = {
        "old_start_time": ("booking.rescheduled",),
        "old_end_time": ("booking.rescheduled",),
        "cancellation_reason": ("booking.cancelled",),
        "time_until_event": ("booking.reminder",),
        "organizer_email": ("booking.reminder",),
        "provider": ("booking.reminder",),
    }
    nullable = {"participants", "additional_fields"}
    info = {
        k: v
        for k, v in booking_info.items()
        if (v is not None or k in nullable) and trigger in only.get(k, (trigger,))
    }
    if trigger == "booking.cancelled":
        info.setdefault("cancellation_reason", "")
    obj: dict[str, Any] = {"booking_id": booking_id, "configuration_id": configuration_id}
    if booking_ref is not None and trigger in (
        "booking.created",
        "booking.pending",
        "booking.rescheduled",
    ):
        obj["booking_ref"] = booking_ref
    if trigger in ("booking.created", "booking.rescheduled"):
        obj["object"] = "booking"
    if trigger == "booking.pending":
        obj["booking_type"] = "organizer-confirmation"
    obj["booking_info"] = info
    return obj


class _BookingLike(Protocol):
    booking_id: str
    configuration_id: str
    event_id: str
    start_time: int
    end_time: int
    title: str
    description: str


def _organizer(configuration: Mapping[str, Any]) -> Mapping[str, Any]:
    for p in configuration.get("participants") or ():
        if isinstance(p, Mapping) and p.get("is_organizer"):
            return p
    return {}


def booking_object_from(
    trigger: str,
    booking: _BookingLike,
    *,
    configuration: Mapping[str, Any] | None = None,
    old_start_time: int | None = None,
    old_end_time: int | None = None,
    provider: str = "google",
) -> dict[str, Any]:
    """:func:`booking_object` from the emulator's booking record and configuration JSON.

    ``booking`` is read by attribute (``booking_id``, ``configuration_id``, ``event_id``,
    ``start_time``, ``end_time``, ``title``, ``description``, and when present ``reference``,
    ``guest``, ``additional_guests``, ``additional_fields``, ``timezone``, ``email_language``,
    ``cancellation_reason``, ``organizer_email``, ``calendar_id``, ``status``).
    """
    cfg = configuration or {}
    event_booking = cfg.get("event_booking") or {}
    scheduler = cfg.get("scheduler") or {}
    organizer = _organizer(cfg)
    ref: str | None = getattr(booking, "reference", None)
    guest = getattr(booking, "guest", None) or {}
    participants = [
        {"email": g.get("email"), "name": g.get("name") or ""}
        for g in [guest, *(getattr(booking, "additional_guests", None) or [])]
        if isinstance(g, Mapping) and g.get("email")
    ]
    fields = getattr(booking, "additional_fields", None) or {}

    def url(template: Any, fallback: str) -> str:
        if isinstance(template, str) and template:
            return template.replace(":booking_ref", ref or "")
        return f"{fallback}/{ref}" if ref else fallback

    organizer_email = getattr(booking, "organizer_email", None) or organizer.get("email")
    language = getattr(booking, "email_language", None) or "en"
    timezone = getattr(booking, "timezone", None) or event_booking.get("timezone") or "UTC"
    info: dict[str, Any] = {
        "event_id": booking.event_id,
        "start_time": booking.start_time,
        "end_time": booking.end_time,
        "old_start_time": old_start_time,
        "old_end_time": old_end_time,
        "cancellation_reason": getattr(booking, "cancellation_reason", None) or "",
        "organizer_email": organizer_email,
        "provider": provider,
        "participants": participants or None,
        "additional_fields": {str(k): str(v) for k, v in fields.items()} or None,
        "hide_cancellation_options": bool(event_booking.get("hide_cancellation_options", False)),
        "hide_rescheduling_options": bool(event_booking.get("hide_rescheduling_options", False)),
        "participant_rescheduling_url": url(
            scheduler.get("rescheduling_url"), "https://book.emulator.invalid/reschedule"
        ),
        "participant_cancellation_url": url(
            scheduler.get("cancellation_url"), "https://book.emulator.invalid/cancel"
        ),
        "host_language": language,
        "guest_language": language,
        "title": booking.title,
        "duration": (booking.end_time - booking.start_time) // 60,
        "location": event_booking.get("location") or "",
        "organizer_timezone": event_booking.get("timezone") or timezone,
        "guest_timezone": timezone,
        "is_group_event": False,
        "organizer_calendar_id": getattr(booking, "calendar_id", None) or "primary",
        "event_description": booking.description or "",
        "event_html_link": f"https://calendar.emulator.invalid/event?eid={booking.event_id}",
        "ical_uid": f"{booking.event_id}@emulator.invalid",
    }
    if trigger == "booking.pending" or getattr(booking, "status", None) == "pending":
        info["host_confirmation_url"] = url(
            scheduler.get("organizer_confirmation_url"), "https://book.emulator.invalid/confirm"
        )
    return booking_object(
        trigger,
        booking_id=booking.booking_id,
        configuration_id=booking.configuration_id,
        booking_info=info,
        booking_ref=ref,
    )


def reminder_minutes(configuration: Mapping[str, Any] | None) -> list[int]:
    """``minutes_before_event`` of the configuration's reminders of type ``webhook``."""
    out: list[int] = []
    cfg = configuration or {}
    for block in ("event_booking", "group_booking"):
        for r in (cfg.get(block) or {}).get("reminders") or ():
            if isinstance(r, Mapping) and r.get("type") == "webhook":
                minutes = r.get("minutes_before_event")
                if isinstance(minutes, int) and not isinstance(minutes, bool) and minutes >= 1:
                    out.append(minutes)
    return sorted(set(out))


def sign(body: bytes, secret: str) -> str:
    """Lowercase hex HMAC-SHA256 of ``body`` keyed by ``secret``."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# --------------------------------------------------------------------------- the hub


class WebhookHub:
    """Webhook destinations plus clock-driven, signed, retried delivery.

    ``clock`` is anything with ``now() -> int`` (the emulator's ``Clock``/``FakeClock``).
    ``retry_delays[i]`` is the business-time wait before attempt ``i + 2`` (3 attempts in all
    by default, the last 15 minutes after the first). ``timeout`` bounds each POST and the
    challenge GET (seconds, wall time).
    """

    def __init__(
        self,
        clock: _ClockLike,
        *,
        application_id: str = "scheduler-emulator",
        retry_delays: Iterable[int] = (300, 600),
        timeout: float = 10.0,
        max_log: int = 10_000,
        poll_interval: float = 1.0,
        ip_addresses: Iterable[str] = ("127.0.0.1",),
    ) -> None:
        self.clock = clock
        self.application_id = application_id
        self.retry_delays = tuple(int(d) for d in retry_delays)
        self.max_attempts = len(self.retry_delays) + 1
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.ip_addresses = list(ip_addresses)
        self.ip_addresses_updated_at = clock.now()
        self.faults = WebhookFaults()
        self.webhooks: dict[str, StoredWebhook] = {}
        self.log: collections.deque[DeliveryAttempt] = collections.deque(maxlen=max_log)
        self._lock = threading.Lock()
        self._queue: list[_Pending] = []
        # booking id -> minutes_before_event -> planned reminder
        self._reminders: dict[str, dict[int, _Reminder]] = {}
        self._seq = 0
        self._session: aiohttp.ClientSession | None = None
        self._send_lock: asyncio.Lock | None = None
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._worker: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start the background delivery worker on the running loop (``on_startup``)."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        if self._worker is None:
            self._worker = self._loop.create_task(self._run_worker())

    async def close(self) -> None:
        """Stop the worker and close the HTTP session (``on_cleanup``)."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        self._loop = None
        self._wake = None
        self._send_lock = None

    def wake(self) -> None:
        """Ask the worker to look for due deliveries now (safe from any thread)."""
        loop, event = self._loop, self._wake
        if loop is None or event is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            event.set()
        else:
            loop.call_soon_threadsafe(event.set)

    async def _run_worker(self) -> None:
        assert self._wake is not None
        while True:
            timeout = self.poll_interval if (self._queue or self._reminders) else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            self._wake.clear()
            await self.deliver_due()

    def reset(self) -> None:
        """Forget every destination, pending delivery, reminder, log entry and fault."""
        with self._lock:
            self.webhooks.clear()
            self._queue.clear()
            self._reminders.clear()
            self.log.clear()
            self.faults = WebhookFaults()

    # ------------------------------------------------------------------ destinations

    def create(self, body: Mapping[str, Any]) -> StoredWebhook:
        """Store a destination from a validated create body (the route does the challenge)."""
        now = self.clock.now()
        hook = StoredWebhook(
            id=uuid.uuid4().hex,
            webhook_url=body["webhook_url"],
            trigger_types=list(body["trigger_types"]),
            secret=secrets.token_urlsafe(24),
            created_at=now,
            description=body.get("description"),
            notification_email_addresses=list(body.get("notification_email_addresses") or []),
            compressed_delivery=bool(body.get("compressed_delivery", False)),
            status_updated_at=now,
            updated_at=now,
        )
        with self._lock:
            self.webhooks[hook.id] = hook
        return hook

    def list_webhooks(self) -> list[StoredWebhook]:
        """Every destination, oldest first (a snapshot, safe from any thread)."""
        with self._lock:
            return list(self.webhooks.values())

    def has_subscribers(self, trigger: str) -> bool:
        """True if a delivering (``active``/``failing``) destination subscribes to ``trigger``."""
        with self._lock:
            return any(
                h.status in DELIVERING_STATUSES and trigger in h.trigger_types
                for h in self.webhooks.values()
            )

    def deliveries(
        self, *, webhook_id: str | None = None, notification_id: str | None = None
    ) -> list[DeliveryAttempt]:
        """The delivery log (oldest first), optionally filtered; a snapshot."""
        with self._lock:
            items = list(self.log)
        return [
            a
            for a in items
            if webhook_id in (None, a.webhook_id) and notification_id in (None, a.notification_id)
        ]

    def get(self, webhook_id: str) -> StoredWebhook:
        """The destination, or :meth:`WebhookHubError.not_found`."""
        hook = self.webhooks.get(webhook_id)
        if hook is None:
            raise WebhookHubError.not_found()
        return hook

    def update(self, webhook_id: str, body: Mapping[str, Any]) -> StoredWebhook:
        """Apply a partial update (validated body); ``status`` back to active clears failures."""
        with self._lock:
            hook = self.get(webhook_id)
            now = self.clock.now()
            for name in ("description", "webhook_url", "compressed_delivery"):
                if body.get(name) is not None:
                    setattr(hook, name, body[name])
            if body.get("trigger_types") is not None:
                hook.trigger_types = list(body["trigger_types"])
            if body.get("notification_email_addresses") is not None:
                hook.notification_email_addresses = list(body["notification_email_addresses"])
            status = body.get("status")
            if status is not None and status != hook.status:
                hook.status = status
                hook.status_updated_at = now
                hook.failing_since = None
                hook.outcomes.clear()
            hook.updated_at = now
            return hook

    def delete(self, webhook_id: str) -> None:
        """Remove a destination and its pending deliveries."""
        with self._lock:
            self.get(webhook_id)
            del self.webhooks[webhook_id]
            self._queue = [p for p in self._queue if p.webhook_id != webhook_id]

    def rotate_secret(self, webhook_id: str) -> StoredWebhook:
        """New secret; the old one stops at once (no grace period, as documented)."""
        with self._lock:
            hook = self.get(webhook_id)
            hook.secret = secrets.token_urlsafe(24)
            hook.updated_at = self.clock.now()
            return hook

    def session(self) -> aiohttp.ClientSession:
        """The hub's HTTP client session (created on first use, closed by :meth:`close`)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers={"User-Agent": "scheduler-emulator-webhooks"}
            )
        return self._session

    def _timeout(self) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(total=self.timeout)

    async def verify_destination(self, url: str) -> None:
        """The creation handshake: GET ``url?challenge=...`` must answer 200 with the value."""
        challenge = secrets.token_urlsafe(16)
        try:
            async with self.session().get(
                url, params={"challenge": challenge}, timeout=self._timeout()
            ) as resp:
                text = await resp.text(errors="replace")
                status = resp.status
        except TimeoutError:
            raise WebhookHubError.unverified(f"timed out after {self.timeout:g}s") from None
        except (aiohttp.ClientError, ValueError) as exc:
            raise WebhookHubError.unverified(f"request failed: {type(exc).__name__}") from None
        if status != 200:
            raise WebhookHubError.unverified(f"status is not ok, got {status}")
        if text.strip() != challenge:
            raise WebhookHubError.unverified("response body did not match the challenge")

    # ------------------------------------------------------------------ notifications

    def envelope(self, trigger: str, payload_object: Mapping[str, Any]) -> dict[str, Any]:
        """A new notification envelope (fresh ``id``; attempt number set at send time)."""
        return {
            "specversion": "1.0",
            "type": trigger,
            "source": "/nylas/passthru",
            "id": uuid.uuid4().hex,
            "time": self.clock.now(),
            "webhook_delivery_attempt": 1,
            "data": {"application_id": self.application_id, "object": dict(payload_object)},
        }

    def notify(self, trigger: str, payload_object: Mapping[str, Any]) -> str | None:
        """Enqueue a notification for every delivering destination subscribed to ``trigger``.

        Returns the notification id (None when nobody is subscribed). Never blocks: the
        worker (or :meth:`deliver_due`) sends it. Thread-safe.
        """
        env = self.envelope(trigger, payload_object)
        with self._lock:
            targets = [
                h
                for h in self.webhooks.values()
                if h.status in DELIVERING_STATUSES and trigger in h.trigger_types
            ]
            if not targets:
                return None
            due = env["time"] + self.faults.delay_seconds
            for hook in targets:
                for copy in range(1 + self.faults.duplicate):
                    self._seq += 1
                    self._queue.append(
                        _Pending(
                            due_at=due,
                            seq=self._seq,
                            webhook_id=hook.id,
                            notification_id=env["id"],
                            trigger=trigger,
                            envelope=env,
                            copy=copy,
                        )
                    )
        self.wake()
        return str(env["id"])

    def schedule_reminders(
        self,
        booking_id: str,
        start_time: int,
        minutes_before: Iterable[int],
        payload_object: Mapping[str, Any],
    ) -> None:
        """(Re)plan ``booking.reminder`` for a booking; times already passed are skipped."""
        now = self.clock.now()
        obj = dict(payload_object)
        planned = {
            int(m): _Reminder(start_time - 60 * int(m), start_time, obj)
            for m in minutes_before
            if start_time - 60 * int(m) >= now
        }
        with self._lock:
            if planned:
                self._reminders[booking_id] = planned
            else:
                self._reminders.pop(booking_id, None)
        self.wake()

    def cancel_reminders(self, booking_id: str) -> None:
        """Drop the planned reminders of a booking (cancelled, deleted or rescheduled)."""
        with self._lock:
            self._reminders.pop(booking_id, None)

    @property
    def pending(self) -> int:
        """Delivery attempts waiting (due or not)."""
        return len(self._queue)

    def _fire_reminders(self, now: int) -> None:
        due: list[_Reminder] = []
        with self._lock:
            for booking_id, planned in list(self._reminders.items()):
                for minutes, rem in list(planned.items()):
                    if rem.fire_at <= now:
                        due.append(rem)
                        del planned[minutes]
                if not planned:
                    del self._reminders[booking_id]
        due.sort(key=lambda r: r.fire_at)
        for rem in due:
            obj = dict(rem.payload_object)
            info = dict(obj.get("booking_info") or {})
            info["time_until_event"] = max(0, rem.start_time - now)
            obj["booking_info"] = info
            self.notify("booking.reminder", obj)

    async def deliver_due(self) -> list[DeliveryAttempt]:
        """Fire due reminders and send every attempt due at ``clock.now()``; return them.

        Attempts to one destination go in due order; destinations are served concurrently.
        Calls are serialized, so after it returns everything due at that time was attempted.
        """
        if self._send_lock is None:
            self._send_lock = asyncio.Lock()
        async with self._send_lock:
            now = self.clock.now()
            self._fire_reminders(now)
            with self._lock:
                due = sorted(p for p in self._queue if p.due_at <= now)
                taken = {id(p) for p in due}
                self._queue = [p for p in self._queue if id(p) not in taken]
            by_hook: dict[str, list[_Pending]] = {}
            for p in due:
                by_hook.setdefault(p.webhook_id, []).append(p)
            results = await asyncio.gather(*(self._send_all(items) for items in by_hook.values()))
            return [a for group in results for a in group]

    async def _send_all(self, items: list[_Pending]) -> list[DeliveryAttempt]:
        out = []
        for p in items:
            attempt = await self._send(p)
            if attempt is not None:
                out.append(attempt)
        return out

    async def _send(self, p: _Pending) -> DeliveryAttempt | None:
        hook = self.webhooks.get(p.webhook_id)
        if hook is None or hook.status not in DELIVERING_STATUSES:
            return None  # deleted or paused since: dropped
        env = dict(p.envelope, webhook_delivery_attempt=p.attempt)
        body = _dumps(env)
        headers = {"Content-Type": "application/json"}
        if hook.compressed_delivery:
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        headers["X-Nylas-Signature"] = sign(body, hook.secret)
        attempt = DeliveryAttempt(
            notification_id=p.notification_id,
            webhook_id=hook.id,
            trigger=p.trigger,
            attempt=p.attempt,
            webhook_url=hook.webhook_url,
            at=self.clock.now(),
            copy=p.copy,
        )
        try:
            async with self.session().post(
                hook.webhook_url, data=body, headers=headers, timeout=self._timeout()
            ) as resp:
                await resp.read()
                attempt.status = resp.status
                attempt.ok = 200 <= resp.status < 300
                if not attempt.ok:
                    attempt.error = f"status {resp.status}"
        except TimeoutError:
            attempt.error = "timeout"
        except (aiohttp.ClientError, ValueError) as exc:
            attempt.error = type(exc).__name__
        with self._lock:
            self.log.append(attempt)
        if attempt.ok or p.attempt >= self.max_attempts:
            self._record_outcome(hook, attempt.ok)
        else:
            self._queue_retry(p, attempt.at + self.retry_delays[p.attempt - 1])
        return attempt

    def _queue_retry(self, failed: _Pending, due_at: int) -> None:
        """Plan the next attempt of a notification, to every destination of its trigger.

        "When Nylas retries a webhook, the retry goes to all the destinations for that trigger
        type" (fact sheet §1.6): destinations that took the notification get it again (same
        ``id``).  Only destinations that existed when it was sent; one retry per attempt.
        """
        nid, copy, attempt = failed.notification_id, failed.copy, failed.attempt + 1
        with self._lock:
            if any(
                q.notification_id == nid and q.copy == copy and q.attempt == attempt
                for q in self._queue
            ):
                return  # another destination's failure already planned this retry
            sent_at = int(failed.envelope["time"])
            for hook in self.webhooks.values():
                if (
                    hook.status in DELIVERING_STATUSES
                    and failed.trigger in hook.trigger_types
                    and hook.created_at <= sent_at
                ):
                    self._seq += 1
                    self._queue.append(
                        _Pending(
                            due_at=due_at,
                            seq=self._seq,
                            webhook_id=hook.id,
                            notification_id=nid,
                            trigger=failed.trigger,
                            envelope=failed.envelope,
                            attempt=attempt,
                            copy=copy,
                        )
                    )

    def _record_outcome(self, hook: StoredWebhook, ok: bool) -> None:
        now = self.clock.now()
        hook.outcomes.append((now, ok))
        if ok:
            if hook.status == "failing":
                hook.status, hook.status_updated_at, hook.failing_since = "active", now, None
            return

        def ratio(since: int) -> float:
            window = [good for t, good in hook.outcomes if t >= since]
            return window.count(False) / len(window) if window else 0.0

        if hook.status == "active" and ratio(now - FAILING_WINDOW) >= FAILURE_RATIO:
            hook.status, hook.status_updated_at, hook.failing_since = "failing", now, now
        elif (
            hook.status == "failing"
            and hook.failing_since is not None
            and now - hook.failing_since >= FAILED_WINDOW
            and ratio(hook.failing_since) >= FAILURE_RATIO
        ):
            hook.status, hook.status_updated_at = "failed", now

    # ------------------------------------------------------------------ test events

    def mock_payload(self, trigger: str) -> dict[str, Any]:
        """An example notification envelope for ``trigger`` (booking triggers get the sample)."""
        sample_info = {
            "event_id": "mock-event-id",
            "start_time": 1719842400,
            "end_time": 1719846000,
            "old_start_time": 1719839400,
            "old_end_time": 1719843000,
            "cancellation_reason": "Conflicting appointment",
            "time_until_event": 3600,
            "organizer_email": "nyla@example.com",
            "provider": "google",
            "participants": [{"email": "leyah@example.com", "name": "Leyah Miller"}],
            "additional_fields": {"company": "Nylas Inc."},
            "hide_cancellation_options": False,
            "hide_rescheduling_options": False,
            "host_language": "en",
            "guest_language": "en",
            "title": "Project sync with Leyah",
            "duration": 60,
            "location": "https://meet.google.com/abc-defg-hij",
            "organizer_timezone": "America/Toronto",
            "guest_timezone": "America/Toronto",
            "is_group_event": False,
            "organizer_calendar_id": "primary",
        }
        if trigger in BOOKING_TRIGGERS:
            ref = base64_ref()
            obj = booking_object(
                trigger,
                booking_id=MOCK_BOOKING_ID,
                configuration_id=MOCK_CONFIGURATION_ID,
                booking_info=sample_info,
                booking_ref=ref,
            )
        else:
            obj = {"id": "mock-id", "object": trigger.split(".", 1)[0]}
        env = self.envelope(trigger, obj)
        env["id"] = "mock-id"
        return env

    async def send_test_event(self, url: str, trigger: str) -> bool:
        """POST a mock notification signed with ``mock-webhook-secret``; True on a 2xx."""
        body = _dumps(self.mock_payload(trigger))
        headers = {
            "Content-Type": "application/json",
            "X-Nylas-Signature": sign(body, TEST_EVENT_SECRET),
        }
        try:
            async with self.session().post(
                url, data=body, headers=headers, timeout=self._timeout()
            ) as resp:
                await resp.read()
                return 200 <= resp.status < 300
        except (TimeoutError, aiohttp.ClientError, ValueError):
            return False


MOCK_CONFIGURATION_ID = "9a4e8b3c-2f1d-4c6b-8e7a-5d3c2b1a0f9e"
MOCK_BOOKING_ID = "1b2c3d4e-5f60-4718-89ab-cdef01234567"


def base64_ref() -> str:
    """The booking reference of the mock payloads (mock ids, fixed salt)."""
    raw = uuid.UUID(MOCK_CONFIGURATION_ID).bytes + uuid.UUID(MOCK_BOOKING_ID).bytes + b"mocksalt"
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


# --------------------------------------------------------------------------- store wiring


class BookingNotifier:
    """A :meth:`Store.subscribe` listener: booking changes become notifications and reminders.

    ========================  ===============================================================
    store change              notification (to destinations subscribed to it)
    ========================  ===============================================================
    ``booking.created``       ``booking.created``, or ``booking.pending`` for a booking that
                              awaits organizer confirmation
    ``booking.confirmed``     ``booking.created`` (the pending booking is now booked)
    ``booking.rescheduled``   ``booking.rescheduled`` with ``old_start_time``/``old_end_time``
    ``booking.cancelled``     ``booking.cancelled`` (a pending booking declined)
    ``booking.deleted``       ``booking.cancelled`` (unless it was cancelled already)
    ========================  ===============================================================

    Booked (not pending) bookings of a configuration with reminders of type ``webhook`` get a
    ``booking.reminder`` planned ``minutes_before_event`` before their start (re-planned on
    reschedule, dropped on cancel/delete); it fires when the emulator clock reaches that time.
    The listener runs under the store's lock: it only builds the payloads and queues them.
    """

    def __init__(self, hub: WebhookHub, store: Store) -> None:
        self.hub = hub
        self._store = store
        # booking id -> (start, end, status) as last notified: the store reports the booking
        # after the change, so the old times of a reschedule come from here.
        self._known: dict[str, tuple[int, int, str]] = {}
        with store.lock:
            for booking in store.bookings.values():
                if not booking.deleted:
                    self._remember(booking)

    def reset(self) -> None:
        """Forget what was known about bookings (the store was reset)."""
        self._known.clear()

    def _remember(self, booking: Booking) -> None:
        self._known[booking.booking_id] = (booking.start_time, booking.end_time, booking.status)

    def _configuration(self, booking: Booking) -> Mapping[str, Any] | None:
        stored = self._store.configurations.get(booking.configuration_id)
        return stored.data if stored is not None else None

    def _send(self, trigger: str, booking: Booking, **extra: Any) -> None:
        if self.hub.has_subscribers(trigger):
            obj = booking_object_from(
                trigger, booking, configuration=self._configuration(booking), **extra
            )
            self.hub.notify(trigger, obj)

    def _plan_reminders(self, booking: Booking) -> None:
        cfg = self._configuration(booking)
        minutes = reminder_minutes(cfg)
        if booking.status != "booked" or not minutes:
            self.hub.cancel_reminders(booking.booking_id)
            return
        obj = booking_object_from("booking.reminder", booking, configuration=cfg)
        self.hub.schedule_reminders(booking.booking_id, booking.start_time, minutes, obj)

    def __call__(self, kind: str, obj: object) -> None:
        if not isinstance(obj, Booking) or not kind.startswith("booking."):
            return
        booking = obj
        previous = self._known.get(booking.booking_id)
        if kind == "booking.created":
            pending = booking.status == "pending"
            self._send("booking.pending" if pending else "booking.created", booking)
            self._plan_reminders(booking)
        elif kind == "booking.confirmed":
            self._send("booking.created", booking)
            self._plan_reminders(booking)
        elif kind == "booking.rescheduled":
            old_start, old_end = (previous[0], previous[1]) if previous else (None, None)
            self._send(
                "booking.rescheduled", booking, old_start_time=old_start, old_end_time=old_end
            )
            self._plan_reminders(booking)
        elif kind in ("booking.cancelled", "booking.deleted"):
            already = previous is not None and previous[2] == "cancelled"
            if not already:
                self._send("booking.cancelled", booking)
            self.hub.cancel_reminders(booking.booking_id)
        if kind == "booking.deleted":
            self._known.pop(booking.booking_id, None)
        else:
            self._remember(booking)


_HUBS: weakref.WeakKeyDictionary[Store, WebhookHub] = weakref.WeakKeyDictionary()
_HUBS_LOCK = threading.Lock()


def webhook_hub(store: Store, *, application_id: str = "scheduler-emulator") -> WebhookHub:
    """The :class:`WebhookHub` of ``store``, created and wired on first use.

    Wiring: a :class:`BookingNotifier` subscribed to the store, and the hub (with the notifier)
    reset whenever the store is.  The hub lives as long as the store, so webhooks survive an
    emulator restart like the rest of the state; ``application_id`` applies on creation only.
    """
    with _HUBS_LOCK:
        hub = _HUBS.get(store)
        if hub is None:
            hub = WebhookHub(store.clock, application_id=application_id)
            notifier = BookingNotifier(hub, store)
            store.on_reset(hub.reset)
            store.on_reset(notifier.reset)
            store.subscribe(notifier)
            _HUBS[store] = hub
        return hub
