"""Availability (``GET /v3/scheduling/availability``) and sessions.

This module also owns how availability JSON becomes these models: the hot path of sweeps
(:func:`_fast_availability_hook`) validates the answer and builds every :class:`TimeSlot`
through its slot descriptors in C loops (no Python code runs per slot), so a slot read later is
an ordinary attribute read.
"""

from __future__ import annotations

import operator
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from itertools import repeat
from typing import Any, overload

import attrs

from .._convert import converter, register_preprocessor
from ._fields import checked

__all__ = ["Availability", "Session", "TimeSlot", "TimeSlots"]


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


_CHUNK = 64
"""Slots built per step while iterating :class:`TimeSlots` (a few dozen objects alive)."""


def _slot_maker() -> Callable[[Sequence[Any], Sequence[int], Sequence[int]], list[TimeSlot]]:
    """``make(emails, starts, ends)``: a list of plain :class:`TimeSlot` objects, built through
    the slot descriptors in C loops (a frozen attrs class refuses ``obj.x = ...``, and its
    ``__init__`` costs more than these stores); the group fields are ``None``."""
    new = object.__new__
    set_emails = TimeSlot.__dict__["emails"].__set__
    set_start = TimeSlot.__dict__["start_time"].__set__
    set_end = TimeSlot.__dict__["end_time"].__set__
    set_group = tuple(TimeSlot.__dict__[name].__set__ for name in _GROUP_FIELDS)

    def make(emails: Sequence[Any], starts: Sequence[int], ends: Sequence[int]) -> list[TimeSlot]:
        out = list(map(new, repeat(TimeSlot, len(starts))))
        deque(map(set_emails, out, emails), 0)
        deque(map(set_start, out, starts), 0)
        deque(map(set_end, out, ends), 0)
        for store in set_group:
            deque(map(store, out, repeat(None)), 0)
        return out

    return make


_make_slots = _slot_maker()


class TimeSlots(Sequence[TimeSlot]):
    """The plain slots of an availability answer: an immutable, tuple-like sequence.

    The answer is validated when it is decoded; each :class:`TimeSlot` is built when it is read
    (and not kept), so a large answer holds three compact lists instead of thousands of objects,
    and reading it creates no garbage-collector pressure. It compares equal to the tuple of the
    same slots (and hashes like it), and ``tuple(slots)`` gives that tuple.
    """

    __slots__ = ("_emails", "_ends", "_starts")

    def __init__(
        self, emails: Sequence[tuple[str, ...]], starts: Sequence[int], ends: Sequence[int]
    ) -> None:
        if not len(emails) == len(starts) == len(ends):
            raise ValueError("emails, starts and ends must have the same length")
        self._emails = emails
        self._starts = starts
        self._ends = ends

    def __len__(self) -> int:
        return len(self._starts)

    @overload
    def __getitem__(self, index: int) -> TimeSlot: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[TimeSlot, ...]: ...

    def __getitem__(self, index: int | slice) -> TimeSlot | tuple[TimeSlot, ...]:
        if isinstance(index, slice):
            return tuple(_make_slots(self._emails[index], self._starts[index], self._ends[index]))
        i = operator.index(index)
        return _make_slots((self._emails[i],), (self._starts[i],), (self._ends[i],))[0]

    def __iter__(self) -> Iterator[TimeSlot]:
        emails, starts, ends = self._emails, self._starts, self._ends
        for i in range(0, len(starts), _CHUNK):
            j = i + _CHUNK
            yield from _make_slots(emails[i:j], starts[i:j], ends[i:j])

    def __reversed__(self) -> Iterator[TimeSlot]:
        return reversed(tuple(self))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TimeSlots):
            return (
                self._starts == other._starts
                and self._ends == other._ends
                and self._emails == other._emails
            )
        if isinstance(other, tuple):
            return len(other) == len(self) and tuple(self) == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return repr(tuple(self))

    def __add__(self, other: object) -> tuple[TimeSlot, ...]:
        if isinstance(other, tuple | TimeSlots):
            return tuple(self) + tuple(other)
        return NotImplemented

    def __radd__(self, other: object) -> tuple[TimeSlot, ...]:
        if isinstance(other, tuple):
            return other + tuple(self)
        return NotImplemented

    def __reduce__(self) -> tuple[Any, ...]:
        return (TimeSlots, (list(self._emails), list(self._starts), list(self._ends)))


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class Availability:
    """Bookable slots; ``order`` only for round-robin configurations."""

    time_slots: Sequence[TimeSlot] = ()
    """A tuple, or, decoded from an answer, a :class:`TimeSlots` (equal to the same tuple)."""
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
    """``build(slots)``: the :class:`TimeSlots` of a JSON list of plain slots, or ``None`` when
    the list is not plainly well typed (the caller then takes the generated hook).

    Every pass is a C loop (``map`` over C callables): no Python bytecode runs per slot. The type
    checks are exact (``type(x) is int`` refuses ``True`` as well as ``7.0``), and participant
    lists are checked once per distinct list and shared between slots as one tuple.
    """
    get_emails = operator.itemgetter("emails")
    get_start = operator.itemgetter("start_time")
    get_end = operator.itemgetter("end_time")
    only_int, only_list = {int}, {list}
    plain = _GROUP_SLOT_KEYS.isdisjoint

    def build(slots: list[Any]) -> TimeSlots | None:
        try:  # a slot that is not a JSON object raises TypeError here
            starts = list(map(get_start, slots))
            ends = list(map(get_end, slots))
            lists = list(map(get_emails, slots))
        except (KeyError, TypeError):
            return None
        # A slot with more than the three keys may be a group slot: the generated hook decodes
        # its extra fields. Unknown extra keys (the API grows) stay on this path.
        if max(map(len, slots)) > 3 and not all(map(plain, slots)):
            return None
        if set(map(type, starts)) != only_int or set(map(type, ends)) != only_int:
            return None
        if set(map(type, lists)) != only_list:
            return None
        keys = list(map(tuple, lists))
        seen: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        shared = list(map(seen.setdefault, keys, keys))  # slots share participant lists
        for key in seen:
            if set(map(type, key)) - {str}:
                return None
        return TimeSlots(shared, starts, ends)

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
# ``time_slots`` decodes like ``tuple[TimeSlot, ...]`` where the fast hook does not apply.
_slots_tuple_hook = converter.get_structure_hook(tuple[TimeSlot, ...])
converter.register_structure_hook_func(
    lambda tp: tp == Sequence[TimeSlot], lambda value, _: _slots_tuple_hook(value, tuple)
)
register_preprocessor(Availability, _availability_in)
converter.register_structure_hook(Availability, _fast_availability_hook())
