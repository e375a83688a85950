"""Defaults and limits of the emulator, the one integer parser and the time checks.

Pure: no I/O, no aiohttp.  See the package docstring for what each limit is for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from scheduler_async.emulator.errors import EmulatorError

__all__ = [
    "AVAILABILITY_METHODS",
    "BOOKING_TYPES",
    "BUFFER_MULTIPLE",
    "DEFAULT_AVAILABLE_DAYS_IN_FUTURE",
    "DEFAULT_MIN_BOOKING_NOTICE",
    "DEFAULT_MIN_CANCELLATION_NOTICE",
    "DEFAULT_PAGE_LIMIT",
    "DEFAULT_ROUND_TO",
    "DEFAULT_SESSION_TTL_MINUTES",
    "EMAIL_LANGUAGES",
    "MAX_AVAILABILITY_WINDOW_DAYS",
    "MAX_AVAILABLE_DAYS_IN_FUTURE",
    "MAX_BUFFER_MINUTES",
    "MAX_NOTICE_MINUTES",
    "MAX_PAGE_LIMIT",
    "MAX_SESSION_TTL_MINUTES",
    "MAX_SLOT_STARTS",
    "MAX_TIMESTAMP",
    "MIN_TIMESTAMP",
    "ROUND_ROBIN_METHODS",
    "ROUND_TO_MULTIPLE",
    "SCHEDULER_DEFAULTS",
    "check_grid",
    "check_timestamp",
    "check_window",
    "parse_int",
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
#: A plain integer string: ASCII digits, an optional leading minus, at most 30 digits (no
#: spaces, no ``+``, no ``_``, no other scripts' digits or superscripts, which ``int()`` takes).
_PLAIN_INT = re.compile(r"-?[0-9]{1,30}")


def parse_int(value: Any, name: str, *, strict: bool = False) -> int:
    """THE integer parser of the emulator (query strings, request bodies, configurations).

    Accepts a JSON integer and, unless ``strict`` (configuration fields: integers only), an
    integral float (``1700000000.0``) or a string of plain ASCII digits with an optional leading
    ``-`` (query parameters; the spec types some body times as strings).  Anything else
    (booleans, ``"1_000"``, ``" 7"``, ``"²"``, ``"١٢"``, ``"1e3"``) is a 400
    ``invalid_request_error`` ``"<name> must be an integer"``.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if not strict and isinstance(value, float) and value.is_integer():
        return int(value)
    if not strict and isinstance(value, str) and _PLAIN_INT.fullmatch(value):
        return int(value)
    raise EmulatorError.invalid(f"{name} must be an integer")


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
