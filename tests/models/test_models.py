"""Models and the converter: the seed guide's JSON structures and round-trips; hypothesis."""

from __future__ import annotations

import collections.abc
import enum
import json
import pickle
import types
import typing
from typing import Any

import attrs
import cattrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler_async import (
    Availability,
    AvailabilityMethod,
    Booking,
    BookingStatus,
    BookingType,
    Configuration,
    ConfigurationParticipant,
    EventBooking,
    Session,
)
from scheduler_async import models as m
from scheduler_async._convert import structure, unstructure

SEED_CONFIG_REQUEST = json.loads("""{
"requires_session_auth": false,
"participants": [{"name": "Test", "email": "nylas_test_8", "is_organizer": true,
  "availability": {"calendar_ids": ["primary"]}, "booking": {"calendar_id": "primary"}}],
"availability": {"duration_minutes": 30},
"event_booking": {"title": "My test event"}
}""")
SEED_CONFIG_RESPONSE = json.loads("""{
"ID": "AAAA-BBBB-1111-2222",
"participants": [{"name": "Nylas", "email": "nylas@example.com", "is_organizer": true,
  "availability": {"calendar_ids": ["primary"]}, "booking": {"calendar_id": "primary"}}],
"availability": {"duration_minutes": 30},
"event_booking": {"title": "My test event"}
}""")
SEED_SESSION = {"session_id": "XXXX-YYYY-1111-2222"}
SEED_AVAILABILITY = json.loads("""{
"order": ["user1@example.com", "user2@example.com"],
"time_slots": [
 {"emails": ["user2@example.com", "user1@example.com"], "start_time": 1659367800,
  "end_time": 1659369600},
 {"emails": ["user1@example.com"], "start_time": 1659376800, "end_time": 1659378600}]
}""")
SEED_BOOKING = {"booking_id": "AAAA-XXXX-1111-2222"}


def test_seed_configuration_request_round_trips() -> None:
    cfg = structure({**SEED_CONFIG_REQUEST, "id": "x"}, Configuration)
    assert unstructure(cfg) == {**SEED_CONFIG_REQUEST, "id": "x"}


def test_seed_configuration_response_with_upper_id() -> None:
    cfg = structure(SEED_CONFIG_RESPONSE, Configuration)
    assert cfg.id == "AAAA-BBBB-1111-2222"
    expected = {k: v for k, v in SEED_CONFIG_RESPONSE.items() if k != "ID"}
    assert unstructure(cfg) == {**expected, "id": "AAAA-BBBB-1111-2222"}


@pytest.mark.parametrize(
    ("data", "cls"),
    [(SEED_SESSION, Session), (SEED_AVAILABILITY, Availability), (SEED_BOOKING, Booking)],
)
def test_seed_objects_round_trip(data: dict[str, Any], cls: type[Any]) -> None:
    assert unstructure(structure(data, cls)) == data


def test_unknown_fields_and_enum_values_are_tolerated() -> None:
    booking = structure(
        {"booking_id": "b", "status": "on-hold-new-state", "brand_new_field": {"x": 1}}, Booking
    )
    assert booking.status == "on-hold-new-state"
    assert not isinstance(booking.status, BookingStatus)
    assert structure({"booking_id": "b", "status": "pending"}, Booking).status is (
        BookingStatus.PENDING
    )
    rules = structure({"availability_method": "max-fairness"}, m.AvailabilityRules)
    assert rules.availability_method is AvailabilityMethod.MAX_FAIRNESS
    assert unstructure(rules) == {"availability_method": "max-fairness"}


@pytest.mark.parametrize("bad", ["false", "true", 0, 1, None])
def test_strict_bool(bad: Any) -> None:
    data = {"email": "a", "is_organizer": bad}
    if bad is None:
        assert structure(data, ConfigurationParticipant).is_organizer is None
        return
    with pytest.raises(cattrs.BaseValidationError):
        structure(data, ConfigurationParticipant)


@pytest.mark.parametrize("bad", ["7", 7.9, True])
def test_strict_int(bad: Any) -> None:
    with pytest.raises(cattrs.BaseValidationError):
        structure({"emails": [], "start_time": bad, "end_time": 2}, m.TimeSlot)


