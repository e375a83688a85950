"""attrs models of every Scheduler API object (frozen, slots, kw_only); plain data, no I/O."""

import operator
from typing import Any

import attrs
from cattrs.gen import make_dict_unstructure_fn

from .._convert import converter, register_preprocessor
from .availability import Availability, Session, TimeSlot
from .booking import AdditionalGuest, Booking, BookingOrganizer, BookingParticipant, Guest
from .configuration import (
    AdditionalField,
    AnyConfiguration,
    AvailabilityRules,
    BookingConfirmedTemplate,
    Buffer,
    Conferencing,
    Configuration,
    ConfigurationAvailability,
    ConfigurationParticipant,
    EmailTemplate,
    EventBooking,
    GroupBooking,
    GroupConfiguration,
    OpenHours,
    ParticipantAvailability,
    ParticipantBooking,
    Reminder,
    SchedulerSettings,
    SpecificTimeAvailability,
    UnknownConfiguration,
)
from .enums import AvailabilityMethod, BookingStatus, BookingType, ConfirmStatus
from .grant import Calendar, Grant
from .group import (
    GroupEvent,
    GroupEventException,
    GroupEventImport,
    GroupEventImportFailure,
    GroupEventImportResult,
    GroupEventInfo,
    GroupEventOrganizer,
    GroupEventParticipant,
    GroupEventWhen,
    ImportException,
    group_event_in,
    import_result_in,
)
from .page import Page
from .ui_settings import UISettings, UISettingsBooking, UISettingsOrganizer


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


def _time_slot_in(data: Any) -> Any:
    # Booking-page sources say ``master_id``; the spec's reschedule body says ``master_event_id``.
    if isinstance(data, dict) and "master_id" not in data and "master_event_id" in data:
        data = {**data, "master_id": data["master_event_id"]}
    return data


def _unknown_configuration_in(data: Any) -> Any:
    # ``raw`` keeps the fields exactly as sent.
    if isinstance(data, dict):
        data = {**_configuration_in(data), "raw": dict(data)}
    return data


register_preprocessor(Configuration, _configuration_in)
register_preprocessor(GroupConfiguration, _configuration_in)
register_preprocessor(
    UnknownConfiguration, lambda d: _unknown_configuration_in(_configuration_in(d))
)
register_preprocessor(TimeSlot, _time_slot_in)  # before Availability, whose hook embeds it
register_preprocessor(Availability, _availability_in)
register_preprocessor(GroupEvent, group_event_in)
register_preprocessor(GroupEventImportResult, import_result_in)


def _structure_any_configuration(value: Any, _: Any) -> AnyConfiguration:
    """Pick the configuration class by ``type``: absent/``""`` standard, ``group``, else unknown."""
    kind = value.get("type") if isinstance(value, dict) else None
    untagged_group = isinstance(value, dict) and "group_booking" in value
    if not kind and untagged_group and "participants" not in value:
        return converter.structure(value, GroupConfiguration)  # its tag was left out
    if kind is None or kind == "":
        return converter.structure(value, Configuration)
    if kind == "group":
        return converter.structure(value, GroupConfiguration)
    return converter.structure(value, UnknownConfiguration)


def _unstructure_group_configuration(obj: GroupConfiguration) -> dict[str, Any]:
    out: dict[str, Any] = _group_configuration_out(obj)
    out["type"] = obj.type  # the tag is sent even though it equals the default
    return out


def _unstructure_unknown_configuration(obj: UnknownConfiguration) -> dict[str, Any]:
    out = dict(obj.raw)
    for field in attrs.fields(UnknownConfiguration):
        value = getattr(obj, field.name)
        if field.name != "raw" and value is not None:
            out[field.name] = value
    return out


_group_configuration_out = make_dict_unstructure_fn(
    GroupConfiguration, converter, _cattrs_omit_if_default=True
)
converter.register_structure_hook_func(
    lambda tp: tp == AnyConfiguration, _structure_any_configuration
)
converter.register_unstructure_hook(GroupConfiguration, _unstructure_group_configuration)
converter.register_unstructure_hook(UnknownConfiguration, _unstructure_unknown_configuration)


_GROUP_SLOT_KEYS = frozenset(
    ("event_id", "master_id", "master_event_id", "calendar_id", "capacity")
)


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
                if len(slot) > 3 and not _GROUP_SLOT_KEYS.isdisjoint(slot):
                    ok = False  # a group slot: the generated hook decodes its extra fields
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
                # The group fields stay unset: TimeSlot.__getattr__ reads them as None.
                out.append(obj)
            if ok:
                return Availability(time_slots=tuple(out), order=order)
        return generated(value, tp)  # type: ignore[no-any-return]

    return hook


converter.register_structure_hook(Availability, _fast_availability_hook())

__all__ = [
    "AdditionalField",
    "AdditionalGuest",
    "AnyConfiguration",
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
    "Calendar",
    "Conferencing",
    "Configuration",
    "ConfigurationAvailability",
    "ConfigurationParticipant",
    "ConfirmStatus",
    "EmailTemplate",
    "EventBooking",
    "Grant",
    "GroupBooking",
    "GroupConfiguration",
    "GroupEvent",
    "GroupEventException",
    "GroupEventImport",
    "GroupEventImportFailure",
    "GroupEventImportResult",
    "GroupEventInfo",
    "GroupEventOrganizer",
    "GroupEventParticipant",
    "GroupEventWhen",
    "Guest",
    "ImportException",
    "OpenHours",
    "Page",
    "ParticipantAvailability",
    "ParticipantBooking",
    "Reminder",
    "SchedulerSettings",
    "Session",
    "SpecificTimeAvailability",
    "TimeSlot",
    "UISettings",
    "UISettingsBooking",
    "UISettingsOrganizer",
    "UnknownConfiguration",
]
