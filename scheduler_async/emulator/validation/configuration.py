"""The rules of a standard configuration body: :func:`normalize_configuration`.

Pure: no I/O, no aiohttp.  Raises :class:`~scheduler_async.emulator.errors.EmulatorError`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from scheduler_async.emulator.errors import EmulatorError
from scheduler_async.emulator.validation.limits import (
    AVAILABILITY_METHODS,
    BOOKING_TYPES,
    DEFAULT_ROUND_TO,
    ROUND_ROBIN_METHODS,
    SCHEDULER_DEFAULTS,
    parse_int,
)
from scheduler_async.emulator.validation.plan import ConfigError, parse_plan

__all__ = ["normalize_configuration"]


# ----------------------------------------------------------------------------- store bodies


def _require_object(value: object, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise EmulatorError.invalid(f"{name} must be an object")
    return value


def _check_int(value: object, name: str, *, minimum: int = 0) -> int:
    value = parse_int(value, name, strict=True)
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
