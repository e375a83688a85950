"""Raw HTTP tests of the emulator: envelopes, auth matrix, bookings, admin API, faults, runner."""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import subprocess
import sys
import time
from typing import Any

import aiohttp
import pytest
import requests
from aiohttp.test_utils import TestServer

from scheduler_async.emulator import Emulator, FakeClock, Store, create_app
from scheduler_async.emulator import app as emulator_app

from .support import (
    BOOKING,
    GRANT,
    HOUR,
    KEY,
    T0,
    assert_error,
    cli_emulator,
    config_body,
    create_config,
    create_session,
)


def avail(emu: Emulator, params: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    window = {"start_time": T0 + 2 * HOUR, "end_time": T0 + 3 * HOUR}
    return requests.get(
        f"{emu.url}/v3/scheduling/availability", params={**window, **params}, headers=headers
    )


# --------------------------------------------------------------------------- envelopes


def test_success_envelopes_and_headers(emu: Emulator) -> None:
    r = requests.post(
        f"{emu.url}/v3/grants/{GRANT}/scheduling/configurations", json=config_body(), headers=KEY
    )
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert set(body) == {"request_id", "data"}
    assert r.headers["X-Request-Id"] == body["request_id"]
    config_id = body["data"]["id"]

    r = requests.get(f"{emu.url}/v3/grants/{GRANT}/scheduling/configurations", headers=KEY)
    body = r.json()
    assert set(body) == {"request_id", "data", "next_cursor"}
    assert body["next_cursor"] is None
    assert [c["id"] for c in body["data"]] == [config_id]

    r = requests.delete(
        f"{emu.url}/v3/grants/{GRANT}/scheduling/configurations/{config_id}", headers=KEY
    )
    assert r.status_code == 200
    assert set(r.json()) == {"request_id"}


def test_request_ids_are_unique(emu: Emulator) -> None:
    ids = {requests.get(f"{emu.url}/_emulator/health").json()["request_id"] for _ in range(5)}
    assert len(ids) == 5


def test_unknown_route_and_wrong_method(emu: Emulator) -> None:
    assert_error(requests.get(f"{emu.url}/v3/nothing-here"), 404, "not_found_error")
    r = requests.patch(f"{emu.url}/v3/scheduling/availability")
    assert_error(r, 405, "method_not_allowed")
    assert r.headers["Allow"] == "GET"


@pytest.mark.parametrize("payload", [b"{not json", b"[1, 2]", b'"text"', b""])
def test_malformed_bodies_are_400(emu: Emulator, payload: bytes) -> None:
    r = requests.post(
        f"{emu.url}/v3/grants/{GRANT}/scheduling/configurations",
        data=payload,
        headers={**KEY, "Content-Type": "application/json"},
    )
    assert_error(r, 400, "invalid_request_error")


def test_configuration_validation_message(emu: Emulator) -> None:
    r = requests.post(
        f"{emu.url}/v3/grants/{GRANT}/scheduling/configurations",
        json=config_body(event_booking={}),
        headers=KEY,
    )
    body = assert_error(r, 400, "invalid_request_error")
    assert "event_booking.title" in body["error"]["message"]


def test_configuration_defaults_and_put_semantics(emu: Emulator) -> None:
    config_id = create_config(emu, name="Page", appearance={"color": "#fff"})
    url = f"{emu.url}/v3/grants/{GRANT}/scheduling/configurations/{config_id}"
    data = requests.get(url, headers=KEY).json()["data"]
    assert data["id"] == config_id
    assert "ID" not in data
    assert data["requires_session_auth"] is False
    assert data["availability"]["round_to"] == 15
    assert data["availability"]["availability_rules"]["availability_method"] == "collective"
    assert data["event_booking"]["booking_type"] == "booking"
    assert data["scheduler"] == {
        "available_days_in_future": 30,
        "min_booking_notice": 60,
        "min_cancellation_notice": 0,
    }
    r = requests.put(url, json={"availability": {"duration_minutes": 45}}, headers=KEY)
    data = r.json()["data"]
    assert data["availability"] == {
        "duration_minutes": 45,
        "round_to": 15,
        "availability_rules": {"availability_method": "collective"},
    }
    assert data["name"] == "Page"
    assert data["appearance"] == {"color": "#fff"}
    assert_error(requests.put(url, data=b"nope", headers=KEY), 400, "invalid_request_error")
    other = f"{emu.url}/v3/grants/other/scheduling/configurations/{config_id}"
    assert_error(requests.get(other, headers=KEY), 404, "not_found_error")


def test_configuration_list_pagination(emu: Emulator) -> None:
    ids = [create_config(emu) for _ in range(5)]
    url = f"{emu.url}/v3/grants/{GRANT}/scheduling/configurations"
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        body = requests.get(url, params=params, headers=KEY).json()
        assert len(body["data"]) <= 2
        seen += [c["id"] for c in body["data"]]
        if not body.get("next_cursor"):
            break
        params = {"limit": 2, "page_token": body["next_cursor"]}
    assert seen == ids
    r = requests.get(url, params={"limit": 500}, headers=KEY)
    assert len(r.json()["data"]) == 5  # clamped to 200
    assert_error(
        requests.get(url, params={"limit": "x"}, headers=KEY), 400, "invalid_request_error"
    )
    r = requests.get(url, params={"page_token": "@@"}, headers=KEY)
    assert_error(r, 400, "invalid_request_error")


def test_delete_configuration_with_live_session_is_409(emu: Emulator) -> None:
    config_id = create_config(emu)
    session = create_session(emu, config_id, time_to_live=1)
    url = f"{emu.url}/v3/grants/{GRANT}/scheduling/configurations/{config_id}"
    assert_error(requests.delete(url, headers=KEY), 409, "conflict")
    r = requests.delete(f"{emu.url}/v3/scheduling/sessions/{session}", headers=KEY)
    assert r.status_code == 200
    assert set(r.json()) == {"request_id"}
    assert requests.delete(url, headers=KEY).status_code == 200
    assert_error(requests.delete(url, headers=KEY), 404, "not_found_error")


# --------------------------------------------------------------------------- auth


def test_configurations_need_an_api_key(emu: Emulator) -> None:
    url = f"{emu.url}/v3/grants/{GRANT}/scheduling/configurations"
    assert_error(requests.get(url), 401, "unauthorized")
    assert_error(requests.get(url, headers={"Authorization": "Basic abc"}), 401, "unauthorized")
    session = create_session(emu, create_config(emu))
    r = requests.get(url, headers={"Authorization": f"Bearer {session}"})
    assert_error(r, 401, "unauthorized")
    r = requests.post(f"{emu.url}/v3/scheduling/sessions", json={"configuration_id": "x"})
    assert_error(r, 401, "unauthorized")


def test_strict_mode() -> None:
    with Emulator(strict=True, api_keys=["good"], clock=FakeClock(T0)) as strict:
        url = f"{strict.url}/v3/grants/{GRANT}/scheduling/configurations"
        good = {"Authorization": "Bearer good"}
        assert_error(requests.get(url, headers=KEY), 401, "unauthorized")
        assert_error(requests.get(url, headers=good), 404, "not_found_error")
        strict.add_grant(GRANT)
        assert requests.post(url, json=config_body(), headers=good).status_code == 200
        assert strict.api_key == "good"


def test_explicit_api_keys_are_enforced_without_strict() -> None:
    with Emulator(api_keys=["only"], clock=FakeClock(T0)) as emu:
        url = f"{emu.url}/v3/grants/{GRANT}/scheduling/configurations"
        assert_error(requests.get(url, headers=KEY), 401, "unauthorized")
        assert requests.get(url, headers={"Authorization": "Bearer only"}).status_code == 200


def test_public_configuration_auth_matrix(emu: Emulator) -> None:
    config_id = create_config(emu, slug="intro")
    session = create_session(emu, config_id)
    ok = [
        ({"configuration_id": config_id}, None),
        ({"slug": "intro", "client_id": emu.client_id}, None),
        ({"configuration_id": config_id}, KEY),
        ({"slug": "intro"}, KEY),
        ({}, {"Authorization": f"Bearer {session}"}),
        ({"configuration_id": config_id}, {"Authorization": f"Bearer {session}"}),
    ]
    for params, headers in ok:
        r = avail(emu, params, headers)
        assert r.status_code == 200, (params, headers, r.text)
        assert len(r.json()["data"]["time_slots"]) == 2
        assert "order" not in r.json()["data"]
    assert_error(avail(emu, {}), 401, "unauthorized")
    assert_error(avail(emu, {}, KEY), 400, "invalid_request_error")
    assert_error(avail(emu, {"slug": "intro"}), 400, "invalid_request_error")
    assert_error(avail(emu, {"slug": "intro", "client_id": "other"}), 404, "not_found_error")
    assert_error(avail(emu, {"configuration_id": "missing"}), 404, "not_found_error")
    assert_error(
        avail(emu, {"slug": "missing", "client_id": emu.client_id}), 404, "not_found_error"
    )


def test_private_configuration_needs_its_session(emu: Emulator) -> None:
    private = create_config(emu, requires_session_auth=True)
    other = create_config(emu)
    session = create_session(emu, private, time_to_live=10)
    bearer = {"Authorization": f"Bearer {session}"}
    assert avail(emu, {}, bearer).status_code == 200
    assert_error(avail(emu, {"configuration_id": private}), 401, "unauthorized")
    assert_error(avail(emu, {"configuration_id": private}, KEY), 401, "unauthorized")
    assert_error(avail(emu, {"configuration_id": other}, bearer), 403, "forbidden")

    emu.clock.advance(10 * 60 - 1)
    assert avail(emu, {}, bearer).status_code == 200
    emu.clock.advance(1)  # time_to_live is in minutes, on the business clock
    assert_error(avail(emu, {}, bearer), 401, "invalid_session")

    fresh = create_session(emu, private)
    assert avail(emu, {}, {"Authorization": f"Bearer {fresh}"}).status_code == 200
    requests.delete(f"{emu.url}/v3/scheduling/sessions/{fresh}", headers=KEY)
    r = avail(emu, {"configuration_id": private}, {"Authorization": f"Bearer {fresh}"})
    assert_error(r, 401, "invalid_session")


@pytest.mark.parametrize("ttl", [0, 31, "abc", -5])
def test_session_ttl_bounds(emu: Emulator, ttl: Any) -> None:
    config_id = create_config(emu)
    r = requests.post(
        f"{emu.url}/v3/scheduling/sessions",
        json={"configuration_id": config_id, "time_to_live": ttl},
        headers=KEY,
    )
    assert_error(r, 400, "invalid_request_error")


def test_session_by_slug_and_unknown_session_delete(emu: Emulator) -> None:
    create_config(emu, slug="by-slug")
    r = requests.post(f"{emu.url}/v3/scheduling/sessions", json={"slug": "by-slug"}, headers=KEY)
    assert r.status_code == 200
    r = requests.delete(f"{emu.url}/v3/scheduling/sessions/nope", headers=KEY)
    assert_error(r, 404, "not_found_error")


@pytest.mark.parametrize(
    "params",
    [
        {"start_time": None},
        {"end_time": None},
        {"start_time": "soon"},
        {"start_time": T0 + 3 * HOUR, "end_time": T0 + 2 * HOUR},
    ],
)
def test_availability_parameters(emu: Emulator, params: dict[str, Any]) -> None:
    config_id = create_config(emu)
    window: dict[str, Any] = {"start_time": T0 + 2 * HOUR, "end_time": T0 + 3 * HOUR}
    window.update(params)
    query = {k: v for k, v in window.items() if v is not None}
    r = requests.get(
        f"{emu.url}/v3/scheduling/availability", params={**query, "configuration_id": config_id}
    )
    assert_error(r, 400, "invalid_request_error")


def test_round_robin_availability_has_order(emu: Emulator) -> None:
    participants: list[dict[str, Any]] = [
        {"email": e, "availability": {"calendar_ids": []}, "booking": {"calendar_id": "primary"}}
        for e in ("a@example.com", "b@example.com")
    ]
    config_id = create_config(
        emu,
        participants=participants,
        availability={
            "duration_minutes": 30,
            "availability_rules": {"availability_method": "max-availability"},
        },
    )
    data = avail(emu, {"configuration_id": config_id}).json()["data"]
    assert data["order"] == ["a@example.com", "b@example.com"]
    assert data["time_slots"][0]["emails"] == ["a@example.com", "b@example.com"]


# --------------------------------------------------------------------------- bookings


def bookings_url(emu: Emulator, booking_id: str = "") -> str:
    return f"{emu.url}/v3/scheduling/bookings" + (f"/{booking_id}" if booking_id else "")


def test_booking_lifecycle(emu: Emulator) -> None:
    config_id = create_config(emu)
    q = {"configuration_id": config_id}
    r = requests.post(bookings_url(emu), params=q, json=BOOKING)
    assert r.status_code == 200, r.text
    booking = r.json()["data"]
    assert set(booking) == {
        "booking_id",
        "event_id",
        "title",
        "status",
        "organizer",
        "description",
        "booking_ref",
    }
    assert booking["status"] == "booked"
    assert booking["organizer"] == {"email": "host@example.com", "name": "Host"}
    booking_id = booking["booking_id"]
    assert [e.event_id for e in emu.events(GRANT)] == [booking["event_id"]]

    slots = avail(emu, q).json()["data"]["time_slots"]
    assert BOOKING["start_time"] not in [s["start_time"] for s in slots]
    assert_error(
        requests.post(bookings_url(emu), params=q, json=BOOKING), 409, "timeslot_not_available"
    )

    r = requests.get(bookings_url(emu, booking_id), params=q)
    assert r.json()["data"] == booking
    other = create_config(emu)
    r = requests.get(bookings_url(emu, booking_id), params={"configuration_id": other})
    assert_error(r, 404, "not_found_error")

    new = {"start_time": T0 + 5 * HOUR, "end_time": T0 + 5 * HOUR + 1800}
    r = requests.patch(bookings_url(emu, booking_id), params=q, json=new)
    assert r.status_code == 200
    assert set(r.json()) == {"request_id"}
    stored = emu.booking(booking_id)
    assert (stored.start_time, stored.end_time) == (new["start_time"], new["end_time"])

    r = requests.delete(
        bookings_url(emu, booking_id), params=q, json={"cancellation_reason": "changed my mind"}
    )
    assert r.status_code == 200
    assert set(r.json()) == {"request_id"}
    assert emu.booking(booking_id).cancellation_reason == "changed my mind"
    assert_error(requests.get(bookings_url(emu, booking_id), params=q), 404, "not_found_error")
    assert_error(requests.delete(bookings_url(emu, booking_id), params=q), 404, "not_found_error")


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"start_time": T0 + 2 * HOUR + 60, "end_time": T0 + 2 * HOUR + 1860}, 400),
        ({"guest": None}, 400),
        ({"guest": {"name": "x"}}, 400),
        ({"start_time": None}, 400),
        ({"start_time": "x"}, 400),
        ({"participants": [{"email": "stranger@example.com"}]}, 400),
        ({"participants": "all"}, 400),
        ({"email_language": "tlh"}, 400),
        ({"additional_fields": []}, 400),
    ],
)
def test_booking_create_validation(emu: Emulator, change: dict[str, Any], status: int) -> None:
    config_id = create_config(emu)
    body = {**BOOKING, **change}
    r = requests.post(bookings_url(emu), params={"configuration_id": config_id}, json=body)
    assert_error(r, status, "invalid_request_error")
    assert emu.store.bookings == {}


