"""Configuration and request rules of the emulator: the ONE place for defaults, limits and rules.

One module per idea: :mod:`.limits` (defaults, limits, :func:`parse_int`, the emulator's one
integer parser, and the time checks), :mod:`.plan` (a configuration as the engine computes with
it), :mod:`.configuration` (standard configuration bodies) and :mod:`.group` (group
configurations, group events, imports and group slots).  Everything is re-exported here
(each submodule's ``__all__``).

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

from scheduler_async.emulator.validation import configuration, group, limits, plan
from scheduler_async.emulator.validation.configuration import *  # noqa: F403
from scheduler_async.emulator.validation.group import *  # noqa: F403
from scheduler_async.emulator.validation.limits import *  # noqa: F403
from scheduler_async.emulator.validation.plan import *  # noqa: F403

__all__: list[str] = []
__all__ += configuration.__all__
__all__ += group.__all__
__all__ += limits.__all__
__all__ += plan.__all__
