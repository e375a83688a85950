"""The emulator's one integer parser: plain ASCII digits or a 400, on every integer parameter."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from scheduler_async.emulator import Emulator, EmulatorError
from scheduler_async.emulator.validation import parse_int

from .support import DAY, GRANT, KEY, T0, assert_error, create_config

CFGS = f"/v3/grants/{GRANT}/scheduling/configurations"

#: Strings ``int()`` or ``str.isdigit()`` accept (or half-accept) that are not plain digits:
#: superscript two, Arabic-Indic twelve, ...
NOT_PLAIN = ["\u00b2", "\u0661\u0662", "1_000", " 7", "7 ", "+7", "0x1f", "1e3", "7.0", "", "-"]


def _routes(emu: Emulator) -> dict[str, tuple[str, dict[str, Any]]]:
    """Route name -> (path, a valid query), one per endpoint taking integer query parameters."""
    standard = create_config(emu)
    body = {"type": "group", "group_booking": {"calendar_id": "primary"}}
    group = requests.post(emu.url + CFGS, json=body, headers=KEY).json()["data"]["id"]
    window = {"start_time": str(T0 + DAY), "end_time": str(T0 + 2 * DAY)}
    return {
        "configurations": (CFGS, {"limit": "5"}),
        "availability": ("/v3/scheduling/availability", {"configuration_id": standard, **window}),
        "group-events": (
            f"{CFGS}/{group}/group-events",
            {**window, "limit": "2", "page_token": "0"},
        ),
    }


PARAMS = [
    ("configurations", "limit"),
    ("availability", "start_time"),
    ("availability", "end_time"),
    ("group-events", "start_time"),
    ("group-events", "end_time"),
    ("group-events", "limit"),
    ("group-events", "page_token"),
]


@pytest.mark.parametrize(("route", "param"), PARAMS)
def test_integer_query_parameters_are_plain_digits_or_400(
    emu: Emulator, route: str, param: str
) -> None:
    path, query = _routes(emu)[route]
    assert requests.get(emu.url + path, params=query, headers=KEY).status_code == 200
    for bad in NOT_PLAIN:
        if bad == "" and param not in ("start_time", "end_time"):
            continue  # an empty optional parameter means "not given"
        r = requests.get(emu.url + path, params={**query, param: bad}, headers=KEY)
        body = assert_error(r, 400, "invalid_request_error")
        assert param in body["error"]["message"], (bad, body)


def test_group_events_page_token_superscript_is_400_not_500(emu: Emulator) -> None:
    path, query = _routes(emu)["group-events"]
    r = requests.get(emu.url + path, params={**query, "page_token": "\u00b2"}, headers=KEY)
    assert_error(r, 400, "invalid_request_error")


def test_integer_body_fields_are_plain_digits_or_400(emu: Emulator) -> None:
    config_id = create_config(emu)
    for bad in ("\u0661", "1_0", " 5"):
        r = requests.post(
            f"{emu.url}/v3/scheduling/sessions",
            json={"configuration_id": config_id, "time_to_live": bad},
            headers=KEY,
        )
        assert_error(r, 400, "invalid_request_error")
    r = requests.post(
        f"{emu.url}/v3/scheduling/sessions",
        json={"configuration_id": config_id, "time_to_live": "10"},
        headers=KEY,
    )
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("value", "expected"), [(7, 7), (-3, -3), (1.7e9, 1_700_000_000), ("42", 42), ("-5", -5)]
)
def test_parse_int_accepts(value: Any, expected: int) -> None:
    assert parse_int(value, "n") == expected


@pytest.mark.parametrize("value", [*NOT_PLAIN, True, None, 1.5, float("nan"), [], "9" * 31])
def test_parse_int_refuses(value: Any) -> None:
    with pytest.raises(EmulatorError, match="n must be an integer") as info:
        parse_int(value, "n")
    assert info.value.status == 400


@pytest.mark.parametrize("value", ["7", 7.0])
def test_parse_int_strict_takes_json_integers_only(value: Any) -> None:
    assert parse_int(7, "n", strict=True) == 7
    with pytest.raises(EmulatorError):
        parse_int(value, "n", strict=True)
