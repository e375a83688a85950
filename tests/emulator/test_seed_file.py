"""Seed files (``--seed-file``) and ``GET /_emulator/export``: the same API-shaped format."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from scheduler_async.emulator import Emulator, FakeClock
from scheduler_async.emulator.seed import SeedError

from .persist_support import CFGS, build_world, receiver
from .support import DAY, GRANT, HOUR, KEY, T0, config_body

CONFIG_ID = "0b6a1cf0-8b0e-4c59-9d7c-4e1f9d2b8a11"


def _world() -> dict[str, Any]:
    return {
        "grants": [
            {
                "id": GRANT,
                "email": "host@example.com",
                "calendars": [{"id": "primary", "is_primary": True}, {"id": "work"}],
            }
        ],
        "events": [
            {
                "id": "dentist",
                "grant_id": GRANT,
                "calendar_id": "primary",
                "title": "Dentist",
                "when": {"start_time": T0 + DAY + 9 * HOUR, "end_time": T0 + DAY + 10 * HOUR},
            }
        ],
        "configurations": [{"id": CONFIG_ID, "grant_id": GRANT, **config_body(slug="intro")}],
        "webhooks": [
            {
                "id": "hook-1",
                "webhook_url": "http://127.0.0.1:9/hook",
                "trigger_types": ["booking.created"],
                "webhook_secret": "s3cret-s3cret",
            }
        ],
    }


def _export(emu: Emulator) -> Any:
    r = requests.get(f"{emu.url}/_emulator/export")
    assert r.status_code == 200, r.text
    return r.json()


def test_a_seed_file_is_served_as_the_api_shows_it(tmp_path: Path) -> None:
    path = tmp_path / "world.json"
    path.write_text(json.dumps(_world()))
    with Emulator(clock=FakeClock(T0), seed_file=path) as emu:
        r = requests.get(f"{emu.url}{CFGS}/{CONFIG_ID}", headers=KEY)
        assert r.status_code == 200 and r.json()["data"]["slug"] == "intro"
        r = requests.get(f"{emu.url}/v3/grants/{GRANT}/calendars", headers=KEY)
        assert [c["id"] for c in r.json()["data"]] == ["primary", "work"]
        window = {"start_time": T0 + DAY + 9 * HOUR, "end_time": T0 + DAY + 11 * HOUR}
        r = requests.get(
            f"{emu.url}/v3/scheduling/availability",
            params={"configuration_id": CONFIG_ID, **window},
        )
        starts = [s["start_time"] for s in r.json()["data"]["time_slots"]]
        assert starts == [T0 + DAY + 10 * HOUR, T0 + DAY + 10 * HOUR + 1800]  # the busy event
        assert emu.webhooks.get("hook-1").secret == "s3cret-s3cret"


def test_export_then_seed_round_trips(emu: Emulator, tmp_path: Path) -> None:
    with receiver() as hook:
        build_world(emu, hook.url)
    exported = _export(emu)
    assert all(exported[k] for k in ("grants", "events", "configurations", "webhooks"))
    path = tmp_path / "world.json"
    path.write_text(json.dumps(exported))
    with Emulator(clock=FakeClock(T0), seed_file=path) as again:
        assert _export(again) == exported


def test_the_cli_loads_a_seed_file_and_names_errors(tmp_path: Path) -> None:
    world = _world()
    world["configurations"][0]["availability"] = {"duration_minutes": "thirty"}
    path = tmp_path / "world.json"
    path.write_text(json.dumps(world))
    cmd = [sys.executable, "-m", "scheduler_async", "emulator", "--port", "0"]
    done = subprocess.run(
        [*cmd, "--seed-file", str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert f"{path}: configurations[0]: " in done.stderr and "duration_minutes" in done.stderr


@pytest.mark.parametrize(
    ("change", "where", "field"),
    [
        (lambda w: w["grants"][0].pop("id"), "grants[0]", "id"),
        (
            lambda w: w["grants"][0]["calendars"].append({"name": "x"}),
            "grants[0].calendars[2]",
            "id",
        ),
        (lambda w: w["events"][0]["when"].update(end_time="soon"), "events[0].when", "end_time"),
        (lambda w: w["events"][0].update(grant_id="nobody"), "events[0]", "grant_id"),
        (lambda w: w["configurations"][0].update(id="not-a-uuid"), "configurations[0]", "id"),
        (lambda w: w["configurations"][0].pop("participants"), "configurations[0]", "participants"),
        (lambda w: w["webhooks"][0].update(webhook_url="ftp://x"), "webhooks[0]", "webhook_url"),
        (lambda w: w.update(bookings=[]), "world.json", "bookings"),
        (lambda w: w.update(events={"id": "x"}), "events", "must be an array"),
    ],
)
def test_seed_errors_name_the_file_the_place_and_the_field(
    tmp_path: Path, change: Any, where: str, field: str
) -> None:
    world = _world()
    change(world)
    path = tmp_path / "world.json"
    path.write_text(json.dumps(world))
    with pytest.raises(SeedError) as info:
        Emulator(seed_file=path)
    message = str(info.value)
    assert message.startswith(str(path)) and where in message and field in message, message


def test_a_seed_file_that_is_not_json_is_named(tmp_path: Path) -> None:
    path = tmp_path / "world.json"
    path.write_text("{oops")
    with pytest.raises(SeedError, match=r"world\.json: not valid JSON"):
        Emulator(seed_file=path)
    with pytest.raises(SeedError, match=r"missing\.json: cannot read"):
        Emulator(seed_file=tmp_path / "missing.json")


def test_with_a_state_file_the_seed_applies_only_to_a_new_one(tmp_path: Path) -> None:
    path = tmp_path / "world.json"
    path.write_text(json.dumps(_world()))
    state = tmp_path / "state.db"
    with Emulator(clock=FakeClock(T0), state_path=state, seed_file=path) as emu:
        r = requests.delete(f"{emu.url}{CFGS}/{CONFIG_ID}", headers=KEY)
        assert r.status_code == 200
    with Emulator(clock=FakeClock(T0), state_path=state, seed_file=path) as emu:
        assert CONFIG_ID not in emu.store.configurations  # the file's state wins
