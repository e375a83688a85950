"""The group-event HTTP handlers in the emulator app: every path/verb variant of §4."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from scheduler_async import GroupEvent, GroupEventImportResult, Page
from scheduler_async._convert import structure
from scheduler_async.emulator import FakeClock, Store, create_app

NOW = 1_800_000_000  # Friday 2027-01-15 08:00 UTC: the event ids below carry its dates
KEY = {"Authorization": "Bearer key"}
GRANT = "grant-1"
BASE = f"/v3/grants/{GRANT}/scheduling/configurations/cfg"
APP_IMPORT = "/v3/scheduling/configurations/cfg/import-group-events"


class _Store(Store):
    """Group configuration ``cfg`` (default capacity 7), standard ``std``, calendar event
    ``cal1``; group events are named ``ev1``, ``ev2``..."""

    def __init__(self) -> None:
        super().__init__(FakeClock(NOW))
        self._ids = itertools.count(1)
        self.put_raw_configuration(
            GRANT,
            {"type": "group", "group_booking": {"calendar_id": "primary", "default_capacity": 7}},
            configuration_id="cfg",
        )
        self.put_raw_configuration(
            GRANT,
            {"participants": [], "event_booking": {"title": "x"}},
            configuration_id="std",
        )
        self.add_event(GRANT, "primary", NOW + 3600, NOW + 7200, title="Imported", event_id="cal1")

    def new_group_event_id(self) -> str:
        return f"ev{next(self._ids)}"


Server = tuple[TestServer, aiohttp.ClientSession, _Store]


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    store = _Store()
    async with TestServer(create_app(store)) as srv, aiohttp.ClientSession() as session:
        yield srv, session, store


async def _call(
    server: Server, method: str, path: str, *, headers: dict[str, str] | None = KEY, **kw: Any
) -> tuple[int, dict[str, Any]]:
    srv, session, _ = server
    async with session.request(method, srv.make_url(path), headers=headers, **kw) as r:
        return r.status, await r.json()


EVENT = {
    "title": "Class",
    "capacity": 2,
    "participants": [{"email": "host@example.com", "is_organizer": True}],
    "when": {
        "start_time": NOW + 3600,
        "end_time": NOW + 7200,
        "start_timezone": "UTC",
        "end_timezone": "UTC",
    },
    "recurrence": ["RRULE:FREQ=DAILY;COUNT=3"],
}


async def test_crud_put_and_patch_and_list(server: Server) -> None:
    status, body = await _call(server, "POST", BASE + "/group-events", json=EVENT)
    assert status == 200 and isinstance(body["data"], dict)
    master = structure(body["data"], GroupEvent)
    assert master.recurrence == ("RRULE:FREQ=DAILY;COUNT=3",) and master.capacity == 2
    # the create body may also come as a one-element array
    status, body = await _call(
        server, "POST", BASE + "/group-events", json=[{**EVENT, "recurrence": None}]
    )
    assert status == 200 and body["data"]["capacity"] == 2 and "recurrence" not in body["data"]
    q = {"calendar_id": "primary", "start_time": NOW, "end_time": NOW + 5 * 86400}
    status, body = await _call(server, "GET", BASE + "/group-events", params=q)
    assert status == 200
    items = structure(body["data"], tuple[GroupEvent, ...])
    assert [e.id for e in items] == [
        "ev1_20270115T090000Z",
        "ev2",
        "ev1_20270116T090000Z",
        "ev1_20270117T090000Z",
    ]
    page = Page(data=items, next_cursor=body["next_cursor"])
    assert not page.has_next_page
    status, body = await _call(server, "GET", BASE + "/group-events", params={**q, "limit": 3})
    assert len(body["data"]) == 3 and body["next_cursor"] == "3"
    status, body = await _call(
        server, "GET", BASE + "/group-events", params={**q, "limit": 3, "page_token": "3"}
    )
    assert [e["id"] for e in body["data"]] == ["ev1_20270117T090000Z"]
    assert body["next_cursor"] is None
    # PUT (spec) replaces the nested object; PATCH (Editor) merges it
    status, body = await _call(
        server, "PATCH", BASE + "/group-events/ev2", json={"when": {"end_time": NOW + 9000}}
    )
    assert status == 200 and body["data"]["when"]["start_timezone"] == "UTC"
    status, body = await _call(
        server, "PUT", BASE + "/group-events/ev2", json={"title": "Renamed", "capacity": 9}
    )
    assert (body["data"]["title"], body["data"]["capacity"]) == ("Renamed", 9)
    status, body = await _call(server, "DELETE", BASE + "/group-events/ev2?calendar_id=undefined")
    assert status == 200 and set(body) == {"request_id"}
    status, body = await _call(server, "GET", BASE + "/group-events/ev2")
    assert status == 404 and body["error"]["type"] == "not_found_error"


async def test_errors_and_auth(server: Server) -> None:
    status, body = await _call(
        server, "POST", BASE + "/group-events", json={**EVENT, "capacity": 501}
    )
    assert status == 400 and "between 1 and 500" in body["error"]["message"]
    status, body = await _call(server, "GET", BASE + "/group-events", params={"start_time": 1})
    assert status == 400 and "end_time" in body["error"]["message"]
    srv, session, _ = server
    async with session.post(srv.make_url(BASE + "/group-events"), json=EVENT) as r:
        assert r.status == 401
    std = f"/v3/grants/{GRANT}/scheduling/configurations/std/group-events"
    status, body = await _call(server, "POST", std, json=EVENT)
    assert status == 400 and "not a group" in body["error"]["message"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (APP_IMPORT, [{"event_id": "cal1", "calendar_id": "primary"}]),  # spec schema
        (APP_IMPORT, {"event_id": "cal1", "calendar_id": "primary"}),  # spec curl sample
        (BASE + "/import-group-events?calendar_id=primary", [{"event_id": "cal1"}]),  # Editor
    ],
)
async def test_import_variants(server: Server, path: str, body: Any) -> None:
    status, out = await _call(server, "POST", path, json=body)
    assert status == 200
    result = structure(out["data"], GroupEventImportResult)
    assert result.imported_events == ("cal1",) and result.import_failed == ()
    status, out = await _call(server, "POST", path, json=body)
    result = structure(out["data"], GroupEventImportResult)
    assert [(f.event_id, f.reason) for f in result.import_failed] == [
        ("cal1", "Event already imported")
    ]
    status, out = await _call(
        server, "GET", BASE + "/group-events/cal1", params={"calendar_id": "primary"}
    )
    assert out["data"]["capacity"] == 7  # the configuration's default capacity


async def test_validate_timeslot_public_and_master_event_id(server: Server) -> None:
    status, _ = await _call(server, "POST", BASE + "/group-events", json={**EVENT, "capacity": 1})
    assert status == 200
    slot = {
        "event_id": "ev1_20270115T090000Z",
        "master_id": "ev1",
        "calendar_id": "primary",
        "start_time": NOW + 3600,
        "end_time": NOW + 7200,
        "capacity": 1,
        "emails": ["host@example.com"],
    }
    path = "/v3/scheduling/configurations/cfg/group-events/validate-timeslot"
    status, out = await _call(server, "POST", path, json=slot, headers=None)  # booking page
    assert (status, set(out)) == (200, {"request_id"})
    alt = {**{k: v for k, v in slot.items() if k != "master_id"}, "master_event_id": "ev1"}
    status, out = await _call(server, "POST", path, json=alt)
    assert status == 200
    status, out = await _call(server, "POST", path, json={**slot, "start_time": NOW})
    assert status == 400 and out["error"]["message"] == "The selected event has changed"
    await _call(server, "DELETE", BASE + "/group-events/ev1_20270115T090000Z")
    status, out = await _call(server, "POST", path, json=slot)
    assert status == 404 and out["error"]["message"] == "The selected event was deleted"


async def test_delete_cancels_seated_bookings(server: Server) -> None:
    _, _, store = server
    await _call(server, "POST", BASE + "/group-events", json={**EVENT, "recurrence": None})
    guest = {"name": "G", "email": "g@example.com"}
    slot = {"event_id": "ev1"}
    first = store.create_booking("cfg", NOW + 3600, NOW + 7200, guest, slot=slot)
    path = "/v3/scheduling/configurations/cfg/group-events/validate-timeslot"
    status, out = await _call(server, "POST", path, json={"event_id": "ev1"})
    assert status == 200  # one seat left of two
    second = store.create_booking("cfg", NOW + 3600, NOW + 7200, guest, slot=slot)
    status, out = await _call(server, "POST", path, json={"event_id": "ev1"})
    assert (status, out["error"]["message"]) == (409, "Event is full")
    await _call(server, "DELETE", BASE + "/group-events/ev1")
    for booking in (first, second):
        assert (booking.status, booking.cancellation_reason) == (
            "cancelled",
            "The group event was deleted",
        )


@pytest.mark.parametrize(
    ("path", "raw", "content_type", "message"),
    [
        (BASE + "/group-events", b"[" * 100_000, "application/json", "parsing"),
        (BASE + "/group-events", b'{"a":' * 40 + b"1" + b"}" * 40, "application/json", "deeper"),
        (BASE + "/group-events", b'{"title": "x"}', "text/plain", "Content-Type"),
        (APP_IMPORT, b"[" * 100_000, "application/json", "parsing"),
        (BASE + "/group-events/ev1", b"", "application/json", "required"),
    ],
)
async def test_bodies_follow_the_emulator_json_rules(
    server: Server, path: str, raw: bytes, content_type: str, message: str
) -> None:
    method = "PUT" if path.endswith("ev1") else "POST"
    status, body = await _call(
        server, method, path, data=raw, headers={**KEY, "Content-Type": content_type}
    )
    assert status == 400 and body["error"]["type"] == "invalid_request_error"
    assert message in body["error"]["message"]
