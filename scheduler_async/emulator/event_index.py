"""A calendar's events kept sorted as they are written (:class:`EventIndex`).

The emulator's availability reads each calendar's blocking events for a window; keeping them
sorted by (start, end, id) on every write (a bisect on insert) lets a request slice the window
instead of scanning and sorting every event.  :class:`~.entities.Event` tells the index it sits
in before and after a change of one of :data:`INDEXED_FIELDS`, so every writer keeps it right.
"""

from __future__ import annotations

import weakref
from bisect import bisect_left, insort
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scheduler_async.emulator.entities import Event

__all__ = ["INDEXED_FIELDS", "EventIndex"]

INDEXED_FIELDS = frozenset({"start_time", "end_time", "busy", "status"})

_Key = tuple[int, int, str]  # (start, end, id): immutable, shared by copies of an index


def _blocking_kind(event: Event) -> str | None:
    """``"c"``: blocks availability; ``"t"``: tentative (blocks unless configured not to)."""
    if not event.busy or event.status == "cancelled":
        return None
    return "t" if event.status == "tentative" else "c"


class _Spans:
    """The ``(start, end)`` pairs of one kind of blocking event, sorted by (start, end, id)."""

    __slots__ = ("keys", "longest", "pairs")

    def __init__(self) -> None:
        self.keys: list[tuple[int, int, str]] = []
        self.pairs: list[tuple[int, int]] = []
        self.longest = 0  # the longest event ever added (an upper bound, never lowered)

    def add(self, start: int, end: int, event_id: str) -> None:
        i = bisect_left(self.keys, (start, end, event_id))
        self.keys.insert(i, (start, end, event_id))
        self.pairs.insert(i, (start, end))
        self.longest = max(self.longest, end - start)

    def remove(self, start: int, end: int, event_id: str) -> None:
        i = bisect_left(self.keys, (start, end, event_id))
        if i < len(self.keys) and self.keys[i] == (start, end, event_id):
            del self.keys[i], self.pairs[i]

    def copy(self) -> _Spans:
        """A copy (the same immutable pairs, new lists)."""
        new = _Spans.__new__(_Spans)
        new.keys, new.pairs, new.longest = self.keys.copy(), self.pairs.copy(), self.longest
        return new

    def window(self, lo: int, hi: int) -> list[tuple[int, int]]:
        """The pairs with ``start < hi`` and ``end > lo``, in order."""
        keys = self.keys
        first = bisect_left(keys, (lo - self.longest,))
        sure = max(first, bisect_left(keys, (lo + 1,)))  # from here on, start > lo: end > lo
        stop = bisect_left(keys, (hi,))
        if sure >= stop:
            return [p for p in self.pairs[first:stop] if p[1] > lo]
        head = [p for p in self.pairs[first:sure] if p[1] > lo]
        head += self.pairs[sure:stop]
        return head


