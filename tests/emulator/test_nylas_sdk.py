"""The official ``nylas`` Python SDK (6.18.0), unchanged, against the emulator.

The SDK sends ``Bearer <API key>`` plus ``configuration_id`` on booking calls, which the emulator
accepts.  Two SDK methods cannot parse a spec-faithful answer (``{"request_id"}`` with no
``data``): ``bookings.reschedule`` and ``bookings.confirm(status="cancelled")`` raise
``KeyError: 'data'``.  Those tests assert that exact failure and then check the emulator's state.
"""

from __future__ import annotations

from typing import Any

import nylas  # type: ignore[import-untyped]
import pytest
from nylas.models.errors import NylasApiError  # type: ignore[import-untyped]

from scheduler_async.emulator import Emulator
from tests.helpers import HOUR, T0, config_body

GRANT = "sdk-grant"


def config_request(**overrides: Any) -> dict[str, Any]:
    """``config_body`` with these tests' event title."""
    return config_body(**{"event_booking": {"title": "SDK call"}, **overrides})


def booking_request(offset_hours: int = 2) -> dict[str, Any]:
    start = T0 + offset_hours * HOUR
    return {
        "start_time": start,
        "end_time": start + 1800,
        "guest": {"name": "Guest", "email": "guest@example.com"},
    }


@pytest.fixture
def emu(scheduler_emulator_fresh: Emulator) -> Emulator:
    scheduler_emulator_fresh.clock.set(T0)
    scheduler_emulator_fresh.add_grant(GRANT, email="host@example.com")
    return scheduler_emulator_fresh


@pytest.fixture
def client(emu: Emulator) -> nylas.Client:
    return nylas.Client("nyk_sdk_test", api_uri=emu.url, timeout=10)


def make_config(client: nylas.Client, **overrides: Any) -> str:
    config = client.scheduler.configurations.create(GRANT, config_request(**overrides)).data
    config_id: str = config.id
    return config_id


def test_configurations_crud(client: nylas.Client, emu: Emulator) -> None:
    configs = client.scheduler.configurations
    created, request_id, headers = configs.create(GRANT, config_request(slug="sdk-page"))
    assert created.id
    assert created.slug == "sdk-page"
    assert created.requires_session_auth is False
    assert created.participants[0].availability.calendar_ids == ["primary"]
    assert created.participants[0].booking.calendar_id == "primary"
    assert created.availability.round_to == 15
    assert created.event_booking.booking_type == "booking"
    assert created.scheduler is not None
    assert created.scheduler.min_booking_notice == 60
    assert headers["X-Request-Id"] == request_id

    second = configs.create(GRANT, config_request()).data
    listed = configs.list(GRANT)
    assert [c.id for c in listed.data] == [created.id, second.id]
    assert listed.next_cursor is None
    page = configs.list(GRANT, query_params={"limit": 1})
    assert [c.id for c in page.data] == [created.id]
    assert page.next_cursor
    page2 = configs.list(GRANT, query_params={"limit": 1, "page_token": page.next_cursor})
    assert [c.id for c in page2.data] == [second.id]

    found = configs.find(GRANT, created.id).data
    assert found.id == created.id
    assert found.event_booking.title == "SDK call"

    updated = configs.update(
        GRANT, created.id, {"event_booking": {"title": "Renamed", "description": "new"}}
    ).data
    assert updated.event_booking.title == "Renamed"
    assert updated.event_booking.description == "new"
    assert updated.slug == "sdk-page"

    deleted = configs.destroy(GRANT, second.id)
    assert deleted.request_id
    with pytest.raises(NylasApiError) as exc:
        configs.find(GRANT, second.id)
    assert exc.value.status_code == 404
    assert exc.value.type == "not_found_error"
    assert exc.value.request_id
    assert list(emu.store.configurations) == [created.id]


def test_configuration_validation_error(client: nylas.Client) -> None:
    with pytest.raises(NylasApiError) as exc:
        client.scheduler.configurations.create(GRANT, config_request(participants=[]))
    assert exc.value.status_code == 400
    assert exc.value.type == "invalid_request_error"
    assert "participants" in str(exc.value)


def test_sessions_create_and_destroy(client: nylas.Client, emu: Emulator) -> None:
    config_id = make_config(client, requires_session_auth=True)
    session = client.scheduler.sessions.create(
        {"configuration_id": config_id, "time_to_live": 10}
    ).data
    stored = emu.store.sessions[session.session_id]
    assert stored.expires_at == T0 + 10 * 60  # minutes, whatever the SDK docstring says
    with pytest.raises(NylasApiError) as exc:  # live session blocks the delete
        client.scheduler.configurations.destroy(GRANT, config_id)
    assert exc.value.status_code == 409

    deleted = client.scheduler.sessions.destroy(session.session_id)
    assert deleted.request_id
    assert stored.deleted
    client.scheduler.configurations.destroy(GRANT, config_id)


def test_bookings_with_api_key_and_configuration_id(client: nylas.Client, emu: Emulator) -> None:
    config_id = make_config(client)
    q = {"configuration_id": config_id}
    bookings = client.scheduler.bookings
    booking = bookings.create(booking_request(), query_params=q).data
    assert booking.status == "booked"
    assert booking.title == "SDK call"
    assert booking.organizer.email == "host@example.com"
    assert booking.organizer.name == "Host"
    assert booking.event_id == emu.events(GRANT)[0].event_id

    found = bookings.find(booking.booking_id, query_params=q).data
    assert found.booking_id == booking.booking_id

    with pytest.raises(NylasApiError) as exc:  # the same slot again
        bookings.create(booking_request(), query_params=q)
    assert exc.value.status_code == 409
    assert exc.value.type == "timeslot_not_available"
    assert str(exc.value).startswith("The selected timeslot is unavailable")

    deleted = bookings.destroy(booking.booking_id, None, query_params=q)
    assert deleted.request_id
    assert emu.booking(booking.booking_id).status == "cancelled"
    with pytest.raises(NylasApiError) as exc:
        bookings.find(booking.booking_id, query_params=q)
    assert exc.value.status_code == 404


