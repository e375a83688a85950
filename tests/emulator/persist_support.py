"""A world holding every kind of state, built and observed through the HTTP API (persistence
tests): grants and calendars, events, configurations (standard, pending-confirmation, group),
a session, bookings (booked, pending, rescheduled, deleted), a group event with a taken seat
and a webhook with a pending retry."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests

from scheduler_async.emulator import Emulator

from .support import DAY, GRANT, HOUR, KEY, T0, config_body

CFGS = f"/v3/grants/{GRANT}/scheduling/configurations"
GUEST = {"name": "Guest", "email": "guest@example.com"}


@dataclass
class Receiver:
    """A webhook destination on its own thread: answers the challenge, POSTs with ``status``."""

    url: str = ""
    status: int = 500
    posts: list[bytes] = field(default_factory=list)
    got: threading.Event = field(default_factory=threading.Event)
    #: Set: each POST waits for it (after setting ``arrived``) before it is answered.
    hold: threading.Event | None = None
    arrived: threading.Event = field(default_factory=threading.Event)


@contextmanager
def receiver() -> Iterator[Receiver]:
    """A running :class:`Receiver` (stopped on exit)."""
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            challenge = parse_qs(urlparse(self.path).query).get("challenge", [""])[0]
            body = challenge.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if state.hold is not None:
                state.arrived.set()
                state.hold.wait(60)
            if state.status == 200:  # kept before the answer: the sender sees it once answered
                state.posts.append(body)
                state.got.set()
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _ok(r: requests.Response) -> Any:
    assert r.status_code == 200, r.text
    return r.json().get("data")


def build_world(emu: Emulator, hook_url: str) -> dict[str, str]:
    """Seed every kind of state through the HTTP API; the ids, by name."""
    u, ids = emu.url, {}
    _ok(
        requests.post(
            f"{u}/_emulator/grants",
            json={"grant_id": GRANT, "email": "host@example.com", "calendars": ["work"]},
        )
    )
    event = {
        "when": {"start_time": T0 + DAY + 10 * HOUR, "end_time": T0 + DAY + 11 * HOUR},
        "title": "Busy",
        "location": "Room 1",
    }
    ids["event"] = _ok(
        requests.post(
            f"{u}/v3/grants/{GRANT}/events",
            params={"calendar_id": "primary"},
            json=event,
            headers=KEY,
        )
    )["id"]
    hook = {"trigger_types": ["booking.created"], "webhook_url": hook_url}
    ids["webhook"] = _ok(requests.post(f"{u}/v3/webhooks", json=hook, headers=KEY))["id"]
    ids["config"] = _ok(requests.post(u + CFGS, json=config_body(slug="intro"), headers=KEY))["id"]
    pending = config_body(event_booking={"title": "Call", "booking_type": "organizer-confirmation"})
    ids["pending_config"] = _ok(requests.post(u + CFGS, json=pending, headers=KEY))["id"]
    session = {"configuration_id": ids["config"], "time_to_live": 30}
    ids["session"] = _ok(requests.post(f"{u}/v3/scheduling/sessions", json=session, headers=KEY))[
        "session_id"
    ]

    def book(config: str, start: int) -> str:
        body = {"start_time": start, "end_time": start + 1800, "guest": GUEST}
        r = requests.post(
            f"{u}/v3/scheduling/bookings", params={"configuration_id": config}, json=body
        )
        return str(_ok(r)["booking_id"])

    ids["booked"] = book(ids["config"], T0 + DAY + 9 * HOUR)
    ids["moved"] = book(ids["config"], T0 + DAY + 12 * HOUR)
    r = requests.patch(
        f"{u}/v3/scheduling/bookings/{ids['moved']}",
        params={"configuration_id": ids["config"]},
        json={"start_time": T0 + DAY + 13 * HOUR, "end_time": T0 + DAY + 13 * HOUR + 1800},
    )
    _ok(r)
    ids["deleted"] = book(ids["config"], T0 + DAY + 14 * HOUR)
    _ok(
        requests.delete(
            f"{u}/v3/scheduling/bookings/{ids['deleted']}",
            params={"configuration_id": ids["config"]},
        )
    )
    ids["pending"] = book(ids["pending_config"], T0 + 2 * DAY + 9 * HOUR)
    group = {"type": "group", "name": "Yoga", "group_booking": {"calendar_id": "primary"}}
    ids["group_config"] = _ok(requests.post(u + CFGS, json=group, headers=KEY))["id"]
    gev = {
        "title": "Class",
        "calendar_id": "primary",
        "capacity": 3,
        "participants": [{"name": "Host", "email": "host@example.com", "is_organizer": True}],
        "when": {"start_time": T0 + 3 * DAY, "end_time": T0 + 3 * DAY + HOUR},
    }
    ids["group_event"] = _ok(
        requests.post(f"{u}{CFGS}/{ids['group_config']}/group-events", json=gev, headers=KEY)
    )["id"]
    seat = {
        "start_time": T0 + 3 * DAY,
        "end_time": T0 + 3 * DAY + HOUR,
        "guest": GUEST,
        "event_id": ids["group_event"],
        "calendar_id": "primary",
    }
    r = requests.post(
        f"{u}/v3/scheduling/bookings", params={"configuration_id": ids["group_config"]}, json=seat
    )
    ids["seat"] = _ok(r)["booking_id"]
    return ids


def observe(emu: Emulator, ids: dict[str, str]) -> dict[str, Any]:
    """Everything the HTTP API answers about the world (request ids left out)."""
    u = emu.url

    def get(path: str, **params: Any) -> Any:
        r = requests.get(u + path, params=params, headers=KEY)
        assert r.status_code == 200, (path, r.text)
        body = r.json()
        body.pop("request_id", None)
        return body

    window = {"start_time": T0 + DAY, "end_time": T0 + 4 * DAY}
    out: dict[str, Any] = {
        "clock": get("/_emulator/clock"),
        "grant": get(f"/v3/grants/{GRANT}"),
        "calendars": get(f"/v3/grants/{GRANT}/calendars"),
        "events": get(f"/v3/grants/{GRANT}/events", calendar_id="primary"),
        "configurations": get(CFGS),
        "sessions": get("/_emulator/sessions"),
        "bookings": get("/_emulator/bookings"),
        "availability": get(
            "/v3/scheduling/availability", configuration_id=ids["config"], **window
        ),
        "group_events": get(f"{CFGS}/{ids['group_config']}/group-events", **window),
        "group_slots": get(
            "/v3/scheduling/availability", configuration_id=ids["group_config"], **window
        ),
        "webhooks": get("/v3/webhooks"),
    }
    for name in ("booked", "moved", "pending", "seat"):
        config = ids[
            "group_config"
            if name == "seat"
            else "pending_config"
            if name == "pending"
            else "config"
        ]
        out[name] = get(f"/v3/scheduling/bookings/{ids[name]}", configuration_id=config)
    return out
