"""The store's state as plain JSON-able data: one dump/load pair per part (no I/O, no aiohttp).

Every piece of state the store holds belongs to exactly one :class:`Part` of :data:`PARTS`,
which names the store attributes it covers (:data:`NOT_STATE` lists the attributes that are
not state: the lock, hooks, settings).  Snapshots (:func:`encode_snapshot`), the SQLite state
file (:mod:`.persistence`) and the tests are all built on these pairs, so a new attribute
added to the store without a part fails ``tests/emulator/test_persistence.py``.

A part's ``load`` may share nested values with the data it is given (a snapshot's parse is
reused by every restore of it): the store replaces nested values (a configuration's ``data``,
an event's ``extra``, a booking's ``participants``) and never mutates them in place; a load
copies the containers the store does mutate in place (a grant's calendars, seats, overrides).

A *row* part (``rows`` set) is a collection of entities by id, dumped as a list of one
JSON-able dict per entity (in the store's order); the state file keeps one row per entity.
A *blob* part is one JSON-able value.  :func:`load_state` replaces the store's whole state:
parts absent from the data (a file written before the part existed) load empty.
"""

from __future__ import annotations

import collections
import itertools
import json
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scheduler_async.emulator.clock import FakeClock
from scheduler_async.emulator.entities import (
    Booking,
    Calendar,
    Event,
    Grant,
    GroupEventRecord,
    GroupOverride,
    Session,
    StoredConfiguration,
)
from scheduler_async.emulator.errors import EmulatorError

if TYPE_CHECKING:
    from scheduler_async.emulator.store import Store
    from scheduler_async.emulator.webhook_state import WebhookState

__all__ = [
    "HUB_NOT_STATE",
    "HUB_STATE",
    "NOT_STATE",
    "PARTS",
    "SNAPSHOT_FORMAT",
    "SNAPSHOT_VERSION",
    "Part",
    "SnapshotError",
    "decode_snapshot",
    "dump_state",
    "encode_snapshot",
    "load_state",
    "part",
]

SNAPSHOT_FORMAT = "scheduler-emulator-state"
#: Version of the dumped data; a snapshot or state file from a newer one is refused.
SNAPSHOT_VERSION = 1


class SnapshotError(EmulatorError):
    """A snapshot (or state file content) that cannot be restored: 400 ``invalid_request_error``."""

    def __init__(self, message: str) -> None:
        super().__init__(400, "invalid_request_error", message)


def _new(cls: type[Any], fields: Mapping[str, Any]) -> Any:
    """An instance of dataclass ``cls`` from its fields, without running ``__init__`` (fast)."""
    obj = object.__new__(cls)
    obj.__dict__.update(fields)
    return obj


# --------------------------------------------------------------------------- entities


def _dump_grant(g: Grant) -> dict[str, Any]:
    return {
        "grant_id": g.grant_id,
        "email": g.email,
        "primary_calendar_id": g.primary_calendar_id,
        "calendars": [[c.calendar_id, c.is_primary] for c in g.calendars.values()],
    }


def _load_grants(store: Store, items: list[dict[str, Any]]) -> None:
    for d in items:
        grant = Grant(d["grant_id"], d["email"], d["primary_calendar_id"])
        for cal_id, primary in d["calendars"]:
            grant.calendars[cal_id] = Calendar(cal_id, grant.grant_id, is_primary=primary)
        store.grants[grant.grant_id] = grant
        if grant.email:
            store._grant_by_email[grant.email.lower()] = grant.grant_id


def _dump_event(e: Event) -> dict[str, Any]:
    return e.__getstate__()  # its fields, without the calendar index it sits in


def _load_events(store: Store, items: list[dict[str, Any]]) -> None:
    grants = store.grants
    for d in items:
        event: Event = _new(Event, d)
        grant = grants.get(event.grant_id)
        if grant is None:
            grant = Grant(event.grant_id, None, "primary")
            grant.calendars["primary"] = Calendar("primary", event.grant_id, is_primary=True)
            grants[event.grant_id] = grant
        calendar = grant.calendars.get(event.calendar_id)
        if calendar is None:
            calendar = grant.calendars[event.calendar_id] = Calendar(
                event.calendar_id, event.grant_id
            )
        calendar.events[event.event_id] = event
        store.events[event.event_id] = event


def _dump_configuration(c: StoredConfiguration) -> dict[str, Any]:
    return dict(c.__dict__)


def _load_configurations(store: Store, items: list[dict[str, Any]]) -> None:
    for d in items:
        store.configurations[d["configuration_id"]] = _new(StoredConfiguration, d)


def _dump_session(s: Session) -> dict[str, Any]:
    return dict(s.__dict__)


def _load_sessions(store: Store, items: list[dict[str, Any]]) -> None:
    for d in items:
        store.sessions[d["session_id"]] = _new(Session, d)


def _dump_booking(b: Booking) -> dict[str, Any]:
    out = b.__getstate__()
    out["salt"] = b.salt.hex()
    return out


