"""Pure availability engine of the Scheduler emulator.

``compute_availability`` is a pure function of (configuration, busy intervals, query window, now):
no I/O, no clock, no global mutable state (a bounded module-level memo of time-zone window
boundaries only saves work: ``ZoneInfo`` data never changes, so it cannot change a result). The
configuration is the stored wire-JSON dict with the server defaults already filled in; the engine
re-applies the same defaults itself so a partial dict also works. Defaults, rules and limits, and
the parsing of a configuration into the engine's plan, live in :mod:`.validation` (shared with the
store). All times are Unix seconds.

Choices made where the public spec is silent or *unconfirmed* (see ``scheduler-api.md``):

Slots and grid
  * Slot length is ``availability.duration_minutes``. ``interval_minutes`` (slot start spacing)
    defaults to ``duration_minutes`` when missing or null; ``round_to`` defaults to 15.
  * Open time is a list of *windows* per participant; a window is one open-hours entry on one
    local date (or one specific-time entry). Windows are never merged: a slot must fit entirely
    inside a single window, so it cannot straddle two touching entries (09:00-12:00 and
    12:00-15:00) or local midnight.
  * Grid: in each window the first start is the window start rounded UP to a multiple of
    ``round_to`` minutes in that window's local wall-clock time, then every ``interval_minutes``
    of elapsed time while the slot still fits. The grid depends only on the window, never on the
    query window or ``now``, so splitting a query into chunks gives the same slots and
    ``find_slot`` agrees with ``compute_availability`` exactly.
  * Collective: the windows of all participants are intersected; each non-empty intersection is
    a window whose start (and the wall-clock zone used for rounding) is the latest of the
    intersected starts.
  * Round robin: every participant offers the grid points of their own windows; a slot start is
    offered when at least one participant offers it and is free; ``emails`` lists every free
    participant that offers exactly that slot.
  * A window starting in a DST gap (e.g. 02:30 on a spring-forward day) starts at the instant
    ``zoneinfo`` gives that wall time with ``fold=0``; a 09:00-17:00 window on a DST-change day is
    09:00-17:00 local (7 or 9 elapsed hours only when the change falls inside it).

Open hours
  * A participant's own ``availability.open_hours`` if non-empty, else
    ``availability_rules.default_open_hours`` if non-empty, else the participant is unbounded.
  * Unbounded means open all day every day in the participant's time zone (precedence below,
    i.e. the participant's ``timezone``, then ``event_booking.timezone``, then UTC): one window
    00:00-24:00 per local date. (The brief suggested anchoring an unbounded grid at the query
    start; that would make the grid depend on the query window, breaking ``find_slot`` and
    chunked sweeps, so the grid anchors at local midnight instead.)
  * ``days`` are 0 = Sunday .. 6 = Saturday. ``start``/``end`` are ``H:MM``/``HH:MM``; an ``end``
    of ``00:00`` or ``24:00`` means midnight at the end of that day; otherwise end > start.
  * Time-zone precedence: the entry's ``timezone``, the participant's ``timezone``,
    ``event_booking.timezone``, UTC; an empty string or null means unset.
  * ``exdates`` (``YYYY-MM-DD``, may be null) remove the entry's window on that local date.

Specific dates
  * ``specific_time_availability`` entries of a participant and the config-wide
    ``default_specific_time_availability`` are merged; on a date present in the participant's
    list, the defaults for that date are ignored (participant wins).
  * A specific date replaces every open-hours window (including the implicit unbounded one)
    whose *local date* equals it; its entries add windows in their own zone (precedence as
    above). ``"00:00"``-``"00:00"`` adds nothing, so the date becomes unavailable.
  * ``only_specific_time_availability`` (participant's or config-wide; either being true wins)
    drops open hours entirely: only the specific entries are open.

Busy time, buffers, notice, horizon
  * ``busy`` maps email -> ``[start, end)`` intervals (any order, may overlap); a participant
    missing from it is never busy. Empty or inverted intervals (end <= start) are ignored.
  * Buffers: slot ``[s, e)`` conflicts with busy ``[bs, be)`` iff
    ``s - before*60 < be and e + after*60 > bs``.
  * ``s >= now + min_booking_notice*60`` (null or missing means 60) and
    ``s < now + available_days_in_future*86400`` (null or missing means 30), and the slot lies in
    the query window: ``s >= start_time`` and ``e <= end_time``. ``start_time >= end_time`` gives
    no slots.

Methods and order (exact real-service algorithms are *unconfirmed*)
  * ``collective`` (default): every participant must be free and in open hours; ``emails`` is
    every participant in configuration order. Unknown or null method strings count as collective.
  * ``max-fairness``: ``order`` is the participants sorted by ``last_booked`` ascending, never
    booked first, ties in configuration order. ``max-availability``: sorted by
    ``booking_counts`` ascending (missing = 0), ties in configuration order. ``emails`` of a
    round-robin slot follow ``order``; ``order`` is ``None`` for collective.

Validation (``validate_config``) rejects what the engine cannot interpret: missing participants,
empty or duplicate emails, non-positive ``duration_minutes``/``interval_minutes``, ``round_to``
not a positive multiple of 5, buffers outside 0-120 or not multiples of 5, negative notice or
horizon, unknown time zones, malformed ``H:MM`` or dates, day numbers outside 0-6, end <= start.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from itertools import islice, repeat
from operator import add, itemgetter, lt
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from scheduler_async.emulator.validation import ConfigError, Participant, Plan, parse_plan

__all__ = [
    "AvailabilityResult",
    "ConfigError",
    "Slot",
    "compute_availability",
    "find_slot",
    "validate_config",
]

_MIN = 60
_DAY = 86_400
_ONE_MINUTE = timedelta(minutes=1)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# A window never lasts longer than a day plus a DST shift; used to bound backward searches.
_MAX_WINDOW = _DAY + 3 * 3600


@attrs.frozen
class Slot:
    """One bookable slot: the free participants and its ``[start_time, end_time)``."""

    emails: tuple[str, ...]
    start_time: int
    end_time: int

    def to_json(self) -> dict[str, Any]:
        """Wire form of the slot."""
        return {
            "emails": list(self.emails),
            "start_time": self.start_time,
            "end_time": self.end_time,
        }


@attrs.frozen
class AvailabilityResult:
    """Slots sorted by start time; ``order`` only for round-robin methods."""

    time_slots: tuple[Slot, ...]
    order: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        """Wire form of the ``data`` object of the availability response."""
        out: dict[str, Any] = {"time_slots": [s.to_json() for s in self.time_slots]}
        if self.order is not None:
            out["order"] = list(self.order)
        return out


def validate_config(config: Mapping[str, Any]) -> None:
    """Raise ``ConfigError`` if the engine cannot interpret ``config``."""
    parse_plan(config)


# --------------------------------------------------------------------------- windows

# A window: (start, end, utc_offset_at_start) in seconds; the offset gives local wall-clock time.
_Window = tuple[int, int, int]


def _wall_offset(tz: ZoneInfo, day: int, minutes: int) -> int:
    """UTC offset (seconds) of local wall time ``minutes`` after midnight of date ordinal ``day``.

    A wall time in a DST gap or fold resolves like ``zoneinfo`` with ``fold=0``.
    """
    # ``ZoneInfo.utcoffset`` of a naive datetime reads it as local wall time (fold=0), exactly
    # like the aware datetime's ``utcoffset()``, and costs a fraction of building one.
    wall = datetime.fromordinal(day)
    if minutes:
        wall += minutes * _ONE_MINUTE
    delta = tz.utcoffset(wall)
    return delta.days * _DAY + delta.seconds if delta is not None else 0


def _local(tz: ZoneInfo, day: int, minutes: int) -> tuple[int, int]:
    """(UTC instant, UTC offset) of local wall time ``day`` + ``minutes`` (1440 = next midnight)."""
    if minutes >= 1440:
        day, minutes = day + 1, minutes - 1440
    offset = _wall_offset(tz, day, minutes)
    return (day - _EPOCH_ORDINAL) * _DAY + minutes * _MIN - offset, offset


@lru_cache(maxsize=8192)
def _window(tz: ZoneInfo, day: int, start: int, end: int) -> _Window:
    """The window of local wall times ``start``..``end`` minutes (1440 = next midnight) on date
    ordinal ``day`` in ``tz``; it may be empty (end <= start) on a DST-change day.

    Memoized: a ``ZoneInfo`` object's data never changes (it hashes by identity), so the memo
    cannot change a result; it only spares the offset lookups of windows seen before.
    """
    ws, off = _local(tz, day, start)
    return ws, _local(tz, day, end)[0], off


def _windows(p: Participant, lo: int, hi: int) -> list[_Window]:
    """Windows of ``p`` overlapping ``[lo, hi)``, sorted by start (full, unclipped windows)."""
    out: list[_Window] = []
    for h in p.hours:
        tz, days, start, end = h.tz, h.days, h.start, h.end
        skip = h.exdates | p.specific_dates
        first = datetime.fromtimestamp(lo, tz).toordinal() - 1
        last = datetime.fromtimestamp(hi, tz).toordinal()
        for day in range(first, last + 1):
            # Ordinal 1 (0001-01-01) is a Monday, so ordinal % 7 is the API's day (0 = Sunday).
            if day % 7 in days and day not in skip:
                w = _window(tz, day, start, end)
                if w[0] < hi and w[1] > lo and w[1] > w[0]:
                    out.append(w)
    for s in p.specific:
        w = _window(s.tz, s.day, s.start, s.end)
        if w[0] < hi and w[1] > lo and w[1] > w[0]:
            out.append(w)
    out.sort()
    return out


def _intersect(a: list[_Window], b: list[_Window]) -> list[_Window]:
    """Pairwise intersections; each keeps the start and offset of the later-starting window."""
    out: set[_Window] = set()
    b_starts = [w[0] for w in b]
    for a_s, a_e, a_off in a:
        i = bisect_left(b_starts, a_s - _MAX_WINDOW)
        for b_s, b_e, b_off in b[i:]:
            if b_s >= a_e:
                break
            if b_e <= a_s:
                continue
            if b_s > a_s:
                out.add((b_s, min(a_e, b_e), b_off))
            else:
                out.add((a_s, min(a_e, b_e), a_off))
    return sorted(out)


# A zone: (first, last) slot starts on one window's grid, ``last - first`` a multiple of the step.
# Every start ``first, first + step, ..., last`` is offered unless busy time removes it.
_Zone = tuple[int, int]


def _zones(windows: Iterable[_Window], plan: Plan, first_ok: int, last_ok: int) -> list[_Zone]:
    """The grid of each window as a zone: starts (slot inside its window) in ``[first_ok,
    last_ok]``. Zones come in window order; overlapping windows give overlapping zones."""
    r, step, dur = plan.round_to, plan.step, plan.duration
    out: list[_Zone] = []
    for ws, we, off in windows:
        first = ws + (-(ws + off)) % r
        last = min(we - dur, last_ok)
        if first < first_ok:
            first += -((first - first_ok) // step) * step
        if first <= last:
            out.append((first, last - (last - first) % step))
    return out


def _starts(zones: Iterable[_Zone], step: int) -> list[int]:
    """Every start of ``zones``, sorted and unique."""
    out: list[int] = []
    for first, last in zones:
        out.extend(range(first, last + 1, step))
    if not all(map(lt, out, islice(out, 1, None))):  # overlapping windows: merge their grids
        out = sorted(set(out))
    return out


# --------------------------------------------------------------------------- busy checks


def _free_zones(
    intervals: Sequence[Sequence[int]],
    zones: list[_Zone],
    step: int,
    dur: int,
    before: int,
    after: int,
) -> list[_Zone]:
    """``zones`` without the starts whose slots conflict with busy ``intervals``.

    A slot ``[s, e)`` conflicts with ``[bs, be)`` iff ``bs < e + after`` and ``be > s - before``.
    Every interval with ``be <= s - before`` also has ``bs < e + after``, so the number of
    conflicts at ``s`` is ``#(bs < s + dur + after) - #(be <= s - before)``: two bisections into
    separately sorted starts and ends. Each zone is walked from conflict to free stretch and back
    (at most one pair of bisections per stretch, never one per start), so the walk grows with the
    number of busy intervals inside the zones, not with the number of slot starts; sorting the
    intervals is the main cost. Unsorted intervals are sorted as small ints relative to the zones
    (faster to compare than full Unix times); input whose head is sorted is taken as it is. For
    one or two starts a linear scan is cheaper than sorting the intervals.
    """
    if not intervals or not zones:
        return zones
    if len(zones) <= 2 and sum(last - first for first, last in zones) <= step * (2 - len(zones)):
        # At most two starts (e.g. ``find_slot``): scan the intervals, no sorting. One plain
        # comprehension keeps the few intervals that can touch either start.
        starts = _starts(zones, step)
        lead, lo, hi = dur + after, starts[0] - before, starts[-1] + dur + after
        near = [(bs, be) for bs, be in intervals if bs < hi and be > lo and be > bs]
        return [
            (s, s) for s in starts if not any(bs < s + lead and be > s - before for bs, be in near)
        ]
    lead = dur + after
    reach = lead + before  # with ``lead``, how far an interval's end reaches past a free start
    head = [iv[0] for iv in islice(intervals, 16)]
    if head == sorted(head):
        # Most likely sorted already (as the emulator's store passes them): sorting is nearly
        # free, so skip the shifting below.
        base = 0
        ss = list(map(itemgetter(0), intervals))
        es = list(map(itemgetter(1), intervals))
    else:
        # Times taken relative to ``base`` (a zone start plus ``lead``) stay small ints (below
        # 2**30) near the query window, which ``list.sort`` compares several times faster than
        # full-size Unix times. Far-away intervals are still exact, only slower to sort.
        base = zones[0][0] + lead
        ss = [bs - base for bs, _ in intervals]
        es = [be - base for _, be in intervals]
    if not all(map(lt, ss, es)):
        valid = [(bs, be) for bs, be in zip(ss, es, strict=True) if be > bs]
        if not valid:
            return zones
        ss, es = [v[0] for v in valid], [v[1] for v in valid]
    ss.sort()
    es.sort()
    shift = base - lead
    # Sentinel: an interval that starts after every zone ends (and after every real one).
    ss.append(max(ss[-1], max([last for _, last in zones]) - shift) + 1)
    # ``ss``/``es`` are relative to ``base`` and a start ``s`` below to ``shift``, so ``s``
    # conflicts with an interval iff ``bs < s`` and ``be > s - reach``.
    out: list[_Zone] = []
    append = out.append
    for first, last in zones:
        first -= shift
        last -= shift
        s = first
        over = 0  # a lower bound of the number of intervals over by s (grows with s)
        while s <= last:
            began = bisect_left(ss, s)  # intervals that start before the slot (and buffer) ends
            if began > over and began > (over := bisect_right(es, s - reach)):
                # Conflict at s: skip to when all intervals begun so far are over.
                s = es[began - 1] + reach
                s += (first - s) % step  # up onto the zone's grid
                over = began
            elif (stop := ss[began]) >= last:  # the last start before the next interval begins
                append((s + shift, last + shift))  # free to the end of the zone
                break
            else:
                append((s + shift, stop - (stop - s) % step + shift))
                s = stop + 1
                s += (first - s) % step
    return out


# --------------------------------------------------------------------------- the computation

# ``Slot`` is a frozen attrs class with ``__slots__`` and no validators, converters or
# ``__attrs_post_init__``, so writing its slots through their descriptors builds exactly the
# object ``Slot(emails, start, end)`` would, at about half the cost of the frozen ``__init__``.
_SET_EMAILS, _SET_START, _SET_END = (Slot.__dict__[a.name].__set__ for a in attrs.fields(Slot))


def _slots(emails: Iterable[tuple[str, ...]], starts: list[int], dur: int) -> tuple[Slot, ...]:
    """``tuple(map(Slot, emails, starts, (s + dur for s in starts)))``, built faster."""
    out = tuple(map(object.__new__, repeat(Slot, len(starts))))
    deque(map(_SET_EMAILS, out, emails), 0)
    deque(map(_SET_START, out, starts), 0)
    deque(map(_SET_END, out, map(add, starts, repeat(dur))), 0)
    return out


def _order(
    plan: Plan, last_booked: Mapping[str, int] | None, booking_counts: Mapping[str, int] | None
) -> tuple[str, ...] | None:
    emails = [p.email for p in plan.participants]
    if plan.method == "max-fairness":
        lb = last_booked or {}
        ranked = sorted(
            range(len(emails)),
            key=lambda i: (emails[i] in lb, lb.get(emails[i], 0), i),
        )
    elif plan.method == "max-availability":
        bc = booking_counts or {}
        ranked = sorted(range(len(emails)), key=lambda i: (bc.get(emails[i], 0), i))
    else:
        return None
    return tuple(emails[i] for i in ranked)


def _run(
    plan: Plan,
    busy: Mapping[str, Sequence[Sequence[int]]],
    start_time: int,
    end_time: int,
    now: int,
    order: tuple[str, ...] | None,
) -> tuple[Slot, ...]:
    dur = plan.duration
    first_ok = max(start_time, now + plan.notice)
    last_ok = min(end_time - dur, now + plan.horizon - 1)
    if first_ok > last_ok:
        return ()
    lo, hi = first_ok, last_ok + dur  # every offered slot lies inside [lo, hi)
    per_part = [_windows(p, lo, hi) for p in plan.participants]
    step = plan.step

    def free(email: str, zones: list[_Zone]) -> list[_Zone]:
        return _free_zones(busy.get(email, ()), zones, step, dur, plan.before, plan.after)

    if order is None:
        common = per_part[0]
        for w in per_part[1:]:
            if not common:
                break
            common = _intersect(common, w)
        zones = _zones(common, plan, first_ok, last_ok)
        for p in plan.participants:
            if not zones:
                return ()
            zones = free(p.email, zones)
        emails = tuple(p.email for p in plan.participants)
        starts = _starts(zones, step)
        return _slots(repeat(emails), starts, dur)

    # Round robin: each participant offers their own grid points. ``masks`` maps each free start
    # to a bit set of the participants free there, bit ``k`` for ``order[k]``; a start offered
    # twice by one participant (overlapping windows) just sets the same bit again.
    index = {p.email: i for i, p in enumerate(plan.participants)}
    masks: dict[int, int] = {}
    get = masks.get
    for rank, email in enumerate(order):
        bit = 1 << rank
        for first, last in free(email, _zones(per_part[index[email]], plan, first_ok, last_ok)):
            for s in range(first, last + 1, step):
                masks[s] = get(s, 0) | bit
    # One shared email tuple per distinct set of participants, listed in ``order``.
    emails_of = {
        m: tuple(e for k, e in enumerate(order) if m >> k & 1) for m in set(masks.values())
    }
    starts = sorted(masks)
    return _slots(map(emails_of.__getitem__, map(masks.__getitem__, starts)), starts, dur)


def compute_availability(
    config: Mapping[str, Any],
    busy: Mapping[str, Sequence[tuple[int, int]]],
    start_time: int,
    end_time: int,
    now: int,
    *,
    last_booked: Mapping[str, int] | None = None,
    booking_counts: Mapping[str, int] | None = None,
) -> AvailabilityResult:
    """Slots offered by ``config`` in ``[start_time, end_time)`` given busy time and ``now``.

    Raises ``ConfigError`` for a configuration the engine cannot interpret.
    """
    plan = parse_plan(config)
    order = _order(plan, last_booked, booking_counts)
    if start_time >= end_time:
        return AvailabilityResult((), order)
    return AvailabilityResult(_run(plan, busy, start_time, end_time, now, order), order)


def find_slot(
    config: Mapping[str, Any],
    busy: Mapping[str, Sequence[tuple[int, int]]],
    start_time: int,
    end_time: int,
    now: int,
    *,
    last_booked: Mapping[str, int] | None = None,
    booking_counts: Mapping[str, int] | None = None,
) -> Slot | None:
    """The slot [start_time, end_time) exactly as compute_availability would offer it now, or None.

    Only the windows around the slot are computed, so this is cheap enough to validate bookings.
    """
    plan = parse_plan(config)
    if end_time - start_time != plan.duration:
        return None
    order = _order(plan, last_booked, booking_counts)
    for slot in _run(plan, busy, start_time, end_time, now, order):
        if slot.start_time == start_time:
            return slot
    return None