def test_booking_accepts_string_times_and_query_timezone(emu: Emulator) -> None:
    config_id = create_config(emu)
    body = {
        **BOOKING,
        "start_time": str(BOOKING["start_time"]),
        "end_time": str(BOOKING["end_time"]),
    }
    r = requests.post(
        bookings_url(emu),
        params={"configuration_id": config_id, "timezone": "Europe/Paris"},
        json=body,
    )
    assert r.status_code == 200, r.text
    assert emu.booking(r.json()["data"]["booking_id"]).timezone == "Europe/Paris"


def test_organizer_confirmation_over_http(emu: Emulator) -> None:
    config_id = create_config(
        emu, event_booking={"title": "Call", "booking_type": "organizer-confirmation"}
    )
    q = {"configuration_id": config_id}
    first = requests.post(bookings_url(emu), params=q, json=BOOKING).json()["data"]
    assert first["status"] == "pending"
    booking_id = first["booking_id"]

    admin = requests.get(f"{emu.url}/_emulator/bookings/{booking_id}").json()["data"]
    assert admin["salt"] == emu.booking_salt(booking_id)
    assert admin["reference"] == emu.booking_reference(booking_id)
    assert admin["start_time"] == BOOKING["start_time"]

    url = bookings_url(emu, booking_id)
    bad = requests.put(
        url, params=q, json={"salt": "AAAAAAAAAAAAAAAAAAAAAA", "status": "confirmed"}
    )
    assert_error(bad, 403, "forbidden")
    assert_error(
        requests.put(url, params=q, json={"status": "confirmed"}), 400, "invalid_request_error"
    )
    r = requests.put(url, params=q, json={"salt": admin["salt"], "status": "confirmed"})
    assert r.status_code == 200
    assert r.json()["data"]["status"] == "booked"
    assert r.json()["data"]["booking_id"] == booking_id

    second_slot = {**BOOKING, "start_time": T0 + 3 * HOUR, "end_time": T0 + 3 * HOUR + 1800}
    second = requests.post(bookings_url(emu), params=q, json=second_slot).json()["data"]
    salt = emu.booking_salt(second["booking_id"])
    r = requests.put(
        bookings_url(emu, second["booking_id"]),
        params=q,
        json={"salt": salt, "status": "cancelled", "cancellation_reason": "no"},
    )
    assert r.status_code == 200
    assert set(r.json()) == {"request_id"}
    assert (
        requests.get(bookings_url(emu, second["booking_id"]), params=q).json()["data"]["status"]
        == "cancelled"
    )
    slots = avail(emu, {**q, "start_time": T0 + 3 * HOUR, "end_time": T0 + 4 * HOUR}).json()
    assert T0 + 3 * HOUR in [s["start_time"] for s in slots["data"]["time_slots"]]


