"""``bookings.cancel`` on a confirmed booking hints at ``delete``; ``reschedule(fetch=True)``."""

from __future__ import annotations

from typing import Any

import pytest

import scheduler_async as sa
from scheduler_async import AsyncScheduler, EventBooking, Guest
from tests.helpers import BASE, BOOKING_JSON, RID, at, nine_to_five, organizer

URL = f"{BASE}/v3/scheduling/bookings/BK1?configuration_id=CFG"
NOT_PENDING = "booking is confirmed; only pending bookings can be confirmed or cancelled"


async def test_cancel_of_a_confirmed_booking_points_to_delete(
    client: AsyncScheduler, mock: Any
) -> None:
    mock.put(
        URL,
        status=400,
        payload={
            "request_id": RID,
            "error": {"type": "invalid_request_error", "message": NOT_PENDING},
        },
    )
    with pytest.raises(sa.BadRequestError) as info:
        await client.bookings.cancel("BK1", salt="c2FsdA", configuration_id="CFG")
    err = info.value
    # The server's words come first, unchanged; the hint is marked as the client's.
    assert err.message.startswith(NOT_PENDING + " [scheduler-client:")
    assert "bookings.delete(booking_id)" in str(err)
    assert err.status_code == 400 and err.request_id == RID
    assert err.error_type == "invalid_request_error"
    assert err.body["error"]["message"] == NOT_PENDING


async def test_other_cancel_errors_are_untouched(client: AsyncScheduler, mock: Any) -> None:
    mock.put(URL, status=400, payload={"error": {"message": "invalid salt"}})
    with pytest.raises(sa.BadRequestError) as info:
        await client.bookings.cancel("BK1", salt="c2FsdA", configuration_id="CFG")
    assert info.value.message == "invalid salt"


async def test_reschedule_fetch_returns_the_booking(client: AsyncScheduler, mock: Any) -> None:
    mock.patch(URL, payload={"request_id": RID})
    mock.get(URL, payload={"request_id": "get-rid", "data": BOOKING_JSON})
    resp = await client.bookings.with_response.reschedule(
        "BK1", start_time=1708714800, end_time=1708722000, configuration_id="CFG", fetch=True
    )
    assert isinstance(resp.data, sa.Booking) and resp.data.booking_id == BOOKING_JSON["booking_id"]
    assert resp.request_id == RID  # the PATCH's


async def test_reschedule_fetch_failure_says_the_move_happened(
    client: AsyncScheduler, mock: Any
) -> None:
    mock.patch(URL, payload={"request_id": RID})
    mock.get(URL, status=404, payload={"error": {"message": "not found"}})
    with pytest.raises(sa.NotFoundError) as info:
        await client.bookings.reschedule(
            "BK1", start_time=1708714800, end_time=1708722000, configuration_id="CFG", fetch=True
        )
    assert any("WAS rescheduled" in note for note in info.value.__notes__)


async def test_reschedule_fetch_must_be_a_bool(client: AsyncScheduler) -> None:
    with pytest.raises(TypeError, match="fetch"):
        await client.bookings.reschedule(
            "BK1",
            start_time=1708714800,
            end_time=1708722000,
            fetch="yes",  # type: ignore[arg-type]
        )


async def test_against_the_emulator(scheduler_emulator_fresh: Any) -> None:
    emu = scheduler_emulator_fresh
    emu.clock.set(at(7))
    emu.add_grant("g-org", email="org@example.com")
    async with AsyncScheduler(
        api_key="k", grant_id="g-org", base_url=emu.url, client_id=emu.client_id
    ) as client:
        config = await client.configurations.create(
            participants=[organizer("org@example.com", name="Org")],
            availability=nine_to_five(),
            event_booking=EventBooking(title="Intro"),
        )
        guest = Guest(name="Jane Doe", email="jane@example.com")
        booking = await client.bookings.create(
            start_time=at(9), end_time=at(9.5), guest=guest, configuration_id=config.id
        )
        with pytest.raises(sa.BadRequestError, match=r"bookings\.delete"):
            await client.bookings.cancel(
                booking.booking_id,
                salt=emu.booking_salt(booking.booking_id),
                configuration_id=config.id,
            )
        moved = await client.bookings.reschedule(
            booking.booking_id,
            start_time=at(10),
            end_time=at(10.5),
            configuration_id=config.id,
            fetch=True,
        )
        assert moved is not None and moved.booking_id == booking.booking_id
        slots = await client.availability.get(
            start_time=at(9), end_time=at(11), configuration_id=config.id
        )
        assert {s.start_time for s in slots.time_slots} == {at(9), at(9.5), at(10.5)}
        assert (
            await client.bookings.reschedule(
                booking.booking_id, start_time=at(11), end_time=at(11.5), configuration_id=config.id
            )
            is None
        )
        await client.bookings.delete(booking.booking_id, configuration_id=config.id)
