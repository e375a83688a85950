"""Webhook state of the emulator: destinations, the delivery queue, reminders and the log.

:class:`WebhookState` is the registry half of :class:`~.webhook_delivery.WebhookHub`: the
``/v3/webhooks`` destinations, the delivery attempts waiting (each timed by the emulator's
business clock, ``clock.now()``), the planned ``booking.reminder`` notifications, the delivery
log, the fault knobs and each destination's ``active``/``failing``/``failed`` status (fact sheet
§1.6).  Everything here is plain data under one lock, safe from any thread; no I/O, no aiohttp.
"""

from __future__ import annotations

import collections
import secrets
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from .errors import EmulatorError

__all__ = [
    "BOOKING_TRIGGERS",
    "DELIVERING_STATUSES",
    "DeliveryAttempt",
    "Pending",
    "Reminder",
    "StoredWebhook",
    "WebhookFaults",
    "WebhookHubError",
    "WebhookState",
]

BOOKING_TRIGGERS = (
    "booking.created",
    "booking.pending",
    "booking.rescheduled",
    "booking.cancelled",
    "booking.reminder",
)
DELIVERING_STATUSES = frozenset({"active", "failing"})
FAILING_WINDOW = 15 * 60
FAILED_WINDOW = 72 * 3600
FAILURE_RATIO = 0.95


class ClockLike(Protocol):
    """Anything with ``now() -> int`` (the emulator's ``Clock``/``FakeClock``)."""

    def now(self) -> int: ...


class WebhookHubError(EmulatorError):
    """An API error of the webhook routes (an :class:`EmulatorError`, so the emulator's
    middleware renders it as any other error envelope).

    The documented ones are HTTP 400 with numeric types (``70000`` unknown id, ``70005`` failed
    challenge); a malformed body is the emulator's usual 400 ``invalid_request_error``
    (:meth:`EmulatorError.invalid`, inherited).
    """

    @classmethod
    def not_found(
        cls, message: str = "destination.id.not.found : record not found"
    ) -> WebhookHubError:
        """Unknown destination id (documented as 400 ``70000``)."""
        return cls(400, "70000", message)

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

    def masked_secret(self) -> str:
        """The secret as admin listings show it: ``"****"`` and its last 4 characters."""
        return "****" + self.secret[-4:]

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
class Pending:
    """One planned POST of a notification to one destination (ordered by due time)."""

    due_at: int
    seq: int
    webhook_id: str = field(compare=False)
    notification_id: str = field(compare=False)
    trigger: str = field(compare=False)
    envelope: dict[str, Any] = field(compare=False, repr=False)
    attempt: int = field(compare=False, default=1)
    copy: int = field(compare=False, default=0)


@dataclass
class Reminder:
    """A planned ``booking.reminder``: fires at ``fire_at`` (business time)."""

    fire_at: int
    start_time: int
    payload_object: dict[str, Any]


class WebhookState:
    """Destinations, queued attempts, planned reminders, the log and faults (no I/O).

    ``clock`` is anything with ``now() -> int``.  ``retry_delays[i]`` is the business-time wait
    before attempt ``i + 2`` (3 attempts in all by default, the last 15 minutes after the first).
    """

    def __init__(
        self,
        clock: ClockLike,
        *,
        application_id: str = "scheduler-emulator",
        retry_delays: Iterable[int] = (300, 600),
        max_log: int = 10_000,
        ip_addresses: Iterable[str] = ("127.0.0.1",),
    ) -> None:
        self.clock = clock
        self.application_id = application_id
        self.retry_delays = tuple(int(d) for d in retry_delays)
        self.max_attempts = len(self.retry_delays) + 1
        self.ip_addresses = list(ip_addresses)
        self.ip_addresses_updated_at = clock.now()
        self.faults = WebhookFaults()
        self.webhooks: dict[str, StoredWebhook] = {}
        self.log: collections.deque[DeliveryAttempt] = collections.deque(maxlen=max_log)
        self._lock = threading.Lock()
        self._queue: list[Pending] = []
        # booking id -> minutes_before_event -> planned reminder
        self._reminders: dict[str, dict[int, Reminder]] = {}
        self._seq = 0
        self._era = 0  # bumped by reset: attempts under way then are not settled

    def wake(self) -> None:
        """Called after something was queued; the delivery side overrides it."""

    def reset(self) -> None:
        """Forget every destination, pending delivery, reminder, log entry and fault."""
        with self._lock:
            self._era += 1
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
        worker (or ``deliver_due``) sends it. Thread-safe.
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
                    self._enqueue(due, hook.id, trigger, env, attempt=1, copy=copy)
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
            int(m): Reminder(start_time - 60 * int(m), start_time, obj)
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
        due: list[Reminder] = []
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

    def _take_due(self, now: int) -> tuple[list[Pending], int]:
        """Fire due reminders, then remove and return every attempt due at ``now`` (in order),
        with the current era (see :meth:`_settle`)."""
        self._fire_reminders(now)
        with self._lock:
            due = sorted(p for p in self._queue if p.due_at <= now)
            taken = {id(p) for p in due}
            self._queue = [p for p in self._queue if id(p) not in taken]
            return due, self._era

    def _settle(self, p: Pending, hook: StoredWebhook, attempt: DeliveryAttempt, era: int) -> None:
        """Log a finished attempt; plan the retry, or record the destination's outcome.

        An attempt taken before a reset (or a restore, which resets first) belongs to the state
        that was replaced: its outcome is dropped, never written into the new one.
        """
        with self._lock:
            if era != self._era:
                return
            self.log.append(attempt)
        if attempt.ok or p.attempt >= self.max_attempts:
            self._record_outcome(hook, attempt.ok)
        else:
            self._queue_retry(p, attempt.at + self.retry_delays[p.attempt - 1])

    def _queue_retry(self, failed: Pending, due_at: int) -> None:
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
                    self._enqueue(
                        due_at, hook.id, failed.trigger, failed.envelope, attempt=attempt, copy=copy
                    )

    def _enqueue(
        self,
        due_at: int,
        webhook_id: str,
        trigger: str,
        envelope: dict[str, Any],
        *,
        attempt: int,
        copy: int,
    ) -> None:
        """Plan one POST of ``envelope`` (its ``id`` names the notification); lock held."""
        self._seq += 1
        self._queue.append(
            Pending(
                due_at=due_at,
                seq=self._seq,
                webhook_id=webhook_id,
                notification_id=envelope["id"],
                trigger=trigger,
                envelope=envelope,
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