def test_reschedule_to_unavailable_slot(emu: Emulator) -> None:
    config_id = create_config(emu)
    q = {"configuration_id": config_id}
    booking_id = requests.post(bookings_url(emu), params=q, json=BOOKING).json()["data"][
        "booking_id"
    ]
    emu.add_event(GRANT, "primary", T0 + 4 * HOUR, T0 + 5 * HOUR)
    r = requests.patch(
        bookings_url(emu, booking_id),
        params=q,
        json={"start_time": T0 + 4 * HOUR, "end_time": T0 + 4 * HOUR + 1800},
    )
    body = assert_error(r, 409, "timeslot_not_available")
    assert body["error"]["message"].startswith("The selected timeslot is unavailable")
    assert_error(
        requests.patch(bookings_url(emu, booking_id), params=q, json={}),
        400,
        "invalid_request_error",
    )


async def test_concurrent_creates_of_one_slot(emu: Emulator) -> None:
    config_id = create_config(emu)
    url = bookings_url(emu)
    async with aiohttp.ClientSession() as session:

        async def book() -> int:
            async with session.post(url, params={"configuration_id": config_id}, json=BOOKING) as r:
                body = await r.json()
                assert ("data" in body) == (r.status == 200)
                return r.status

        statuses = await asyncio.gather(*(book() for _ in range(100)))
    assert statuses.count(200) == 1
    assert sorted(set(statuses)) == [200, 409]
    assert len(emu.store.bookings) == 1
    assert len(emu.events(GRANT)) == 1


