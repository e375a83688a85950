"""Every curl example of ``seed-scheduler-api.txt`` replayed as raw HTTP against the emulator.

Same method, path, query, headers and JSON body text as the guide; the placeholders
(``<NYLAS_GRANT_ID>``, ``<NYLAS_API_KEY>``, ``<SCHEDULER_SESSION_ID>``, ``<SCHEDULER_CONFIG_ID>``,
``<BOOKING_ID>``) are filled from earlier steps.  The guide's ``GET /v3/scheduling/bookings``
with a JSON body is a documentation error (there is no list endpoint; the create is a POST): the
emulator answers it with a 405 error envelope, and the POST form works.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from scheduler_async.emulator import Emulator

GRANT = "seed-grant"
API_KEY = "nyk_seed_api_key"
SEED_HEADERS = {
    "Accept": "application/json, application/gzip",
    "Content-Type": "application/json",
}

CONFIG_BODY = """{
"requires_session_auth": false,
"participants": [
{
"name": "Test",
"email": "nylas_test_8",
"is_organizer": true,
"availability": {
"calendar_ids": [
"primary"
]
},
"booking": {
"calendar_id": "primary"
}
}
],
"availability": {
"duration_minutes": 30
},
"event_booking": {
"title": "My test event"
}
}"""

BOOKING_BODY = """{
"start_time": 1709643600,
"end_time": 1709645400,
"participants": [],
"guest": {
"name": "Jane Doe",
"email": "jane.doe@example.com"
}
}"""

RESCHEDULE_BODY = """{
"start_time": 1708714800,
"end_time": 1708722000
}"""

AVAILABILITY_QUERY = "start_time=1709643600&end_time=1709665200"
# The guide's times: 2024-03-05 13:00-19:00 UTC for availability and booking, and a two-hour
# slot on 2024-02-23 19:00-21:00 UTC for the reschedule example.
BEFORE_AVAILABILITY = 1709643600 - 6 * 3600
BEFORE_RESCHEDULE = 1708714800 - 6 * 3600


def bearer(token: str) -> dict[str, str]:
    return {**SEED_HEADERS, "Authorization": f"Bearer {token}"}


def check_envelope(r: requests.Response) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    body: dict[str, Any] = r.json()
    assert isinstance(body["request_id"], str)
    assert r.headers["X-Request-Id"] == body["request_id"]
    return body


@pytest.fixture
def emu(scheduler_emulator_fresh: Emulator) -> Emulator:
    scheduler_emulator_fresh.clock.set(BEFORE_AVAILABILITY)
    return scheduler_emulator_fresh


def create_configuration(emu: Emulator, body: str = CONFIG_BODY) -> str:
    """The guide's first curl: POST /v3/grants/<NYLAS_GRANT_ID>/scheduling/configurations."""
    r = requests.post(
        f"{emu.url}/v3/grants/{GRANT}/scheduling/configurations",
        headers=bearer(API_KEY),
        data=body,
    )
    data = check_envelope(r)["data"]
    config_id: str = data["id"]
    return config_id


def create_session(emu: Emulator, config_id: str) -> str:
    """The guide's session curl: POST /v3/scheduling/sessions with a 10-minute TTL."""
    body = '{\n"configuration_id": "' + config_id + '",\n"time_to_live": 10\n}'
    r = requests.post(f"{emu.url}/v3/scheduling/sessions", headers=bearer(API_KEY), data=body)
    data = check_envelope(r)["data"]
    assert set(data) == {"session_id"}
    session_id: str = data["session_id"]
    return session_id


def create_booking_with_session(emu: Emulator, session_id: str, body: str = BOOKING_BODY) -> str:
    r = requests.post(f"{emu.url}/v3/scheduling/bookings", headers=bearer(session_id), data=body)
    booking_id: str = check_envelope(r)["data"]["booking_id"]
    return booking_id


def test_create_configuration(emu: Emulator) -> None:
    r = requests.post(
        f"{emu.url}/v3/grants/{GRANT}/scheduling/configurations",
        headers=bearer(API_KEY),
        data=CONFIG_BODY,
    )
    body = check_envelope(r)
    data = body["data"]
    # The guide shows the object bare with "ID"; the API (and every SDK) uses the envelope and "id".
    assert "ID" not in data
    assert isinstance(data["id"], str)
    assert data["id"]
    participant = data["participants"][0]
    assert participant["email"] == "nylas_test_8"
    assert participant["is_organizer"] is True
    assert participant["availability"] == {"calendar_ids": ["primary"]}
    assert participant["booking"] == {"calendar_id": "primary"}
    assert data["availability"]["duration_minutes"] == 30
    assert data["event_booking"]["title"] == "My test event"
    assert data["requires_session_auth"] is False


def test_create_session(emu: Emulator) -> None:
    config_id = create_configuration(emu)
    session_id = create_session(emu, config_id)
    assert emu.store.sessions[session_id].expires_at == emu.clock.now() + 10 * 60


def test_get_availability_with_session(emu: Emulator) -> None:
    session_id = create_session(emu, create_configuration(emu))
    r = requests.get(
        f"{emu.url}/v3/scheduling/availability?{AVAILABILITY_QUERY}", headers=bearer(session_id)
    )
    data = check_envelope(r)["data"]
    assert "order" not in data  # only for round-robin
    slots = data["time_slots"]
    assert len(slots) == 12  # six hours of 30-minute slots
    assert slots[0] == {
        "emails": ["nylas_test_8"],
        "start_time": 1709643600,
        "end_time": 1709645400,
    }
    assert all(set(s) == {"emails", "start_time", "end_time"} for s in slots)


