"""A configuration as the engine computes with it: :func:`parse_plan` and the :class:`Plan`.

:class:`ConfigError` (a ``ValueError``) is the engine's error; the store turns it into a 400
:class:`~scheduler_async.emulator.errors.EmulatorError`.  Pure: no I/O, no aiohttp.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from scheduler_async.emulator.errors import EmulatorError
from scheduler_async.emulator.validation.limits import (
    BUFFER_MULTIPLE,
    DEFAULT_AVAILABLE_DAYS_IN_FUTURE,
    DEFAULT_MIN_BOOKING_NOTICE,
    DEFAULT_ROUND_TO,
    MAX_AVAILABLE_DAYS_IN_FUTURE,
    MAX_BUFFER_MINUTES,
    MAX_NOTICE_MINUTES,
    ROUND_ROBIN_METHODS,
    ROUND_TO_MULTIPLE,
    parse_int,
)

__all__ = ["ConfigError", "Hours", "Participant", "Plan", "Specific", "parse_plan"]

_MIN = 60
_DAY = 86_400
_UTC = ZoneInfo("UTC")
_HHMM = re.compile(r"^([01]?[0-9]|2[0-4]):([0-5][0-9])$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class ConfigError(ValueError):
    """A configuration the engine cannot interpret; the message suits a 400 error."""


# ----------------------------------------------------------------------------- the engine's plan


@attrs.frozen
class Hours:
    days: frozenset[int]
    start: int  # minutes after local midnight
    end: int  # minutes after local midnight, 1..1440
    tz: ZoneInfo
    exdates: frozenset[int]  # proleptic Gregorian ordinals of local dates


@attrs.frozen
class Specific:
    day: int  # ordinal of the local date
    start: int
    end: int
    tz: ZoneInfo
    blocked: bool


@attrs.frozen
class Participant:
    email: str
    hours: tuple[Hours, ...]
    specific: tuple[Specific, ...]
    specific_dates: frozenset[int]  # ordinals


@attrs.frozen
class Plan:
    participants: tuple[Participant, ...]
    duration: int  # seconds
    step: int  # seconds
    round_to: int  # seconds
    before: int  # seconds
    after: int  # seconds
    notice: int  # seconds
    horizon: int  # seconds
    method: str


def _where(path: str, msg: str) -> ConfigError:
    return ConfigError(f"{path}: {msg}")


def _mapping(value: Any, path: str, *, optional: bool = True) -> Mapping[str, Any]:
    if type(value) is dict:  # the usual case, without the slower ABC check
        return value
    if value is None and optional:
        return {}
    if not isinstance(value, Mapping):
        raise _where(path, "must be an object")
    return value


def _list(value: Any, path: str) -> Sequence[Any]:
    if type(value) is list or type(value) is tuple:  # the usual cases, without the ABC check
        return value
    if value is None:
        return ()
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise _where(path, "must be a list")
    return value


def _int(value: Any, path: str, default: int | None = None) -> int:
    if value is None:
        if default is None:
            raise _where(path, "is required")
        return default
    try:
        return parse_int(value, path, strict=True)
    except EmulatorError:
        raise _where(path, f"must be an integer, got {value!r}") from None


def _zone(value: Any, path: str, fallback: ZoneInfo) -> ZoneInfo:
    if value is None or value == "":
        return fallback
    if not isinstance(value, str):
        raise _where(path, f"must be an IANA time zone name, got {value!r}")
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise _where(path, f"unknown time zone {value!r}") from None


def _hhmm(value: Any, path: str, *, is_end: bool) -> int:
    if not isinstance(value, str) or (m := _HHMM.match(value)) is None:
        raise _where(path, f"must be a 24-hour time 'H:MM' or 'HH:MM', got {value!r}")
    minutes = int(m.group(1)) * 60 + int(m.group(2))
    if minutes > 1440 or (minutes == 1440 and not is_end):
        raise _where(path, f"time out of range: {value!r}")
    if is_end and minutes == 0:
        return 1440
    return minutes


def _date(value: Any, path: str) -> date:
    if isinstance(value, str) and _DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise _where(path, f"must be a date 'YYYY-MM-DD', got {value!r}")


def _parse_hours(entry: Any, path: str, fallback_tz: ZoneInfo) -> Hours:
    e = _mapping(entry, path, optional=False)
    days_raw = _list(e.get("days"), f"{path}.days")
    days: set[int] = set()
    for i, d in enumerate(days_raw):
        if isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6:
            raise _where(f"{path}.days[{i}]", f"must be an integer 0 (Sunday) to 6, got {d!r}")
        days.add(d)
    start = _hhmm(e.get("start"), f"{path}.start", is_end=False)
    end = _hhmm(e.get("end"), f"{path}.end", is_end=True)
    if end <= start:
        raise _where(path, "end must be after start")
    tz = _zone(e.get("timezone"), f"{path}.timezone", fallback_tz)
    exd = _list(e.get("exdates"), f"{path}.exdates")
    exdates = frozenset(_date(x, f"{path}.exdates[{i}]").toordinal() for i, x in enumerate(exd))
    return Hours(frozenset(days), start, end, tz, exdates)


def _parse_specific(entry: Any, path: str, fallback_tz: ZoneInfo) -> Specific:
    e = _mapping(entry, path, optional=False)
    day = _date(e.get("date"), f"{path}.date").toordinal()
    start_raw, end_raw = e.get("start"), e.get("end")
    start = _hhmm(start_raw, f"{path}.start", is_end=False)
    end = _hhmm(end_raw, f"{path}.end", is_end=True)
    tz = _zone(e.get("timezone"), f"{path}.timezone", fallback_tz)
    blocked = start == 0 and end == 1440 and start_raw in ("00:00", "0:00") and end_raw == "00:00"
    if not blocked and end <= start:
        raise _where(path, "end must be after start (use '00:00'-'00:00' to block the date)")
    return Specific(day, start, end, tz, blocked)


def parse_plan(config: Mapping[str, Any]) -> Plan:
    cfg = _mapping(config, "configuration", optional=False)
    avail = _mapping(cfg.get("availability"), "availability", optional=False)
    rules = _mapping(avail.get("availability_rules"), "availability.availability_rules")
    sched = _mapping(cfg.get("scheduler"), "scheduler")
    booking = _mapping(cfg.get("event_booking"), "event_booking")

    duration = _int(avail.get("duration_minutes"), "availability.duration_minutes")
    if duration <= 0:
        raise _where("availability.duration_minutes", "must be positive")
    interval = _int(avail.get("interval_minutes"), "availability.interval_minutes", duration)
    if interval <= 0:
        raise _where("availability.interval_minutes", "must be positive")
    round_to = _int(avail.get("round_to"), "availability.round_to", DEFAULT_ROUND_TO)
    if round_to <= 0 or round_to % ROUND_TO_MULTIPLE:
        raise _where("availability.round_to", "must be a positive multiple of 5")
    buffer = _mapping(rules.get("buffer"), "availability.availability_rules.buffer")
    before = _int(buffer.get("before"), "availability.availability_rules.buffer.before", 0)
    after = _int(buffer.get("after"), "availability.availability_rules.buffer.after", 0)
    for name, val in (("before", before), ("after", after)):
        if not 0 <= val <= MAX_BUFFER_MINUTES or val % BUFFER_MULTIPLE:
            raise _where(
                f"availability.availability_rules.buffer.{name}",
                f"must be a multiple of {BUFFER_MULTIPLE} between 0 and {MAX_BUFFER_MINUTES}",
            )
    notice = _int(
        sched.get("min_booking_notice"),
        "scheduler.min_booking_notice",
        DEFAULT_MIN_BOOKING_NOTICE,
    )
    horizon = _int(
        sched.get("available_days_in_future"),
        "scheduler.available_days_in_future",
        DEFAULT_AVAILABLE_DAYS_IN_FUTURE,
    )
    if notice < 0:
        raise _where("scheduler.min_booking_notice", "must not be negative")
    if not 0 <= horizon <= MAX_AVAILABLE_DAYS_IN_FUTURE:
        raise _where(
            "scheduler.available_days_in_future",
            f"must be between 0 and {MAX_AVAILABLE_DAYS_IN_FUTURE} days",
        )
    if notice > MAX_NOTICE_MINUTES:
        raise _where("scheduler.min_booking_notice", f"must be at most {MAX_NOTICE_MINUTES}")
    method = rules.get("availability_method")
    if method is not None and not isinstance(method, str):
        raise _where("availability.availability_rules.availability_method", "must be a string")

    booking_tz = _zone(booking.get("timezone"), "event_booking.timezone", _UTC)
    default_hours = _list(
        rules.get("default_open_hours"), "availability.availability_rules.default_open_hours"
    )
    default_specific = _list(
        rules.get("default_specific_time_availability"),
        "availability.availability_rules.default_specific_time_availability",
    )
    only_specific_all = bool(rules.get("only_specific_time_availability"))

    parts_raw = _list(cfg.get("participants"), "participants")
    if not parts_raw:
        raise _where("participants", "at least one participant is required")
    participants: list[Participant] = []
    seen: set[str] = set()
    for i, raw in enumerate(parts_raw):
        path = f"participants[{i}]"
        p = _mapping(raw, path, optional=False)
        email = p.get("email")
        if not isinstance(email, str) or not email:
            raise _where(f"{path}.email", "must be a non-empty string")
        if email in seen:
            raise _where(f"{path}.email", f"duplicate participant {email!r}")
        seen.add(email)
        p_tz = _zone(p.get("timezone"), f"{path}.timezone", booking_tz)
        p_avail = _mapping(p.get("availability"), f"{path}.availability")
        own = _list(p_avail.get("open_hours"), f"{path}.availability.open_hours")
        if own:
            hours_src: Sequence[Any] = own
            hours_path = f"{path}.availability.open_hours"
        else:
            hours_src = default_hours
            hours_path = "availability.availability_rules.default_open_hours"
        hours = [_parse_hours(h, f"{hours_path}[{j}]", p_tz) for j, h in enumerate(hours_src)] or [
            Hours(frozenset(range(7)), 0, 1440, p_tz, frozenset())
        ]
        spec_own = [
            _parse_specific(s, f"{path}.specific_time_availability[{j}]", p_tz)
            for j, s in enumerate(
                _list(p.get("specific_time_availability"), f"{path}.specific_time_availability")
            )
        ]
        own_dates = {s.day for s in spec_own}
        spec_default = [
            _parse_specific(
                s, f"availability.availability_rules.default_specific_time_availability[{j}]", p_tz
            )
            for j, s in enumerate(default_specific)
        ]
        specific = spec_own + [s for s in spec_default if s.day not in own_dates]
        only_specific = only_specific_all or bool(p.get("only_specific_time_availability"))
        participants.append(
            Participant(
                email=email,
                hours=() if only_specific else tuple(hours),
                specific=tuple(s for s in specific if not s.blocked),
                specific_dates=frozenset(s.day for s in specific),
            )
        )
    return Plan(
        participants=tuple(participants),
        duration=duration * _MIN,
        step=interval * _MIN,
        round_to=round_to * _MIN,
        before=before * _MIN,
        after=after * _MIN,
        notice=notice * _MIN,
        horizon=horizon * _DAY,
        method=method if method in ROUND_ROBIN_METHODS else "collective",
    )