# --------------------------------------------------------------------------- admin API


def test_admin_seeding_over_http(emu: Emulator) -> None:
    admin = f"{emu.url}/_emulator"
    r = requests.post(
        f"{admin}/grants", json={"grant_id": GRANT, "email": "host@example.com", "calendars": ["w"]}
    )
    assert r.status_code == 200
    assert {c["id"] for c in r.json()["data"]["calendars"]} == {"primary", "w"}
    assert_error(requests.post(f"{admin}/grants", json={}), 400, "invalid_request_error")
    config_id = create_config(emu)
    event: dict[str, Any] = {
        "start_time": T0 + 2 * HOUR,
        "end_time": T0 + 2 * HOUR + 1800,
        "title": "Busy",
    }
    r = requests.post(f"{admin}/grants/{GRANT}/events", json=event)
    assert r.status_code == 200
    event_id = r.json()["data"]["id"]
    slots = avail(emu, {"configuration_id": config_id}).json()["data"]["time_slots"]
    assert [s["start_time"] for s in slots] == [T0 + 2 * HOUR + 1800]
    listed = requests.get(f"{admin}/grants/{GRANT}/events").json()["data"]
    assert [e["id"] for e in listed] == [event_id]
    assert requests.get(f"{admin}/grants/{GRANT}").json()["data"]["email"] == "host@example.com"
    assert len(requests.get(f"{admin}/grants").json()["data"]) == 1
    assert_error(requests.get(f"{admin}/grants/ghost"), 404, "not_found_error")
    assert requests.delete(f"{admin}/grants/{GRANT}/events/{event_id}").status_code == 200
    assert_error(
        requests.delete(f"{admin}/grants/{GRANT}/events/{event_id}"), 404, "not_found_error"
    )
    assert len(avail(emu, {"configuration_id": config_id}).json()["data"]["time_slots"]) == 2

    configs = requests.get(f"{admin}/configurations").json()["data"]
    assert [(c["id"], c["grant_id"]) for c in configs] == [(config_id, GRANT)]
    create_session(emu, config_id)
    (session,) = requests.get(f"{admin}/sessions").json()["data"]
    assert session["live"] is True
    requests.post(bookings_url(emu), params={"configuration_id": config_id}, json=BOOKING)
    (booking,) = requests.get(f"{admin}/bookings").json()["data"]
    assert booking["guest"] == BOOKING["guest"]
    assert_error(requests.get(f"{admin}/bookings/nope"), 404, "not_found_error")


