"""Group configurations and group events: decoding every wire variant, encoding the spec's form."""

from __future__ import annotations

import pickle
from typing import Any

import attrs
import cattrs
import pytest

from scheduler_async import (
    AnyConfiguration,
    Availability,
    Configuration,
    GroupBooking,
    GroupConfiguration,
    GroupEvent,
    GroupEventImport,
    GroupEventImportResult,
    GroupEventParticipant,
    GroupEventWhen,
    ImportException,
    Reminder,
    TimeSlot,
    UnknownConfiguration,
)
from scheduler_async._convert import structure, unstructure

STANDARD: dict[str, Any] = {
    "id": "cfg-std",
    "name": "1:1",
    "participants": [
        {
            "email": "a@example.com",
            "is_organizer": True,
            "availability": {"calendar_ids": ["primary"]},
            "booking": {"calendar_id": "primary"},
        }
    ],
    "availability": {"duration_minutes": 30},
    "event_booking": {"title": "Chat"},
}
GROUP: dict[str, Any] = {
    "id": "cfg-grp",
    "type": "group",
    "name": "Yoga class",
    "slug": "yoga",
    "group_booking": {
        "calendar_id": "primary",
        "booking_type": "booking",
        "disable_emails": False,
        "reminders": [{"type": "email", "minutes_before_event": 30, "recipient": "guest"}],
        "default_capacity": 50,
        "title": "Yoga",
    },
    "scheduler": {"available_days_in_future": 260},
}
UNKNOWN: dict[str, Any] = {
    "id": "cfg-new",
    "type": "webinar-series",
    "name": "Future",
    "webinar": {"max": 1000, "nested": [1, 2]},
}


def test_mixed_list_page_decodes_each_kind() -> None:
    items = structure([STANDARD, GROUP, UNKNOWN], tuple[AnyConfiguration, ...])
    std, grp, unk = items
    assert isinstance(std, Configuration)
    assert std.participants[0].email == "a@example.com"
    assert isinstance(grp, GroupConfiguration)
    assert grp.group_booking.default_capacity == 50
    assert grp.group_booking.reminders == (
        Reminder(type="email", minutes_before_event=30, recipient="guest"),
    )
    assert grp.type == "group"
    assert isinstance(unk, UnknownConfiguration)
    assert (unk.id, unk.type, unk.name) == ("cfg-new", "webinar-series", "Future")
    assert unk.raw["webinar"] == {"max": 1000, "nested": [1, 2]}
    assert unstructure(unk) == UNKNOWN


def test_standard_type_empty_string_is_standard_and_upper_case_id() -> None:
    body = {**STANDARD, "type": ""}
    del body["id"]
    body["ID"] = "cfg-X"
    cfg = structure(body, AnyConfiguration)  # type: ignore[arg-type]
    assert isinstance(cfg, Configuration)
    assert cfg.id == "cfg-X"
    assert cfg.type == ""


def test_standard_missing_required_fields_is_still_an_error() -> None:
    broken = {k: v for k, v in STANDARD.items() if k != "participants"}
    with pytest.raises(cattrs.BaseValidationError):
        structure([GROUP, broken], tuple[AnyConfiguration, ...])


def test_group_missing_group_booking_is_an_error() -> None:
    broken = {k: v for k, v in GROUP.items() if k != "group_booking"}
    with pytest.raises(cattrs.BaseValidationError):
        structure(broken, AnyConfiguration)  # type: ignore[arg-type]


def test_group_configuration_unstructure_sends_type_and_no_standard_parts() -> None:
    cfg = GroupConfiguration(
        id="x",
        name="Class",
        group_booking=GroupBooking(calendar_id="primary", default_capacity=10),
    )
    out = unstructure(cfg)
    assert out == {
        "id": "x",
        "name": "Class",
        "type": "group",
        "group_booking": {"calendar_id": "primary", "default_capacity": 10},
    }
    assert structure(out, AnyConfiguration) == cfg  # type: ignore[arg-type]


