"""Group configurations and group events wired end to end in the emulator, over HTTP."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import nylas  # type: ignore[import-untyped]
import pytest
import requests

from scheduler_async.emulator import Emulator

from .support import DAY, GRANT, HOUR, KEY, T0, assert_error, config_body, create_session

NY = ZoneInfo("America/New_York")
CFGS = f"/v3/grants/{GRANT}/scheduling/configurations"
GUEST = {"name": "Guest", "email": "guest@example.com"}
HOST = [{"name": "Host", "email": "host@example.com", "is_organizer": True}]


def _group_config(emu: Emulator, **group_booking: Any) -> str:
    body = {
        "type": "group",
        "name": "Yoga",
        "group_booking": {"calendar_id": "primary", **group_booking},
    }
    r = requests.post(emu.url + CFGS, json=body, headers=KEY)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert data["type"] == "group"
    config_id: str = data["id"]
    return config_id


def _group_event(emu: Emulator, config_id: str, start: int, **extra: Any) -> dict[str, Any]:
    body = {
        "title": "Class",
        "calendar_id": "primary",
        "participants": HOST,
        "when": {"start_time": start, "end_time": start + HOUR},
        **extra,
    }
    r = requests.post(f"{emu.url}{CFGS}/{config_id}/group-events", json=body, headers=KEY)
    assert r.status_code == 200, r.text
    event: dict[str, Any] = r.json()["data"]
    return event


def _slots(emu: Emulator, config_id: str, start: int, end: int, **q: Any) -> list[dict[str, Any]]:
    params = {"configuration_id": config_id, "start_time": start, "end_time": end, **q}
    r = requests.get(f"{emu.url}/v3/scheduling/availability", params=params)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert "order" not in data
    slots: list[dict[str, Any]] = data["time_slots"]
    return slots


def _book(emu: Emulator, config_id: str, slot: dict[str, Any], **extra: Any) -> requests.Response:
    body = {
        "start_time": slot["start_time"],
        "end_time": slot["end_time"],
        "guest": GUEST,
        "event_id": slot["event_id"],
        "calendar_id": slot["calendar_id"],
        **({"master_id": slot["master_id"]} if "master_id" in slot else {}),
        **extra,
    }
    return requests.post(
        f"{emu.url}/v3/scheduling/bookings", params={"configuration_id": config_id}, json=body
    )


def _validate(
    emu: Emulator, config_id: str, body: dict[str, Any], headers: dict[str, str] | None = None
) -> requests.Response:
    return requests.post(
        f"{emu.url}/v3/scheduling/configurations/{config_id}/group-events/validate-timeslot",
        json=body,
        headers=headers,
    )


# --------------------------------------------------------------------------- configurations


def test_group_configuration_capacity_rules(emu: Emulator) -> None:
    config_id = _group_config(emu)
    r = requests.get(f"{emu.url}{CFGS}/{config_id}", headers=KEY)
    assert r.json()["data"]["group_booking"]["default_capacity"] == 10
    for bad in (0, 501, "many"):
        body = {"type": "group", "group_booking": {"calendar_id": "c", "default_capacity": bad}}
        r = requests.post(emu.url + CFGS, json=body, headers=KEY)
        assert (
            "default_capacity" in assert_error(r, 400, "invalid_request_error")["error"]["message"]
        )
    r = requests.post(emu.url + CFGS, json={"type": "group", "name": "x"}, headers=KEY)
    assert_error(r, 400, "invalid_request_error")
    # PUT keeps the type and revalidates; the type cannot change
    put = {"group_booking": {"default_capacity": 500}}
    r = requests.put(f"{emu.url}{CFGS}/{config_id}", json=put, headers=KEY)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["group_booking"] == {
        "calendar_id": "primary",
        "booking_type": "booking",
        "default_capacity": 500,
    }
    r = requests.put(f"{emu.url}{CFGS}/{config_id}", json=config_body(type=""), headers=KEY)
    assert_error(r, 400, "invalid_request_error")
    # the configuration's default capacity is the default of its events
    event = _group_event(emu, config_id, T0 + DAY)
    assert event["capacity"] == 500


def test_mixed_account_lists_cleanly_also_through_the_nylas_sdk(emu: Emulator) -> None:
    standard = requests.post(emu.url + CFGS, json=config_body(), headers=KEY).json()["data"]["id"]
    group = _group_config(emu, default_capacity=25)
    odd = emu.store.put_raw_configuration(
        GRANT, {"type": "webinar", "name": "Future", "webinar": {"seats": 3}}
    ).configuration_id
    r = requests.get(emu.url + CFGS, headers=KEY)
    assert r.status_code == 200, r.text
    listed = r.json()["data"]
    assert [(c["id"], c.get("type")) for c in listed] == [
        (standard, None),
        (group, "group"),
        (odd, "webinar"),
    ]
    assert listed[2]["webinar"] == {"seats": 3}
    # one page at a time too
    r = requests.get(emu.url + CFGS, params={"limit": 2}, headers=KEY)
    assert len(r.json()["data"]) == 2 and r.json()["next_cursor"]
    # the unknown type cannot be booked, but it does not break anything else
    params = {"configuration_id": odd, "start_time": T0, "end_time": T0 + DAY}
    r = requests.get(f"{emu.url}/v3/scheduling/availability", params=params)
    assert "webinar" in assert_error(r, 400, "invalid_request_error")["error"]["message"]

    # The SDK decodes with dataclasses-json's infer_missing: the entries without participants
    # come back with ``None`` there (and a RuntimeWarning each), the page itself decodes.
    client = nylas.Client("nyk_sdk_test", api_uri=emu.url, timeout=10)
    with pytest.warns(RuntimeWarning) as caught:
        page = client.scheduler.configurations.list(GRANT)
    assert [c.id for c in page.data] == [standard, group, odd]
    assert page.data[0].participants[0].email == "host@example.com"
    assert [c.participants for c in page.data[1:]] == [None, None]
    missing = {str(w.message).split(" type ")[1].split(" ")[0] for w in caught}
    assert missing == {"participants", "availability", "event_booking"}


def test_delete_configuration_and_reset_forget_group_events(emu: Emulator) -> None:
    config_id = _group_config(emu)
    _group_event(emu, config_id, T0 + DAY)
    assert len(emu.store.group_instances(config_id, T0, T0 + 2 * DAY)) == 1
    r = requests.delete(f"{emu.url}{CFGS}/{config_id}", headers=KEY)
    assert r.status_code == 200, r.text
    assert emu.store.group_instances(config_id, T0, T0 + 2 * DAY) == []
    r = requests.get(f"{emu.url}{CFGS}/{config_id}/group-events/x", headers=KEY)
    assert_error(r, 404, "not_found_error")

    other = _group_config(emu)
    _group_event(emu, other, T0 + DAY)
    emu.reset()
    assert emu.store.group_instances(other, T0, T0 + 2 * DAY) == []


def test_group_routes_use_the_emulator_auth_and_envelopes(emu: Emulator) -> None:
    config_id = _group_config(emu)
    path = f"{emu.url}{CFGS}/{config_id}/group-events"
    r = requests.get(path, params={"start_time": T0, "end_time": T0 + DAY})
    assert_error(r, 401, "unauthorized")
    session = create_session(emu, config_id)
    r = requests.get(
        path,
        params={"start_time": T0, "end_time": T0 + DAY},
        headers={"Authorization": f"Bearer {session}"},
    )
    assert_error(r, 401, "unauthorized")  # a session is not an API key
    standard = requests.post(emu.url + CFGS, json=config_body(), headers=KEY).json()["data"]["id"]
    r = requests.get(
        f"{emu.url}{CFGS}/{standard}/group-events",
        params={"start_time": T0, "end_time": T0 + DAY},
        headers=KEY,
    )
    assert_error(r, 400, "invalid_request_error")
    r = requests.post(path, json={"title": "no when"}, headers=KEY)
    body = assert_error(r, 400, "invalid_request_error")
    assert r.headers["X-Request-Id"] == body["request_id"]


# --------------------------------------------------------------------------- seats over HTTP


async def _book_concurrently(
    url: str, slot: dict[str, Any], count: int
) -> list[tuple[int, dict[str, Any]]]:
    """POST ``count`` bookings of ``slot`` at once (one connection each); (status, body)s."""

    async def book(session: aiohttp.ClientSession, i: int) -> tuple[int, dict[str, Any]]:
        body = {
            "start_time": slot["start_time"],
            "end_time": slot["end_time"],
            "guest": {"name": f"G{i}", "email": f"g{i}@example.com"},
            "event_id": slot["event_id"],
            "calendar_id": slot["calendar_id"],
        }
        async with session.post(url, json=body) as r:
            return r.status, await r.json()

    connector = aiohttp.TCPConnector(limit=count)
    async with aiohttp.ClientSession(connector=connector) as session:
        return list(await asyncio.gather(*(book(session, i) for i in range(count))))


def test_race_200_bookings_for_10_seats_then_cancel_frees_one(emu: Emulator) -> None:
    config_id = _group_config(emu)
    event = _group_event(emu, config_id, T0 + DAY, capacity=10)
    (slot,) = _slots(emu, config_id, T0, T0 + 2 * DAY)
    assert (slot["event_id"], slot["capacity"]) == (event["id"], 10)
    url = f"{emu.url}/v3/scheduling/bookings?configuration_id={config_id}"
    results = asyncio.run(_book_concurrently(url, slot, 200))
    won = [out["data"] for status, out in results if status in (200, 201)]
    lost = [out["error"] for status, out in results if status == 409]
    assert len(won) == 10 and len(lost) == 190
    assert {(e["type"], e["message"]) for e in lost} == {
        ("timeslot_not_available", "Event is full")
    }
    assert {b["event_id"] for b in won} == {event["id"]}
    assert len({b["booking_id"] for b in won}) == 10
    assert _slots(emu, config_id, T0, T0 + 2 * DAY) == []  # full events are not offered

    # the group event itself is unchanged (one shared event, no per-guest calendar events)
    assert emu.store.group_instances(config_id, T0, T0 + 2 * DAY)[0].booked == 10
    assert all(e.booking_id is None for e in emu.store.events.values())

    victim = won[3]["booking_id"]
    r = requests.delete(
        f"{emu.url}/v3/scheduling/bookings/{victim}",
        params={"configuration_id": config_id},
        json={"action": "cancel", "cancellation_reason": "sick"},
    )
    assert r.status_code == 200, r.text
    (again,) = _slots(emu, config_id, T0, T0 + 2 * DAY)
    assert again["capacity"] == 1
    assert _book(emu, config_id, again).status_code == 200
    assert_error(_book(emu, config_id, again), 409, "timeslot_not_available")


def test_recurring_weekly_class_with_exdate_across_dst(emu: Emulator) -> None:
    monday = int(datetime(2026, 2, 23, 9, 0, tzinfo=NY).timestamp())
    emu.clock.set(monday - 12 * HOUR)
    config_id = _group_config(emu, default_capacity=4)
    master = _group_event(
        emu,
        config_id,
        monday,
        when={
            "start_time": monday,
            "end_time": monday + HOUR,
            "start_timezone": "America/New_York",
            "end_timezone": "America/New_York",
        },
        recurrence=[
            "RRULE:FREQ=WEEKLY;BYDAY=MO",
            "EXDATE;TZID=America/New_York:20260302T090000",
        ],
    )
    mid = master["id"]
    slots = _slots(emu, config_id, monday - HOUR, monday + 25 * DAY)
    assert [s["event_id"] for s in slots] == [
        f"{mid}_20260223T140000Z",  # EST
        f"{mid}_20260309T130000Z",  # EDT: 09:00 local after the change (03-08)
        f"{mid}_20260316T130000Z",
    ]
    assert [datetime.fromtimestamp(s["start_time"], NY).hour for s in slots] == [9, 9, 9]
    assert {(s["master_id"], s["calendar_id"], s["capacity"]) for s in slots} == {
        (mid, "primary", 4)
    }
    assert all(s["emails"] == ["host@example.com"] for s in slots)
    # book one instance with the spec's ``master_event_id`` spelling
    first = slots[0]
    body = {k: v for k, v in first.items() if k != "master_id"}
    r = _book(emu, config_id, body, master_event_id=mid)
    assert r.status_code == 200, r.text
    booking_id = r.json()["data"]["booking_id"]
    assert r.json()["data"]["event_id"] == first["event_id"]
    caps = {
        s["event_id"]: s["capacity"]
        for s in _slots(emu, config_id, monday - HOUR, monday + 25 * DAY)
    }
    assert caps[first["event_id"]] == 3
    # an instance of another master is refused
    r = _book(emu, config_id, first, master_id="someone-else")
    assert_error(r, 400, "invalid_request_error")
    # rescheduling with the booking's own id counts its seat as free in availability
    own = _slots(emu, config_id, monday - HOUR, monday + DAY, booking_id=booking_id)
    assert own[0]["capacity"] == 4


def test_reschedule_moves_the_seat_all_or_nothing(emu: Emulator) -> None:
    config_id = _group_config(emu)
    a = _group_event(emu, config_id, T0 + DAY, capacity=2)
    b = _group_event(emu, config_id, T0 + 2 * DAY, capacity=1)
    c = _group_event(emu, config_id, T0 + 3 * DAY, capacity=1)
    slots = {s["event_id"]: s for s in _slots(emu, config_id, T0, T0 + 5 * DAY)}
    r = _book(emu, config_id, slots[a["id"]])
    assert r.status_code == 200, r.text
    booking_id = r.json()["data"]["booking_id"]
    assert _book(emu, config_id, slots[c["id"]]).status_code == 200  # c is now full
    url = f"{emu.url}/v3/scheduling/bookings/{booking_id}"
    q = {"configuration_id": config_id}

    def move(slot: dict[str, Any]) -> requests.Response:
        body = {k: slot[k] for k in ("start_time", "end_time", "event_id", "calendar_id")}
        return requests.patch(url, params=q, json={**body, "guest": GUEST, "timezone": "UTC"})

    assert_error(move(slots[c["id"]]), 409, "timeslot_not_available")
    caps = {s["event_id"]: s["capacity"] for s in _slots(emu, config_id, T0, T0 + 5 * DAY)}
    assert caps == {a["id"]: 1, b["id"]: 1}  # the seat on a was kept
    r = move(slots[b["id"]])
    assert r.status_code == 200, r.text
    caps = {s["event_id"]: s["capacity"] for s in _slots(emu, config_id, T0, T0 + 5 * DAY)}
    assert caps == {a["id"]: 2}
    r = requests.get(url, params=q)
    assert r.json()["data"]["event_id"] == b["id"]
    # a group reschedule without the slot's event is a 400
    r = requests.patch(url, params=q, json={"start_time": T0 + DAY, "end_time": T0 + DAY + HOUR})
    assert_error(r, 400, "invalid_request_error")
    # a group booking without event_id too
    body = {"start_time": T0 + DAY, "end_time": T0 + DAY + HOUR, "guest": GUEST}
    r = requests.post(f"{emu.url}/v3/scheduling/bookings", params=q, json=body)
    assert_error(r, 400, "invalid_request_error")


def test_deleting_a_group_event_cancels_its_bookings(emu: Emulator) -> None:
    config_id = _group_config(emu)
    event = _group_event(emu, config_id, T0 + DAY, capacity=3)
    (slot,) = _slots(emu, config_id, T0, T0 + 2 * DAY)
    booking_id = _book(emu, config_id, slot).json()["data"]["booking_id"]
    r = requests.delete(f"{emu.url}{CFGS}/{config_id}/group-events/{event['id']}", headers=KEY)
    assert r.status_code == 200, r.text
    r = requests.get(
        f"{emu.url}/v3/scheduling/bookings/{booking_id}", params={"configuration_id": config_id}
    )
    assert r.json()["data"]["status"] == "cancelled"
    assert emu.store.bookings[booking_id].cancellation_reason == "The group event was deleted"


# --------------------------------------------------------------------------- validate, import


def test_validate_timeslot_cases_over_http(emu: Emulator) -> None:
    config_id = _group_config(emu)
    event = _group_event(emu, config_id, T0 + DAY, capacity=1)
    (slot,) = _slots(emu, config_id, T0, T0 + 2 * DAY)
    r = _validate(emu, config_id, slot)  # public, like the booking page without a session
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"request_id"}
    session = create_session(emu, config_id)
    assert _validate(emu, config_id, slot, {"Authorization": f"Bearer {session}"}).ok
    assert _validate(emu, config_id, slot, KEY).ok
    other = create_session(emu, _group_config(emu))
    r = _validate(emu, config_id, slot, {"Authorization": f"Bearer {other}"})
    assert_error(r, 403, "forbidden")

    moved = {**slot, "start_time": slot["start_time"] + 1800}
    r = _validate(emu, config_id, moved)
    assert assert_error(r, 400, "invalid_request_error")["error"]["message"] == (
        "The selected event has changed"
    )
    assert _book(emu, config_id, slot).status_code == 200
    r = _validate(emu, config_id, slot)
    assert assert_error(r, 409, "timeslot_not_available")["error"]["message"] == "Event is full"
    requests.delete(f"{emu.url}{CFGS}/{config_id}/group-events/{event['id']}", headers=KEY)
    r = _validate(emu, config_id, slot)
    assert assert_error(r, 404, "not_found_error")["error"]["message"] == (
        "The selected event was deleted"
    )


def test_import_calendar_events_and_failures(emu: Emulator) -> None:
    config_id = _group_config(emu, default_capacity=12)
    emu.add_grant(GRANT, email="host@example.com")
    ev1 = emu.add_event(GRANT, "primary", T0 + DAY, T0 + DAY + HOUR, title="Workshop")
    ev2 = emu.add_event(GRANT, "primary", T0 + 2 * DAY, T0 + 2 * DAY + HOUR, title="Talk")
    app_path = f"{emu.url}/v3/scheduling/configurations/{config_id}/import-group-events"
    items = [
        {"event_id": ev1.event_id, "calendar_id": "primary"},
        {"event_id": "nope", "calendar_id": "primary"},
    ]
    r = requests.post(app_path, json=items, headers=KEY)
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {
        "imported_events": [{"event_id": ev1.event_id}],
        "import_failed": [{"event_id": "nope", "reason": "Event not found"}],
    }
    r = requests.post(app_path, json=items[:1], headers=KEY)
    assert r.json()["data"]["import_failed"] == [
        {"event_id": ev1.event_id, "reason": "Event already imported"}
    ]
    # the Editor's grant-scoped path, one object, calendar from the query
    grant_path = f"{emu.url}{CFGS}/{config_id}/import-group-events"
    r = requests.post(
        grant_path,
        params={"calendar_id": "primary"},
        json={"event_id": ev2.event_id, "capacity": 2},
        headers=KEY,
    )
    assert r.json()["data"]["imported_events"] == [{"event_id": ev2.event_id}]
    r = requests.post(
        app_path, json=[{"event_id": str(i), "calendar_id": "p"} for i in range(21)], headers=KEY
    )
    assert_error(r, 400, "invalid_request_error")
    r = requests.post(app_path, json=items)
    assert_error(r, 401, "unauthorized")
    slots = _slots(emu, config_id, T0, T0 + 3 * DAY)
    assert [(s["event_id"], s["capacity"]) for s in slots] == [
        (ev1.event_id, 12),
        (ev2.event_id, 2),
    ]
    # one guest cancelling leaves the imported (shared) calendar event alone
    booking = _book(emu, config_id, slots[0]).json()["data"]
    r = requests.delete(
        f"{emu.url}/v3/scheduling/bookings/{booking['booking_id']}",
        params={"configuration_id": config_id},
    )
    assert r.status_code == 200, r.text
    assert emu.store.events[ev1.event_id].status == "confirmed"


@pytest.mark.parametrize("notice", [None, 0])
def test_min_booking_notice_applies_to_group_slots(emu: Emulator, notice: int | None) -> None:
    config_id = _group_config(emu)
    if notice is not None:
        put = {"scheduler": {"min_booking_notice": notice}}
        assert requests.put(f"{emu.url}{CFGS}/{config_id}", json=put, headers=KEY).ok
    _group_event(emu, config_id, T0 + 1800)
    slots = _slots(emu, config_id, T0, T0 + DAY)
    assert len(slots) == (0 if notice is None else 1)  # default notice: 60 minutes
