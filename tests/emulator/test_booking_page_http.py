"""HTTP tests (no browser) of the booking-page pieces: CORS, ui-settings, the host page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict

from scheduler_async.booking_ref import parse_booking_ref
from scheduler_async.emulator import FakeClock, Store, create_app
from scheduler_async.emulator.booking_page import (
    BOOKING_PAGE_PATH,
    COMPONENT_FILE,
    DEFAULT_COMPONENT_URL,
    create_booking_page_app,
)
from scheduler_async.emulator.cors import (
    ALLOWED_HEADERS,
    cors_middleware,
    is_cors_middleware,
)
from scheduler_async.emulator.ui_settings import UI_SETTINGS_PATH, build_ui_settings
from scheduler_async.emulator.web_common import FAULTS_KEY

from .support import GRANT, HOUR, KEY, T0, config_body

NOW = T0 + 8 * HOUR  # Monday 2026-01-05 08:00 UTC: the clock of these tests
ORIGIN = "http://127.0.0.1:8123"
PREFLIGHT = {
    "Origin": ORIGIN,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type,x-source,x-nylas-web-elements-version",
}


def build_app(store: Store, allowed_origins: Any = None) -> web.Application:
    """The emulator app: create_app mounts CORS (outermost) and ui-settings itself."""
    app = create_app(store, client_id="app-1", cors_origins=allowed_origins)
    assert is_cors_middleware(app.middlewares[0])
    assert sum(is_cors_middleware(m) for m in app.middlewares) == 1
    return app


Headers = CIMultiDict[str]


class Api:
    def __init__(self, server: TestServer, session: aiohttp.ClientSession, store: Store) -> None:
        self.server, self.session, self.store = server, session, store

    async def call(
        self, method: str, path: str, **kwargs: Any
    ) -> tuple[int, CIMultiDict[str], Any]:
        async with self.session.request(method, self.server.make_url(path), **kwargs) as r:
            text = await r.text()
            body = await r.json() if r.content_type == "application/json" else text
            return r.status, r.headers.copy(), body

    async def config(self, **overrides: Any) -> str:
        path = f"/v3/grants/{GRANT}/scheduling/configurations"
        status, _, body = await self.call(
            "POST", path, json=config_body(host_name="Hanna Host", **overrides), headers=KEY
        )
        assert status == 200, body
        config_id: str = body["data"]["id"]
        return config_id


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    store = Store(FakeClock(NOW))
    store.add_grant(GRANT, email="host@example.com")
    async with TestServer(build_app(store)) as server, aiohttp.ClientSession() as session:
        yield Api(server, session, store)


# --------------------------------------------------------------------------- CORS


@pytest.mark.parametrize(
    "path",
    [
        "/v3/scheduling/availability",
        "/v3/scheduling/bookings",
        "/v3/scheduling/bookings/some-id",
        UI_SETTINGS_PATH,
        "/v3/scheduling/configurations/x/group-events/validate-timeslot",
    ],
)
async def test_preflight_is_answered_on_every_api_route(api: Api, path: str) -> None:
    status, headers, _ = await api.call("OPTIONS", path, headers=PREFLIGHT)
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == "*"
    methods = {m.strip() for m in headers["Access-Control-Allow-Methods"].split(",")}
    assert methods == {"GET", "POST", "PUT", "PATCH", "DELETE"}
    allowed = {h.strip() for h in headers["Access-Control-Allow-Headers"].split(",")}
    assert allowed == {
        "authorization",
        "content-type",
        "x-nylas-application-public-id",
        "x-nylas-web-elements-version",
        "x-source",
    }
    assert set(ALLOWED_HEADERS) == allowed
    assert int(headers["Access-Control-Max-Age"]) > 0


async def test_cors_headers_on_success_and_error_answers(api: Api) -> None:
    config_id = await api.config()
    ok = await api.call(
        "GET", UI_SETTINGS_PATH, params={"configuration_id": config_id}, headers={"Origin": ORIGIN}
    )
    missing = await api.call(
        "GET", UI_SETTINGS_PATH, params={"configuration_id": "nope"}, headers={"Origin": ORIGIN}
    )
    no_route = await api.call("GET", "/v3/nothing-here", headers={"Origin": ORIGIN})
    bad_method = await api.call("PUT", "/v3/scheduling/availability", headers={"Origin": ORIGIN})
    assert [ok[0], missing[0], no_route[0], bad_method[0]] == [200, 404, 404, 405]
    for _, headers, body in (ok, missing, no_route, bad_method):
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert "X-Request-Id" in headers["Access-Control-Expose-Headers"]
        assert headers["X-Request-Id"] == body["request_id"]
    assert missing[2]["error"]["type"] == "not_found_error"


async def test_preflight_is_not_faulted(api: Api) -> None:
    api.server.app[FAULTS_KEY].set_route("*", error_500=1.0)
    status, headers, _ = await api.call("OPTIONS", "/v3/scheduling/bookings", headers=PREFLIGHT)
    assert status == 204
    status, headers, body = await api.call(
        "GET", "/v3/scheduling/availability", headers={"Origin": ORIGIN}
    )
    assert status == 500 and body["error"]["type"] == "internal_error"
    assert headers["Access-Control-Allow-Origin"] == "*"


async def test_allowed_origins_list() -> None:
    store = Store(FakeClock(NOW))
    app = build_app(store, allowed_origins="http://good.test, http://also.test/")
    async with TestServer(app) as server, aiohttp.ClientSession() as session:
        api = Api(server, session, store)
        status, headers, _ = await api.call(
            "OPTIONS",
            "/v3/scheduling/availability",
            headers={
                **PREFLIGHT,
                "Origin": "http://also.test",
                "Access-Control-Request-Private-Network": "true",
            },
        )
        assert status == 204
        assert headers["Access-Control-Allow-Origin"] == "http://also.test"
        assert headers["Vary"] == "Origin"
        assert headers["Access-Control-Allow-Private-Network"] == "true"

        status, headers, _ = await api.call(
            "OPTIONS", "/v3/scheduling/availability", headers={**PREFLIGHT, "Origin": "http://x"}
        )
        assert status == 403
        assert "Access-Control-Allow-Origin" not in headers

        status, headers, _ = await api.call(
            "GET", "/_emulator/health", headers={"Origin": "http://evil.test"}
        )
        assert status == 200 and "Access-Control-Allow-Origin" not in headers
        status, headers, _ = await api.call(
            "GET", "/_emulator/health", headers={"Origin": "http://good.test"}
        )
        assert headers["Access-Control-Allow-Origin"] == "http://good.test"


def test_cors_middleware_is_recognisable() -> None:
    assert is_cors_middleware(cors_middleware())
    assert is_cors_middleware(cors_middleware(["*"]))
    assert not is_cors_middleware(lambda request, handler: None)


# --------------------------------------------------------------------------- ui-settings


async def test_ui_settings_public_configuration(api: Api) -> None:
    config_id = await api.config(
        name="Meet Hanna",
        slug="meet-hanna",
        appearance={"color": "#0b57d0", "submit_button_label": "Go"},
        event_booking={"title": "Intro call", "booking_type": "organizer-confirmation"},
        scheduler={
            "available_days_in_future": 14,
            "min_booking_notice": 120,
            "min_cancellation_notice": 30,
            "cancellation_policy": "No refunds.",
            "hide_additional_guests": True,
            "additional_fields": {
                "company": {"label": "Company", "type": "text", "required": False, "order": 1}
            },
        },
    )
    status, headers, body = await api.call(
        "GET", UI_SETTINGS_PATH, params={"configuration_id": config_id}
    )
    assert status == 200, body
    assert headers["X-Request-Id"] == body["request_id"]
    assert body["data"] == {
        "app_client_id": "app-1",
        "configuration_id": config_id,
        "name": "Meet Hanna",
        "slug": "meet-hanna",
        "booking_type": "organizer-confirmation",
        "appearance": {"color": "#0b57d0", "submit_button_label": "Go"},
        "organizer": {"name": "Hanna Host", "email": "host@example.com"},
        "scheduler": {
            "available_days_in_future": 14,
            "min_booking_notice": 120,
            "min_cancellation_notice": 30,
            "cancellation_policy": "No refunds.",
            "hide_additional_guests": True,
            "additional_fields": {
                "company": {"label": "Company", "type": "text", "required": False, "order": 1}
            },
        },
    }


async def test_ui_settings_auth_matches_availability(api: Api) -> None:
    public = await api.config(slug="pub")
    private = await api.config(slug="priv", requires_session_auth=True)
    status, _, session = await api.call(
        "POST", "/v3/scheduling/sessions", json={"configuration_id": private}, headers=KEY
    )
    assert status == 200
    bearer = {"Authorization": f"Bearer {session['data']['session_id']}"}

    async def get(params: dict[str, str], headers: dict[str, str] | None = None) -> Any:
        return await api.call("GET", UI_SETTINGS_PATH, params=params, headers=headers or {})

    status, _, body = await get({"slug": "pub", "client_id": "app-1"})
    assert (status, body["data"]["configuration_id"]) == (200, public)
    status, _, body = await get({}, bearer)
    assert (status, body["data"]["configuration_id"]) == (200, private)
    status, _, body = await get({"configuration_id": private})
    assert (status, body["error"]["type"]) == (401, "unauthorized")
    status, _, body = await get({"slug": "pub", "client_id": "another-app"})
    assert (status, body["error"]["type"]) == (404, "not_found_error")
    status, _, body = await get({})
    assert status == 401
    status, _, body = await get({"configuration_id": public}, bearer)
    assert (status, body["error"]["type"]) == (403, "forbidden")


async def test_ui_settings_with_booking_id_prefills_the_booking(api: Api) -> None:
    config_id = await api.config()
    other = await api.config()
    status, _, created = await api.call(
        "POST",
        "/v3/scheduling/bookings",
        params={"configuration_id": config_id},
        json={
            "start_time": NOW + 2 * HOUR,
            "end_time": NOW + 2 * HOUR + 1800,
            "guest": {"name": "Gina", "email": "gina@example.com"},
            "additional_guests": [{"name": "al@example.com", "email": "al@example.com"}],
            "additional_fields": {"company": "Acme"},
            "timezone": "Europe/Berlin",
            "email_language": "de",
        },
    )
    assert status == 200, created
    booking_id = created["data"]["booking_id"]
    status, _, body = await api.call(
        "GET", UI_SETTINGS_PATH, params={"configuration_id": config_id, "booking_id": booking_id}
    )
    assert status == 200, body
    assert body["data"]["booking"] == {
        "guest": {"name": "Gina", "email": "gina@example.com"},
        "additional_guests": [{"name": "al@example.com", "email": "al@example.com"}],
        "additional_fields": {"company": "Acme"},
        "timezone": "Europe/Berlin",
        "email_language": "de",
        "event_data": {
            "location": "",
            "when": {
                "object": "timespan",
                "start_time": NOW + 2 * HOUR,
                "end_time": NOW + 2 * HOUR + 1800,
                "start_timezone": "Europe/Berlin",
                "end_timezone": "Europe/Berlin",
            },
        },
        "event_organizer": {
            "name": "Hanna Host",
            "email": "host@example.com",
            "is_organizer": True,
        },
    }
    salt = api.store.booking_salt(booking_id)
    assert salt not in str(body)  # the organizer's confirm/decline secret is never exposed

    status, _, body = await api.call(
        "GET", UI_SETTINGS_PATH, params={"configuration_id": other, "booking_id": booking_id}
    )
    assert (status, body["error"]["type"]) == (404, "not_found_error")


def test_build_ui_settings_round_robin_organizer_falls_back_to_the_grant() -> None:
    store = Store(FakeClock(NOW))
    grant = store.add_grant(GRANT, email="owner@example.com")
    stored = store.create_configuration(
        GRANT,
        config_body(
            host_name="Hanna Host",
            participants=[
                {"email": "a@example.com", "name": "A"},
                {"email": "owner@example.com", "name": "Olga Owner"},
            ],
            availability={
                "duration_minutes": 30,
                "availability_rules": {"availability_method": "max-fairness"},
            },
        ),
    )
    data = build_ui_settings(stored, client_id="c", grant=grant)
    assert data["organizer"] == {"name": "Olga Owner", "email": "owner@example.com"}
    assert data["name"] == "Intro call"  # no configuration name: the event title
    assert (data["booking_type"], data["appearance"], data["slug"]) == ("booking", {}, None)
    assert "booking" not in data


# --------------------------------------------------------------------------- host page


async def test_booking_page_serves_the_component_from_a_directory(tmp_path: Path) -> None:
    (tmp_path / COMPONENT_FILE).write_text("export function defineCustomElement() {}\n")
    app = create_booking_page_app(component_dir=tmp_path, api_url="http://127.0.0.1:9999")
    async with TestServer(app) as server, aiohttp.ClientSession() as session:
        params = {"configuration_id": "cfg-1", "slug": "</script><b>x", "unknown": "ignored"}
        async with session.get(server.make_url(BOOKING_PAGE_PATH), params=params) as r:
            assert r.status == 200 and r.content_type == "text/html"
            page = await r.text()
        script = f"{BOOKING_PAGE_PATH}/assets/{COMPONENT_FILE}"
        assert f'"componentUrl":"{script}"' in page
        assert '"apiUrl":"http://127.0.0.1:9999"' in page
        assert '"configuration-id":"cfg-1"' in page
        assert "</script><b>" not in page and "\\u003c/script\\u003e\\u003cb\\u003ex" in page
        assert "ignored" not in page
        async with session.get(server.make_url(script)) as r:
            assert r.status == 200
            assert "defineCustomElement" in await r.text()


async def test_booking_page_defaults_to_the_public_cdn() -> None:
    async with (
        TestServer(create_booking_page_app()) as server,
        aiohttp.ClientSession() as session,
        session.get(server.make_url(BOOKING_PAGE_PATH)) as r,
    ):
        page = await r.text()
    assert f'"componentUrl":"{DEFAULT_COMPONENT_URL}"' in page
    assert '"apiUrl":null' in page  # the page's own origin
    assert DEFAULT_COMPONENT_URL.endswith("@2.6.0/dist/cdn/nylas-scheduling/nylas-scheduling.es.js")


def test_booking_page_refuses_a_directory_without_the_bundle(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=COMPONENT_FILE):
        create_booking_page_app(component_dir=tmp_path)


# ------------------------------------------------------------------ what the component sends
# scheduler-api-more.md §3.5 (web-elements 2.6.0 bodies); issue 13 items 3-5.


async def test_component_create_body_with_korean_is_accepted(api: Api) -> None:
    config_id = await api.config()
    status, _, body = await api.call(
        "POST",
        "/v3/scheduling/bookings",
        params={"configuration_id": config_id},
        json={
            "additional_fields": {},
            "additional_guests": [{"name": "al@example.com", "email": "al@example.com"}],
            "guest": {"name": "Gina", "email": "gina@example.com"},
            "start_time": NOW + 2 * HOUR,
            "end_time": NOW + 2 * HOUR + 1800,
            "timezone": "Asia/Seoul",
            "email_language": "ko",
        },
    )
    assert status == 200, body
    stored = api.store.bookings[body["data"]["booking_id"]]
    assert (stored.email_language, stored.timezone) == ("ko", "Asia/Seoul")
    assert stored.additional_guests == [{"name": "al@example.com", "email": "al@example.com"}]


async def test_create_and_get_answer_with_booking_ref(api: Api) -> None:
    config_id = await api.config()
    status, _, created = await api.call(
        "POST",
        "/v3/scheduling/bookings",
        params={"configuration_id": config_id},
        json={
            "start_time": NOW + 2 * HOUR,
            "end_time": NOW + 2 * HOUR + 1800,
            "guest": {"name": "Gina", "email": "gina@example.com"},
        },
    )
    assert status == 200, created
    booking_id = created["data"]["booking_id"]
    status, _, got = await api.call(
        "GET", f"/v3/scheduling/bookings/{booking_id}", params={"configuration_id": config_id}
    )
    reference = api.store.booking_reference(booking_id)
    assert created["data"].get("booking_ref") == reference
    assert got["data"].get("booking_ref") == reference

    parsed = parse_booking_ref(reference)
    assert (parsed.configuration_id, parsed.booking_id) == (config_id, booking_id)
    assert parsed.salt == api.store.booking_salt(booking_id)


async def test_slot_taken_is_timeslot_not_available_with_the_component_prefix(api: Api) -> None:
    config_id = await api.config()
    body = {
        "start_time": NOW + 2 * HOUR,
        "end_time": NOW + 2 * HOUR + 1800,
        "guest": {"name": "Gina", "email": "gina@example.com"},
    }
    q = {"configuration_id": config_id}
    status, _, first = await api.call("POST", "/v3/scheduling/bookings", params=q, json=body)
    assert status == 200, first
    status, headers, again = await api.call("POST", "/v3/scheduling/bookings", params=q, json=body)
    assert (status, again["error"]["type"]) == (409, "timeslot_not_available")
    assert again["error"]["message"].startswith("The selected timeslot is unavailable")
    assert headers["Access-Control-Allow-Origin"] == "*"  # errors carry CORS headers too
    # not a slot at all (off the 30-minute grid): still a plain 400
    off_grid = {**body, "start_time": NOW + 2 * HOUR + 600, "end_time": NOW + 2 * HOUR + 2400}
    status, _, bad = await api.call("POST", "/v3/scheduling/bookings", params=q, json=off_grid)
    assert (status, bad["error"]["type"]) == (400, "invalid_request_error")


async def test_expired_and_deleted_sessions_are_invalid_session(api: Api) -> None:
    config_id = await api.config(requires_session_auth=True)
    status, _, created = await api.call(
        "POST",
        "/v3/scheduling/sessions",
        json={"configuration_id": config_id, "time_to_live": 1},
        headers=KEY,
    )
    assert status == 200, created
    bearer = {"Authorization": f"Bearer {created['data']['session_id']}"}
    status, _, body = await api.call("GET", UI_SETTINGS_PATH, headers=bearer)
    assert status == 200, body
    api.store.clock.advance(60)  # type: ignore[attr-defined]
    status, _, body = await api.call("GET", UI_SETTINGS_PATH, headers=bearer)
    assert (status, body["error"]["type"]) == (401, "invalid_session")


async def test_round_robin_reschedule_moves_to_the_host_in_participants(api: Api) -> None:
    for i, email in enumerate(("ana@example.com", "ben@example.com")):
        api.store.add_grant(f"grant-rr-{i}", email=email)
    participants = [
        {
            "email": email,
            "grant_id": f"grant-rr-{i}",
            "availability": {"calendar_ids": ["primary"]},
            "booking": {"calendar_id": "primary"},
        }
        for i, email in enumerate(("ana@example.com", "ben@example.com"))
    ]
    config_id = await api.config(
        participants=participants,
        availability={
            "duration_minutes": 30,
            "availability_rules": {"availability_method": "max-fairness"},
        },
    )
    q = {"configuration_id": config_id}
    status, _, created = await api.call(
        "POST",
        "/v3/scheduling/bookings",
        params=q,
        json={
            "participants": [{"email": "ana@example.com"}],
            "start_time": NOW + 2 * HOUR,
            "end_time": NOW + 2 * HOUR + 1800,
            "guest": {"name": "Gina", "email": "gina@example.com"},
            "timezone": "UTC",
        },
    )
    assert status == 200, created
    booking_id = created["data"]["booking_id"]
    assert api.store.bookings[booking_id].organizer_email == "ana@example.com"
    # Ana is busy at the new time; the page sends the first free host of the slot (Ben)
    api.store.add_event("grant-rr-0", "primary", NOW + 4 * HOUR, NOW + 5 * HOUR)
    status, _, moved = await api.call(
        "PATCH",
        f"/v3/scheduling/bookings/{booking_id}",
        params=q,
        json={
            "participants": [{"email": "ben@example.com"}],
            "start_time": NOW + 4 * HOUR,
            "end_time": NOW + 4 * HOUR + 1800,
            "timezone": "Europe/Berlin",
            "email_language": "ko",
            "guest": {"name": "Gina", "email": "gina@example.com"},
        },
    )
    assert status == 200, moved
    booking = api.store.bookings[booking_id]
    assert (booking.organizer_email, booking.grant_id) == ("ben@example.com", "grant-rr-1")
    assert (booking.start_time, booking.timezone, booking.email_language) == (
        NOW + 4 * HOUR,
        "Europe/Berlin",
        "ko",
    )
    assert [e.status for e in api.store.events_on("grant-rr-0", "primary") if e.booking_id] == []
    (event,) = [e for e in api.store.events_on("grant-rr-1", "primary") if e.booking_id]
    assert event.start_time == NOW + 4 * HOUR


async def test_cancel_body_of_the_component_is_accepted(api: Api) -> None:
    config_id = await api.config()
    q = {"configuration_id": config_id}
    status, _, created = await api.call(
        "POST",
        "/v3/scheduling/bookings",
        params=q,
        json={
            "start_time": NOW + 2 * HOUR,
            "end_time": NOW + 2 * HOUR + 1800,
            "guest": {"name": "Gina", "email": "gina@example.com"},
        },
    )
    booking_id = created["data"]["booking_id"]
    status, _, body = await api.call(
        "DELETE",
        f"/v3/scheduling/bookings/{booking_id}",
        params=q,
        json={"action": "cancel", "cancellation_reason": "Busy"},
    )
    assert status == 200, body
    cancelled = api.store.bookings[booking_id]
    assert (cancelled.deleted, cancelled.cancellation_reason) == (True, "Busy")


def test_cli_booking_page_seeds_a_demo_and_prints_working_urls(tmp_path: Path) -> None:
    import requests

    from scheduler_async.__main__ import _booking_page_lines
    from scheduler_async.emulator import Emulator

    (tmp_path / COMPONENT_FILE).write_text("export function defineCustomElement() {}\n")
    with Emulator(
        booking_page=True, web_elements_dir=tmp_path, cors_origins=["http://page.test"]
    ) as emu:
        lines = _booking_page_lines(emu, None)
        assert [line.split(": ", 1)[0] for line in lines] == ["booking page", "booking page (slug)"]
        for line in lines:
            url = line.split(": ", 1)[1]
            page = requests.get(url)
            assert page.status_code == 200 and "nylas-scheduling" in page.text
            query = url.split("?", 1)[1]
            settings = requests.get(f"{emu.url}{UI_SETTINGS_PATH}?{query}")
            assert settings.json()["data"]["name"] == "Intro call (emulator demo)"
        asset = requests.get(f"{emu.url}{BOOKING_PAGE_PATH}/assets/{COMPONENT_FILE}")
        assert asset.status_code == 200
        # the configured origin only
        preflight = {**PREFLIGHT, "Origin": "http://page.test"}
        ok = requests.options(f"{emu.url}/v3/scheduling/availability", headers=preflight)
        assert ok.status_code == 204
        assert ok.headers["Access-Control-Allow-Origin"] == "http://page.test"
        refused = requests.options(f"{emu.url}/v3/scheduling/availability", headers=PREFLIGHT)
        assert refused.status_code == 403
        assert _booking_page_lines(emu, "abc") == [
            f"booking page: {emu.url}{BOOKING_PAGE_PATH}?configuration_id=abc"
        ]
