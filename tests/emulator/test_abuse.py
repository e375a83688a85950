"""The emulator under abuse (issue 10 items 10-12): hostile bodies, huge horizons and windows,
far-future times, foreign content types, and long computations kept off the event loop."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
import requests

from scheduler_async.emulator import Emulator, Store
from scheduler_async.emulator.validation import (
    MAX_AVAILABILITY_WINDOW_DAYS,
    MAX_AVAILABLE_DAYS_IN_FUTURE,
    MAX_SLOT_STARTS,
    MAX_TIMESTAMP,
)
from scheduler_async.emulator.web_common import MAX_JSON_DEPTH

from .support import (
    BOOKING,
    DAY,
    GRANT,
    HOUR,
    KEY,
    T0,
    assert_error,
    config_body,
    create_config,
)


def configs_url(emu: Emulator) -> str:
    return f"{emu.url}/v3/grants/{GRANT}/scheduling/configurations"


def availability(emu: Emulator, config_id: str, start: Any, end: Any) -> requests.Response:
    return requests.get(
        f"{emu.url}/v3/scheduling/availability",
        params={"configuration_id": config_id, "start_time": start, "end_time": end},
    )


# --------------------------------------------------------------------------- item 10: nesting


@pytest.mark.parametrize("depth", [100_000, MAX_JSON_DEPTH + 1])
def test_deeply_nested_body_is_400(emu: Emulator, depth: int) -> None:
    body = '{"name": ' + "[" * depth + "]" * depth + "}"
    r = requests.post(
        configs_url(emu), data=body, headers={**KEY, "Content-Type": "application/json"}
    )
    message = assert_error(r, 400, "invalid_request_error")["error"]["message"]
    assert "body" in message
    assert emu.store.configurations == {}


def test_nesting_up_to_the_limit_is_accepted(emu: Emulator) -> None:
    depth = MAX_JSON_DEPTH - 1  # the body object itself is one level
    nested: Any = []
    for _ in range(depth - 1):
        nested = [nested]
    r = requests.post(configs_url(emu), json=config_body(metadata=nested), headers=KEY)
    assert r.status_code == 200, r.text


# --------------------------------------------------------------------------- item 11: limits


@pytest.mark.parametrize("days", [MAX_AVAILABLE_DAYS_IN_FUTURE + 1, 10_000_000])
def test_available_days_in_future_is_bounded(emu: Emulator, days: int) -> None:
    body = config_body(scheduler={"available_days_in_future": days})
    r = requests.post(configs_url(emu), json=body, headers=KEY)
    message = assert_error(r, 400, "invalid_request_error")["error"]["message"]
    assert "available_days_in_future" in message
    body = config_body(scheduler={"available_days_in_future": MAX_AVAILABLE_DAYS_IN_FUTURE})
    assert requests.post(configs_url(emu), json=body, headers=KEY).status_code == 200


def test_availability_window_is_bounded(emu: Emulator) -> None:
    config_id = create_config(emu)
    limit = MAX_AVAILABILITY_WINDOW_DAYS * DAY
    assert availability(emu, config_id, T0, T0 + limit).status_code == 200
    r = availability(emu, config_id, T0, T0 + limit + 1)
    message = assert_error(r, 400, "invalid_request_error")["error"]["message"]
    assert f"{MAX_AVAILABILITY_WINDOW_DAYS} days" in message
    r = availability(emu, config_id, T0, T0 + 10 * 365 * DAY)
    assert_error(r, 400, "invalid_request_error")


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (MAX_TIMESTAMP + 1, MAX_TIMESTAMP + HOUR),
        (253_402_300_800, 253_402_300_800 + DAY),  # year 10000
        (10**15, 10**15 + DAY),
        (-(10**12), -(10**12) + DAY),
    ],
)
def test_far_away_availability_ranges_are_400(emu: Emulator, start: int, end: int) -> None:
    config_id = create_config(emu)
    message = assert_error(availability(emu, config_id, start, end), 400, "invalid_request_error")
    assert "start_time" in message["error"]["message"]


def test_far_future_booking_is_400(emu: Emulator) -> None:
    config_id = create_config(emu)
    body = {**BOOKING, "start_time": 253_402_300_800, "end_time": 253_402_300_800 + 1800}
    r = requests.post(
        f"{emu.url}/v3/scheduling/bookings", params={"configuration_id": config_id}, json=body
    )
    assert_error(r, 400, "invalid_request_error")
    assert emu.store.bookings == {}


def test_store_applies_the_same_window_limit(store: Store) -> None:
    stored = store.create_configuration("g", config_body())
    with pytest.raises(Exception, match="62 days") as exc:
        store.availability(stored.configuration_id, T0, T0 + 63 * DAY)
    assert getattr(exc.value, "status", None) == 400


def test_long_windows_are_computed_off_the_event_loop(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Evidence, not timing: which thread ran each computation (the emulator's loop thread
    answers short windows; a long window runs on a worker thread, leaving the loop free)."""
    config_id = create_config(emu)
    threads: list[threading.Thread] = []
    real = emu.store.availability

    def recording(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(emu.store, "availability", recording)
    short = availability(emu, config_id, T0, T0 + DAY)
    long = availability(emu, config_id, T0, T0 + 30 * DAY)
    assert short.status_code == long.status_code == 200
    assert long.json()["data"]["time_slots"][:2] == short.json()["data"]["time_slots"][:2]
    # Encoded in chunks off the loop, yet byte for byte the usual compact JSON envelope.
    expected = {
        "request_id": long.json()["request_id"],
        "data": real(config_id, T0, T0 + 30 * DAY).to_json(),
    }
    assert len(expected["data"]["time_slots"]) > 500
    assert long.content == json.dumps(expected, separators=(",", ":")).encode()
    loop_thread, worker = threads
    assert emu._thread is loop_thread
    assert worker is not loop_thread


# --------------------------------------------------------------------------- item 12: content type


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_non_json_content_type_is_400(emu: Emulator, content_type: str) -> None:

    r = requests.post(
        configs_url(emu),
        data=json.dumps(config_body()),
        headers={**KEY, "Content-Type": content_type},
    )
    message = assert_error(r, 400, "invalid_request_error")["error"]["message"]
    assert content_type in message
    assert emu.store.configurations == {}


def test_form_encoded_booking_is_400(emu: Emulator) -> None:
    config_id = create_config(emu)
    r = requests.post(
        f"{emu.url}/v3/scheduling/bookings",
        params={"configuration_id": config_id},
        data={"start_time": BOOKING["start_time"], "end_time": BOOKING["end_time"]},
    )
    message = assert_error(r, 400, "invalid_request_error")["error"]["message"]
    assert "application/x-www-form-urlencoded" in message


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/json; charset=utf-8"},
        {"Content-Type": "application/vnd.scheduler+json"},
        {},  # no Content-Type at all: parsed as JSON
    ],
)
def test_json_content_types_are_accepted(emu: Emulator, headers: dict[str, str]) -> None:

    session = requests.Session()
    request = requests.Request(
        "POST", configs_url(emu), data=json.dumps(config_body()), headers={**KEY, **headers}
    ).prepare()
    if not headers:
        request.headers.pop("Content-Type", None)
    r = session.send(request)
    session.close()
    assert r.status_code == 200, r.text


def test_empty_body_ignores_content_type(emu: Emulator) -> None:
    """DELETE without a body (optional body) passes whatever the Content-Type says."""
    config_id = create_config(emu)
    booking = requests.post(
        f"{emu.url}/v3/scheduling/bookings", params={"configuration_id": config_id}, json=BOOKING
    ).json()["data"]
    r = requests.delete(
        f"{emu.url}/v3/scheduling/bookings/{booking['booking_id']}",
        params={"configuration_id": config_id},
        headers={"Content-Type": "text/plain"},
    )
    assert r.status_code == 200, r.text


def test_slot_starts_per_query_are_bounded(emu: Emulator) -> None:
    config_id = create_config(emu, availability={"duration_minutes": 1})
    # 1-minute grid: 20,000 starts is just under 14 days.
    assert availability(emu, config_id, T0, T0 + MAX_SLOT_STARTS * 60).status_code == 200
    r = availability(emu, config_id, T0, T0 + 14 * DAY)
    message = assert_error(r, 400, "invalid_request_error")["error"]["message"]
    assert "slot starts" in message