def test_request_bodies_omit_unset_fields_but_keep_false_and_zero() -> None:
    eb = EventBooking(title="t", disable_emails=False, booking_type=BookingType.BOOKING)
    assert unstructure(eb) == {"title": "t", "disable_emails": False, "booking_type": "booking"}
    assert unstructure(m.Buffer(before=0)) == {"before": 0}


def test_models_are_frozen_slotted_kw_only() -> None:
    for name in m.__all__:
        cls = getattr(m, name)
        if attrs.has(cls):
            assert "__slots__" in cls.__dict__, name
            with pytest.raises(TypeError):
                cls("positional")


def test_session_repr_hides_the_token() -> None:
    assert "XXXX" not in repr(structure(SEED_SESSION, Session))


# ------------------------------------------------------------ hypothesis round trips
_text = st.text(min_size=1, max_size=12)
_json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000), _text)


def strategy_for(tp: Any) -> st.SearchStrategy[Any]:
    """A strategy for a model field type, built from the resolved annotations."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is str:
        return _text
    if tp is type(None):
        return st.none()
    if tp is bool:
        return st.booleans()
    if tp is int:
        return st.integers(min_value=0, max_value=2**40)
    if tp is Any:
        return _json_scalars
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return st.sampled_from(list(tp))
    if origin in (typing.Union, types.UnionType):
        return st.one_of([strategy_for(a) for a in args])
    if origin is tuple or origin is collections.abc.Sequence:
        return st.lists(strategy_for(args[0]), max_size=3).map(tuple)
    if origin is dict:
        return st.dictionaries(_text, strategy_for(args[1]), max_size=3)
    if isinstance(tp, type) and attrs.has(tp):
        hints = typing.get_type_hints(tp)
        return st.builds(tp, **{f.name: strategy_for(hints[f.name]) for f in attrs.fields(tp)})
    raise TypeError(f"no strategy for {tp!r}")


@pytest.mark.parametrize(
    "cls",
    [
        Configuration,
        m.OpenHours,
        m.SchedulerSettings,
        Booking,
        Availability,
        Session,
        m.Guest,
        m.AdditionalGuest,
    ],
)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_round_trip(cls: type[Any], data: st.DataObject) -> None:
    obj = data.draw(strategy_for(cls))
    wire = json.loads(json.dumps(unstructure(obj)))
    again = structure(wire, cls)
    assert again == obj
    assert unstructure(again) == wire


@pytest.mark.parametrize(
    "data",
    [
        {"time_slots": [{"emails": ["a"], "start_time": "1", "end_time": 2}]},
        {"time_slots": [{"emails": ["a", 5], "start_time": 1, "end_time": 2}]},
        {"time_slots": [{"emails": "a", "start_time": 1, "end_time": 2}]},
        {"time_slots": [{"emails": ["a"], "start_time": True, "end_time": 2}]},
        {"time_slots": ["slot"]},
        {"time_slots": {"a": 1}},
        {"time_slots": [], "order": ["a", 3]},
        {"time_slots": [], "order": "a"},
    ],
)
def test_availability_fast_path_rejects_what_cattrs_rejects(data: dict[str, Any]) -> None:
    with pytest.raises(cattrs.BaseValidationError):
        structure(data, Availability)


def test_availability_fast_path_builds_real_models() -> None:
    data = {
        "time_slots": [{"emails": ["a", "b"], "start_time": 1, "end_time": 2, "new": 1}],
        "order": ["b", "a"],
        "unknown": True,
    }
    avail = structure(data, Availability)
    assert avail == Availability(
        time_slots=(m.TimeSlot(emails=("a", "b"), start_time=1, end_time=2),), order=("b", "a")
    )
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        avail.time_slots[0].start_time = 5  # type: ignore[misc]


def test_availability_fast_path_slots_read_every_field_as_the_attrs_default() -> None:
    """The fast path stores every field of a plain slot (its group fields as their default),
    so the slot is an ordinary attrs instance: equal, hashable, evolvable, picklable."""
    data = {"time_slots": [{"emails": ["a"], "start_time": 1, "end_time": 2}]}
    (slot,) = structure(data, Availability).time_slots
    for field in attrs.fields(m.TimeSlot):
        if field.default is not attrs.NOTHING:
            assert getattr(slot, field.name) == field.default, field.name
    assert not slot.is_group
    assert attrs.asdict(slot) == attrs.asdict(m.TimeSlot(emails=("a",), start_time=1, end_time=2))
    with pytest.raises(AttributeError):
        slot.no_such_field  # type: ignore[attr-defined]  # noqa: B018
    plain = m.TimeSlot(emails=("a",), start_time=1, end_time=2)
    assert slot == plain and hash(slot) == hash(plain) and repr(slot) == repr(plain)
    assert attrs.evolve(slot, event_id="ev") == attrs.evolve(plain, event_id="ev")
    assert pickle.loads(pickle.dumps(slot)) == plain
    # a real value in the slot, not a class-level fallback: no __getattr__ on the read path
    assert "__getattr__" not in vars(m.TimeSlot)


def test_availability_fast_path_shares_participant_lists_and_checks_each_new_one() -> None:
    """Slots with the same participants share one tuple, adjacent or not; a list that differs
    from its neighbour's is checked (a non-string email falls back to the validating hook)."""
    ab, ba = ["a", "b"], ["b", "a"]
    rows = [ab, ab, ba, list(ab), ba]
    data = {
        "time_slots": [
            {"emails": e, "start_time": i, "end_time": i + 1} for i, e in enumerate(rows)
        ]
    }
    slots = structure(data, Availability).time_slots
    assert [s.emails for s in slots] == [tuple(e) for e in rows]
    assert [s.end_time for s in slots] == list(range(1, 6))
    assert slots[0].emails is slots[1].emails is slots[3].emails
    assert slots[2].emails is slots[4].emails
    bad = {
        "time_slots": [*data["time_slots"], {"emails": ["a", 5], "start_time": 9, "end_time": 10}]
    }
    with pytest.raises(Exception, match="Availability"):
        structure(bad, Availability)


