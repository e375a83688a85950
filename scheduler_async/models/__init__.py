"""attrs models of every Scheduler API object (frozen, slots, kw_only); plain data, no I/O."""

from typing import Any

import attrs
from cattrs.gen import make_dict_unstructure_fn

from .._convert import converter, register_preprocessor
from .availability import Availability, Session, TimeSlot, TimeSlots
from .booking import AdditionalGuest, Booking, BookingOrganizer, BookingParticipant, Guest
from .booking_ref import BookingRef, parse_booking_ref
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
    "BookingRef",
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
    "TimeSlots",
    "UISettings",
    "UISettingsBooking",
    "UISettingsOrganizer",
    "UnknownConfiguration",
    "parse_booking_ref",
]