def _load_bookings(store: Store, items: list[dict[str, Any]]) -> None:
    by_config = store._bookings_by_config
    for d in items:
        booking: Booking = _new(Booking, d)
        booking.salt = bytes.fromhex(d["salt"])
        store.bookings[booking.booking_id] = booking
        by_config.setdefault(booking.configuration_id, []).append(booking.booking_id)


def _dump_group_event(r: GroupEventRecord) -> dict[str, Any]:
    out = dict(r.__dict__)
    out["overrides"] = {k: dict(o.__dict__) for k, o in r.overrides.items()}
    return out


def _load_group_events(store: Store, items: list[dict[str, Any]]) -> None:
    for d in items:
        record: GroupEventRecord = _new(GroupEventRecord, d)
        record.overrides = {k: _new(GroupOverride, o) for k, o in d["overrides"].items()}
        store.group_events[record.event_id] = record


# --------------------------------------------------------------------------- blob parts


def _dump_seq(store: Store) -> int:
    value = next(store._seq)
    store._seq = itertools.count(value)
    return value


def _load_seq(store: Store, value: int) -> None:
    store._seq = itertools.count(int(value))


def _dump_seats(store: Store) -> dict[str, Any]:
    return {
        "seats": store._seats,
        "booking_seat": store._booking_seat,
        "group_bookings": sorted(store._group_bookings),
    }


def _load_seats(store: Store, data: Mapping[str, Any]) -> None:
    store._seats.update({k: dict(v) for k, v in data["seats"].items()})
    store._booking_seat.update({k: (v[0], v[1]) for k, v in data["booking_seat"].items()})
    store._group_bookings.update(data["group_bookings"])


def _dump_clock(store: Store) -> dict[str, Any]:
    clock = store.clock
    if isinstance(clock, FakeClock):
        return {"kind": "fake", "now": clock._now, "start": clock._start}
    return {"kind": "wall", "offset": clock._offset}


def _load_clock(store: Store, data: Mapping[str, Any]) -> None:
    clock = store.clock
    if data.get("kind") == "fake" and isinstance(clock, FakeClock):
        with clock._lock:
            clock._now, clock._start = int(data["now"]), int(data["start"])
    elif data.get("kind") == "wall" and not isinstance(clock, FakeClock):
        with clock._lock:
            clock._offset = int(data["offset"])


#: The attributes of a :class:`~.webhook_state.WebhookState` the ``webhooks`` part keeps.
HUB_STATE = frozenset({"webhooks", "log", "faults", "_queue", "_reminders", "_seq"})
#: Its attributes that are settings or machinery, not state (the delivery side's included).
HUB_NOT_STATE = frozenset(
    {
        "clock",
        "application_id",
        "retry_delays",
        "max_attempts",
        "ip_addresses",
        "ip_addresses_updated_at",
        "_lock",
        "_era",
        # webhook_delivery.WebhookHub: the network side
        "timeout",
        "poll_interval",
        "_loop",
        "_wake",
        "_worker",
        "_session",
        "_lanes",  # attempts in flight (taken from the queue)
        "_lane_tasks",
        "_unsettled",
    }
)


def dump_hub(hub: WebhookState) -> dict[str, Any]:
    """The ``webhooks`` part of a hub (destinations with secrets, queue, reminders, log)."""
    with hub._lock:
        hooks = []
        for h in hub.webhooks.values():
            d = dict(h.__dict__)
            d["outcomes"] = [list(o) for o in h.outcomes]
            hooks.append(d)
        return {
            "application_id": hub.application_id,
            "webhooks": hooks,
            "queue": [dict(p.__dict__) for p in hub._queue],
            "reminders": {
                b: {str(m): dict(r.__dict__) for m, r in planned.items()}
                for b, planned in hub._reminders.items()
            },
            "log": [dict(a.__dict__) for a in hub.log],
            "faults": dict(hub.faults.__dict__),
            "seq": hub._seq,
        }


def _dump_webhooks(store: Store) -> dict[str, Any] | None:
    hub = store._webhook_hub
    return None if hub is None else dump_hub(hub)


def _load_webhooks(store: Store, data: Mapping[str, Any] | None) -> None:
    from scheduler_async.emulator.webhook_state import (
        DeliveryAttempt,
        Pending,
        Reminder,
        StoredWebhook,
        WebhookFaults,
    )

    if data is None:
        return
    hub = store.webhook_hub(application_id=data["application_id"])
    with hub._lock:
        for d in data["webhooks"]:
            hook: StoredWebhook = _new(StoredWebhook, d)
            hook.outcomes = collections.deque((tuple(o) for o in d["outcomes"]), maxlen=10_000)
            hook.trigger_types = list(d["trigger_types"])
            hub.webhooks[hook.id] = hook
        hub._queue = [_new(Pending, p) for p in data["queue"]]
        hub._reminders = {
            b: {int(m): _new(Reminder, r) for m, r in planned.items()}
            for b, planned in data["reminders"].items()
        }
        hub.log.extend(_new(DeliveryAttempt, a) for a in data["log"])
        hub.faults = _new(WebhookFaults, data["faults"])
        hub._seq = int(data["seq"])
    if hub._queue or hub._reminders:
        hub.wake()