def test_admin_clock_and_reset(emu: Emulator) -> None:
    admin = f"{emu.url}/_emulator"
    assert requests.get(f"{admin}/clock").json()["data"] == {"now": T0}
    assert requests.post(f"{admin}/clock", json={"advance": 90}).json()["data"]["now"] == T0 + 90
    assert requests.post(f"{admin}/clock", json={"now": T0 + 5}).json()["data"]["now"] == T0 + 5
    assert emu.clock.now() == T0 + 5
    assert_error(requests.post(f"{admin}/clock", json={}), 400, "invalid_request_error")
    health = requests.get(f"{admin}/health").json()["data"]
    assert health == {"status": "ok", "now": T0 + 5}
    create_config(emu)
    emu.set_faults("*", error_500=1.0)
    assert requests.post(f"{admin}/reset").status_code == 200
    assert emu.store.configurations == {}
    assert emu.faults.routes == {}
    assert emu.clock.now() != T0 + 5


# --------------------------------------------------------------------------- faults


def test_injected_errors(emu: Emulator) -> None:
    config_id = create_config(emu)
    emu.set_faults("GET /v3/scheduling/availability", error_503=1.0, retry_after=7, times=1)
    r = avail(emu, {"configuration_id": config_id})
    assert_error(r, 503, "service_unavailable")
    assert r.headers["Retry-After"] == "7"
    assert avail(emu, {"configuration_id": config_id}).status_code == 200  # times=1 used up

    emu.set_faults("*", error_429=1.0, retry_after=2, times=1)
    r = avail(emu, {"configuration_id": config_id})
    assert_error(r, 429, "rate_limit_error")
    assert r.headers["Retry-After"] == "2"

    emu.set_faults("/v3/scheduling/bookings", error_500=1.0, times=1)
    r = requests.post(bookings_url(emu), params={"configuration_id": config_id}, json=BOOKING)
    assert_error(r, 500, "internal_error")
    assert emu.store.bookings == {}  # nothing applied
    assert requests.get(f"{emu.url}/_emulator/health").status_code == 200  # admin never faulted


