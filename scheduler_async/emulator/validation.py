"""Configuration and request rules of the emulator: the ONE place for defaults and limits.

Both the store (:func:`normalize_configuration`, which fills the server defaults into a stored
configuration) and the engine (:func:`parse_plan`, which turns a configuration into the
:class:`Plan` it computes with) take their defaults and rules from here, so they cannot
disagree.  Pure: no I/O, no aiohttp.  :class:`ConfigError` (a ``ValueError``) is the engine's
error; the store turns it into a 400 :class:`~scheduler_async.emulator.errors.EmulatorError`.

Defaults: ``availability.round_to`` 15 (a positive multiple of 5), ``interval_minutes`` =
``duration_minutes`` (> 0), buffers 0 (multiples of 5, 0-120), ``scheduler.min_booking_notice``
60 minutes, ``available_days_in_future`` 30 days, ``min_cancellation_notice`` 0,
``availability_method`` ``collective``, ``booking_type`` ``booking``.

Limits (the real service's are unpublished; these keep one request's work bounded, each a 400
``invalid_request_error`` naming the field):

* ``scheduler.available_days_in_future`` at most :data:`MAX_AVAILABLE_DAYS_IN_FUTURE` (730);
  ``min_booking_notice`` at most :data:`MAX_NOTICE_MINUTES` (two years in minutes).
* An availability query window (``end_time - start_time``) at most
  :data:`MAX_AVAILABILITY_WINDOW_DAYS` (62 days, two calendar months: the booking page asks for
  one month at a time), and at most :data:`MAX_SLOT_STARTS` (20,000) slot starts of the
  configuration's grid (``window / interval_minutes``: 62 days at 5-minute intervals fit; a
  1-minute grid allows about 13 days).
* Every Unix time in a request (query or body) within :data:`MIN_TIMESTAMP` ..
  :data:`MAX_TIMESTAMP` (1970-01-01 .. 9999-01-01), so no date arithmetic can overflow.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from scheduler_async.emulator.errors import EmulatorError

__all__ = [
    "AVAILABILITY_METHODS",
    "BOOKING_TYPES",
    "DEFAULT_AVAILABLE_DAYS_IN_FUTURE",
    "DEFAULT_MIN_BOOKING_NOTICE",
    "DEFAULT_PAGE_LIMIT",
    "DEFAULT_ROUND_TO",
    "DEFAULT_SESSION_TTL_MINUTES",
    "EMAIL_LANGUAGES",
    "MAX_AVAILABILITY_WINDOW_DAYS",
    "MAX_AVAILABLE_DAYS_IN_FUTURE",
    "MAX_PAGE_LIMIT",
    "MAX_SESSION_TTL_MINUTES",
    "MAX_SLOT_STARTS",
    "MAX_TIMESTAMP",
    "MIN_TIMESTAMP",
    "ROUND_ROBIN_METHODS",
    "SCHEDULER_DEFAULTS",
    "ConfigError",
    "Hours",
    "Participant",
    "Plan",
    "Specific",
    "check_grid",
    "check_timestamp",
    "check_window",
    "normalize_configuration",
    "parse_plan",
]

# ----------------------------------------------------------------------------- defaults, limits

DEFAULT_ROUND_TO = 15
ROUND_TO_MULTIPLE = 5
MAX_BUFFER_MINUTES = 120
BUFFER_MULTIPLE = 5
DEFAULT_MIN_BOOKING_NOTICE = 60
DEFAULT_AVAILABLE_DAYS_IN_FUTURE = 30
DEFAULT_MIN_CANCELLATION_NOTICE = 0
SCHEDULER_DEFAULTS: Mapping[str, int] = {
    "available_days_in_future": DEFAULT_AVAILABLE_DAYS_IN_FUTURE,
    "min_booking_notice": DEFAULT_MIN_BOOKING_NOTICE,
    "min_cancellation_notice": DEFAULT_MIN_CANCELLATION_NOTICE,
}
MAX_AVAILABLE_DAYS_IN_FUTURE = 730
MAX_NOTICE_MINUTES = 2 * 366 * 24 * 60
MAX_AVAILABILITY_WINDOW_DAYS = 62
MAX_SLOT_STARTS = 20_000
MIN_TIMESTAMP = 0
MAX_TIMESTAMP = 253_370_764_800  # 9999-01-01T00:00:00Z
ROUND_ROBIN_METHODS = frozenset({"max-fairness", "max-availability"})
AVAILABILITY_METHODS = frozenset({"collective"}) | ROUND_ROBIN_METHODS
BOOKING_TYPES = frozenset({"booking", "organizer-confirmation"})
EMAIL_LANGUAGES = frozenset({"en", "es", "fr", "de", "nl", "sv", "ja", "zh", "ko"})
DEFAULT_SESSION_TTL_MINUTES = 5
MAX_SESSION_TTL_MINUTES = 30
DEFAULT_PAGE_LIMIT = 50
MAX_PAGE_LIMIT = 200

_MIN = 60
_DAY = 86_400
_UTC = ZoneInfo("UTC")
_HHMM = re.compile(r"^([01]?[0-9]|2[0-4]):([0-5][0-9])$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def check_timestamp(value: int, name: str) -> int:
    """``value`` if it is a Unix time within the supported range, else a 400."""
    if not MIN_TIMESTAMP <= value <= MAX_TIMESTAMP:
        raise EmulatorError.invalid(
            f"{name} must be a Unix time between {MIN_TIMESTAMP} and {MAX_TIMESTAMP}"
        )
    return value


def check_window(start_time: int, end_time: int) -> None:
    """A valid availability query window: in range, start before end, at most 62 days."""
    check_timestamp(start_time, "start_time")
    check_timestamp(end_time, "end_time")
    if start_time >= end_time:
        raise EmulatorError.invalid("start_time must be before end_time")
    if end_time - start_time > MAX_AVAILABILITY_WINDOW_DAYS * _DAY:
        raise EmulatorError.invalid(
            f"the availability window must not exceed {MAX_AVAILABILITY_WINDOW_DAYS} days"
        )


def check_grid(start_time: int, end_time: int, config: Mapping[str, Any]) -> None:
    """400 if the window holds more than :data:`MAX_SLOT_STARTS` slot starts of ``config``."""
    availability = config.get("availability") or {}
    interval = availability.get("interval_minutes") or availability.get("duration_minutes")
    if isinstance(interval, int) and interval > 0:
        starts = (end_time - start_time) // (interval * _MIN)
        if starts > MAX_SLOT_STARTS:
            raise EmulatorError.invalid(
                f"the availability window spans {starts} slot starts at {interval}-minute "
                f"intervals; at most {MAX_SLOT_STARTS} are allowed: ask for a shorter window"
            )


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
    if isinstance(value, bool) or not isinstance(value, int):
        raise _where(path, f"must be an integer, got {value!r}")
    return value


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


# ----------------------------------------------------------------------------- store bodies


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _require_object(value: object, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise EmulatorError.invalid(f"{name} must be an object")
    return value


def _check_int(value: object, name: str, *, minimum: int = 0) -> int:
    if not _is_int(value):
        raise EmulatorError.invalid(f"{name} must be an integer")
    assert isinstance(value, int)
    if value < minimum:
        raise EmulatorError.invalid(f"{name} must be at least {minimum}")
    return value


def _check_participant(index: int, participant: object) -> None:
    name = f"participants[{index}]"
    p = _require_object(participant, name)
    email = p.get("email")
    if not isinstance(email, str) or not email.strip():
        raise EmulatorError.invalid(f"{name}.email is required")
    if p.get("is_organizer") is not None and not isinstance(p["is_organizer"], bool):
        raise EmulatorError.invalid(f"{name}.is_organizer must be a boolean")
    grant_id = p.get("grant_id")
    if grant_id is not None and not isinstance(grant_id, str):
        raise EmulatorError.invalid(f"{name}.grant_id must be a string")
    avail = p.get("availability")
    if avail is not None:
        avail = _require_object(avail, f"{name}.availability")
        cal_ids = avail.get("calendar_ids")
        if cal_ids is not None and (
            not isinstance(cal_ids, list) or not all(isinstance(c, str) for c in cal_ids)
        ):
            raise EmulatorError.invalid(f"{name}.availability.calendar_ids must be strings")
    booking = p.get("booking")
    if booking is not None:
        booking = _require_object(booking, f"{name}.booking")
        if not isinstance(booking.get("calendar_id"), str):
            raise EmulatorError.invalid(f"{name}.booking.calendar_id is required")


def normalize_configuration(body: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a configuration body and fill the server defaults; returns a new dict.

    Raises :class:`EmulatorError` (400) with a message naming the offending field.
    """
    cfg = copy.deepcopy(dict(body))
    cfg.pop("id", None)
    cfg.pop("ID", None)
    if cfg.get("type") == "group":
        raise EmulatorError.invalid("group configurations are not supported by the emulator")

    rsa = cfg.get("requires_session_auth")
    if rsa is None:
        cfg["requires_session_auth"] = False
    elif not isinstance(rsa, bool):
        raise EmulatorError.invalid("requires_session_auth must be a boolean")
    slug = cfg.get("slug")
    if slug is not None and (not isinstance(slug, str) or not slug.strip()):
        raise EmulatorError.invalid("slug must be a non-empty string")

    participants = cfg.get("participants")
    if not isinstance(participants, list) or not participants:
        raise EmulatorError.invalid("participants is required and must list at least one")
    for i, p in enumerate(participants):
        _check_participant(i, p)

    if "availability" not in cfg:
        raise EmulatorError.invalid("availability is required")
    availability = _require_object(cfg["availability"], "availability")
    if "duration_minutes" not in availability:
        raise EmulatorError.invalid("availability.duration_minutes is required")
    if availability.get("round_to") is None:
        availability["round_to"] = DEFAULT_ROUND_TO
    rules_raw = availability.get("availability_rules")
    rules = {} if rules_raw is None else _require_object(rules_raw, "availability_rules")
    if rules.get("availability_method") is None:
        rules["availability_method"] = "collective"
    method = rules["availability_method"]
    if method not in AVAILABILITY_METHODS:
        raise EmulatorError.invalid(
            "availability_rules.availability_method must be one of "
            + ", ".join(sorted(AVAILABILITY_METHODS))
        )
    availability["availability_rules"] = rules

    if "event_booking" not in cfg:
        raise EmulatorError.invalid("event_booking is required")
    event_booking = _require_object(cfg["event_booking"], "event_booking")
    title = event_booking.get("title")
    if not isinstance(title, str) or not title.strip():
        raise EmulatorError.invalid("event_booking.title is required")
    if event_booking.get("booking_type") is None:
        event_booking["booking_type"] = "booking"
    if event_booking["booking_type"] not in BOOKING_TYPES:
        raise EmulatorError.invalid(
            "event_booking.booking_type must be 'booking' or 'organizer-confirmation'"
        )

    sched_raw = cfg.get("scheduler")
    scheduler = {} if sched_raw is None else _require_object(sched_raw, "scheduler")
    for key, default in SCHEDULER_DEFAULTS.items():
        if scheduler.get(key) is None:
            scheduler[key] = default
    _check_int(scheduler["min_cancellation_notice"], "scheduler.min_cancellation_notice")
    cfg["scheduler"] = scheduler

    organizers = sum(1 for p in participants if p.get("is_organizer") is True)
    if method in ROUND_ROBIN_METHODS:
        if organizers > 1:
            raise EmulatorError.invalid("a round-robin configuration has at most one organizer")
    elif organizers != 1:
        raise EmulatorError.invalid(
            "exactly one participant must have is_organizer: true "
            f"(found {organizers}) unless availability_method is round-robin"
        )

    try:
        parse_plan(cfg)  # the numeric and time rules, shared with the engine
    except ConfigError as exc:
        raise EmulatorError.invalid(str(exc)) from exc
    return cfg
