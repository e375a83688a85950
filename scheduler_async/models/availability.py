"""Availability (``GET /v3/scheduling/availability``) and sessions.

This module also owns how availability JSON becomes these models: the hot path of sweeps
(:func:`_fast_availability_hook`) validates the answer and builds every :class:`TimeSlot`
through its slot descriptors (a plain slot's group fields stored as ``None`` in C loops), so a
slot read later is an ordinary attribute read.
"""

from __future__ import annotations

import operator
from collections import deque
from datetime import UTC, datetime
from itertools import repeat
from typing import Any

import attrs

from .._convert import converter, register_preprocessor
from ._fields import checked

__all__ = ["Availability", "Session", "TimeSlot"]


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class TimeSlot:
    """A bookable slot and the participants free for it.

    A slot of a group configuration also names its group event (``event_id``, ``master_id`` for
    an instance of a recurring event, ``calendar_id``) and its remaining seats (``capacity``).
    """

    emails: tuple[str, ...]
    start_time: int
    end_time: int
    event_id: str | None = None
    master_id: str | None = None
    """Also decoded from the ``master_event_id`` spelling."""
    calendar_id: str | None = None
    capacity: int | None = None

    @property
    def is_group(self) -> bool:
        """Whether this slot is a seat on a group event."""
        return self.event_id is not None

    @property
    def start(self) -> datetime:
        """``start_time`` as an aware UTC datetime."""
        return datetime.fromtimestamp(self.start_time, UTC)

    @property
    def end(self) -> datetime:
        """``end_time`` as an aware UTC datetime."""
        return datetime.fromtimestamp(self.end_time, UTC)


_GROUP_FIELDS = tuple(f.name for f in attrs.fields(TimeSlot) if f.default is None)
"""The fields of a group slot (those with a default), ``None`` on a plain slot."""


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class Availability:
    """Bookable slots; ``order`` only for round-robin configurations."""

    time_slots: tuple[TimeSlot, ...] = ()
    order: tuple[str, ...] | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class Session:
    """A scheduler session; ``session_id`` is a bearer secret and is hidden from ``repr``."""

    session_id: str = attrs.field(repr=False)


def _time_slot_in(data: Any) -> Any:
    # Booking-page sources say ``master_id``; the spec's reschedule body says ``master_event_id``.
    if isinstance(data, dict) and "master_id" not in data and "master_event_id" in data:
        data = {**data, "master_id": data["master_event_id"]}
    return data


def _availability_in(data: Any) -> Any:
    # ``time_slots`` may be null on the wire: treat it as empty.
    if isinstance(data, dict) and data.get("time_slots", ()) is None:
        data = {**data, "time_slots": []}
    return data


_GROUP_SLOT_KEYS = frozenset(_GROUP_FIELDS) | {"master_event_id"}
"""Keys that make a JSON slot a group slot (``master_event_id``: see :func:`_time_slot_in`)."""


def _fast_availability_hook() -> Any:
    """Structure well-typed availability JSON directly (the hot path of sweeps).

    Anything that is not plainly well typed falls back to the generated cattrs hook, which gives
    the same result or a detailed validation error.
    """
    generated = converter.get_structure_hook(Availability)

    new = object.__new__
    fields = operator.itemgetter("emails", "start_time", "end_time")
    # The slot descriptors themselves: a frozen attrs class refuses ``obj.x = ...``, and these
    # stores skip both its __setattr__ and the attribute lookup of ``object.__setattr__``.
    set_emails = TimeSlot.__dict__["emails"].__set__
    set_start = TimeSlot.__dict__["start_time"].__set__
    set_end = TimeSlot.__dict__["end_time"].__set__
    set_group = tuple(TimeSlot.__dict__[name].__set__ for name in _GROUP_FIELDS)

    def hook(value: Any, tp: Any) -> Availability:
        if type(value) is dict:
            slots = value.get("time_slots")
            order = value.get("order")
            ok = slots is None or type(slots) is list
            if order is not None:
                ok = ok and type(order) is list
                order = tuple(order) if ok else None
                for x in order or ():
                    if type(x) is not str:
                        ok = False
            out: list[TimeSlot] = []
            append = out.append
            seen: dict[tuple[Any, ...], tuple[str, ...]] = {}  # slots share participant lists
            last: Any = None  # the previous slot's list: neighbours mostly have the same one
            checked: tuple[str, ...] = ()
            for slot in slots or () if ok else ():
                if type(slot) is not dict:
                    ok = False
                    break
                if len(slot) > 3 and not _GROUP_SLOT_KEYS.isdisjoint(slot):
                    ok = False  # a group slot: the generated hook decodes its extra fields
                    break
                try:
                    emails, start, end = fields(slot)
                except KeyError:
                    ok = False
                    break
                if type(start) is not int or type(end) is not int:
                    ok = False
                    break
                if emails != last:  # only a list equals ``last`` (a checked list)
                    if type(emails) is not list:
                        ok = False
                        break
                    key = tuple(emails)
                    shared = seen.get(key)
                    if shared is None:
                        for x in key:
                            if type(x) is not str:
                                ok = False
                        if not ok:
                            break
                        shared = seen[key] = key
                    last, checked = emails, shared
                # The attrs __init__ of a frozen class costs more than these three stores.
                obj = new(TimeSlot)
                set_emails(obj, checked)
                set_start(obj, start)
                set_end(obj, end)
                append(obj)
            if ok:
                for store in set_group:  # the group fields: None, stored in C loops
                    deque(map(store, out, repeat(None)), 0)
                return Availability(time_slots=tuple(out), order=order)
        return generated(value, tp)  # type: ignore[no-any-return]

    return hook


register_preprocessor(TimeSlot, _time_slot_in)  # before Availability, whose hook embeds it
register_preprocessor(Availability, _availability_in)
converter.register_structure_hook(Availability, _fast_availability_hook())