EVENT_FLAT: dict[str, Any] = {
    "id": "ev1",
    "calendar_id": "primary",
    "title": "Philosophy club",
    "capacity": 100,
    "participants": [{"name": "Leyah", "email": "leyah@example.com", "is_organizer": True}],
    "when": {
        "start_time": 1674604800,
        "end_time": 1674608400,
        "start_timezone": "America/New_York",
        "end_timezone": "America/New_York",
        "object": "timespan",
    },
    "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO", "EXDATE:20211011T000000Z"],
    "status": "confirmed",
}


def test_group_event_flat_object_and_array_answers_decode_alike() -> None:
    flat = structure(EVENT_FLAT, GroupEvent)
    assert flat.recurrence == ("RRULE:FREQ=WEEKLY;BYDAY=MO", "EXDATE:20211011T000000Z")
    assert flat.when.start_timezone == "America/New_York"
    assert flat.capacity == 100
    assert structure([EVENT_FLAT], GroupEvent) == flat


def test_group_event_s4_example_shape() -> None:
    # Upper-case ID, ``when`` as an array, no title (S4 responses.group_event example).
    body = {
        "ID": "AAkALg",
        "participants": [{"email": "a@example.com", "name": "A"}],
        "calendar_id": "primary",
        "capacity": 50,
        "when": [
            {
                "start_timezone": "UTC",
                "end_timezone": "UTC",
                "start_time": 100,
                "end_time": 200,
            }
        ],
    }
    ev = structure({"request_id": "r", "data": body}["data"], GroupEvent)
    assert (ev.id, ev.capacity, ev.when.start_time, ev.title) == ("AAkALg", 50, 100, None)


def test_group_event_editor_shape_with_group_event_info() -> None:
    item = {
        "event": {
            "id": "m1_20250409T193000Z",
            "calendar_id": "primary",
            "master_event_id": "m1",
            "title": "Class",
            "when": {"start_time": 1, "end_time": 2, "object": "timespan"},
        },
        "group_event_info": {
            "event_id": "m1_20250409T193000Z",
            "master_id": "m1",
            "config_id": "cfg",
            "capacity": 12,
            "type": "created_event",
            "booked": True,
            "finished": False,
            "rrule": ["RRULE:FREQ=WEEKLY"],
            "exceptions": [{"event_id": "m1_20250416T193000Z", "capacity": 5}],
            "snapshot": {"anything": True},
        },
    }
    page = structure([item, EVENT_FLAT], tuple[GroupEvent, ...])
    ev = page[0]
    assert ev.capacity == 12
    assert ev.master_event_id == "m1"
    assert ev.group_event_info is not None
    assert ev.group_event_info.rrule == ("RRULE:FREQ=WEEKLY",)
    assert ev.group_event_info.exceptions is not None
    assert ev.group_event_info.exceptions[0].capacity == 5
    assert page[1].group_event_info is None


def test_participants_as_single_object_decodes() -> None:
    body = {**EVENT_FLAT, "participants": {"email": "solo@example.com", "is_organizer": True}}
    ev = structure(body, GroupEvent)
    assert ev.participants == (GroupEventParticipant(email="solo@example.com", is_organizer=True),)


@pytest.mark.parametrize(
    "data",
    [
        {"imported_events": [{"event_id": "e1"}], "import_failed": []},
        {"imported_events": ["e1"], "import_failed": []},
        [{"imported_events": [{"event_id": "e1"}]}],
        [{"imported_events": ["e1"]}, {"import_failed": []}],
    ],
)
def test_import_result_variants(data: Any) -> None:
    assert structure(data, GroupEventImportResult) == GroupEventImportResult(
        imported_events=("e1",)
    )


def test_import_failures_decode() -> None:
    data = {
        "imported_events": [{"event_id": "a"}],
        "import_failed": [{"event_id": "b", "reason": "Event already imported"}],
    }
    res = structure(data, GroupEventImportResult)
    assert res.imported_events == ("a",)
    assert [(f.event_id, f.reason) for f in res.import_failed] == [("b", "Event already imported")]


