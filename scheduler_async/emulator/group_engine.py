"""Pure availability of group configurations: group events, their instances and free seats.

The group side of :mod:`.engine` (which computes standard and round-robin slots): no I/O, no
clock, no locking.  :func:`expand_group_event` turns one stored group event into its instances
in a window (recurrence, moved and deleted instances); :func:`group_availability` turns
instances into the availability answer: the instances in the window with free seats, each slot
carrying ``event_id``, ``master_id`` (recurring events only), ``calendar_id`` and ``capacity`` =
remaining seats.  There is no ``order`` (round robin only).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sized
from typing import Any

import attrs

from scheduler_async.emulator.engine import AvailabilityResult
from scheduler_async.emulator.entities import GroupEventRecord, GroupInstance
from scheduler_async.emulator.recurrence import expand, split_instance_id

__all__ = ["GroupAvailabilityResult", "expand_group_event", "group_availability"]


@attrs.frozen
class GroupAvailabilityResult(AvailabilityResult):
    """Availability of a group configuration: slot objects with their group fields."""

    group_slots: tuple[Mapping[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """``{"time_slots": [...]}`` (no ``order``: group configurations are not round robin)."""
        return {"time_slots": [dict(slot) for slot in self.group_slots]}


def expand_group_event(
    record: GroupEventRecord,
    seats: Mapping[str, Sized],
    window_start: int,
    window_end: int,
) -> list[GroupInstance]:
    """The live instances of ``record`` overlapping ``[window_start, window_end)``.

    ``seats`` maps an instance id to its taken seats (only their number counts).
    """
    when = record.data["when"]
    duration = when["end_time"] - when["start_time"]
    # Moved exceptions may land in the window from outside it: widen, then filter.
    slack = 0
    for key, moved in record.overrides.items():
        split = split_instance_id(key)
        if moved.start_time is not None and split is not None:
            slack = max(slack, abs(moved.start_time - split[1]))
    occurrences = expand(
        record.event_id,
        start_time=when["start_time"],
        end_time=when["end_time"],
        recurrence=record.recurrence,
        timezone=record.timezone,
        window_start=window_start - slack,
        window_end=window_end + slack + duration,
    )
    out = []
    for occ in occurrences:
        override = record.overrides.get(occ.event_id)
        if override is not None and override.deleted:
            continue
        booked = len(seats.get(occ.event_id, ()))
        inst = record.instance(occ.event_id, occ.start_time, occ.end_time, booked)
        if inst.end_time > window_start and inst.start_time < window_end:
            out.append(inst)
    return out


def group_availability(
    instances: Iterable[GroupInstance],
    *,
    start_time: int,
    end_time: int,
    now: int,
    min_booking_notice: int = 0,
) -> GroupAvailabilityResult:
    """The availability answer of a group configuration: instances in the window with free
    seats, starting no earlier than ``min_booking_notice`` minutes after ``now``."""
    earliest = now + 60 * min_booking_notice
    slots = []
    for inst in sorted(instances, key=lambda i: (i.start_time, i.event_id)):
        if inst.remaining <= 0 or inst.start_time < max(start_time, earliest):
            continue
        if inst.end_time > end_time:
            continue
        slot: dict[str, Any] = {
            "emails": list(inst.emails),
            "start_time": inst.start_time,
            "end_time": inst.end_time,
            "event_id": inst.event_id,
            "calendar_id": inst.calendar_id,
            "capacity": inst.remaining,
        }
        if inst.master_id is not None:
            slot["master_id"] = inst.master_id
        slots.append(slot)
    return GroupAvailabilityResult(time_slots=(), group_slots=tuple(slots))
