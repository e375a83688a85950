"""Group events in the store: the :class:`GroupEventsMixin` (events, imports and seats).

Group events belong to a group configuration (``type: "group"``, see :mod:`.group_store`).  The
store holds them like every other record, under its one lock: every public method is atomic
for asyncio tasks and threads alike.  Records are :class:`~.entities.GroupEventRecord`, the
rules live in :mod:`.validation.group`, instance expansion in :mod:`.group_engine`.

Seats: :meth:`GroupEventsMixin.take_group_seat`, :meth:`~GroupEventsMixin.free_group_seat` and
:meth:`~GroupEventsMixin.move_group_seat` keep, per instance, which booking holds a seat (and
its guest's email).  A seat is read (free seats left?) then written in ONE place,
:meth:`GroupEventsMixin._claim_seat`, under the store's lock: of concurrent takes of the last
seat exactly one wins, the others get 409 ``timeslot_not_available`` ``"Event is full"``.

Deleting a group event (or one instance) frees its seats and cancels the bookings that held
them; deleting a configuration forgets its group events.  No aiohttp here.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from scheduler_async.emulator.configurations import ConfigurationsMixin
from scheduler_async.emulator.entities import (
    Event,
    GroupEventRecord,
    GroupInstance,
    GroupOverride,
    StoredConfiguration,
)
from scheduler_async.emulator.errors import EmulatorError
from scheduler_async.emulator.group_engine import expand_group_event
from scheduler_async.emulator.recurrence import (
    RecurrenceError,
    occurs_at,
    split_instance_id,
    validate_recurrence,
)
from scheduler_async.emulator.validation import (
    check_recurrence,
    default_capacity_of,
    group_capacity,
    group_event_fields,
    group_when,
    import_items,
    parse_int,
    require_str,
)

__all__ = ["GROUP_EVENT_DELETED_REASON", "GroupEventsMixin", "config_kind"]

GROUP_EVENT_DELETED_REASON = "The group event was deleted"
EVENT_CHANGED = "The selected event has changed"
EVENT_DELETED = "The selected event was deleted"
ALREADY_IMPORTED = "Event already imported"
NOT_FOUND = "Event not found"
_STANDARD_TYPES = (None, "", "standard")


def config_kind(data: Mapping[str, Any]) -> str:
    """``"standard"``, ``"group"`` or the unknown ``type`` string of a stored configuration."""
    kind = data.get("type")
    if kind in _STANDARD_TYPES:
        return "standard"
    return kind if isinstance(kind, str) else repr(kind)


class GroupEventsMixin(ConfigurationsMixin):
    """The group events of every group configuration, and the seats booked on them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.group_events: dict[str, GroupEventRecord] = {}
        """Every group event by id (hold :attr:`lock` while iterating)."""
        self._seats: dict[str, dict[str, str]] = {}
        """instance id -> booking id -> guest email."""
        self._booking_seat: dict[str, tuple[str, str]] = {}
        """booking id -> (group event id, instance id)."""
        # Test hook: called between a seat's read ("one is free") and its write, so a race test
        # can widen the window the store's lock must close (under the GIL it is otherwise tiny).
        self.before_seat_write: Callable[[], None] | None = None

    def reset(self) -> None:
        """Forget everything, group events and seats included (the clock is not touched)."""
        with self.lock:
            super().reset()
            self.group_events.clear()
            self._seats.clear()
            self._booking_seat.clear()

    def new_group_event_id(self) -> str:
        """A new group event id (tests may replace this method for readable ids)."""
        return secrets.token_hex(13)

    def group_configuration(
        self, configuration_id: str, grant_id: str | None = None
    ) -> StoredConfiguration:
        """A group configuration (404 if unknown or of another grant; 400 if not a group one)."""
        with self.lock:
            if grant_id is None or grant_id == "me":
                stored = self.find_configuration(configuration_id=configuration_id)
            else:
                stored = self.get_configuration(grant_id, configuration_id)
            if config_kind(stored.data) != "group":
                raise EmulatorError.invalid(
                    f"configuration {configuration_id!r} is not a group configuration"
                )
            return stored

    # ----------------------------------------------------------------- reading helpers

    def _instance(
        self, record: GroupEventRecord, instance_id: str, start: int, end: int
    ) -> GroupInstance:
        return record.instance(instance_id, start, end, len(self._seats.get(instance_id, ())))

    def _group_json(
        self, record: GroupEventRecord, inst: GroupInstance | None = None
    ) -> dict[str, Any]:
        seats = self._seats.get(inst.event_id, {}) if inst is not None else None
        return record.to_json(inst, seats=seats, now=self.clock.now())

    def _own_record(self, configuration_id: str, event_id: str) -> GroupEventRecord | None:
        record = self.group_events.get(event_id)
        if record is None or record.configuration_id != configuration_id:
            return None
        return record

    def _resolve(
        self, configuration_id: str, event_id: str, master_id: str | None = None
    ) -> tuple[GroupEventRecord, GroupInstance]:
        """The record and live instance named by a slot; 404/400 when gone or ambiguous."""
        record = self._own_record(configuration_id, event_id)
        if record is not None:
            if record.recurrence:
                raise EmulatorError.invalid(
                    "event_id names a recurring event: use the id of one instance"
                )
            when = record.data["when"]
            return record, self._instance(record, event_id, when["start_time"], when["end_time"])
        split = split_instance_id(event_id)
        if split is None:
            raise EmulatorError.not_found(EVENT_DELETED)
        master, start = split
        if master_id is not None and master_id != master:
            raise EmulatorError.invalid("master_id does not match event_id")
        record = self._own_record(configuration_id, master)
        if record is None:
            raise EmulatorError.not_found(EVENT_DELETED)
        override = record.overrides.get(event_id)
        if override is not None and override.deleted:
            raise EmulatorError.not_found(EVENT_DELETED)
        when = record.data["when"]
        duration = when["end_time"] - when["start_time"]
        if not occurs_at(
            record.event_id,
            start_time=when["start_time"],
            end_time=when["end_time"],
            recurrence=record.recurrence,
            timezone=record.timezone,
            at=start,
        ):
            raise EmulatorError.not_found(EVENT_DELETED)
        return record, self._instance(record, event_id, start, start + duration)

    def _expanded(
        self, configuration_id: str, start_time: int, end_time: int, calendar_id: str | None
    ) -> list[tuple[GroupInstance, GroupEventRecord]]:
        found = [
            (inst, record)
            for record in self.group_events.values()
            if record.configuration_id == configuration_id
            and (calendar_id is None or record.data["calendar_id"] == calendar_id)
            for inst in expand_group_event(record, self._seats, start_time, end_time)
        ]
        found.sort(key=lambda pair: (pair[0].start_time, pair[0].event_id))
        return found

    # ----------------------------------------------------------------- CRUD

    def create_group_event(
        self, grant_id: str, configuration_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Create a group event (``POST .../group-events``); returns its wire object.

        ``capacity`` defaults to the configuration's ``default_capacity``, ``calendar_id`` to
        its ``group_booking.calendar_id``.
        """
        data = group_event_fields(body, None)
        recurrence = check_recurrence(body.get("recurrence"), data["when"].get("start_timezone"))
        if recurrence:
            data["recurrence"] = recurrence
        with self.lock:
            config = self.group_configuration(configuration_id).data
            gb = config.get("group_booking") or {}
            calendar = gb.get("calendar_id") if isinstance(gb, dict) else None
            data.setdefault("capacity", default_capacity_of(config))
            data.setdefault("calendar_id", calendar if isinstance(calendar, str) else "primary")
            now = self.clock.now()
            event_id = self.new_group_event_id()
            record = GroupEventRecord(event_id, grant_id, configuration_id, data, now, now)
            self.group_events[event_id] = record
            return self._group_json(record)

    def get_group_event(self, configuration_id: str, event_id: str) -> dict[str, Any]:
        """One group event, master or instance."""
        with self.lock:
            record = self._own_record(configuration_id, event_id)
            if record is not None:
                return self._group_json(record)
            record, inst = self._resolve(configuration_id, event_id)
            return self._group_json(record, inst)

    def list_group_events(
        self,
        configuration_id: str,
        *,
        start_time: int,
        end_time: int,
        calendar_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Instances overlapping ``[start_time, end_time)`` in time order (wire objects)."""
        with self.lock:
            found = self._expanded(configuration_id, start_time, end_time, calendar_id)
            return [self._group_json(record, inst) for inst, record in found]

    def group_instances(
        self,
        configuration_id: str,
        start_time: int,
        end_time: int,
        *,
        calendar_id: str | None = None,
    ) -> list[GroupInstance]:
        """Snapshots of the instances in a window, in time order (for availability)."""
        with self.lock:
            found = self._expanded(configuration_id, start_time, end_time, calendar_id)
            return [inst for inst, _ in found]

    def update_group_event(
        self,
        configuration_id: str,
        event_id: str,
        body: Mapping[str, Any],
        *,
        merge: bool = False,
    ) -> dict[str, Any]:
        """Update a group event (PUT replaces nested objects; PATCH, ``merge=True``, merges them).

        An instance id updates that instance only (an exception with its own capacity/time).
        """
        with self.lock:
            record = self._own_record(configuration_id, event_id)
            if record is not None:
                self._update_record(record, body, merge=merge)
                return self._group_json(record)
            record, inst = self._resolve(configuration_id, event_id)
            override = record.overrides.setdefault(event_id, GroupOverride())
            if body.get("capacity") is not None:
                override.capacity = group_capacity(body["capacity"])
            if body.get("title") is not None:
                override.title = require_str(body["title"], "title", max_len=1024)
            if body.get("when") is not None:
                raw = body["when"]
                if merge and isinstance(raw, dict):
                    raw = {"start_time": inst.start_time, "end_time": inst.end_time, **raw}
                when = group_when(raw)
                override.start_time, override.end_time = when["start_time"], when["end_time"]
            record.updated_at = self.clock.now()
            _, inst = self._resolve(configuration_id, event_id)
            return self._group_json(record, inst)

    def _update_record(
        self, record: GroupEventRecord, body: Mapping[str, Any], *, merge: bool
    ) -> None:
        if merge and isinstance(body.get("when"), dict):
            body = {**body, "when": {**record.data["when"], **body["when"]}}
        data = {**record.data, **group_event_fields(body, record.data)}
        if "recurrence" in body:
            recurrence = check_recurrence(body["recurrence"], data["when"].get("start_timezone"))
            if recurrence:
                data["recurrence"] = recurrence
            else:
                data.pop("recurrence", None)
        elif data.get("recurrence"):
            try:
                validate_recurrence(data["recurrence"], data["when"].get("start_timezone"))
            except RecurrenceError as exc:
                raise EmulatorError.invalid(str(exc)) from exc
        record.data = data
        record.updated_at = self.clock.now()

    def delete_group_event(self, configuration_id: str, event_id: str) -> list[str]:
        """Delete an event (a master deletes every instance); its seats are freed and the
        bookings that held them cancelled.  Returns those booking ids."""
        with self.lock:
            record = self._own_record(configuration_id, event_id)
            if record is not None:
                del self.group_events[event_id]
                gone = [b for b, (rid, _) in self._booking_seat.items() if rid == event_id]
            else:
                record, _ = self._resolve(configuration_id, event_id)
                record.overrides.setdefault(event_id, GroupOverride()).deleted = True
                gone = [b for b, (_, iid) in self._booking_seat.items() if iid == event_id]
            for booking_id in gone:
                self._release_seat(booking_id)
            self.cancel_group_bookings(gone)
            return gone

    def _forget_group_events(self, configuration_id: str) -> None:
        """Forget every event of a deleted configuration (and the seats on them)."""
        for event_id in [
            k for k, r in self.group_events.items() if r.configuration_id == configuration_id
        ]:
            del self.group_events[event_id]
        for booking_id in [
            b for b, (rid, _) in self._booking_seat.items() if rid not in self.group_events
        ]:
            self._release_seat(booking_id)

    def cancel_group_bookings(
        self, booking_ids: Sequence[str], reason: str = GROUP_EVENT_DELETED_REASON
    ) -> None:
        """Cancel bookings whose group event was deleted (their seats are already gone)."""
        with self.lock:
            now = self.clock.now()
            for booking_id in booking_ids:
                booking = self.bookings.get(booking_id)
                if booking is None or not booking.is_live:
                    continue
                booking.status = "cancelled"
                booking.cancellation_reason = reason
                booking.updated_at = now
                self._emit("booking.cancelled", booking)

    # ----------------------------------------------------------------- import

    def _importable_event(
        self, grant_id: str | None, calendar_id: str, event_id: str
    ) -> Event | None:
        """The calendar event to import, or ``None`` (unknown, cancelled, other grant/calendar).

        ``grant_id`` None or ``"me"`` (the app-level path): any grant's event.
        """
        event = self.events.get(event_id)
        if event is None or event.status == "cancelled":
            return None
        grant = self.grants.get(event.grant_id)
        if grant_id not in (None, "me") and self.get_grant(grant_id).grant_id != event.grant_id:
            return None
        calendar = grant.calendar(calendar_id) if grant is not None else None
        if calendar is None or calendar.calendar_id != event.calendar_id:
            return None
        return event

    def import_group_events(
        self,
        grant_id: str | None,
        configuration_id: str,
        items: Any,
        *,
        calendar_id: str | None = None,
    ) -> dict[str, Any]:
        """Turn existing calendar events of the store into group events (at most 20 per call).

        ``items`` is the JSON body: an array (spec schema) or one object (spec sample);
        ``calendar_id`` is the default calendar of the items.  Returns
        ``{"imported_events": [{"event_id"}], "import_failed": [{"event_id", "reason"}]}``.
        """
        with self.lock:
            config = self.group_configuration(configuration_id).data
            parsed = import_items(
                items, default_capacity=default_capacity_of(config), default_calendar_id=calendar_id
            )
            imported: list[dict[str, str]] = []
            failed: list[dict[str, str]] = []
            now = self.clock.now()
            for event_id, cal_id, capacity, exceptions, people in parsed:
                source = self._importable_event(grant_id, cal_id, event_id)
                if event_id in self.group_events:
                    failed.append({"event_id": event_id, "reason": ALREADY_IMPORTED})
                    continue
                if source is None:
                    failed.append({"event_id": event_id, "reason": NOT_FOUND})
                    continue
                data: dict[str, Any] = {
                    "title": source.title,
                    "when": {"start_time": source.start_time, "end_time": source.end_time},
                    "capacity": capacity,
                    "calendar_id": cal_id,
                }
                if people:
                    data["participants"] = people
                record = GroupEventRecord(
                    event_id, grant_id or "", configuration_id, data, now, now, imported=True
                )
                record.overrides = {k: GroupOverride(capacity=c) for k, c in exceptions.items()}
                self.group_events[event_id] = record
                imported.append({"event_id": event_id})
            return {"imported_events": imported, "import_failed": failed}

    # ----------------------------------------------------------------- slots and seats

    def validate_group_timeslot(self, configuration_id: str, body: Mapping[str, Any]) -> None:
        """400/404/409 if the slot's event was changed, deleted or is full.

        ``body``: ``event_id`` (required), ``start_time``/``end_time``, optional ``master_id``
        (or ``master_event_id``), ``calendar_id``, ``capacity`` (seats the caller was shown).
        """
        event_id = require_str(body.get("event_id"), "event_id")
        master = body.get("master_id") or body.get("master_event_id")
        with self.lock:
            _, inst = self._resolve(configuration_id, event_id, master)
            _check_unchanged(inst, body)
            if inst.remaining <= 0:
                raise EmulatorError.event_full()

    def take_group_seat(
        self,
        configuration_id: str,
        booking_id: str,
        slot: Mapping[str, Any],
        *,
        guest_email: str = "",
    ) -> GroupInstance:
        """Book one seat of the slot's event for ``booking_id`` (atomic).

        ``slot`` is the booking body: ``event_id``, ``master_id``/``master_event_id``,
        ``start_time``, ``end_time``, ``calendar_id``.  Taking a seat twice for one booking is
        a no-op.
        """
        with self.lock:
            where = self._booking_seat.get(booking_id)
            if where is not None:
                return self._resolve(configuration_id, where[1])[1]
            return self._claim_seat(configuration_id, booking_id, slot, guest_email)

    def free_group_seat(self, booking_id: str) -> bool:
        """Give back the seat of a cancelled booking; ``False`` if it held none."""
        with self.lock:
            return self._release_seat(booking_id)

    def move_group_seat(
        self,
        configuration_id: str,
        booking_id: str,
        slot: Mapping[str, Any],
        *,
        guest_email: str = "",
    ) -> GroupInstance:
        """Reschedule: take a seat on the new slot, then free the old one (all or nothing)."""
        with self.lock:
            old = self._booking_seat.get(booking_id)
            guest = self._seats.get(old[1], {}).get(booking_id, guest_email) if old else ""
            if old is not None:
                self._release_seat(booking_id)
            try:
                return self._claim_seat(configuration_id, booking_id, slot, guest or guest_email)
            except EmulatorError:
                if old is not None:  # put the old seat back
                    self._seats.setdefault(old[1], {})[booking_id] = guest
                    self._booking_seat[booking_id] = old
                raise

    def group_seat_of(self, booking_id: str) -> str | None:
        """The instance id a booking holds a seat on, if any."""
        with self.lock:
            where = self._booking_seat.get(booking_id)
            return where[1] if where else None

    def _claim_seat(
        self, configuration_id: str, booking_id: str, slot: Mapping[str, Any], guest: str
    ) -> GroupInstance:
        """THE read-then-write of a seat (caller holds the lock): resolve the slot's instance,
        check it is unchanged and has a free seat, then record the seat."""
        event_id = require_str(slot.get("event_id"), "event_id")
        master = slot.get("master_id") or slot.get("master_event_id")
        record, inst = self._resolve(configuration_id, event_id, master)
        _check_unchanged(inst, {k: v for k, v in slot.items() if k != "capacity"})
        if inst.remaining <= 0:
            raise EmulatorError.event_full()
        if self.before_seat_write is not None:
            self.before_seat_write()
        self._seats.setdefault(inst.event_id, {})[booking_id] = guest
        self._booking_seat[booking_id] = (record.event_id, inst.event_id)
        return self._instance(record, inst.event_id, inst.start_time, inst.end_time)

    def _release_seat(self, booking_id: str) -> bool:
        where = self._booking_seat.pop(booking_id, None)
        if where is None:
            return False
        seats = self._seats.get(where[1], {})
        seats.pop(booking_id, None)
        if not seats:
            self._seats.pop(where[1], None)
        return True


def _check_unchanged(inst: GroupInstance, body: Mapping[str, Any]) -> None:
    """400 "The selected event has changed" if ``body``'s times, calendar or shown capacity no
    longer match ``inst``."""
    for name, current in (("start_time", inst.start_time), ("end_time", inst.end_time)):
        if body.get(name) is not None and parse_int(body[name], name) != current:
            raise EmulatorError.invalid(EVENT_CHANGED)
    calendar_id = body.get("calendar_id")
    if calendar_id is not None and calendar_id not in (inst.calendar_id, "primary"):
        raise EmulatorError.invalid(EVENT_CHANGED)
    # Capacity shown as remaining seats: more than the whole event now holds means it shrank.
    if body.get("capacity") is not None and parse_int(body["capacity"], "capacity") > inst.capacity:
        raise EmulatorError.invalid(EVENT_CHANGED)
