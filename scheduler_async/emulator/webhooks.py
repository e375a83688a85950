"""Webhooks of the emulator: the store's hub and the listener that feeds it.

The wing is split by idea: :mod:`.webhook_state` (destinations, queue, reminders, log, faults;
no I/O), :mod:`.webhook_delivery` (:class:`WebhookHub`: the challenge, signed POSTs, retries,
the worker) and :mod:`.webhook_payloads` (notification objects, mock samples, signatures).
This module wires them to a :class:`~.store.Store`: :class:`BookingNotifier` turns the store's
booking changes into notifications and reminders, and :func:`attach_webhook_hub` builds the hub
a store owns (``store.webhook_hub()``).  It re-exports the wing's public names, so
``from scheduler_async.emulator.webhooks import WebhookHub, booking_object_from`` keeps working.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .entities import Booking
from .webhook_delivery import WebhookHub
from .webhook_payloads import (
    TEST_EVENT_SECRET,
    base64_ref,
    booking_object,
    booking_object_from,
    reminder_minutes,
    sign,
)
from .webhook_state import (
    BOOKING_TRIGGERS,
    DELIVERING_STATUSES,
    DeliveryAttempt,
    StoredWebhook,
    WebhookFaults,
    WebhookHubError,
)

if TYPE_CHECKING:
    from .store import Store

__all__ = [
    "BOOKING_TRIGGERS",
    "DELIVERING_STATUSES",
    "TEST_EVENT_SECRET",
    "BookingNotifier",
    "DeliveryAttempt",
    "StoredWebhook",
    "WebhookFaults",
    "WebhookHub",
    "WebhookHubError",
    "attach_webhook_hub",
    "base64_ref",
    "booking_object",
    "booking_object_from",
    "reminder_minutes",
    "sign",
    "webhook_hub",
]


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

    def resync(self) -> None:
        """Learn the store's bookings anew (its state was loaded from a snapshot or file)."""
        self._known = {
            b.booking_id: (b.start_time, b.end_time, b.status)
            for b in self._store.bookings.values()
            if not b.deleted
        }

    def saved(self) -> dict[str, tuple[int, int, str]]:
        """What :meth:`resync` learned (a copy), for :meth:`put_back` after a restore brings
        the same bookings back."""
        return dict(self._known)

    def put_back(self, saved: Mapping[str, tuple[int, int, str]]) -> None:
        """Know again what :meth:`saved` returned (the store holds those bookings again)."""
        self._known = dict(saved)

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


def attach_webhook_hub(store: Store, *, application_id: str) -> WebhookHub:
    """A new :class:`WebhookHub` wired to ``store`` (called once, by ``store.webhook_hub()``).

    Wiring: a :class:`BookingNotifier` subscribed to the store, and the hub (with the notifier)
    reset whenever the store is.
    """
    hub = WebhookHub(store.clock, application_id=application_id)
    notifier = BookingNotifier(hub, store)
    store.on_reset(hub.reset)
    store.on_reset(notifier.reset)
    store.subscribe(notifier)
    return hub


def webhook_hub(store: Store, *, application_id: str = "scheduler-emulator") -> WebhookHub:
    """The :class:`WebhookHub` of ``store`` (``store.webhook_hub(application_id=...)``).

    The hub lives as long as the store, so webhooks survive an emulator restart like the rest
    of the state; ``application_id`` applies on creation only.
    """
    return store.webhook_hub(application_id=application_id)