def test_import_result_bad_item_is_an_error() -> None:
    with pytest.raises(cattrs.BaseValidationError):
        structure({"imported_events": [{"id": 1}]}, GroupEventImportResult)


def test_import_item_unstructures_to_spec_form() -> None:
    item = GroupEventImport(
        event_id="e1",
        calendar_id="primary",
        capacity=20,
        exceptions=(ImportException(event_id="e1_20250101T100000Z", capacity=5),),
    )
    assert unstructure([item]) == [
        {
            "event_id": "e1",
            "calendar_id": "primary",
            "capacity": 20,
            "exceptions": [{"event_id": "e1_20250101T100000Z", "capacity": 5}],
        }
    ]


def test_when_and_participants_unstructure_to_spec_form() -> None:
    when = GroupEventWhen(start_time=10, end_time=20, start_timezone="UTC", end_timezone="UTC")
    assert unstructure(when) == {
        "start_time": 10,
        "end_time": 20,
        "start_timezone": "UTC",
        "end_timezone": "UTC",
    }
    people = (GroupEventParticipant(email="o@example.com", is_organizer=True),)
    # participants are sent as an array (S4 sample, CLI, Editor), never a single object
    assert unstructure(people) == [{"email": "o@example.com", "is_organizer": True}]


def test_availability_group_slots_and_master_event_id_variant() -> None:
    body = {
        "time_slots": [
            {"emails": ["a@example.com"], "start_time": 1, "end_time": 2},
            {
                "emails": ["a@example.com"],
                "start_time": 3,
                "end_time": 4,
                "event_id": "m1_19700101T000003Z",
                "master_id": "m1",
                "calendar_id": "primary",
                "capacity": 7,
            },
            {
                "emails": [],
                "start_time": 5,
                "end_time": 6,
                "event_id": "m2_19700101T000005Z",
                "master_event_id": "m2",
                "calendar_id": "primary",
                "capacity": 1,
            },
        ]
    }
    av = structure(body, Availability)
    plain, grp, other = av.time_slots
    assert (plain.event_id, plain.capacity, plain.is_group) == (None, None, False)
    assert (grp.event_id, grp.master_id, grp.calendar_id, grp.capacity) == (
        "m1_19700101T000003Z",
        "m1",
        "primary",
        7,
    )
    assert other.master_id == "m2"
    assert grp.is_group


def test_fast_availability_path_reads_group_fields_as_none() -> None:
    av = structure(
        {"time_slots": [{"emails": ["a@example.com"], "start_time": 1, "end_time": 2}]},
        Availability,
    )
    slot = av.time_slots[0]
    assert slot == TimeSlot(emails=("a@example.com",), start_time=1, end_time=2)
    assert slot.master_id is None and slot.capacity is None and not slot.is_group
    assert pickle.loads(pickle.dumps(slot)) == slot
    assert attrs.evolve(slot, capacity=2).capacity == 2
    assert unstructure(slot) == {"emails": ["a@example.com"], "start_time": 1, "end_time": 2}
    with pytest.raises(AttributeError):
        _ = slot.nonexistent  # type: ignore[attr-defined]


def test_group_slot_capacity_must_be_int() -> None:
    body = {
        "time_slots": [
            {"emails": [], "start_time": 1, "end_time": 2, "event_id": "e", "capacity": "7"}
        ]
    }
    with pytest.raises(cattrs.BaseValidationError):
        structure(body, Availability)


def test_group_configuration_without_its_tag_is_recognised() -> None:
    body = {k: v for k, v in GROUP.items() if k != "type"}
    cfg = structure(body, AnyConfiguration)  # type: ignore[arg-type]
    assert isinstance(cfg, GroupConfiguration)
    assert cfg.group_booking.calendar_id == "primary"
