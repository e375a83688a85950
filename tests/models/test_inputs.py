"""Inputs that used to go wrong silently: a bare string for a list of strings, float Unix times."""

from __future__ import annotations

import importlib
import math
import pkgutil
from typing import Any

import attrs
import pytest
from aioresponses import aioresponses

import scheduler_async.models as models_pkg
from scheduler_async import (
    AsyncScheduler,
    ConfigurationAvailability,
    ConfigurationParticipant,
    EventBooking,
    OpenHours,
    ParticipantAvailability,
)
from scheduler_async._args import to_unix, window
from scheduler_async.models.webhook import CreateWebhookRequest
from scheduler_sync import Scheduler
from tests.helpers import BASE, KEY, RID


def _model_classes() -> list[type]:
    found: dict[type, None] = {}
    for info in pkgutil.iter_modules(models_pkg.__path__):
        module = importlib.import_module(f"{models_pkg.__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and attrs.has(value):
                found[value] = None
    return list(found)


STR_TUPLE_FIELDS = [
    (cls, field)
    for cls in _model_classes()
    for field in attrs.fields(cls)
    if "str, ...]" in str(field.type)  # tuple[str, ...], tuple[X | str, ...], maybe | None
]


def test_the_models_have_tuple_of_string_fields_to_check() -> None:
    names = {f"{cls.__name__}.{field.name}" for cls, field in STR_TUPLE_FIELDS}
    assert len(names) >= 17
    assert {"ParticipantAvailability.calendar_ids", "Webhook.trigger_types"} <= names


@pytest.mark.parametrize(
    ("cls", "field"), STR_TUPLE_FIELDS, ids=[f"{c.__name__}.{f.name}" for c, f in STR_TUPLE_FIELDS]
)
def test_every_tuple_of_strings_field_refuses_a_bare_string(cls: type, field: Any) -> None:
    assert field.validator is not None, "declare the model with field_transformer=checked"
    instance = object.__new__(cls)
    for bad in ("primary", b"primary"):
        with pytest.raises(TypeError, match=rf"^{cls.__name__}\.{field.name} must be a list"):
            field.validator(instance, field, bad)
    with pytest.raises(TypeError, match=rf"^{cls.__name__}\.{field.name} items must be str"):
        field.validator(instance, field, ("ok", 3))
    field.validator(instance, field, ("a", "b"))
    field.validator(instance, field, ["a"])


def test_participant_availability_refuses_a_bare_string() -> None:
    with pytest.raises(TypeError) as info:
        ParticipantAvailability(calendar_ids="primary")  # type: ignore[arg-type]
    assert str(info.value) == (
        "ParticipantAvailability.calendar_ids must be a list, not a single str: "
        "write ('primary',) for one item"
    )
    assert ParticipantAvailability(calendar_ids=["primary"]).calendar_ids == ["primary"]
    with pytest.raises(TypeError, match=r"OpenHours\.exdates must be a list"):
        OpenHours(days=(1,), start="9:00", end="17:00", exdates="2030-01-01")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"CreateWebhookRequest\.trigger_types must be a list"):
        CreateWebhookRequest(trigger_types="booking.created", webhook_url="https://x.test")  # type: ignore[arg-type]
    base = ParticipantAvailability(calendar_ids=("primary",))
    with pytest.raises(TypeError, match=r"ParticipantAvailability\.calendar_ids"):
        attrs.evolve(base, calendar_ids="work")


LIST_FIELDS = [
    (cls, field)
    for cls in _model_classes()
    for field in attrs.fields(cls)
    if str(field.type).startswith("tuple[")
]


@pytest.mark.parametrize(
    ("cls", "field"), LIST_FIELDS, ids=[f"{c.__name__}.{f.name}" for c, f in LIST_FIELDS]
)
def test_every_list_field_refuses_a_single_item(cls: type, field: Any) -> None:
    assert field.validator is not None, "declare the model with field_transformer=checked"
    instance = object.__new__(cls)
    one = ParticipantAvailability(calendar_ids=())
    for bad in ("x", {"a": 1}, one):
        with pytest.raises(TypeError, match=rf"^{cls.__name__}\.{field.name} must be a list"):
            field.validator(instance, field, bad)
    field.validator(instance, field, ())
    field.validator(instance, field, [])


