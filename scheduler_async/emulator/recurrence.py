"""Expansion of recurring group events (RRULE/RDATE/EXDATE) into instances.

The rules themselves are evaluated by python-dateutil's ``rrule`` (imported lazily: it is in the
``emulator`` extra, and a one-off group event needs no recurrence). This module only prepares the
lines so that every date is aware, in the event's time zone when the line gives none:

* the first instance starts at the event's own start (``DTSTART``), in its ``start_timezone``
  (UTC when absent); each instance keeps the **wall-clock** time there, across DST changes;
* ``EXDATE``/``RDATE`` values ending in ``Z`` are UTC instants, ``TZID=`` values are in that zone,
  floating values and ``VALUE=DATE`` dates are in the event's zone (a date excludes the instance
  starting on that local date);
* a floating ``UNTIL`` is read in the event's zone (dateutil refuses floating ``UNTIL`` with an
  aware ``DTSTART``).

Instance ids are ``<master_id>_<YYYYMMDDTHHMMSSZ>`` (the instance's start in UTC).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "MAX_INSTANCES",
    "Occurrence",
    "RecurrenceError",
    "expand",
    "instance_id",
    "occurs_at",
    "split_instance_id",
    "validate_recurrence",
]

MAX_INSTANCES = 5000
"""Upper bound of instances returned by one :func:`expand` call."""

_STAMP = "%Y%m%dT%H%M%SZ"
_INSTANCE = re.compile(r"^(?P<master>.+)_(?P<stamp>\d{8}T\d{6}Z)$")
_KNOWN = ("RRULE", "EXRULE", "RDATE", "EXDATE")


class RecurrenceError(ValueError):
    """A recurrence line that cannot be evaluated."""


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One instance of a (possibly recurring) group event."""

    event_id: str
    """The instance id, or the event's own id when it does not recur."""
    master_id: str | None
    """The recurring event's id; ``None`` for a one-off event."""
    start_time: int
    end_time: int


def instance_id(master_id: str, start_time: int) -> str:
    """The id of the instance of ``master_id`` starting at ``start_time`` (Unix seconds)."""
    return f"{master_id}_{datetime.fromtimestamp(start_time, UTC).strftime(_STAMP)}"


def split_instance_id(event_id: str) -> tuple[str, int] | None:
    """``(master_id, start_time)`` of an instance id, or ``None`` if it is not one."""
    match = _INSTANCE.match(event_id)
    if match is None:
        return None
    stamp = datetime.strptime(match["stamp"], _STAMP).replace(tzinfo=UTC)
    return match["master"], int(stamp.timestamp())


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise RecurrenceError(f"unknown time zone {name!r}") from exc


def _aware_values(params: list[str], values: str, zone: ZoneInfo) -> str:
    """Rewrite a date list so each value is a UTC ``...Z`` instant."""
    tzid = next((p[5:] for p in params if p.upper().startswith("TZID=")), None)
    is_date = any(p.upper() == "VALUE=DATE" for p in params)
    local = _zone(tzid) if tzid else zone
    out = []
    for raw in values.split(","):
        value = raw.strip()
        try:
            if value.endswith("Z"):
                when = datetime.strptime(value, _STAMP).replace(tzinfo=UTC)
            elif is_date or len(value) == 8:
                out.append(value)  # a whole local date: resolved against instances later
                continue
            else:
                when = datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=local)
        except ValueError as exc:
            raise RecurrenceError(f"bad date-time {value!r}") from exc
        out.append(when.astimezone(UTC).strftime(_STAMP))
    return ",".join(out)