class EventIndex(dict[str, "Event"]):
    """A calendar's events by id (a dict) that also keeps them sorted by (start, end, id).

    Every write keeps the order, whoever makes it: item assignment, ``del``, ``pop``,
    ``popitem``, ``setdefault``, ``update``, ``clear``, and a change of an indexed event's
    ``start_time``/``end_time``/``busy``/``status`` (:class:`Event` tells its index). A bisect
    on insert, so a request for availability never sorts or scans a calendar:
    :meth:`blocking` slices the busy intervals of a window, :meth:`overlapping` its events.
    """

    # An event refers to its index through ``_ref`` (weakly): no reference cycle, so a calendar
    # dropped by a reset or a restore is freed at once, without waiting for the cyclic GC.
    # ``_journal``: see :class:`~.entities.Journaled` (told before the first write, then None).
    __slots__ = ("__weakref__", "_journal", "_order", "_ref", "_spans")

    def __init__(self, events: Mapping[str, Event] | Iterable[tuple[str, Event]] = ()) -> None:
        super().__init__()
        self._ref = weakref.ref(self)
        self._journal: Any = None
        self._order: list[_Key] = []
        self._spans = {"c": _Spans(), "t": _Spans()}
        self.update(events)

    def _touch(self) -> None:
        journal = self._journal
        if journal is not None:
            self._journal = None
            journal.save_index(self)

    def state(self) -> tuple[dict[str, Event], list[_Key], dict[str, _Spans]]:
        """What a journal keeps to put this index back as it is (copies)."""
        spans = {kind: s.copy() for kind, s in self._spans.items()}
        return dict(self), self._order.copy(), spans

    def put_back(
        self, state: tuple[dict[str, Event], list[_Key], dict[str, _Spans]], journal: Any
    ) -> None:
        """Hold again what :meth:`state` kept (each event told it sits here), watched by
        ``journal``."""
        events, order, spans = state
        dict.clear(self)
        dict.update(self, events)
        self._order, self._spans, self._journal = order, spans, journal
        ref = self._ref
        for event in events.values():
            event.__dict__["_index"] = ref

    def _add(self, event: Event) -> None:
        self._touch()
        insort(self._order, (event.start_time, event.end_time, event.event_id))
        kind = _blocking_kind(event)
        if kind is not None:
            self._spans[kind].add(event.start_time, event.end_time, event.event_id)

    def unindex(self, event: Event) -> None:
        """Drop ``event`` from the order (its times are about to change, or it leaves)."""
        self._touch()
        order = self._order
        key = (event.start_time, event.end_time, event.event_id)
        i = bisect_left(order, key)
        if i < len(order) and order[i] == key:
            del order[i]
            kind = _blocking_kind(event)
            if kind is not None:
                self._spans[kind].remove(event.start_time, event.end_time, event.event_id)

    def reindex(self, event: Event) -> None:
        """Put ``event`` back into the order (after a change of its times)."""
        if super().get(event.event_id) is event:
            self._add(event)

    def _drop(self, event: Event) -> None:
        self.unindex(event)
        if event.__dict__.get("_index") is self._ref:
            del event.__dict__["_index"]

    def __setitem__(self, event_id: str, event: Event) -> None:
        self._touch()
        old = super().get(event_id)
        if old is not None:
            self._drop(old)
        super().__setitem__(event_id, event)
        self._add(event)
        event.__dict__["_index"] = self._ref

    def __delitem__(self, event_id: str) -> None:
        self._touch()
        event = super().__getitem__(event_id)
        super().__delitem__(event_id)
        self._drop(event)

    def pop(self, event_id: str, *default: Any) -> Any:
        """``dict.pop``, keeping the order."""
        if event_id not in self:
            if default:
                return default[0]
            raise KeyError(event_id)
        event = super().__getitem__(event_id)
        del self[event_id]
        return event

    def popitem(self) -> tuple[str, Event]:
        """``dict.popitem``, keeping the order."""
        self._touch()
        event_id, event = super().popitem()
        self._drop(event)
        return event_id, event

    def setdefault(self, event_id: str, default: Event) -> Event:
        """``dict.setdefault``, keeping the order."""
        if event_id not in self:
            self[event_id] = default
        return super().__getitem__(event_id)

    def update(self, *args: Any, **kwargs: Event) -> None:
        """``dict.update``, keeping the order."""
        for event_id, event in dict(*args, **kwargs).items():
            self[event_id] = event

    def clear(self) -> None:
        """``dict.clear``, keeping the order."""
        self._touch()
        for event in list(self.values()):
            self._drop(event)
        super().clear()
        self._order.clear()
        self._spans = {"c": _Spans(), "t": _Spans()}

    def __ior__(self, other: Any) -> EventIndex:  # type: ignore[override,misc]
        self.update(other)
        return self

    def __reduce__(self) -> Any:
        return (type(self), (dict(self),))

    def __copy__(self) -> EventIndex:
        return EventIndex(dict(self))

    def in_order(self) -> Iterator[Event]:
        """Every event, by (start, end, id)."""
        get = super().__getitem__
        return (get(key[2]) for key in self._order)

    def blocking(
        self, lo: int, hi: int, *, tentative: bool = True, exclude: str | None = None
    ) -> list[tuple[int, int]]:
        """``(start, end)`` of the busy, not cancelled events overlapping ``[lo, hi)``, sorted;
        tentative ones only with ``tentative``; never the event ``exclude`` (an id)."""
        out = self._spans["c"].window(lo, hi)
        if tentative and self._spans["t"].keys:
            out += self._spans["t"].window(lo, hi)
            out.sort()
        if exclude is not None:
            skipped = super().get(exclude)
            kind = None if skipped is None else _blocking_kind(skipped)
            if skipped is not None and kind is not None and (tentative or kind == "c"):
                pair = (skipped.start_time, skipped.end_time)
                if pair in out and skipped.start_time < hi and skipped.end_time > lo:
                    out.remove(pair)  # any equal pair: the result is the same
        return out

    def overlapping(self, lo: int, hi: int) -> Iterator[Event]:
        """The events with ``start < hi`` and ``end > lo``, by (start, end, id)."""
        order, get = self._order, super().__getitem__
        stop = bisect_left(order, (hi,))
        return (get(key[2]) for key in order[:stop] if key[1] > lo)
