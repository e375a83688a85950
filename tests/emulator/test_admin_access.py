"""The admin door of the emulator: with API keys, ``/_emulator/*`` (health and the booking page
aside) needs one of them; CORS never applies there; admin listings mask webhook secrets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from scheduler_async.emulator import Emulator, FakeClock

from .support import GRANT, T0, assert_error, config_body

EVIL = "http://evil.example"

GUARDED = [
    ("GET", "/_emulator/webhooks"),
    ("GET", "/_emulator/webhooks/deliveries"),
    ("POST", "/_emulator/webhooks/deliver"),
    ("PUT", "/_emulator/webhooks/faults"),
    ("GET", "/_emulator/sessions"),
    ("GET", "/_emulator/grants"),
    ("PUT", "/_emulator/faults"),
    ("POST", "/_emulator/reset"),
    ("POST", "/_emulator/clock"),
    ("GET", "/_emulator/rate_limit"),
    ("GET", "/_emulator/no-such-route"),
]


@pytest.fixture(scope="module")
def keyed() -> Iterator[Emulator]:
    """An emulator started with an API key (``--api-key right``) and the booking page."""
    with Emulator(clock=FakeClock(T0), api_keys=["right"], booking_page=True) as emu:
        yield emu


@pytest.fixture
def door(keyed: Emulator) -> Emulator:
    keyed.reset()
    keyed.add_grant(GRANT)
    return keyed


@pytest.mark.parametrize(("method", "path"), GUARDED)
def test_admin_routes_need_an_api_key_when_keys_are_enforced(
    door: Emulator, method: str, path: str
) -> None:
    config = door.store.create_configuration(GRANT, config_body())
    session_id = door.store.create_session(configuration_id=config.configuration_id).session_id
    for token in (None, "wrong", session_id):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        r = requests.request(method, f"{door.url}{path}", headers=headers, json={})
        assert_error(r, 401, "unauthorized")
        assert "right" not in r.text
    assert door.store.grants  # a refused reset did nothing
    body = {"advance": 0}
    r = requests.request(method, f"{door.url}{path}", headers=door.admin_headers, json=body)
    assert r.status_code != 401


def test_health_and_booking_page_stay_open(door: Emulator) -> None:
    assert door.admin_headers == {"Authorization": "Bearer right"}
    assert requests.get(f"{door.url}/_emulator/health").status_code == 200
    r = requests.get(door.booking_page_url())
    assert r.status_code == 200 and "nylas-scheduling" in r.text


def test_admin_api_stays_open_without_keys(emu: Emulator) -> None:
    assert emu.admin_headers == {}
    assert requests.get(f"{emu.url}/_emulator/sessions").status_code == 200
    assert requests.post(f"{emu.url}/_emulator/reset").status_code == 200


def test_cors_never_applies_to_the_admin_api(emu: Emulator) -> None:
    emu.add_grant(GRANT)
    origin = {"Origin": EVIL}
    preflight = {**origin, "Access-Control-Request-Method": "POST"}
    r = requests.options(f"{emu.url}/_emulator/reset", headers=preflight)
    assert r.status_code == 403 and "Access-Control-Allow-Origin" not in r.headers
    # A page elsewhere may POST without a preflight; it is refused before anything happens.
    r = requests.post(f"{emu.url}/_emulator/reset", headers=origin)
    assert r.status_code == 403 and "Access-Control-Allow-Origin" not in r.headers
    assert emu.store.grants
    r = requests.get(f"{emu.url}/_emulator/webhooks", headers=origin)
    assert r.status_code == 403 and "Access-Control-Allow-Origin" not in r.headers
    # Tools (no Origin) and the emulator's own pages (its own origin) are served, without CORS.
    for headers in ({}, {"Origin": emu.url}):
        r = requests.get(f"{emu.url}/_emulator/webhooks", headers=headers)
        assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers
    # The API and the open admin routes keep CORS.
    r = requests.get(f"{emu.url}/_emulator/health", headers=origin)
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "*"
    r = requests.options(f"{emu.url}/v3/scheduling/availability", headers=preflight)
    assert r.status_code == 204 and r.headers["Access-Control-Allow-Origin"] == "*"


def test_booking_page_keeps_cors(door: Emulator) -> None:
    r = requests.get(door.booking_page_url(), headers={"Origin": EVIL})
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "*"


def test_admin_listing_masks_webhook_secrets(door: Emulator) -> None:
    hook = door.add_webhook("http://127.0.0.1:9/hook")
    r = requests.get(f"{door.url}/_emulator/webhooks", headers=door.admin_headers)
    assert r.status_code == 200
    [listed] = r.json()["data"]
    assert listed["id"] == hook.id and listed["webhook_secret"] == "****" + hook.secret[-4:]
    assert hook.secret not in r.text