def test_decoded_time_slots_are_a_lazy_sequence_equal_to_the_tuple() -> None:
    wire = {
        "time_slots": [
            {"emails": ["a@x", "b@x"] if i % 2 else ["a@x"], "start_time": i, "end_time": i + 1}
            for i in range(150)  # more than one build step while iterating
        ],
        "order": ["a@x"],
    }
    avail = structure(wire, m.Availability)
    slots = avail.time_slots
    assert isinstance(slots, m.TimeSlots)
    eager = tuple(
        m.TimeSlot(emails=tuple(s["emails"]), start_time=s["start_time"], end_time=s["end_time"])
        for s in wire["time_slots"]
    )
    assert slots == eager and eager == slots and len(slots) == 150
    assert hash(slots) == hash(eager) and repr(slots) == repr(eager)
    assert avail == m.Availability(time_slots=eager, order=("a@x",))
    assert hash(avail) == hash(m.Availability(time_slots=eager, order=("a@x",)))
    assert (
        slots[-1] == eager[-1]
        and slots[3:7] == eager[3:7]
        and list(reversed(slots)) == list(reversed(eager))
    )
    assert eager[5] in slots and slots.index(eager[5]) == 5
    assert slots + eager[:1] == eager + eager[:1] == (*slots, eager[0])
    with pytest.raises(IndexError):
        slots[150]
    assert slots[1].emails is slots[3].emails  # participant tuples are shared
    assert slots[0].event_id is None and not slots[0].is_group
    assert pickle.loads(pickle.dumps(avail)) == avail
    assert attrs.evolve(avail, order=None).time_slots == eager
    assert unstructure(avail) == wire
    assert slots != list(eager)  # like a tuple: a list is not equal


@pytest.mark.parametrize(
    "slot",
    [
        {"emails": ["a"], "start_time": True, "end_time": 2},
        {"emails": "a", "start_time": 1, "end_time": 2},
        ["a", 1, 2],
        {"emails": ["a", None], "start_time": 1, "end_time": 2},
        {"emails": ["a"], "start_time": 1},
    ],
)
def test_decoded_time_slots_refuse_a_bad_slot_among_good_ones(slot: Any) -> None:
    good = {"emails": ["a"], "start_time": 1, "end_time": 2}
    with pytest.raises(cattrs.BaseValidationError):
        structure({"time_slots": [good, slot, good]}, m.Availability)
