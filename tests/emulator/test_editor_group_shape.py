"""Group events as the Scheduler Editor reads them: ``{event, group_event_info}`` items and a
recurring master opened through ``GET /v3/grants/{grant_id}/events/{id}?calendar_id=``."""

from __future__ import annotations

from typing import Any

import requests

from scheduler_async.emulator import Emulator

from .support import DAY, GRANT, HOUR, KEY, T0, assert_error

CFGS = f"/v3/grants/{GRANT}/scheduling/configurations"
HOST = [{"name": "Host", "email": "host@example.com", "is_organizer": True}]


def _group(emu: Emulator) -> str:
    body = {"type": "group", "name": "Yoga", "group_booking": {"calendar_id": "primary"}}
    r = requests.post(emu.url + CFGS, json=body, headers=KEY)
    assert r.status_code == 200, r.text
    config_id: str = r.json()["data"]["id"]
    return config_id


def _create(emu: Emulator, config_id: str, **extra: Any) -> dict[str, Any]:
    body = {
        "title": "Class",
        "calendar_id": "primary",
        "participants": HOST,
        "organizer": {"name": "Host", "email": "host@example.com"},
        "capacity": 5,
        "when": {"start_time": T0 + 9 * HOUR, "end_time": T0 + 10 * HOUR},
        **extra,
    }
    r = requests.post(f"{emu.url}{CFGS}/{config_id}/group-events", json=body, headers=KEY)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()["data"]
    return data


def test_group_events_read_as_flat_and_as_event_plus_info(emu: Emulator) -> None:
    emu.add_grant(GRANT, email="host@example.com")
    config_id = _group(emu)
    created = _create(emu, config_id, recurrence=["RRULE:FREQ=DAILY;COUNT=3"])
    # both forms in one object: the flat event and the Editor's {event, group_event_info}
    assert created["event"]["id"] == created["id"] and "group_event_info" not in created["event"]
    assert created["group_event_info"]["master_id"] == created["id"]
    r = requests.get(
        f"{emu.url}{CFGS}/{config_id}/group-events",
        params={"show_all": "true", "start_time": T0, "end_time": T0 + 3 * DAY},
        headers=KEY,
    )
    assert r.status_code == 200, r.text
    items = r.json()["data"]
    assert len(items) == 3
    for item in items:
        assert item["event"]["master_event_id"] == created["id"]
        assert item["event"]["when"]["start_time"] == item["when"]["start_time"]
        assert item["group_event_info"]["event_id"] == item["id"]
    r = requests.patch(
        f"{emu.url}{CFGS}/{config_id}/group-events/{created['id']}",
        json={"title": "Morning class"},
        headers=KEY,
    )
    assert r.status_code == 200 and r.json()["data"]["event"]["title"] == "Morning class"


def test_recurring_master_opens_through_the_events_api(emu: Emulator) -> None:
    emu.add_grant(GRANT, email="host@example.com")
    config_id = _group(emu)
    master = _create(emu, config_id, recurrence=["RRULE:FREQ=WEEKLY;COUNT=4"])
    r = requests.get(
        f"{emu.url}/v3/grants/{GRANT}/events/{master['id']}",
        params={"calendar_id": "primary"},
        headers=KEY,
    )
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert (data["id"], data["recurrence"]) == (master["id"], ["RRULE:FREQ=WEEKLY;COUNT=4"])
    assert data["when"]["start_time"] == T0 + 9 * HOUR and data["grant_id"] == GRANT
    r = requests.get(f"{emu.url}/v3/grants/other-grant/events/{master['id']}", headers=KEY)
    assert_error(r, 404, "not_found_error")