def test_one_model_where_a_list_of_models_is_due_is_refused() -> None:
    hours = OpenHours(days=(1,), start="9:00", end="17:00")
    with pytest.raises(TypeError) as info:
        ParticipantAvailability(calendar_ids=("primary",), open_hours=hours)  # type: ignore[arg-type]
    assert str(info.value) == (
        "ParticipantAvailability.open_hours must be a list, not a single OpenHours: "
        "write (OpenHours(...),) for one item"
    )
    with pytest.raises(TypeError, match=r"^OpenHours\.days must be a list, not a single str"):
        OpenHours(days="12345", start="9:00", end="17:00")  # type: ignore[arg-type]


async def test_a_nested_bare_string_stops_create_and_update_before_any_call(
    mock: aioresponses,
) -> None:
    async with AsyncScheduler(api_key=KEY, grant_id="grant-1", base_url=BASE) as client:

        async def create() -> None:
            participant = ConfigurationParticipant(
                email="ada@example.com",
                availability=ParticipantAvailability(calendar_ids="primary"),  # type: ignore[arg-type]
            )
            await client.configurations.create(
                participants=[participant],
                availability=ConfigurationAvailability(duration_minutes=30),
                event_booking=EventBooking(title="Intro"),
            )

        with pytest.raises(TypeError, match=r"^ParticipantAvailability\.calendar_ids"):
            await create()
        with pytest.raises(TypeError, match=r"^OpenHours\.exdates"):
            await client.configurations.update(
                "cfg-1",
                participants=[
                    ConfigurationParticipant(
                        email="ada@example.com",
                        availability=ParticipantAvailability(
                            calendar_ids=("primary",),
                            open_hours=(
                                OpenHours(days=(1,), start="9:00", end="17:00", exdates="2030"),  # type: ignore[arg-type]
                            ),
                        ),
                    )
                ],
            )
    assert mock.requests == {}


# -- float Unix times ---------------------------------------------------------------------------
def test_float_unix_times_are_floored_to_whole_seconds() -> None:
    assert to_unix(1767250800.999, "start_time") == 1767250800
    assert to_unix(1767250800.0, "start_time") == 1767250800
    assert to_unix(0.5, "start_time") == 0
    assert window(10.9, 11.2) == (10, 11)
    with pytest.raises(ValueError, match=r"start_time \(10\) must be before end_time \(10\)"):
        window(10.2, 10.8)  # the same whole second


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_times_are_refused_clearly(bad: float) -> None:
    with pytest.raises(ValueError, match=r"^start_time must be a finite number of Unix seconds"):
        to_unix(bad, "start_time")


def test_other_bad_times_still_say_what_is_due() -> None:
    with pytest.raises(ValueError, match=r"must be >= 0"):
        to_unix(-0.5, "start_time")
    with pytest.raises(ValueError, match=r"milliseconds"):
        to_unix(1767250800123.0, "start_time")
    with pytest.raises(TypeError, match=r"Unix seconds \(int or float\), not str"):
        to_unix("1767250800", "start_time")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"not a bool"):
        to_unix(True, "start_time")


async def test_availability_accepts_float_times(client: AsyncScheduler, mock: aioresponses) -> None:
    url = f"{BASE}/v3/scheduling/availability?start_time=1709643600&end_time=1709665200"
    mock.get(url + "&configuration_id=CFG", payload={"request_id": RID, "data": {}})
    got = await client.availability.get(
        start_time=1709643600.75, end_time=1709665200.2, configuration_id="CFG"
    )
    assert got.time_slots == ()


def test_the_sync_facade_accepts_float_times(mock: aioresponses) -> None:
    url = f"{BASE}/v3/scheduling/availability?start_time=1709643600&end_time=1709665200"
    mock.get(url + "&configuration_id=CFG", payload={"request_id": RID, "data": {}})
    with Scheduler(base_url=BASE) as client:
        got = client.availability.get(
            start_time=1709643600.5, end_time=1709665200.5, configuration_id="CFG"
        )
    assert got.time_slots == ()
