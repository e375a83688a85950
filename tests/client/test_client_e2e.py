"""The async client end to end against the emulator (over loopback), every endpoint, both auths."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

import scheduler_async as sa
from scheduler_async import (
    AsyncScheduler,
    AvailabilityRules,
    BookingType,
    Buffer,
    ConfigurationAvailability,
    ConfigurationParticipant,
    EventBooking,
    Guest,
    OpenHours,
    SchedulerSettings,
)
from tests.helpers import at, colleague, nine_to_five, organizer

KEY = "e2e-SECRET-key"
GUEST = Guest(name="Jane Doe", email="jane@example.com")


@pytest.fixture
def emu(scheduler_emulator_fresh: Any) -> Any:
    scheduler_emulator_fresh.clock.set(at(7))
    scheduler_emulator_fresh.add_grant("g-org", email="org@example.com")
    scheduler_emulator_fresh.add_grant("g-col", email="col@example.com")
    return scheduler_emulator_fresh


@pytest.fixture
async def client(emu: Any) -> Any:
    async with AsyncScheduler(
        api_key=KEY,
        grant_id="g-org",
        base_url=emu.url,
        client_id=emu.client_id,
        retry=sa.RetryPolicy(backoff_base=0.0),
    ) as c:
        yield c


def participants(*, with_colleague: bool = True) -> list[ConfigurationParticipant]:
    out = [organizer("org@example.com", name="Org")]
    if with_colleague:
        out.append(colleague("col@example.com", "g-col"))
    return out


async def make_config(client: AsyncScheduler, **kw: Any) -> sa.Configuration:
    kw.setdefault("participants", participants())
    kw.setdefault("availability", nine_to_five())
    kw.setdefault("event_booking", EventBooking(title="Intro"))
    return await client.configurations.create(**kw)


async def test_public_flow(client: AsyncScheduler, emu: Any) -> None:
    emu.add_event("g-org", "primary", at(9), at(10))
    emu.add_event("g-col", "primary", at(10), at(11))
    config = await make_config(client, slug="intro-call")
    assert config.requires_session_auth is False
    assert config.availability.round_to == 15

    avail = await client.availability.get(
        start_time=at(8), end_time=at(12), configuration_id=config.id
    )
    starts = [s.start_time for s in avail.time_slots]
    assert starts == [at(11), at(11.5)]
    assert avail.time_slots[0].emails == ("org@example.com", "col@example.com")
    by_slug = await client.availability.get(start_time=at(8), end_time=at(12), slug="intro-call")
    assert by_slug == avail

    booking = await client.bookings.create(
        start_time=at(11), end_time=at(11.5), guest=GUEST, configuration_id=config.id
    )
    assert booking.status is sa.BookingStatus.BOOKED and booking.title == "Intro"
    assert booking.organizer is not None and booking.organizer.email == "org@example.com"
    again = await client.availability.get(
        start_time=at(8), end_time=at(12), configuration_id=config.id
    )
    assert [s.start_time for s in again.time_slots] == [at(11.5)]

    with pytest.raises((sa.BadRequestError, sa.ConflictError)):
        await client.bookings.create(
            start_time=at(11), end_time=at(11.5), guest=GUEST, configuration_id=config.id
        )

    await client.bookings.reschedule(
        booking.booking_id, start_time=at(14), end_time=at(14.5), configuration_id=config.id
    )
    moved = await client.availability.get(
        start_time=at(8), end_time=at(15), configuration_id=config.id
    )
    offered = {s.start_time for s in moved.time_slots}
    assert at(11) in offered and at(14) not in offered
    fetched = await client.bookings.get(booking.booking_id, configuration_id=config.id)
    assert fetched.booking_id == booking.booking_id

    resp = await client.bookings.with_response.delete(
        booking.booking_id, cancellation_reason="changed my mind", configuration_id=config.id
    )
    assert resp.status_code == 200 and resp.request_id and not resp.gone_after_retry
    freed = await client.availability.get(
        start_time=at(14), end_time=at(15), configuration_id=config.id
    )
    assert at(14) in {s.start_time for s in freed.time_slots}


async def test_private_flow_with_session(client: AsyncScheduler, emu: Any) -> None:
    config = await make_config(client, requires_session_auth=True)
    with pytest.raises(sa.AuthenticationError):
        await client.availability.get(start_time=at(9), end_time=at(10), configuration_id=config.id)
    session = await client.sessions.create(configuration_id=config.id, time_to_live=10)
    avail = await client.availability.get(
        start_time=at(9), end_time=at(10), session_id=session.session_id
    )
    assert [s.start_time for s in avail.time_slots] == [at(9), at(9.5)]
    booking = await client.bookings.create(
        start_time=at(9), end_time=at(9.5), guest=GUEST, session_id=session.session_id
    )
    got = await client.bookings.get(booking.booking_id, session_id=session.session_id)
    assert got.status == "booked"

    with pytest.raises(sa.APIStatusError):  # a configuration with live sessions stays
        await client.configurations.delete(config.id)

    emu.clock.advance(11 * 60)  # the session's TTL is over
    with pytest.raises(sa.AuthenticationError) as info:
        await client.bookings.get(booking.booking_id, session_id=session.session_id)
    assert session.session_id not in str(info.value)

    fresh = await client.sessions.create(configuration_id=config.id)
    await client.bookings.delete(booking.booking_id, session_id=fresh.session_id)
    await client.sessions.delete(fresh.session_id)
    with pytest.raises(sa.AuthenticationError):
        await client.availability.get(
            start_time=at(9), end_time=at(10), session_id=fresh.session_id
        )


async def test_session_is_tied_to_its_configuration(client: AsyncScheduler) -> None:
    a = await make_config(client, requires_session_auth=True)
    b = await make_config(client, requires_session_auth=True)
    session = await client.sessions.create(configuration_id=a.id)
    booking = await client.bookings.create(
        start_time=at(9), end_time=at(9.5), guest=GUEST, session_id=session.session_id
    )
    other = await client.sessions.create(configuration_id=b.id)
    with pytest.raises((sa.AuthenticationError, sa.PermissionDeniedError, sa.NotFoundError)):
        await client.bookings.get(booking.booking_id, session_id=other.session_id)


async def test_organizer_confirmation(client: AsyncScheduler, emu: Any) -> None:
    config = await make_config(
        client,
        event_booking=EventBooking(
            title="Needs OK", booking_type=BookingType.ORGANIZER_CONFIRMATION
        ),
    )
    assert config.event_booking.booking_type is BookingType.ORGANIZER_CONFIRMATION
    pending = await client.bookings.create(
        start_time=at(9), end_time=at(9.5), guest=GUEST, configuration_id=config.id
    )
    assert pending.status is sa.BookingStatus.PENDING
    with pytest.raises(sa.APIStatusError):
        await client.bookings.confirm(pending.booking_id, salt="wrong", configuration_id=config.id)
    confirmed = await client.bookings.confirm(
        pending.booking_id, salt=emu.booking_salt(pending.booking_id), configuration_id=config.id
    )
    assert confirmed.status is sa.BookingStatus.BOOKED

    second = await client.bookings.create(
        start_time=at(10), end_time=at(10.5), guest=GUEST, configuration_id=config.id
    )
    taken = await client.availability.get(
        start_time=at(10), end_time=at(11), configuration_id=config.id
    )
    assert at(10) not in {s.start_time for s in taken.time_slots}
    await client.bookings.cancel(
        second.booking_id,
        salt=emu.booking_salt(second.booking_id),
        cancellation_reason="busy",
        configuration_id=config.id,
    )
    freed = await client.availability.get(
        start_time=at(10), end_time=at(11), configuration_id=config.id
    )
    assert at(10) in {s.start_time for s in freed.time_slots}


async def test_configuration_crud_and_pagination(client: AsyncScheduler) -> None:
    made = [await make_config(client, name=f"cfg {i}") for i in range(5)]
    listed = [c.id async for c in client.configurations.list(limit=2)]
    assert sorted(listed) == sorted(c.id for c in made)
    page = await client.configurations.list_page(limit=2)
    assert len(page.data) == 2 and page.next_cursor
    updated = await client.configurations.update(
        made[0].id,
        name="renamed",
        scheduler=SchedulerSettings(min_booking_notice=0),
        availability=ConfigurationAvailability(
            duration_minutes=60,
            availability_rules=AvailabilityRules(buffer=Buffer(before=5, after=5)),
        ),
    )
    assert updated.name == "renamed" and updated.availability.duration_minutes == 60
    assert updated.event_booking.title == "Intro"  # untouched objects are kept
    assert (await client.configurations.get(made[0].id)).name == "renamed"
    await client.configurations.delete(made[0].id)
    with pytest.raises(sa.NotFoundError):
        await client.configurations.get(made[0].id)


async def test_invalid_configuration_is_a_400(client: AsyncScheduler) -> None:
    with pytest.raises(sa.BadRequestError) as info:
        await make_config(
            client,
            availability=ConfigurationAvailability(
                duration_minutes=30,
                availability_rules=AvailabilityRules(
                    default_open_hours=(
                        OpenHours(days=(1,), start="9:00", end="17:00", timezone="Mars/Olympus"),
                    )
                ),
            ),
        )
    assert info.value.request_id


async def test_hundred_concurrent_bookings_of_one_slot(client: AsyncScheduler) -> None:
    config = await make_config(client)

    async def book(i: int) -> Any:
        try:
            return await client.bookings.create(
                start_time=at(9),
                end_time=at(9.5),
                guest=Guest(name=f"guest {i}", email=f"g{i}@example.com"),
                configuration_id=config.id,
            )
        except sa.APIStatusError as exc:
            return exc

    results = await asyncio.gather(*(book(i) for i in range(100)))
    created = [r for r in results if isinstance(r, sa.Booking)]
    refused = [r for r in results if isinstance(r, sa.APIStatusError)]
    assert len(created) == 1 and len(refused) == 99
    assert all(400 <= r.status_code < 500 for r in refused)


async def test_debug_logs_carry_no_secret(
    client: AsyncScheduler, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="scheduler_async")
    config = await make_config(client, requires_session_auth=True)
    session = await client.sessions.create(configuration_id=config.id)
    await client.availability.get(start_time=at(9), end_time=at(10), session_id=session.session_id)
    await client.sessions.delete(session.session_id)
    assert "POST /v3/scheduling/sessions -> 200" in caplog.text
    assert KEY not in caplog.text and session.session_id not in caplog.text
    for record in caplog.records:
        assert "attempt=" in record.getMessage()


async def test_connection_refused_is_a_connection_error() -> None:
    async with AsyncScheduler(
        base_url="http://127.0.0.1:9", retry=sa.RetryPolicy(max_retries=1, backoff_base=0.0)
    ) as c:
        with pytest.raises(sa.APIConnectionError) as info:
            await c.availability.get(start_time=1, end_time=2, configuration_id="x")
    assert info.value.retries_taken == 1


async def test_private_booking_lifecycle_with_session(client: AsyncScheduler, emu: Any) -> None:
    config = await make_config(
        client,
        requires_session_auth=True,
        event_booking=EventBooking(
            title="Private OK", booking_type=BookingType.ORGANIZER_CONFIRMATION
        ),
    )
    token = (await client.sessions.create(configuration_id=config.id)).session_id
    pending = await client.bookings.create(
        start_time=at(9), end_time=at(9.5), guest=GUEST, session_id=token
    )
    assert pending.status is sa.BookingStatus.PENDING
    confirmed = await client.bookings.confirm(
        pending.booking_id, salt=emu.booking_salt(pending.booking_id), session_id=token
    )
    assert confirmed.status is sa.BookingStatus.BOOKED
    await client.bookings.reschedule(
        pending.booking_id, start_time=at(15), end_time=at(15.5), session_id=token
    )
    assert emu.booking(pending.booking_id).start_time == at(15)
    with pytest.raises(sa.AuthenticationError):  # public access is refused
        await client.bookings.get(pending.booking_id, configuration_id=config.id)
    resp = await client.bookings.with_response.delete(pending.booking_id, session_id=token)
    assert resp.status_code == 200
    assert emu.booking(pending.booking_id).deleted
