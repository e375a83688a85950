"""Configuration and request rules of the emulator: the ONE place for defaults, limits and rules.

One module per idea: :mod:`.limits` (defaults, limits, :func:`parse_int`, the emulator's one
integer parser, and the time checks), :mod:`.plan` (a configuration as the engine computes with
it), :mod:`.configuration` (standard configuration bodies) and :mod:`.group` (group
configurations, group events, imports and group slots).  Everything is re-exported here.

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

from scheduler_async.emulator.validation.configuration import (
    normalize_configuration,
)
from scheduler_async.emulator.validation.group import (
    DEFAULT_CAPACITY,
    MAX_CAPACITY,
    MAX_IMPORT,
    ImportItem,
    check_recurrence,
    default_capacity_of,
    group_capacity,
    group_event_fields,
    group_participants,
    group_when,
    import_items,
    require_str,
    slot_fields,
    validate_group_configuration,
)
from scheduler_async.emulator.validation.limits import (
    AVAILABILITY_METHODS,
    BOOKING_TYPES,
    DEFAULT_AVAILABLE_DAYS_IN_FUTURE,
    DEFAULT_MIN_BOOKING_NOTICE,
    DEFAULT_PAGE_LIMIT,
    DEFAULT_ROUND_TO,
    DEFAULT_SESSION_TTL_MINUTES,
    EMAIL_LANGUAGES,
    MAX_AVAILABILITY_WINDOW_DAYS,
    MAX_AVAILABLE_DAYS_IN_FUTURE,
    MAX_PAGE_LIMIT,
    MAX_SESSION_TTL_MINUTES,
    MAX_SLOT_STARTS,
    MAX_TIMESTAMP,
    MIN_TIMESTAMP,
    ROUND_ROBIN_METHODS,
    SCHEDULER_DEFAULTS,
    check_grid,
    check_timestamp,
    check_window,
    parse_int,
)
from scheduler_async.emulator.validation.plan import (
    ConfigError,
    Hours,
    Participant,
    Plan,
    Specific,
    parse_plan,
)

__all__ = [
    "AVAILABILITY_METHODS",
    "BOOKING_TYPES",
    "DEFAULT_AVAILABLE_DAYS_IN_FUTURE",
    "DEFAULT_CAPACITY",
    "DEFAULT_MIN_BOOKING_NOTICE",
    "DEFAULT_PAGE_LIMIT",
    "DEFAULT_ROUND_TO",
    "DEFAULT_SESSION_TTL_MINUTES",
    "EMAIL_LANGUAGES",
    "MAX_AVAILABILITY_WINDOW_DAYS",
    "MAX_AVAILABLE_DAYS_IN_FUTURE",
    "MAX_CAPACITY",
    "MAX_IMPORT",
    "MAX_PAGE_LIMIT",
    "MAX_SESSION_TTL_MINUTES",
    "MAX_SLOT_STARTS",
    "MAX_TIMESTAMP",
    "MIN_TIMESTAMP",
    "ROUND_ROBIN_METHODS",
    "SCHEDULER_DEFAULTS",
    "ConfigError",
    "Hours",
    "ImportItem",
    "Participant",
    "Plan",
    "Specific",
    "check_grid",
    "check_recurrence",
    "check_timestamp",
    "check_window",
    "default_capacity_of",
    "group_capacity",
    "group_event_fields",
    "group_participants",
    "group_when",
    "import_items",
    "normalize_configuration",
    "parse_int",
    "parse_plan",
    "require_str",
    "slot_fields",
    "validate_group_configuration",
]
