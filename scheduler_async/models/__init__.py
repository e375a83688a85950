"""attrs models of every Scheduler API object (frozen, slots, kw_only); plain data, no I/O."""

import operator
from typing import Any

from .._convert import converter, register_preprocessor
from .availability import Availability, Session, TimeSlot
from .booking import AdditionalGuest, Booking, BookingOrganizer, BookingParticipant, Guest
from .configuration import (
    AdditionalField,
    AvailabilityRules,
    BookingConfirmedTemplate,
    Buffer,
    Conferencing,
    Configuration,
    ConfigurationAvailability,
    ConfigurationParticipant,
    EmailTemplate,
    EventBooking,
    OpenHours,
    ParticipantAvailability,
    ParticipantBooking,
    Reminder,
    SchedulerSettings,
    SpecificTimeAvailability,
)
from .enums import AvailabilityMethod, BookingStatus, BookingType, ConfirmStatus
from .page import Page


def _configuration_in(data: Any) -> Any:
    # The seed guide shows a configuration with "ID"; the API reference uses "id".
    if isinstance(data, dict) and "id" not in data and "ID" in data:
        data = {**data, "id": data["ID"]}
    return data


def _availability_in(data: Any) -> Any:
    # ``time_slots`` may be null on the wire: treat it as empty.
    if isinstance(data, dict) and data.get("time_slots", ()) is None:
        data = {**data, "time_slots": []}
    return data


register_preprocessor(Configuration, _configuration_in)
register_preprocessor(Availability, _availability_in)


def _fast_availability_hook() -> Any:
    """Structure well-typed availability JSON directly (the hot path of sweeps).

    Anything that is not plainly well typed falls back to the generated cattrs hook, which gives
    the same result or a detailed validation error.
    """
    generated = converter.get_structure_hook(Availability)

    new = object.__new__
    fields = operator.itemgetter("emails", "start_time", "end_time")
    # The slot descriptors themselves: a frozen attrs class refuses ``obj.x = ...``, and these
    # stores skip both its __setattr__ and the attribute lookup of ``object.__setattr__``.
    set_emails = TimeSlot.__dict__["emails"].__set__
    set_start = TimeSlot.__dict__["start_time"].__set__
    set_end = TimeSlot.__dict__["end_time"].__set__

    def hook(value: Any, tp: Any) -> Availability:
        if type(value) is dict:
            slots = value.get("time_slots")
            order = value.get("order")
            ok = slots is None or type(slots) is list
            if order is not None:
                ok = ok and type(order) is list
                order = tuple(order) if ok else None
                for x in order or ():
                    if type(x) is not str:
                        ok = False
            out: list[TimeSlot] = []
            seen: dict[tuple[Any, ...], tuple[str, ...]] = {}  # slots share participant lists
            for slot in slots or () if ok else ():
                if type(slot) is not dict:
                    ok = False
                    break
                try:
                    emails, start, end = fields(slot)
                except KeyError:
                    ok = False
                    break
                if type(start) is not int or type(end) is not int or type(emails) is not list:
                    ok = False
                    break
                key = tuple(emails)
                checked = seen.get(key)
                if checked is None:
                    for x in key:
                        if type(x) is not str:
                            ok = False
                    if not ok:
                        break
                    checked = seen[key] = key
                # The attrs __init__ of a frozen class costs more than these three stores.
                obj = new(TimeSlot)
                set_emails(obj, checked)
                set_start(obj, start)
                set_end(obj, end)
                out.append(obj)
            if ok:
                return Availability(time_slots=tuple(out), order=order)
        return generated(value, tp)  # type: ignore[no-any-return]

    return hook


converter.register_structure_hook(Availability, _fast_availability_hook())

__all__ = [
    "AdditionalField",
    "AdditionalGuest",
    "Availability",
    "AvailabilityMethod",
    "AvailabilityRules",
    "Booking",
    "BookingConfirmedTemplate",
    "BookingOrganizer",
    "BookingParticipant",
    "BookingStatus",
    "BookingType",
    "Buffer",
    "Conferencing",
    "Configuration",
    "ConfigurationAvailability",
    "ConfigurationParticipant",
    "ConfirmStatus",
    "EmailTemplate",
    "EventBooking",
    "Guest",
    "OpenHours",
    "Page",
    "ParticipantAvailability",
    "ParticipantBooking",
    "Reminder",
    "SchedulerSettings",
    "Session",
    "SpecificTimeAvailability",
    "TimeSlot",
]