def test_booking_destroy_with_reason(client: nylas.Client, emu: Emulator) -> None:
    config_id = make_config(client)
    q = {"configuration_id": config_id}
    booking = client.scheduler.bookings.create(booking_request(), query_params=q).data
    client.scheduler.bookings.destroy(
        booking.booking_id, {"cancellation_reason": "conflict"}, query_params=q
    )
    assert emu.booking(booking.booking_id).cancellation_reason == "conflict"


def test_reschedule_raises_keyerror_on_spec_answer(client: nylas.Client, emu: Emulator) -> None:
    config_id = make_config(client)
    q = {"configuration_id": config_id}
    booking = client.scheduler.bookings.create(booking_request(), query_params=q).data
    new = booking_request(offset_hours=4)
    with pytest.raises(KeyError, match="data"):
        client.scheduler.bookings.reschedule(
            booking.booking_id,
            {"start_time": new["start_time"], "end_time": new["end_time"]},
            query_params=q,
        )
    stored = emu.booking(booking.booking_id)
    assert (stored.start_time, stored.end_time) == (new["start_time"], new["end_time"])
    event = emu.store.events[stored.event_id]
    assert event.start_time == new["start_time"]


def test_confirm_pending_booking(client: nylas.Client, emu: Emulator) -> None:
    config_id = make_config(
        client, event_booking={"title": "Needs OK", "booking_type": "organizer-confirmation"}
    )
    q = {"configuration_id": config_id}
    bookings = client.scheduler.bookings
    pending = bookings.create(booking_request(), query_params=q).data
    assert pending.status == "pending"

    with pytest.raises(NylasApiError) as exc:
        bookings.confirm(
            pending.booking_id, {"salt": "AAAAAAAAAAAAAAAAAAAAAA", "status": "confirmed"}, q
        )
    assert exc.value.status_code == 403

    salt = emu.booking_salt(pending.booking_id)
    confirmed = bookings.confirm(
        pending.booking_id, {"salt": salt, "status": "confirmed"}, query_params=q
    ).data
    assert confirmed.status == "booked"
    assert confirmed.booking_id == pending.booking_id


def test_confirm_cancelled_raises_keyerror_on_spec_answer(
    client: nylas.Client, emu: Emulator
) -> None:
    config_id = make_config(
        client, event_booking={"title": "Needs OK", "booking_type": "organizer-confirmation"}
    )
    q = {"configuration_id": config_id}
    pending = client.scheduler.bookings.create(booking_request(), query_params=q).data
    salt = emu.booking_salt(pending.booking_id)
    with pytest.raises(KeyError, match="data"):
        client.scheduler.bookings.confirm(
            pending.booking_id,
            {"salt": salt, "status": "cancelled", "cancellation_reason": "declined"},
            query_params=q,
        )
    stored = emu.booking(pending.booking_id)
    assert stored.status == "cancelled"
    assert stored.cancellation_reason == "declined"
    assert emu.store.events[stored.event_id].status == "cancelled"
    again = client.scheduler.bookings.create(booking_request(), query_params=q).data  # slot free
    assert again.status == "pending"


def test_private_configuration_with_session_override(client: nylas.Client, emu: Emulator) -> None:
    config_id = make_config(client, requires_session_auth=True)
    session_id = client.scheduler.sessions.create({"configuration_id": config_id}).data.session_id
    bookings = client.scheduler.bookings
    with pytest.raises(NylasApiError) as exc:  # the API key is not enough for a private config
        bookings.create(booking_request(), query_params={"configuration_id": config_id})
    assert exc.value.status_code == 401
    assert exc.value.type == "unauthorized"

    booking = bookings.create(booking_request(), overrides={"api_key": session_id}).data
    found = bookings.find(booking.booking_id, overrides={"api_key": session_id}).data
    assert found.status == "booked"

    emu.clock.advance(5 * 60)  # default TTL: 5 minutes
    with pytest.raises(NylasApiError) as exc:
        bookings.find(booking.booking_id, overrides={"api_key": session_id})
    assert exc.value.status_code == 401


def test_public_configuration_without_auth(client: nylas.Client, emu: Emulator) -> None:
    config_id = make_config(client)
    q = {"configuration_id": config_id}
    public: Any = {"skip_auth": True}
    booking = client.scheduler.bookings.create(booking_request(), q, overrides=public).data
    found = client.scheduler.bookings.find(booking.booking_id, q, overrides=public).data
    assert found.booking_id == booking.booking_id
    client.scheduler.bookings.destroy(booking.booking_id, None, q, overrides=public)
    assert emu.booking(booking.booking_id).deleted


def test_rate_limit_error_reaches_the_sdk(client: nylas.Client, emu: Emulator) -> None:
    emu.set_faults(
        "GET /v3/grants/{grant_id}/scheduling/configurations", error_429=1.0, retry_after=3
    )
    with pytest.raises(NylasApiError) as exc:
        client.scheduler.configurations.list(GRANT)
    assert exc.value.status_code == 429
    assert exc.value.type == "rate_limit_error"
    assert exc.value.headers is not None
    assert exc.value.headers["Retry-After"] == "3"