def test_dropped_connections(emu: Emulator) -> None:
    config_id = create_config(emu)
    q = {"configuration_id": config_id}
    emu.set_faults("POST /v3/scheduling/bookings", drop_before=1.0, times=1)
    with pytest.raises(requests.ConnectionError):
        requests.post(bookings_url(emu), params=q, json=BOOKING)
    assert emu.store.bookings == {}
    emu.set_faults("POST /v3/scheduling/bookings", drop_after=1.0, times=1)
    with pytest.raises(requests.ConnectionError):
        requests.post(bookings_url(emu), params=q, json=BOOKING)
    assert len(emu.store.bookings) == 1  # applied, but the client never heard back
    r = requests.post(bookings_url(emu), params=q, json=BOOKING)
    assert_error(r, 409, "timeslot_not_available")


async def test_dropped_connection_with_aiohttp(emu: Emulator) -> None:
    # aiohttp itself resends an idempotent request once when the connection drops, so the
    # GET needs two drops to surface; the POST fails on the first.
    emu.set_faults("*", drop_before=1.0, times=2)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            async with session.get(f"{emu.url}/v3/scheduling/availability") as r:
                await r.read()
        emu.set_faults("*", drop_before=1.0, times=1)
        with pytest.raises(aiohttp.ClientConnectionError):
            async with session.post(f"{emu.url}/v3/scheduling/sessions", json={}) as r:
                await r.read()
        async with session.get(f"{emu.url}/_emulator/health") as r:
            assert r.status == 200
    assert not emu.faults.active