def test_get_availability_public(emu: Emulator) -> None:
    config_id = create_configuration(emu)
    r = requests.get(
        f"{emu.url}/v3/scheduling/availability?{AVAILABILITY_QUERY}&configuration_id={config_id}",
        headers=SEED_HEADERS,
    )
    data = check_envelope(r)["data"]
    assert len(data["time_slots"]) == 12


def test_availability_response_shape_for_round_robin(emu: Emulator) -> None:
    """The guide's sample response (with ``order``) is the round-robin shape."""
    body = CONFIG_BODY.replace(
        '"duration_minutes": 30\n}',
        '"duration_minutes": 30,\n"availability_rules": {"availability_method": "max-fairness"}\n}',
    ).replace('"is_organizer": true', '"is_organizer": false')
    extra = '{"email": "user1@example.com", "availability": {"calendar_ids": []}},'
    body = body.replace('"participants": [\n{', '"participants": [\n' + extra + "\n{")
    config_id = create_configuration(emu, body)
    r = requests.get(
        f"{emu.url}/v3/scheduling/availability?{AVAILABILITY_QUERY}&configuration_id={config_id}",
        headers=SEED_HEADERS,
    )
    data = check_envelope(r)["data"]
    assert data["order"] == ["user1@example.com", "nylas_test_8"]
    assert data["time_slots"][0]["emails"] == ["user1@example.com", "nylas_test_8"]


def test_create_booking_with_session(emu: Emulator) -> None:
    session_id = create_session(emu, create_configuration(emu))
    r = requests.post(
        f"{emu.url}/v3/scheduling/bookings", headers=bearer(session_id), data=BOOKING_BODY
    )
    data = check_envelope(r)["data"]
    assert isinstance(data["booking_id"], str)  # the guide shows only booking_id
    assert data["status"] == "booked"
    assert data["title"] == "My test event"
    assert emu.booking(data["booking_id"]).guest == {
        "name": "Jane Doe",
        "email": "jane.doe@example.com",
    }


def test_public_booking_get_with_body_is_a_doc_error(emu: Emulator) -> None:
    config_id = create_configuration(emu)
    url = f"{emu.url}/v3/scheduling/bookings?configuration_id={config_id}"
    r = requests.request("GET", url, headers=SEED_HEADERS, data=BOOKING_BODY)
    assert r.status_code == 405
    assert r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert set(body) == {"request_id", "error"}
    assert body["error"]["type"] == "method_not_allowed"
    assert r.headers["Allow"] == "POST"
    assert emu.store.bookings == {}

    r = requests.post(url, headers=SEED_HEADERS, data=BOOKING_BODY)  # the intended request
    data = check_envelope(r)["data"]
    assert emu.booking(data["booking_id"]).start_time == 1709643600


def reschedule_setup(emu: Emulator) -> tuple[str, str]:
    """A two-hour, hourly configuration so the guide's 19:00-21:00 UTC body is a valid slot.

    The booking starts at 21:00-23:00 and the guide's PATCH moves it to 19:00-21:00.
    """
    emu.clock.set(BEFORE_RESCHEDULE)
    config_id = create_configuration(
        emu,
        CONFIG_BODY.replace(
            '"duration_minutes": 30', '"duration_minutes": 120,\n"interval_minutes": 60'
        ),
    )
    session_id = create_session(emu, config_id)
    create_booking_with_session(
        emu,
        session_id,
        BOOKING_BODY.replace("1709643600", "1708722000").replace("1709645400", "1708729200"),
    )
    return config_id, session_id


def booking_id_of(emu: Emulator) -> str:
    (booking_id,) = emu.store.bookings
    return booking_id


def test_reschedule_with_session(emu: Emulator) -> None:
    _, session_id = reschedule_setup(emu)
    booking_id = booking_id_of(emu)
    r = requests.patch(
        f"{emu.url}/v3/scheduling/bookings/{booking_id}",
        headers=bearer(session_id),
        data=RESCHEDULE_BODY,
    )
    assert set(check_envelope(r)) == {"request_id"}
    booking = emu.booking(booking_id)
    assert (booking.start_time, booking.end_time) == (1708714800, 1708722000)


def test_reschedule_public(emu: Emulator) -> None:
    config_id, _ = reschedule_setup(emu)
    booking_id = booking_id_of(emu)
    r = requests.patch(
        f"{emu.url}/v3/scheduling/bookings/{booking_id}?configuration_id={config_id}",
        headers=SEED_HEADERS,
        data=RESCHEDULE_BODY,
    )
    assert set(check_envelope(r)) == {"request_id"}
    assert emu.booking(booking_id).start_time == 1708714800


def test_delete_with_session(emu: Emulator) -> None:
    session_id = create_session(emu, create_configuration(emu))
    booking_id = create_booking_with_session(emu, session_id)
    r = requests.delete(
        f"{emu.url}/v3/scheduling/bookings/{booking_id}", headers=bearer(session_id)
    )
    assert set(check_envelope(r)) == {"request_id"}
    assert emu.booking(booking_id).status == "cancelled"


def test_delete_public(emu: Emulator) -> None:
    config_id = create_configuration(emu)
    booking_id = create_booking_with_session(emu, create_session(emu, config_id))
    r = requests.delete(
        f"{emu.url}/v3/scheduling/bookings/{booking_id}?configuration_id={config_id}",
        headers=SEED_HEADERS,
    )
    assert set(check_envelope(r)) == {"request_id"}
    assert emu.booking(booking_id).deleted
