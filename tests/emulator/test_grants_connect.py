"""HTTP tests of grants, calendars, events, hosted login (``/v3/connect/*``) and ``me``."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from scheduler_async.emulator import Emulator
from scheduler_async.emulator.connect import CODE_TTL, TOKEN_TTL, pkce_challenge

from .support import GRANT, HOUR, KEY, T0, assert_error, create_config

REDIRECT = "http://127.0.0.1:9/editor"
VERIFIER = "0b7c1d5e-6a4f-4c7e-9d0a-3f2b1e8c9a77"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def authorize(emu: Emulator, **params: str) -> dict[str, list[str]]:
    """GET /v3/connect/auth (no redirect followed): the query the browser would land on."""
    query = {
        "client_id": "my-app",
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "code_challenge": pkce_challenge(VERIFIER),
        "code_challenge_method": "S256",
        "state": "xyz",
        **params,
    }
    r = requests.get(f"{emu.url}/v3/connect/auth", params=query, allow_redirects=False)
    assert r.status_code == 302, r.text
    location = urlsplit(r.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return parse_qs(location.query)


def exchange(emu: Emulator, code: str, verifier: str = VERIFIER) -> requests.Response:
    body = {
        "client_id": "my-app",
        "redirect_uri": REDIRECT,
        "code": code,
        "grant_type": "authorization_code",
        "code_verifier": verifier,
    }
    return requests.post(f"{emu.url}/v3/connect/token", json=body)


def login(emu: Emulator, **params: str) -> dict[str, Any]:
    (code,) = authorize(emu, **params)["code"]
    r = exchange(emu, code)
    assert r.status_code == 200, r.text
    tokens: dict[str, Any] = r.json()
    return tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --------------------------------------------------------------------------- grants and `me`


def test_grant_by_id_and_me(emu: Emulator) -> None:
    emu.add_grant(GRANT, email="host@example.com")
    r = requests.get(f"{emu.url}/v3/grants/{GRANT}", headers=KEY)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert (data["id"], data["email"], data["grant_status"]) == (
        GRANT,
        "host@example.com",
        "valid",
    )
    tokens = login(emu)
    r = requests.get(f"{emu.url}/v3/grants/me", headers=bearer(tokens["access_token"]))
    assert r.status_code == 200, r.text
    assert r.json()["data"]["id"] == GRANT


def test_me_with_api_key_is_400_and_without_auth_401(emu: Emulator) -> None:
    emu.add_grant(GRANT)
    r = requests.get(f"{emu.url}/v3/grants/me", headers=KEY)
    assert_error(r, 400, "invalid_request_error")
    r = requests.get(f"{emu.url}/v3/grants/me/scheduling/configurations", headers=KEY)
    assert_error(r, 400, "invalid_request_error")
    r = requests.post(
        f"{emu.url}/v3/grants/me/scheduling/configurations", json={"name": "x"}, headers=KEY
    )
    assert_error(r, 400, "invalid_request_error")
    assert "me" not in emu.store.grants  # no grant literally named "me"
    r = requests.get(f"{emu.url}/v3/grants/me/calendars")
    assert_error(r, 401, "unauthorized")


def test_me_configuration_writes_land_on_the_token_grant(emu: Emulator) -> None:
    emu.add_grant(GRANT, email="host@example.com")
    config_id = create_config(emu)
    token = login(emu)["access_token"]
    r = requests.get(f"{emu.url}/v3/grants/me/scheduling/configurations", headers=bearer(token))
    assert r.status_code == 200, r.text
    assert [c["id"] for c in r.json()["data"]] == [config_id]
    r = requests.delete(
        f"{emu.url}/v3/grants/me/scheduling/configurations/{config_id}", headers=bearer(token)
    )
    assert r.status_code == 200, r.text
    assert config_id not in emu.store.configurations
    assert "me" not in emu.store.grants


def test_access_token_of_another_grant_is_401(emu: Emulator) -> None:
    emu.add_grant(GRANT, email="host@example.com")
    emu.add_grant("grant-2", email="other@example.com")
    token = login(emu, login_hint="other@example.com")["access_token"]
    r = requests.get(f"{emu.url}/v3/grants/{GRANT}/calendars", headers=bearer(token))
    assert_error(r, 401, "unauthorized")
    r = requests.get(f"{emu.url}/v3/grants/grant-2/calendars", headers=bearer(token))
    assert r.status_code == 200, r.text


# --------------------------------------------------------------------------- calendars


def test_calendars_list_pages_and_get(emu: Emulator) -> None:
    emu.add_grant(GRANT, email="host@example.com", calendars=["work", "team"])
    seen: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 2}
    pages = 0
    while True:
        r = requests.get(f"{emu.url}/v3/grants/{GRANT}/calendars", params=params, headers=KEY)
        assert r.status_code == 200, r.text
        body = r.json()
        seen += body["data"]
        pages += 1
        if not body["next_cursor"]:
            break
        params["page_token"] = body["next_cursor"]
    assert pages == 2
    assert [c["id"] for c in seen] == ["primary", "team", "work"]
    primary = seen[0]
    assert primary["is_primary"] is True and primary["name"] == "host@example.com"
    assert {"grant_id", "read_only", "timezone"} <= set(primary)
    assert not seen[1]["is_primary"]

    r = requests.get(f"{emu.url}/v3/grants/{GRANT}/calendars/work", headers=KEY)
    assert r.status_code == 200 and r.json()["data"]["id"] == "work"
    assert_error(
        requests.get(f"{emu.url}/v3/grants/{GRANT}/calendars/nope", headers=KEY),
        404,
        "not_found_error",
    )
    assert_error(
        requests.get(f"{emu.url}/v3/grants/{GRANT}/calendars?page_token=bad", headers=KEY),
        400,
        "invalid_request_error",
    )


# --------------------------------------------------------------------------- events


def _slots(emu: Emulator, config_id: str) -> list[int]:
    r = requests.get(
        f"{emu.url}/v3/scheduling/availability",
        params={
            "configuration_id": config_id,
            "start_time": T0 + 9 * HOUR,
            "end_time": T0 + 11 * HOUR,
        },
    )
    assert r.status_code == 200, r.text
    return [s["start_time"] for s in r.json()["data"]["time_slots"]]


def test_events_crud_is_the_busy_time_availability_subtracts(emu: Emulator) -> None:
    emu.add_grant(GRANT, email="host@example.com")
    config_id = create_config(emu)
    before = _slots(emu, config_id)
    assert T0 + 9 * HOUR in before
    url = f"{emu.url}/v3/grants/{GRANT}/events"
    body = {"title": "Dentist", "when": {"start_time": T0 + 9 * HOUR, "end_time": T0 + 10 * HOUR}}
    assert_error(requests.post(url, json=body, headers=KEY), 400, "invalid_request_error")
    r = requests.post(url, params={"calendar_id": "primary"}, json=body, headers=KEY)
    assert r.status_code == 200, r.text
    event = r.json()["data"]
    assert event["when"]["start_time"] == T0 + 9 * HOUR and event["busy"] is True
    assert T0 + 9 * HOUR not in _slots(emu, config_id)
    # the admin API sees the same event (one source)
    admin = requests.get(f"{emu.url}/_emulator/grants/{GRANT}/events").json()["data"]
    assert [e["id"] for e in admin] == [event["id"]]

    r = requests.put(
        f"{url}/{event['id']}",
        json={"title": "Dentist (moved)", "busy": False, "location": "Main St"},
        headers=KEY,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["data"]["title"], r.json()["data"]["location"]) == (
        "Dentist (moved)",
        "Main St",
    )
    assert _slots(emu, config_id) == before  # free now

    r = requests.get(f"{url}/{event['id']}", params={"calendar_id": "primary"}, headers=KEY)
    assert r.status_code == 200 and r.json()["data"]["busy"] is False
    r = requests.get(url, params={"calendar_id": "primary", "start": T0 + 10 * HOUR}, headers=KEY)
    assert r.json()["data"] == []  # ends at 10:00: outside the window
    assert requests.delete(f"{url}/{event['id']}", headers=KEY).status_code == 200
    assert_error(requests.get(f"{url}/{event['id']}", headers=KEY), 404, "not_found_error")


def test_booking_and_admin_events_show_in_events_api(emu: Emulator) -> None:
    emu.add_grant(GRANT, email="host@example.com")
    config_id = create_config(emu)
    emu.add_event(GRANT, "primary", T0 + 12 * HOUR, T0 + 13 * HOUR)
    r = requests.post(
        f"{emu.url}/v3/scheduling/bookings",
        params={"configuration_id": config_id},
        json={
            "start_time": T0 + 9 * HOUR,
            "end_time": T0 + 9 * HOUR + 1800,
            "guest": {"name": "G", "email": "g@example.com"},
        },
    )
    assert r.status_code == 200, r.text
    event_id = r.json()["data"]["event_id"]
    r = requests.get(
        f"{emu.url}/v3/grants/{GRANT}/events", params={"calendar_id": "primary"}, headers=KEY
    )
    starts = [(e["id"], e["when"]["start_time"]) for e in r.json()["data"]]
    assert starts[0] == (event_id, T0 + 9 * HOUR)
    assert starts[1][1] == T0 + 12 * HOUR


# --------------------------------------------------------------------------- hosted login


def test_hosted_login_tokens_tokeninfo_and_refresh(emu: Emulator) -> None:
    emu.add_grant(GRANT, email="host@example.com")
    query = authorize(emu)  # the only grant: no login_hint needed
    assert query["state"] == ["xyz"]
    r = exchange(emu, query["code"][0])
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert tokens["grant_id"] == GRANT and tokens["expires_in"] == TOKEN_TTL
    payload = json.loads(base64.urlsafe_b64decode(tokens["id_token"].split(".")[1] + "=="))
    assert (payload["sub"], payload["email"], payload["provider"]) == (
        GRANT,
        "host@example.com",
        "google",
    )
    assert payload["name"]
    r = requests.get(f"{emu.url}/v3/connect/tokeninfo", params={"id_token": tokens["id_token"]})
    assert r.status_code == 200 and r.json()["data"]["sub"] == GRANT

    # the code is single use
    assert_error(exchange(emu, query["code"][0]), 400, "invalid_grant")

    # the access token expires on the emulator clock; refresh gives a working one
    me = f"{emu.url}/v3/grants/me"
    assert requests.get(me, headers=bearer(tokens["access_token"])).status_code == 200
    emu.clock.advance(TOKEN_TTL)
    assert_error(requests.get(me, headers=bearer(tokens["access_token"])), 401, "unauthorized")
    info = f"{emu.url}/v3/connect/tokeninfo"
    assert_error(requests.get(info, params={"id_token": tokens["id_token"]}), 401, "unauthorized")
    r = requests.get(info, params={"access_token": tokens["access_token"]})
    assert_error(r, 401, "unauthorized")
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    r = requests.post(f"{emu.url}/v3/connect/token", json={**refresh, "client_id": "my-app"})
    assert r.status_code == 200, r.text
    fresh = r.json()
    assert fresh["access_token"] != tokens["access_token"]
    assert requests.get(me, headers=bearer(fresh["access_token"])).status_code == 200
    r = requests.get(info, params={"access_token": fresh["access_token"]})
    assert r.status_code == 200 and r.json()["data"]["sub"] == GRANT
    # rotated: the old refresh token is spent
    r = requests.post(f"{emu.url}/v3/connect/token", json=refresh)
    assert_error(r, 400, "invalid_grant")


def test_wrong_pkce_verifier_is_rejected(emu: Emulator) -> None:
    emu.add_grant(GRANT)
    (code,) = authorize(emu)["code"]
    r = exchange(emu, code, verifier="not-the-verifier")
    assert_error(r, 400, "invalid_grant")
    assert "code_verifier" in r.json()["error"]["message"]


def test_rfc7636_challenge_is_accepted_too(emu: Emulator) -> None:
    emu.add_grant(GRANT)
    rfc = _b64url(hashlib.sha256(VERIFIER.encode()).digest())
    (code,) = authorize(emu, code_challenge=rfc)["code"]
    assert exchange(emu, code).status_code == 200


def test_expired_code_is_rejected(emu: Emulator) -> None:
    emu.add_grant(GRANT)
    (code,) = authorize(emu)["code"]
    emu.clock.advance(CODE_TTL)
    r = exchange(emu, code)
    assert_error(r, 400, "invalid_grant")
    assert "expired" in r.json()["error"]["message"]


def test_auth_picks_grant_by_login_hint_or_says_to_pass_it(emu: Emulator) -> None:
    emu.add_grant(GRANT, email="host@example.com")
    emu.add_grant("grant-2", email="other@example.com")
    r = requests.get(
        f"{emu.url}/v3/connect/auth",
        params={"client_id": "a", "redirect_uri": REDIRECT},
        allow_redirects=False,
    )
    assert r.status_code == 400 and "login_hint" in r.text
    assert login(emu, login_hint="grant-2")["grant_id"] == "grant-2"
    assert login(emu, login_hint="host@example.com")["grant_id"] == GRANT
    r = requests.get(
        f"{emu.url}/v3/connect/auth",
        params={"client_id": "a", "redirect_uri": REDIRECT, "login_hint": "nobody@x.org"},
        allow_redirects=False,
    )
    assert r.status_code == 400


def test_token_errors(emu: Emulator) -> None:
    emu.add_grant(GRANT)
    url = f"{emu.url}/v3/connect/token"
    assert_error(requests.post(url, json={"grant_type": "password"}), 400, "invalid_request_error")
    assert_error(
        requests.post(url, json={"grant_type": "authorization_code", "code": "nope"}),
        400,
        "invalid_grant",
    )
    r = requests.get(f"{emu.url}/v3/connect/tokeninfo", params={"id_token": "a.b.c"})
    assert_error(r, 401, "unauthorized")


def test_access_token_works_where_api_keys_are_enforced() -> None:
    with Emulator(strict=True, api_keys=["only-key"]) as strict:
        strict.add_grant(GRANT, email="host@example.com")
        token = login(strict)["access_token"]
        r = requests.get(f"{strict.url}/v3/grants/me/calendars", headers=bearer(token))
        assert r.status_code == 200, r.text
        r = requests.get(f"{strict.url}/v3/grants/{GRANT}/calendars", headers=bearer("nope"))
        assert_error(r, 401, "unauthorized")
        # an access token is not an application credential
        r = requests.get(f"{strict.url}/v3/webhooks", headers=bearer(token))
        assert_error(r, 401, "unauthorized")
