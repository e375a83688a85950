"""Availability (``GET /v3/scheduling/availability``) and sessions.

This module also owns how availability JSON becomes these models: the hot path of sweeps
(:func:`_fast_availability_hook`) validates the answer and builds every :class:`TimeSlot`
through its slot descriptors in C loops (no Python code runs per slot), so a slot read later is
an ordinary attribute read.
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


def _plain_slot_builder() -> Any:
    """``build(slots)``: the :class:`TimeSlot` objects of a JSON list of plain slots, or ``None``
    when the list is not plainly well typed (the caller then takes the generated hook).

    Every pass is a C loop (``map`` over C callables): no Python bytecode runs per slot. The type
    checks are exact (``type(x) is int`` refuses ``True`` as well as ``7.0``), participant lists
    are checked once per distinct list and shared between slots as one tuple, and the objects are
    built through the slot descriptors: a frozen attrs class refuses ``obj.x = ...``, and its
    ``__init__`` costs more than these stores.
    """
    new = object.__new__
    get_emails = operator.itemgetter("emails")
    get_start = operator.itemgetter("start_time")
    get_end = operator.itemgetter("end_time")
    set_emails = TimeSlot.__dict__["emails"].__set__
    set_start = TimeSlot.__dict__["start_time"].__set__
    set_end = TimeSlot.__dict__["end_time"].__set__
    set_group = tuple(TimeSlot.__dict__[name].__set__ for name in _GROUP_FIELDS)
    only_dict, only_int, only_list = {dict}, {int}, {list}
    plain = _GROUP_SLOT_KEYS.isdisjoint

    def build(slots: list[Any]) -> tuple[TimeSlot, ...] | None:
        if set(map(type, slots)) != only_dict:
            return None
        # A slot with more than the three keys may be a group slot: the generated hook decodes
        # its extra fields. Unknown extra keys (the API grows) stay on this path.
        if max(map(len, slots)) > 3 and not all(map(plain, slots)):
            return None
        try:
            starts = list(map(get_start, slots))
            ends = list(map(get_end, slots))
            lists = list(map(get_emails, slots))
        except KeyError:
            return None
        if set(map(type, starts)) != only_int or set(map(type, ends)) != only_int:
            return None
        if set(map(type, lists)) != only_list:
            return None
        keys = list(map(tuple, lists))
        seen: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        shared = list(map(seen.setdefault, keys, keys))  # slots share participant lists
        del keys
        for key in seen:
            if set(map(type, key)) - {str}:
                return None
        out = list(map(new, repeat(TimeSlot, len(slots))))
        deque(map(set_emails, out, shared), 0)
        deque(map(set_start, out, starts), 0)
        deque(map(set_end, out, ends), 0)
        for store in set_group:  # the group fields of a plain slot: None
            deque(map(store, out, repeat(None)), 0)
        return tuple(out)

    return build


def _fast_availability_hook() -> Any:
    """Structure well-typed availability JSON directly (the hot path of sweeps).

    Anything that is not plainly well typed falls back to the generated cattrs hook, which gives
    the same result or a detailed validation error.
    """
    generated = converter.get_structure_hook(Availability)
    build = _plain_slot_builder()

    def hook(value: Any, tp: Any) -> Availability:
        if type(value) is dict:
            slots = value.get("time_slots")
            order = value.get("order")
            ok = slots is None or type(slots) is list
            if order is not None:
                ok = ok and type(order) is list and set(map(type, order)) <= {str}
                order = tuple(order) if ok else None
            if ok:
                built = build(slots) if slots else ()
                if built is not None:
                    return Availability(time_slots=built, order=order)
        return generated(value, tp)  # type: ignore[no-any-return]

    return hook


register_preprocessor(TimeSlot, _time_slot_in)  # before Availability, whose hook embeds it
register_preprocessor(Availability, _availability_in)
converter.register_structure_hook(Availability, _fast_availability_hook())