def _until_in_utc(rule: str, zone: ZoneInfo) -> str:
    def fix(match: re.Match[str]) -> str:
        value = match[1]
        if value.endswith("Z"):
            return match[0]
        try:
            if len(value) == 8:
                # A date UNTIL includes that whole local day.
                day = datetime.strptime(value, "%Y%m%d").replace(tzinfo=zone)
                when = day + timedelta(days=1) - timedelta(seconds=1)
            else:
                when = datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=zone)
        except ValueError as exc:
            raise RecurrenceError(f"bad UNTIL {value!r}") from exc
        return "UNTIL=" + when.astimezone(UTC).strftime(_STAMP)

    return re.sub(r"UNTIL=([0-9TZ]+)", fix, rule, flags=re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Prepared:
    text: str
    excluded_dates: frozenset[date]


def _prepare(recurrence: Sequence[str], zone: ZoneInfo) -> _Prepared:
    lines: list[str] = []
    dates: set[date] = set()
    for raw in recurrence:
        if not isinstance(raw, str):
            raise RecurrenceError("recurrence lines must be strings")
        line = raw.strip()
        name, sep, value = line.partition(":")
        if not sep:
            raise RecurrenceError(f"bad recurrence line {line!r}")
        head, *params = name.split(";")
        head = head.upper()
        if head not in _KNOWN:
            raise RecurrenceError(f"unsupported recurrence line {line!r}")
        if head in ("RRULE", "EXRULE"):
            lines.append(f"{head}:{_until_in_utc(value, zone)}")
            continue
        values = _aware_values(params, value, zone)
        instants = [v for v in values.split(",") if len(v) != 8]
        for v in values.split(","):
            if len(v) == 8:
                if head == "RDATE":
                    raise RecurrenceError("RDATE dates without a time are not supported")
                dates.add(datetime.strptime(v, "%Y%m%d").date())
        if instants:
            lines.append(f"{head}:{','.join(instants)}")
    return _Prepared("\n".join(lines), frozenset(dates))


def _ruleset(start: datetime, prepared: _Prepared) -> Any:
    try:
        from dateutil.rrule import rrulestr
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise RecurrenceError(
            "recurring group events need python-dateutil: install scheduler-client[emulator]"
        ) from exc
    try:
        ruleset = rrulestr(prepared.text, dtstart=start, forceset=True)
    except (ValueError, TypeError) as exc:
        raise RecurrenceError(f"bad recurrence: {exc}") from exc
    ruleset.rdate(start)  # DTSTART is always the first instance (RFC 5545 3.8.5.3)
    return ruleset


def validate_recurrence(recurrence: Sequence[str], timezone: str | None = None) -> None:
    """Raise :class:`RecurrenceError` unless the lines can be expanded."""
    zone = _zone(timezone)
    _ruleset(datetime(2000, 1, 1, tzinfo=zone), _prepare(recurrence, zone))


def expand(
    event_id: str,
    *,
    start_time: int,
    end_time: int,
    recurrence: Sequence[str] | None,
    timezone: str | None,
    window_start: int,
    window_end: int,
    max_instances: int = MAX_INSTANCES,
) -> list[Occurrence]:
    """Instances of the event overlapping ``[window_start, window_end)``, in time order.

    An event without recurrence is one occurrence with its own id.
    """
    duration = end_time - start_time
    if not recurrence:
        if end_time > window_start and start_time < window_end:
            return [Occurrence(event_id, None, start_time, end_time)]
        return []
    zone = _zone(timezone)
    prepared = _prepare(recurrence, zone)
    start = datetime.fromtimestamp(start_time, UTC).astimezone(zone)
    ruleset = _ruleset(start, prepared)
    after = datetime.fromtimestamp(window_start - duration, UTC)
    out: list[Occurrence] = []
    for when in ruleset.xafter(after, inc=False):
        begin = int(when.timestamp())
        if begin >= window_end or len(out) >= max_instances:
            break
        if when.astimezone(zone).date() in prepared.excluded_dates:
            continue
        if begin + duration > window_start:
            out.append(Occurrence(instance_id(event_id, begin), event_id, begin, begin + duration))
    return out


def occurs_at(
    event_id: str,
    *,
    start_time: int,
    end_time: int,
    recurrence: Sequence[str] | None,
    timezone: str | None,
    at: int,
) -> bool:
    """Whether an instance of the event starts exactly at ``at``."""
    found = expand(
        event_id,
        start_time=start_time,
        end_time=end_time,
        recurrence=recurrence,
        timezone=timezone,
        window_start=at,
        window_end=at + 1,
    )
    return any(o.start_time == at for o in found)
