"""Group configurations, ``client.group_events`` and ``slot=`` bookings against aioresponses:
exact wire requests, every answer variant of the fact sheet's conflicts table, import batching."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

import scheduler_async as sa
from scheduler_async import AsyncScheduler, Guest
from scheduler_async.models import (
    GroupBooking,
    GroupConfiguration,
    GroupEvent,
    GroupEventImport,
    GroupEventParticipant,
    TimeSlot,
    UnknownConfiguration,
)
from tests.helpers import (
    BASE,
    BOOKING_JSON,
    CONFIG_JSON,
    KEY,
    RID,
    SESSION,
    auth_of,
    only_call,
    sent_json,
)

CFG = f"{BASE}/v3/grants/grant-1/scheduling/configurations"
EVENTS = f"{CFG}/cfg-g/group-events"
GROUP_JSON: dict[str, Any] = {
    "id": "cfg-g",
    "type": "group",
    "name": "Yoga",
    "group_booking": {"calendar_id": "primary", "booking_type": "booking", "default_capacity": 50},
}
WHEN = {"start_time": 1767250800, "end_time": 1767254400}
FLAT = {
    "id": "ev-1",
    "calendar_id": "primary",
    "title": "Yoga",
    "capacity": 12,
    "when": WHEN,
    "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=TH", "EXDATE:20260108T070000Z"],
}
WRAPPED = {
    "event": {"id": "ev-1", "title": "Yoga", "when": {**WHEN, "object": "timespan"}},
    "group_event_info": {
        "event_id": "ev-1",
        "calendar_id": "primary",
        "master_id": "ev-1",
        "capacity": 12,
        "type": "created_event",
        "rrule": ["RRULE:FREQ=WEEKLY;BYDAY=TH"],
    },
}
UPPER = {"ID": "ev-1", "calendar_id": "primary", "capacity": 12, "when": [WHEN]}


# ---------------------------------------------------------------- configurations
async def test_mixed_page_decodes_every_configuration_type(
    client: AsyncScheduler, mock: Any
) -> None:
    future = {"id": "cfg-x", "type": "round_robin_v2", "name": "New", "mystery": {"a": 1}}
    mock.get(CFG, payload={"request_id": RID, "data": [CONFIG_JSON, GROUP_JSON, future]})
    items = [c async for c in client.configurations.list()]
    assert [type(c) for c in items] == [sa.Configuration, GroupConfiguration, UnknownConfiguration]
    group = items[1]
    assert isinstance(group, GroupConfiguration)
    assert group.group_booking.default_capacity == 50
    unknown = items[2]
    assert isinstance(unknown, UnknownConfiguration)
    assert unknown.type == "round_robin_v2"
    assert unknown.raw["mystery"] == {"a": 1}


async def test_get_returns_a_group_configuration(client: AsyncScheduler, mock: Any) -> None:
    mock.get(f"{CFG}/cfg-g", payload={"request_id": RID, "data": GROUP_JSON})
    got = await client.configurations.get("cfg-g")
    assert isinstance(got, GroupConfiguration)
    assert got.name == "Yoga"


async def test_create_group_sends_type_group_and_no_standard_fields(
    client: AsyncScheduler, mock: Any
) -> None:
    mock.post(CFG, payload={"request_id": RID, "data": GROUP_JSON})
    made = await client.configurations.create_group(
        name="Yoga",
        group_booking=GroupBooking(calendar_id="primary", default_capacity=50),
        slug="yoga",
    )
    body = sent_json(only_call(mock, "POST", CFG))
    assert body == {
        "type": "group",
        "name": "Yoga",
        "slug": "yoga",
        "group_booking": {"calendar_id": "primary", "default_capacity": 50},
    }
    assert made.id == "cfg-g"


async def test_create_group_is_never_retried(client: AsyncScheduler, mock: Any) -> None:
    mock.post(CFG, status=502, payload={"request_id": RID, "error": {"message": "down"}})
    with pytest.raises(sa.OutcomeUnknownError):
        await client.configurations.create_group(
            name="Yoga", group_booking=GroupBooking(calendar_id="primary")
        )
    assert len(mock.requests[("POST", sa_url(CFG))]) == 1


async def test_update_group_booking(client: AsyncScheduler, mock: Any) -> None:
    mock.put(f"{CFG}/cfg-g", payload={"request_id": RID, "data": GROUP_JSON})
    got = await client.configurations.update(
        "cfg-g", group_booking=GroupBooking(calendar_id="primary", default_capacity=20)
    )
    body = sent_json(only_call(mock, "PUT", f"{CFG}/cfg-g"))
    assert body == {
        "type": "group",
        "group_booking": {"calendar_id": "primary", "default_capacity": 20},
    }
    assert isinstance(got, GroupConfiguration)
    with pytest.raises(ValueError, match="no participants"):
        await client.configurations.update(
            "cfg-g",
            group_booking=GroupBooking(calendar_id="primary"),
            event_booking=sa.EventBooking(title="x"),
        )
    with pytest.raises(ValueError, match="<= 500"):
        await client.configurations.create_group(
            name="x", group_booking=GroupBooking(calendar_id="primary", default_capacity=501)
        )


# ---------------------------------------------------------------- group events
def sa_url(url: str) -> Any:
    from aioresponses.compat import normalize_url
    from yarl import URL

    return normalize_url(URL(url))


@pytest.mark.parametrize("item", [FLAT, WRAPPED, UPPER], ids=["flat", "wrapped", "upper-ID"])
async def test_list_decodes_every_item_shape(
    client: AsyncScheduler, mock: Any, item: dict[str, Any]
) -> None:
    url = f"{EVENTS}?calendar_id=primary&start_time=1767225600&end_time=1767830400"
    mock.get(url, payload={"request_id": RID, "data": [item]})
    start = datetime(2026, 1, 1, tzinfo=UTC)
    events = [
        e async for e in client.group_events.list("cfg-g", start_time=start, end_time=1767830400)
    ]
    assert auth_of(only_call(mock, "GET", url)) == f"Bearer {KEY}"
    assert [e.id for e in events] == ["ev-1"]
    assert events[0].when.start_time == WHEN["start_time"]
    assert events[0].when.end_time == WHEN["end_time"]
    if item is WRAPPED:
        assert events[0].capacity == 12
        assert events[0].group_event_info is not None
        assert events[0].group_event_info.rrule == ("RRULE:FREQ=WEEKLY;BYDAY=TH",)
    if item is FLAT:
        assert events[0].recurrence == tuple(FLAT["recurrence"])


async def test_list_follows_cursors_with_limit(client: AsyncScheduler, mock: Any) -> None:
    q = "calendar_id=cal-9&start_time=10&end_time=20&limit=1"
    mock.get(f"{EVENTS}?{q}", payload={"request_id": "r1", "data": [FLAT], "next_cursor": "1"})
    mock.get(
        f"{EVENTS}?{q}&page_token=1",
        payload={"request_id": "r2", "data": [{**FLAT, "id": "ev-2"}], "next_cursor": None},
    )
    ids = [
        e.id
        async for e in client.group_events.list(
            "cfg-g", start_time=10, end_time=20, calendar_id="cal-9", limit=1
        )
    ]
    assert ids == ["ev-1", "ev-2"]
    mock.get(f"{EVENTS}?{q}", payload={"request_id": "r3", "data": [FLAT], "next_cursor": "1"})
    resp = await client.group_events.with_response.list_page(
        "cfg-g", start_time=10, end_time=20, calendar_id="cal-9", limit=1
    )
    assert resp.request_id == "r3"
    assert resp.data.next_cursor == "1"


@pytest.mark.parametrize(
    "data",
    [FLAT, [FLAT], WRAPPED, [WRAPPED], UPPER],
    ids=["obj", "array", "wrap", "wrap-arr", "ID"],
)
async def test_create_sends_the_spec_body_and_decodes_every_answer(
    client: AsyncScheduler, mock: Any, data: Any
) -> None:
    mock.post(EVENTS, payload={"request_id": RID, "data": data})
    event = await client.group_events.create(
        "cfg-g",
        title="Yoga",
        start_time=WHEN["start_time"],
        end_time=WHEN["end_time"],
        start_timezone="Europe/Paris",
        end_timezone="Europe/Paris",
        capacity=12,
        participants=[GroupEventParticipant(email="org@example.com", is_organizer=True)],
        recurrence=["RRULE:FREQ=WEEKLY;BYDAY=TH"],
    )
    body = sent_json(only_call(mock, "POST", EVENTS))
    assert body == {
        "title": "Yoga",
        "when": {**WHEN, "start_timezone": "Europe/Paris", "end_timezone": "Europe/Paris"},
        "capacity": 12,
        "calendar_id": "primary",
        "participants": [{"email": "org@example.com", "is_organizer": True}],
        "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=TH"],
    }
    assert isinstance(event, GroupEvent)
    assert event.id == "ev-1"


async def test_create_is_never_retried(client: AsyncScheduler, mock: Any) -> None:
    mock.post(EVENTS, status=502, payload={"error": {"message": "bad gateway"}})
    with pytest.raises(sa.OutcomeUnknownError):
        await client.group_events.create(
            "cfg-g", title="Yoga", start_time=10, end_time=20, capacity=5
        )
    assert len(mock.requests[("POST", sa_url(EVENTS))]) == 1


async def test_create_checks_arguments(client: AsyncScheduler) -> None:
    with pytest.raises(ValueError, match="<= 500"):
        await client.group_events.create("c", title="t", start_time=1, end_time=2, capacity=501)
    with pytest.raises(ValueError, match=">= 1"):
        await client.group_events.create("c", title="t", start_time=1, end_time=2, capacity=0)
    with pytest.raises(ValueError, match="together"):
        await client.group_events.create(
            "c", title="t", start_time=1, end_time=2, start_timezone="UTC"
        )
    with pytest.raises(ValueError, match="at least one field"):
        await client.group_events.update("c", "e")


@pytest.mark.parametrize("data", [FLAT, [WRAPPED]], ids=["obj", "array"])
async def test_update_is_a_put(client: AsyncScheduler, mock: Any, data: Any) -> None:
    url = f"{EVENTS}/ev-1_20260101T070000Z"
    mock.put(url, payload={"request_id": RID, "data": data})
    event = await client.group_events.update("cfg-g", "ev-1_20260101T070000Z", capacity=20)
    assert sent_json(only_call(mock, "PUT", url)) == {"capacity": 20}
    assert event.id == "ev-1"


async def test_delete(client: AsyncScheduler, mock: Any) -> None:
    mock.delete(f"{EVENTS}/ev-1", payload={"request_id": RID})
    mock.delete(f"{EVENTS}/ev-2?calendar_id=primary", payload={"request_id": RID})
    assert await client.group_events.delete("cfg-g", "ev-1") is None
    resp = await client.group_events.with_response.delete("cfg-g", "ev-2", calendar_id="primary")
    assert resp.data is None
    assert resp.request_id == RID


IMPORT_URL = f"{BASE}/v3/scheduling/configurations/cfg-g/import-group-events"


@pytest.mark.parametrize(
    "data",
    [
        {"imported_events": [{"event_id": "a"}], "import_failed": []},
        [{"imported_events": [{"event_id": "a"}], "import_failed": []}],
        {"imported_events": ["a"]},
    ],
    ids=["object", "array", "string-ids"],
)
async def test_import_batch_body_and_answers(client: AsyncScheduler, mock: Any, data: Any) -> None:
    mock.post(IMPORT_URL, payload={"request_id": RID, "data": data})
    result = await client.group_events.import_batch(
        "cfg-g", [GroupEventImport(event_id="a", calendar_id="primary", capacity=5)]
    )
    kwargs = only_call(mock, "POST", IMPORT_URL)
    assert sent_json(kwargs) == [{"event_id": "a", "calendar_id": "primary", "capacity": 5}]
    assert auth_of(kwargs) == f"Bearer {KEY}"
    assert result.imported_events == ("a",)
    with pytest.raises(ValueError, match="at most 20"):
        await client.group_events.import_batch(
            "cfg-g", [GroupEventImport(event_id=str(i), calendar_id="p") for i in range(21)]
        )


async def test_import_events_batches_45_into_3_calls_and_merges(
    client: AsyncScheduler, mock: Any
) -> None:
    sent: list[list[dict[str, Any]]] = []

    def answer(url: Any, **kwargs: Any) -> Any:
        from aioresponses import CallbackResult

        batch = sent_json(kwargs)
        sent.append(batch)
        ids = [e["event_id"] for e in batch]
        bad = [i for i in ids if i.endswith("7")]  # e7, e17, e27, e37: already imported
        data = {
            "imported_events": [{"event_id": i} for i in ids if i not in bad],
            "import_failed": [{"event_id": i, "reason": "Event already imported"} for i in bad],
        }
        return CallbackResult(payload={"request_id": RID, "data": data})

    mock.post(IMPORT_URL, callback=answer, repeat=True)
    events = [GroupEventImport(event_id=f"e{i}", calendar_id="primary") for i in range(45)]
    result = await client.group_events.import_events("cfg-g", events)
    assert [len(b) for b in sent] == [20, 20, 5]
    assert [e["event_id"] for b in sent for e in b] == [f"e{i}" for i in range(45)]
    failed = {f.event_id: f.reason for f in result.import_failed}
    assert failed == {f"e{i}": "Event already imported" for i in (7, 17, 27, 37)}
    assert len(result.imported_events) == 41
    assert set(result.imported_events) | set(failed) == {f"e{i}" for i in range(45)}


async def test_import_events_reports_a_failed_batch_and_goes_on(
    client: AsyncScheduler, mock: Any
) -> None:
    from aioresponses import CallbackResult

    calls = 0

    def answer(url: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        ids = [e["event_id"] for e in sent_json(kwargs)]
        if calls == 2:
            return CallbackResult(status=400, payload={"error": {"message": "bad batch"}})
        data = {"imported_events": [{"event_id": i} for i in ids]}
        return CallbackResult(payload={"request_id": RID, "data": data})

    mock.post(IMPORT_URL, callback=answer, repeat=True)
    events = [GroupEventImport(event_id=f"e{i}", calendar_id="primary") for i in range(45)]
    result = await client.group_events.import_events("cfg-g", events)
    assert calls == 3
    assert result.imported_events == tuple(f"e{i}" for i in [*range(20), *range(40, 45)])
    assert [f.event_id for f in result.import_failed] == [f"e{i}" for i in range(20, 40)]
    assert all("bad batch" in f.reason for f in result.import_failed)
    with pytest.raises(TypeError):  # argument errors come before anything is sent
        await client.group_events.import_events("cfg-g", [*events, "nope"])  # type: ignore[list-item]
    assert calls == 3


VALIDATE_URL = f"{BASE}/v3/scheduling/configurations/cfg-g/group-events/validate-timeslot"
GROUP_SLOT = TimeSlot(
    emails=("org@example.com",),
    start_time=1767250800,
    end_time=1767254400,
    event_id="ev-1_20260101T070000Z",
    master_id="ev-1",
    calendar_id="primary",
    capacity=3,
)


async def test_validate_timeslot_from_a_slot_public_and_session(
    client: AsyncScheduler, mock: Any
) -> None:
    mock.post(VALIDATE_URL, payload={"request_id": RID}, repeat=True)
    assert await client.group_events.validate_timeslot("cfg-g", slot=GROUP_SLOT) is None
    await client.group_events.validate_timeslot("cfg-g", slot=GROUP_SLOT, session_id=SESSION)
    calls = mock.requests[("POST", sa_url(VALIDATE_URL))]
    assert auth_of(calls[0].kwargs) is None
    assert auth_of(calls[1].kwargs) == f"Bearer {SESSION}"
    assert sent_json(calls[0].kwargs) == {
        "start_time": 1767250800,
        "end_time": 1767254400,
        "event_id": "ev-1_20260101T070000Z",
        "master_id": "ev-1",
        "calendar_id": "primary",
        "capacity": 3,
        "emails": ["org@example.com"],
    }
    with pytest.raises(ValueError, match="disagrees"):
        await client.group_events.validate_timeslot("cfg-g", slot=GROUP_SLOT, event_id="other")


@pytest.mark.parametrize(
    ("status", "message", "cls"),
    [
        (409, "Event is full", sa.ConflictError),
        (400, "The selected event has changed", sa.BadRequestError),
        (404, "The selected event was deleted", sa.NotFoundError),
    ],
)
async def test_validate_timeslot_errors_are_typed(
    client: AsyncScheduler, mock: Any, status: int, message: str, cls: type[Exception]
) -> None:
    error = {"type": "invalid_request_error", "message": message}
    mock.post(VALIDATE_URL, status=status, payload={"request_id": RID, "error": error})
    with pytest.raises(cls, match=message):
        await client.group_events.validate_timeslot(
            "cfg-g", event_id="ev-1", start_time=10, end_time=20
        )


# ---------------------------------------------------------------- bookings with slot=
BOOKINGS = f"{BASE}/v3/scheduling/bookings"


async def test_booking_create_with_a_group_slot(client: AsyncScheduler, mock: Any) -> None:
    url = f"{BOOKINGS}?configuration_id=cfg-g"
    mock.post(url, payload={"request_id": RID, "data": BOOKING_JSON})
    guest = Guest(name="Ann", email="ann@example.com")
    await client.bookings.create(slot=GROUP_SLOT, guest=guest, configuration_id="cfg-g")
    assert sent_json(only_call(mock, "POST", url)) == {
        "start_time": 1767250800,
        "end_time": 1767254400,
        "event_id": "ev-1_20260101T070000Z",
        "master_id": "ev-1",
        "calendar_id": "primary",
        "guest": {"name": "Ann", "email": "ann@example.com"},
    }


async def test_booking_slot_and_times_must_agree(client: AsyncScheduler, mock: Any) -> None:
    url = f"{BOOKINGS}?configuration_id=c"
    mock.post(url, payload={"request_id": RID, "data": BOOKING_JSON})
    guest = Guest(name="Ann", email="ann@example.com")
    start = datetime.fromtimestamp(GROUP_SLOT.start_time, UTC)
    await client.bookings.create(
        slot=GROUP_SLOT, start_time=start, guest=guest, configuration_id="c"
    )
    with pytest.raises(ValueError, match="disagrees"):
        await client.bookings.create(slot=GROUP_SLOT, end_time=1, guest=guest, configuration_id="c")
    with pytest.raises(TypeError, match="slot="):
        await client.bookings.create(start_time=1, guest=guest, configuration_id="c")
    plain = TimeSlot(emails=("a@example.com",), start_time=100, end_time=200)
    mock.post(url, payload={"request_id": RID, "data": BOOKING_JSON})
    await client.bookings.create(slot=plain, guest=guest, configuration_id="c")
    last = mock.requests[("POST", sa_url(url))][-1]
    assert sent_json(last.kwargs) == {
        "start_time": 100,
        "end_time": 200,
        "guest": {"name": "Ann", "email": "ann@example.com"},
    }


async def test_booking_reschedule_with_a_group_slot(client: AsyncScheduler, mock: Any) -> None:
    url = f"{BOOKINGS}/b-1?configuration_id=cfg-g"
    mock.patch(url, payload={"request_id": RID})
    await client.bookings.reschedule("b-1", slot=GROUP_SLOT, configuration_id="cfg-g")
    assert sent_json(only_call(mock, "PATCH", url)) == {
        "start_time": 1767250800,
        "end_time": 1767254400,
        "event_id": "ev-1_20260101T070000Z",
        "master_event_id": "ev-1",
        "calendar_id": "primary",
    }


async def test_validate_timeslot_by_slug_and_by_fields(client: AsyncScheduler, mock: Any) -> None:
    mock.post(VALIDATE_URL, payload={"request_id": RID}, repeat=True)
    start = datetime(2026, 1, 1, 7, tzinfo=UTC)
    await client.group_events.validate_timeslot(
        "cfg-g",
        event_id="ev-1",
        start_time=start,
        end_time=1767254400,
        emails=["a@example.com"],
        slug="yoga",
        client_id="app-1",
    )
    (call,) = mock.requests[("POST", sa_url(VALIDATE_URL))]
    assert auth_of(call.kwargs) is None
    assert sent_json(call.kwargs) == {
        "event_id": "ev-1",
        "start_time": 1767250800,
        "end_time": 1767254400,
        "emails": ["a@example.com"],
    }
    with pytest.raises(ValueError, match="slug needs client_id"):
        await client.group_events.validate_timeslot("cfg-g", slot=GROUP_SLOT, slug="yoga")
    with pytest.raises(ValueError, match="start_time and end_time"):
        await client.group_events.validate_timeslot("cfg-g", event_id="ev-1")
