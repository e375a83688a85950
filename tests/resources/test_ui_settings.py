"""``client.ui_settings`` and booking references end to end against the emulator (loopback)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

import scheduler_async as sa
import scheduler_sync
from scheduler_async import AsyncScheduler, EventBooking, Guest
from tests.helpers import at, nine_to_five, organizer

KEY = "ui-settings-key"
GUEST = Guest(name="Jane Doe", email="jane@example.com")


@pytest.fixture
def emu(scheduler_emulator_fresh: Any) -> Any:
    scheduler_emulator_fresh.clock.set(at(7))
    scheduler_emulator_fresh.add_grant("g-org", email="org@example.com")
    return scheduler_emulator_fresh


@pytest.fixture
async def client(emu: Any) -> AsyncIterator[AsyncScheduler]:
    async with AsyncScheduler(
        api_key=KEY, grant_id="g-org", base_url=emu.url, client_id=emu.client_id
    ) as c:
        yield c


async def _config(client: AsyncScheduler, **kw: Any) -> sa.Configuration:
    return await client.configurations.create(
        participants=[organizer("org@example.com", name="Org")],
        availability=nine_to_five(),
        event_booking=EventBooking(title="Intro"),
        **kw,
    )


async def test_ui_settings_public_slug_session_and_booking_prefill(
    client: AsyncScheduler, emu: Any
) -> None:
    config = await _config(client, slug="intro-call", name="Intro with Org")
    settings = await client.ui_settings.get(configuration_id=config.id)
    assert isinstance(settings, sa.UISettings)
    assert (settings.configuration_id, settings.name, settings.slug) == (
        config.id,
        "Intro with Org",
        "intro-call",
    )
    assert settings.app_client_id == emu.client_id
    assert settings.organizer == sa.UISettingsOrganizer(name="Org", email="org@example.com")
    assert settings.booking_type == "booking" and settings.booking is None
    assert await client.ui_settings.get(slug="intro-call") == settings

    booking = await client.bookings.create(
        start_time=at(11), end_time=at(11.5), guest=GUEST, configuration_id=config.id
    )
    session = await client.sessions.create(configuration_id=config.id)
    with_booking = await client.ui_settings.with_response.get(
        session_id=session.session_id, booking_id=booking.booking_id
    )
    prefill = with_booking.data.booking
    assert prefill is not None and prefill.guest == GUEST
    assert with_booking.request_id


async def test_booking_ref_on_answers_decodes_to_the_booking(
    client: AsyncScheduler, emu: Any
) -> None:
    config = await _config(client)
    booking = await client.bookings.create(
        start_time=at(11), end_time=at(11.5), guest=GUEST, configuration_id=config.id
    )
    ref = booking.ref
    assert isinstance(ref, sa.BookingRef)
    assert (ref.configuration_id, ref.booking_id) == (config.id, booking.booking_id)
    assert ref.salt == emu.booking_salt(booking.booking_id)
    assert sa.parse_booking_ref(emu.booking_reference(booking.booking_id)) == ref
    assert booking.booking_ref is not None and booking.booking_ref not in repr(booking)
    got = await client.bookings.get(booking.booking_id, configuration_id=config.id)
    assert got.ref == ref
    assert sa.Booking(booking_id="b").ref is None


async def test_slot_taken_is_a_conflict_error_with_the_component_type(
    client: AsyncScheduler,
) -> None:
    config = await _config(client)
    await client.bookings.create(
        start_time=at(11), end_time=at(11.5), guest=GUEST, configuration_id=config.id
    )
    with pytest.raises(sa.ConflictError) as exc:
        await client.bookings.create(
            start_time=at(11), end_time=at(11.5), guest=GUEST, configuration_id=config.id
        )
    assert exc.value.status_code == 409
    assert exc.value.error_type == "timeslot_not_available"
    assert exc.value.message.startswith("The selected timeslot is unavailable")


def test_sync_ui_settings(emu: Any) -> None:
    with scheduler_sync.Scheduler(
        api_key=KEY, grant_id="g-org", base_url=emu.url, client_id=emu.client_id
    ) as client:
        config = client.configurations.create(
            participants=[organizer("org@example.com")],
            availability=nine_to_five(),
            event_booking=EventBooking(title="Intro"),
        )
        settings = client.ui_settings.get(configuration_id=config.id)
        assert settings.configuration_id == config.id
        assert scheduler_sync.parse_booking_ref is sa.parse_booking_ref
