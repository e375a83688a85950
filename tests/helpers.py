"""Shared test helpers: times, wire constants and JSON bodies, request inspection, builders.

Fixtures live in ``conftest.py``; plain functions and constants live here (import them).
"""

from __future__ import annotations

import inspect
import json
import types
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aioresponses import CallbackResult, aioresponses
from aioresponses.compat import normalize_url
from yarl import URL

from scheduler_async import (
    AvailabilityRules,
    ConfigurationAvailability,
    ConfigurationParticipant,
    EventBooking,
    OpenHours,
    ParticipantAvailability,
    ParticipantBooking,
)

# -- times -------------------------------------------------------------------------------------
HOUR = 3600
DAY = 86_400
T0 = 1_767_571_200  # Monday 2026-01-05 00:00:00 UTC: the emulator's clock in emulator tests


# -- unit tests against aioresponses ------------------------------------------------------------
BASE = "https://api.test"
KEY = "nyk_SECRET_API_KEY_123"
SESSION = "sess_SECRET_TOKEN_456"
RID = "5fa64c92-e840-4357-86b9-2aa364d35b88"

CONFIG_JSON: dict[str, Any] = {
    "id": "AAAA-BBBB-1111-2222",
    "requires_session_auth": False,
    "participants": [
        {
            "name": "Test",
            "email": "nylas_test_8",
            "is_organizer": True,
            "availability": {"calendar_ids": ["primary"]},
            "booking": {"calendar_id": "primary"},
        }
    ],
    "availability": {"duration_minutes": 30},
    "event_booking": {"title": "My test event"},
}
BOOKING_JSON = {
    "booking_id": "AAAA-XXXX-1111-2222",
    "event_id": "ev1",
    "title": "My test event",
    "status": "booked",
    "organizer": {"email": "nylas_test_8", "name": "Test"},
}


class _ClientResponse(aiohttp.ClientResponse):
    """aioresponses 0.7.9 builds responses without aiohttp 3.14's ``stream_writer`` argument
    (pnuckowski/aioresponses#289): this response class supplies a stand-in."""

    def __init__(self, method: str, url: Any, *, stream_writer: Any = None, **kwargs: Any) -> None:
        if stream_writer is None:
            stream_writer = types.SimpleNamespace(output_size=0)
        super().__init__(method, url, stream_writer=stream_writer, **kwargs)


def _with_response_class(callback: Callable[..., Any]) -> Callable[..., Any]:
    def fix(result: Any) -> Any:
        if isinstance(result, CallbackResult) and result.response_class is None:
            result.response_class = _ClientResponse
        return result

    if inspect.iscoroutinefunction(callback):

        async def async_answer(url: Any, **kwargs: Any) -> Any:
            return fix(await callback(url, **kwargs))

        return async_answer
    return lambda url, **kwargs: fix(callback(url, **kwargs))


class MockAPI(aioresponses):
    """``aioresponses`` that works on aiohttp 3.14: every answer (callbacks' too) is built with
    a response class that aiohttp 3.14 accepts, through aioresponses' own ``response_class=``."""

    def add(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("response_class") is None:
            kwargs["response_class"] = _ClientResponse
        if kwargs.get("callback") is not None:
            kwargs["callback"] = _with_response_class(kwargs["callback"])
        super().add(*args, **kwargs)


def only_call(m: aioresponses, method: str, url: str) -> Any:
    """The keyword arguments of the one request sent to ``method url``."""
    calls = m.requests[(method, normalize_url(URL(url)))]
    assert len(calls) == 1, calls
    return calls[0].kwargs


def sent_json(kwargs: dict[str, Any]) -> Any:
    """The JSON body a recorded request sent (``None`` without a body)."""
    return None if kwargs.get("data") is None else json.loads(kwargs["data"])


def auth_of(kwargs: dict[str, Any]) -> str | None:
    """The ``Authorization`` header a recorded request sent."""
    return (kwargs.get("headers") or {}).get("Authorization")


def seed_participant() -> ConfigurationParticipant:
    """The participant of the API guide's seed configuration."""
    return ConfigurationParticipant(
        name="Test",
        email="nylas_test_8",
        is_organizer=True,
        availability=ParticipantAvailability(calendar_ids=("primary",)),
        booking=ParticipantBooking(calendar_id="primary"),
    )


# -- the emulator's wire form ----------------------------------------------------------------------
def config_body(*, host_name: str = "Host", **overrides: Any) -> dict[str, Any]:
    """A valid one-host collective configuration body (top-level keys replaced by overrides)."""
    body: dict[str, Any] = {
        "participants": [
            {
                "name": host_name,
                "email": "host@example.com",
                "is_organizer": True,
                "availability": {"calendar_ids": ["primary"]},
                "booking": {"calendar_id": "primary"},
            }
        ],
        "availability": {"duration_minutes": 30},
        "event_booking": {"title": "Intro call"},
    }
    body.update(overrides)
    return body


# -- integration tests against the emulator ------------------------------------------------------
MONDAY = datetime(2030, 1, 7, tzinfo=UTC)


def at(hour: float, day: int = 0) -> int:
    """Unix seconds ``hour`` hours into ``MONDAY`` (+ ``day`` days)."""
    return int((MONDAY + timedelta(days=day, hours=hour)).timestamp())


def organizer(email: str, *, name: str | None = None) -> ConfigurationParticipant:
    """An organizer reading and booking on its ``primary`` calendar."""
    return ConfigurationParticipant(
        email=email,
        name=name,
        is_organizer=True,
        availability=ParticipantAvailability(calendar_ids=("primary",)),
        booking=ParticipantBooking(calendar_id="primary"),
    )


def colleague(email: str, grant_id: str) -> ConfigurationParticipant:
    """A non-organizer participant whose ``primary`` calendar counts as busy time."""
    return ConfigurationParticipant(
        email=email,
        grant_id=grant_id,
        availability=ParticipantAvailability(calendar_ids=("primary",)),
    )


def nine_to_five(duration_minutes: int = 30) -> ConfigurationAvailability:
    """Weekdays 9:00-17:00 UTC."""
    return ConfigurationAvailability(
        duration_minutes=duration_minutes,
        availability_rules=AvailabilityRules(
            default_open_hours=(
                OpenHours(days=(1, 2, 3, 4, 5), start="9:00", end="17:00", timezone="UTC"),
            ),
        ),
    )


def config_kwargs(email: str, title: str, **overrides: Any) -> dict[str, Any]:
    """Arguments of ``configurations.create`` for a one-organizer configuration."""
    kw: dict[str, Any] = {
        "participants": [organizer(email)],
        "availability": ConfigurationAvailability(duration_minutes=30),
        "event_booking": EventBooking(title=title),
    }
    kw.update(overrides)
    return kw