# --------------------------------------------------------------------------- the parts


@dataclass(frozen=True)
class Part:
    """One state-holding part of the store and its dump/load pair.

    ``attrs``: the store attributes it covers.  A row part has ``rows(store)`` (its live
    entities by id) and ``dump_row(entity)``; its ``dump`` is the list of dumped rows and its
    ``load`` takes that list.  ``load`` runs on a store just reset, in :data:`PARTS` order.
    """

    name: str
    attrs: tuple[str, ...]
    load: Callable[[Store, Any], None]
    dump_blob: Callable[[Store], Any] | None = None
    rows: Callable[[Store], dict[str, Any]] | None = None
    dump_row: Callable[[Any], Any] | None = None

    def dump(self, store: Store) -> Any:
        """This part of ``store`` as plain JSON-able data (call under ``store.lock``)."""
        if self.rows is not None and self.dump_row is not None:
            return [self.dump_row(obj) for obj in self.rows(store).values()]
        assert self.dump_blob is not None
        return self.dump_blob(store)


def _row_part(
    name: str, load: Callable[[Store, Any], None], dump_row: Callable[[Any], Any], *extra: str
) -> Part:
    """A row part whose entities live in the store attribute ``name`` (plus ``extra`` indexes)."""
    return Part(name, (name, *extra), load, rows=operator.attrgetter(name), dump_row=dump_row)


PARTS: tuple[Part, ...] = (
    _row_part("grants", _load_grants, _dump_grant, "_grant_by_email"),
    _row_part("events", _load_events, _dump_event),
    _row_part("configurations", _load_configurations, _dump_configuration),
    _row_part("sessions", _load_sessions, _dump_session),
    _row_part("bookings", _load_bookings, _dump_booking, "_bookings_by_config"),
    _row_part("group_events", _load_group_events, _dump_group_event),
    Part(
        "seats", ("_seats", "_booking_seat", "_group_bookings"), _load_seats, dump_blob=_dump_seats
    ),
    Part("seq", ("_seq",), _load_seq, dump_blob=_dump_seq),
    Part("clock", ("clock",), _load_clock, dump_blob=_dump_clock),
    Part("webhooks", ("_webhook_hub",), _load_webhooks, dump_blob=_dump_webhooks),
)

#: Store attributes that are not state (machinery and settings).
NOT_STATE = frozenset({"strict", "lock", "_reset_hooks", "_listeners", "before_seat_write"})


def part(name: str) -> Part:
    """The part called ``name``."""
    for p in PARTS:
        if p.name == name:
            return p
    raise KeyError(name)


def dump_state(store: Store) -> dict[str, Any]:
    """Every part of the store's state, by part name (plain JSON-able data)."""
    with store.lock:
        return {p.name: p.dump(store) for p in PARTS}


def load_state(store: Store, parts: Mapping[str, Any]) -> None:
    """Replace the store's state with ``parts`` (as :func:`dump_state` made them).

    The store is reset first (its reset hooks run: webhooks, hosted-login tokens); parts
    missing from ``parts`` stay empty.
    """
    with store.lock:
        store.reset()
        try:
            for p in PARTS:
                if p.name in parts:
                    p.load(store, parts[p.name])
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            store.reset()
            raise SnapshotError(
                f"state part {p.name!r} is malformed ({type(exc).__name__}: {exc}); "
                "the emulator was reset"
            ) from None
        for listener in store._listeners:
            resync = getattr(listener, "resync", None)
            if callable(resync):
                resync()


def encode_snapshot(parts: Mapping[str, Any]) -> bytes:
    """Snapshot bytes (UTF-8 JSON) of dumped parts."""
    doc = {"format": SNAPSHOT_FORMAT, "version": SNAPSHOT_VERSION, "parts": parts}
    return json.dumps(doc, separators=(",", ":")).encode("utf-8")


def decode_snapshot(data: bytes | str, *, where: str = "snapshot") -> dict[str, Any]:
    """The parts of snapshot bytes; :class:`SnapshotError` if malformed or from a newer version."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SnapshotError(f"{where} is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != SNAPSHOT_FORMAT:
        raise SnapshotError(f"{where} is not an emulator snapshot (format {SNAPSHOT_FORMAT!r})")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise SnapshotError(f"{where} has no version")
    if version > SNAPSHOT_VERSION:
        raise SnapshotError(
            f"{where} was written by a newer emulator (state version {version}; this one "
            f"reads up to {SNAPSHOT_VERSION}): upgrade scheduler-client"
        )
    parts = doc.get("parts")
    if not isinstance(parts, dict):
        raise SnapshotError(f"{where} has no parts")
    return parts


def iter_part_names() -> Iterable[str]:
    """The names of :data:`PARTS`, in load order."""
    return (p.name for p in PARTS)
