"""Constants and seeding helpers shared by the browser tests and their fixtures."""

from __future__ import annotations

import os
from typing import Any

import pytest
import requests

from scheduler_async.emulator import Emulator
from tests.helpers import HOUR, T0, config_body

COMPONENT_VERSION = "2.6.0"
NOW = T0 + 8 * HOUR  # Monday 2026-01-05 08:00:00 UTC: the browser emulator's frozen clock
API_KEY = {"Authorization": "Bearer browser-test-key"}
GRANT = "grant-browser"
HOST_EMAIL = "host@example.com"


def require(condition: bool, reason: str, *, module: bool = False) -> None:
    """Skip with ``reason`` unless ``condition``; fail instead under SCHEDULER_REQUIRE_SERVERS=1."""
    if condition:
        return
    if os.environ.get("SCHEDULER_REQUIRE_SERVERS") == "1":
        pytest.fail(f"{reason} (SCHEDULER_REQUIRE_SERVERS=1: required here)", pytrace=False)
    pytest.skip(reason, allow_module_level=module)


def create_configuration(emu: Emulator, **overrides: Any) -> str:
    """A public configuration on ``GRANT`` (09:00-17:00 UTC weekdays, 30 min); returns its id."""
    body = config_body(
        host_name="Hanna Host",
        name="Intro call with Host",
        availability={
            "duration_minutes": 30,
            "availability_rules": {
                "default_open_hours": [
                    {"days": [1, 2, 3, 4, 5], "timezone": "UTC", "start": "09:00", "end": "17:00"}
                ]
            },
        },
        scheduler={"min_booking_notice": 60, "available_days_in_future": 14},
    )
    body.update(overrides)
    r = requests.post(
        f"{emu.url}/v3/grants/{GRANT}/scheduling/configurations", json=body, headers=API_KEY
    )
    assert r.status_code == 200, r.text
    config_id: str = r.json()["data"]["id"]
    return config_id