def test_stall_and_latency(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    config_id = create_config(emu)
    emu.set_faults("GET /v3/scheduling/availability", stall=1.0, stall_seconds=0.3, times=1)
    started = time.monotonic()
    r = avail(emu, {"configuration_id": config_id})
    assert r.status_code == 200
    assert time.monotonic() - started >= 0.3
    with pytest.raises(requests.Timeout):
        emu.set_faults("GET /v3/scheduling/availability", stall=1.0, stall_seconds=0.5, times=1)
        avail_url = f"{emu.url}/v3/scheduling/availability"
        requests.get(
            avail_url,
            params={
                "configuration_id": config_id,
                "start_time": str(T0),
                "end_time": str(T0 + HOUR),
            },
            timeout=0.1,
        )
    emu.faults.configure(latency_ms=150)
    waits: list[float] = []
    real_sleep = emulator_app._sleep

    async def recording_sleep(delay: float) -> None:
        waits.append(delay)
        await real_sleep(delay)

    monkeypatch.setattr(emulator_app, "_sleep", recording_sleep)
    started = time.monotonic()
    assert avail(emu, {"configuration_id": config_id}).status_code == 200
    assert time.monotonic() - started >= 0.15
    assert waits == [0.15]
    # The admin API is never delayed: the health check waits for nothing.
    assert requests.get(f"{emu.url}/_emulator/health").status_code == 200
    assert waits == [0.15]


def test_rate_limit_over_http(emu: Emulator) -> None:
    config_id = create_config(emu)
    r = requests.put(
        f"{emu.url}/_emulator/faults", json={"rate_limit": {"requests": 3, "window_seconds": 30}}
    )
    assert r.status_code == 200
    statuses = [avail(emu, {"configuration_id": config_id}).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    r = avail(emu, {"configuration_id": config_id})
    assert_error(r, 429, "rate_limit_error")
    assert 1 <= int(r.headers["Retry-After"]) <= 30
    assert requests.delete(f"{emu.url}/_emulator/faults").json()["data"]["rate_limit"] is None
    assert avail(emu, {"configuration_id": config_id}).status_code == 200


def test_fault_settings_over_http_are_reproducible(emu: Emulator) -> None:
    config_id = create_config(emu)
    settings: dict[str, Any] = {
        "seed": 42,
        "routes": {"GET /v3/scheduling/availability": {"error_500": 0.5}},
    }

    def run() -> list[int]:
        assert requests.put(f"{emu.url}/_emulator/faults", json=settings).status_code == 200
        return [avail(emu, {"configuration_id": config_id}).status_code for _ in range(20)]

    first = run()
    assert first == run()
    assert set(first) == {200, 500}
    got = requests.get(f"{emu.url}/_emulator/faults").json()["data"]
    assert got["seed"] == 42
    assert got["routes"]["GET /v3/scheduling/availability"]["error_500"] == 0.5
    bad = requests.put(f"{emu.url}/_emulator/faults", json={"routes": {"*": {"error_500": 3}}})
    assert_error(bad, 400, "invalid_request_error")


# --------------------------------------------------------------------------- runner, app, plugin


def test_emulator_lifecycle() -> None:
    emu = Emulator(clock=FakeClock(T0))
    with pytest.raises(RuntimeError):
        _ = emu.url
    emu.stop()  # no-op before start
    assert emu.start() is emu
    assert emu.start() is emu  # idempotent
    url = emu.url
    assert url.startswith("http://127.0.0.1:")
    assert requests.get(f"{url}/_emulator/health").status_code == 200
    assert "Emulator http://127.0.0.1" in repr(emu)
    emu.stop()
    emu.stop()
    assert not emu.running
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/_emulator/health", timeout=2)
    with emu:  # restartable
        assert requests.get(f"{emu.url}/_emulator/health").status_code == 200


def test_port_in_use_fails_cleanly(emu: Emulator) -> None:
    port = int(emu.url.rsplit(":", 1)[1])
    with pytest.raises(RuntimeError, match="failed to start"):
        Emulator(port=port).start()


async def test_create_app_on_a_test_server() -> None:
    store = Store(FakeClock(T0))
    store.add_grant(GRANT, email="host@example.com")
    async with (
        TestServer(create_app(store, client_id="app-1")) as server,
        aiohttp.ClientSession() as session,
    ):
        url = server.make_url(f"/v3/grants/{GRANT}/scheduling/configurations")
        async with session.post(url, json=config_body(slug="s"), headers=KEY) as r:
            assert r.status == 200
        params = {
            "slug": "s",
            "client_id": "app-1",
            "start_time": str(T0 + 2 * HOUR),
            "end_time": str(T0 + 3 * HOUR),
        }
        async with session.get(server.make_url("/v3/scheduling/availability"), params=params) as r:
            assert r.status == 200
            assert len((await r.json())["data"]["time_slots"]) == 2


def test_plugin_fixture_from_sync_test(scheduler_emulator_url: str) -> None:
    assert (
        requests.get(f"{scheduler_emulator_url}/_emulator/health").json()["data"]["status"] == "ok"
    )


async def test_plugin_fixture_from_async_test(scheduler_emulator_url: str) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{scheduler_emulator_url}/_emulator/health") as r,
    ):
        assert (await r.json())["data"]["status"] == "ok"


def test_fresh_fixture_resets(scheduler_emulator: Emulator) -> None:
    scheduler_emulator.add_grant("leftover")
    scheduler_emulator.set_faults("*", error_500=1.0)
    scheduler_emulator.clock.advance(1000)
    scheduler_emulator.reset()
    assert scheduler_emulator.store.grants == {}
    assert not scheduler_emulator.faults.active


def test_cli_serves_until_interrupted() -> None:
    with cli_emulator("--latency-ms", "1") as (proc, url):
        assert requests.get(f"{url}/_emulator/health", timeout=5).status_code == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0


def test_cli_strict_needs_a_key(capsys: pytest.CaptureFixture[str]) -> None:
    from scheduler_async.__main__ import main

    assert main(["emulator", "--strict"]) == 2
    assert "--api-key" in capsys.readouterr().err


def test_cli_prints_the_export_line_a_client_needs() -> None:
    with cli_emulator() as (proc, url):
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        export = lines[2].strip()
        assert export.startswith("export NYLAS_API_URI="), lines
        values = dict(item.split("=", 1) for item in shlex.split(export)[1:])
        assert values["NYLAS_API_URI"] == url
        # The variables the client reads: a call with nothing else configured works.
        client_env = {**os.environ, **values}
        code = "from scheduler_sync import Scheduler\nprint(Scheduler().calendars.list_page())"
        out = subprocess.run(
            [sys.executable, "-c", code], env=client_env, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0


def test_export_line_under_strict_never_echoes_the_key(scheduler_emulator_fresh: Emulator) -> None:
    from scheduler_async.__main__ import _client_lines

    lines = _client_lines(scheduler_emulator_fresh, ["my-SECRET-key"], strict=True)
    assert "my-SECRET-key" not in "\n".join(lines)
    assert "NYLAS_GRANT_ID=demo-grant" in lines[1] and "--api-key" in lines[1]
    assert "demo-grant" in scheduler_emulator_fresh.store.grants  # strict: the grant exists


def test_demo_help_says_what_it_does(capsys: pytest.CaptureFixture[str]) -> None:
    from scheduler_async import demo
    from scheduler_async.__main__ import _parser

    text = _parser().format_help()
    assert "book a meeting end to end" in text and "seed guide" not in text
    with pytest.raises(SystemExit):
        demo.main(["--help"])
    text = capsys.readouterr().out
    assert "one meeting booked end to end" in text and "seed guide" not in text
