"""Webhooks end to end: the wired emulator delivers booking notifications to the library's aiohttp
receiver on loopback, for bookings made over raw HTTP (the seed's flow) and with AsyncScheduler."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import requests

from scheduler_async import (
    AsyncScheduler,
    ConfigurationAvailability,
    ConfigurationParticipant,
    EventBooking,
    Guest,
    ParticipantAvailability,
    ParticipantBooking,
    Reminder,
    RetryPolicy,
)
from scheduler_async.booking_ref import parse_booking_ref
from scheduler_async.emulator import Emulator, FakeClock
from scheduler_async.emulator.webhooks import BOOKING_TRIGGERS
from scheduler_async.webhooks import (
    BookingCancelled,
    BookingCreated,
    BookingPending,
    BookingReminder,
    BookingRescheduled,
)

from .support import BOOKING, GRANT, HOUR, KEY, T0, assert_error, create_config
from .webhook_support import Sink, served, served_on_thread

START, END = BOOKING["start_time"], BOOKING["end_time"]


def register(emu: Emulator, sink: Sink, url: str | None = None, **body: Any) -> dict[str, Any]:
    """POST /v3/webhooks (the emulator runs the challenge against the sink); keep the secret."""
    payload = {"trigger_types": list(BOOKING_TRIGGERS), "webhook_url": url or sink.url, **body}
    r = requests.post(f"{emu.url}/v3/webhooks", json=payload, headers=KEY)
    assert r.status_code == 200, r.text
    created: dict[str, Any] = r.json()["data"]
    sink.secrets.append(created["webhook_secret"])
    return created


async def aregister(
    http: aiohttp.ClientSession, emu: Emulator, sink: Sink, url: str | None = None, **body: Any
) -> dict[str, Any]:
    payload = {"trigger_types": list(BOOKING_TRIGGERS), "webhook_url": url or sink.url, **body}
    async with http.post(f"{emu.url}/v3/webhooks", json=payload, headers=KEY) as r:
        answer: dict[str, Any] = await r.json()
        assert r.status == 200, answer
    created: dict[str, Any] = answer["data"]
    sink.secrets.append(created["webhook_secret"])
    return created


async def deliver(emu: Emulator, sink: Sink) -> None:
    """Send what is due now and wait until the receiver's callbacks ran."""
    await emu.deliver_webhooks_async()
    await sink.receiver.join()


async def advance(http: aiohttp.ClientSession, emu: Emulator, sink: Sink, seconds: int) -> None:
    """Move the emulator clock through the admin API (which sends what became due)."""
    async with http.post(f"{emu.url}/_emulator/clock", json={"advance": seconds}) as r:
        assert r.status == 200
    await sink.receiver.join()


async def make_config(client: AsyncScheduler, **event_booking: Any) -> str:
    """A one-host configuration (host@example.com, every hour open) through the client."""
    config = await client.configurations.create(
        participants=[
            ConfigurationParticipant(
                email="host@example.com",
                name="Host",
                is_organizer=True,
                availability=ParticipantAvailability(calendar_ids=("primary",)),
                booking=ParticipantBooking(calendar_id="primary"),
            )
        ],
        availability=ConfigurationAvailability(duration_minutes=30),
        event_booking=EventBooking(title="Intro call", **event_booking),
    )
    return config.id


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def client(emu: Emulator) -> AsyncIterator[AsyncScheduler]:
    async with AsyncScheduler(
        api_key="test-key",
        grant_id=GRANT,
        base_url=emu.url,
        client_id=emu.client_id,
        retry=RetryPolicy(backoff_base=0.0),
    ) as c:
        yield c


# --------------------------------------------------------------------------- raw HTTP


def test_seed_http_flow_delivers_created_rescheduled_cancelled(emu: Emulator) -> None:
    with served_on_thread() as sink:
        hook = register(emu, sink)
        config_id = create_config(emu)
        r = requests.post(
            f"{emu.url}/v3/scheduling/sessions", json={"configuration_id": config_id}, headers=KEY
        )
        session = {"Authorization": f"Bearer {r.json()['data']['session_id']}"}
        r = requests.post(f"{emu.url}/v3/scheduling/bookings", json=BOOKING, headers=session)
        assert r.status_code == 200, r.text
        booking_id = r.json()["data"]["booking_id"]
        reference = emu.booking_reference(booking_id)
        moved = {"start_time": START + HOUR, "end_time": END + HOUR}
        path = f"{emu.url}/v3/scheduling/bookings/{booking_id}"
        assert requests.patch(path, json=moved, headers=session).status_code == 200
        r = requests.delete(path, json={"cancellation_reason": "No longer needed"}, headers=session)
        assert r.status_code == 200, r.text
        emu.deliver_webhooks()  # the worker may have sent some already: this waits for the rest
        sink.join()

    attempts = emu.webhook_deliveries()
    assert [a.trigger for a in attempts] == [
        "booking.created",
        "booking.rescheduled",
        "booking.cancelled",
    ]
    assert all(a.ok and a.attempt == 1 and a.webhook_id == hook["id"] for a in attempts)
    created, rescheduled, cancelled = sink.got
    assert isinstance(created, BookingCreated)
    assert isinstance(rescheduled, BookingRescheduled)
    assert isinstance(cancelled, BookingCancelled)
    assert len({created.id, rescheduled.id, cancelled.id}) == 3
    for n in sink.got:
        assert n.booking.booking_id == booking_id
        assert n.booking.configuration_id == config_id
        assert n.data.application_id == emu.client_id
        assert n.time == T0 and n.webhook_delivery_attempt == 1
    ref = created.booking.booking_ref
    assert ref is not None and ref.encode() == reference
    assert ref == parse_booking_ref(reference)
    assert str(ref.booking_id) == booking_id and str(ref.configuration_id) == config_id
    info = created.booking.booking_info
    assert (info.start_time, info.end_time, info.duration) == (START, END, 30)
    assert info.title == "Intro call"
    assert info.participants is not None
    assert [p.email for p in info.participants] == ["guest@example.com"]
    moved_info = rescheduled.booking.booking_info
    assert (moved_info.old_start_time, moved_info.old_end_time) == (START, END)
    assert (moved_info.start_time, moved_info.end_time) == (START + HOUR, END + HOUR)
    assert cancelled.booking.booking_ref is None
    assert cancelled.booking.booking_info.cancellation_reason == "No longer needed"
    assert sink.receiver.duplicates == 0 and sink.receiver.failures == 0


def test_python_seeded_webhook_and_store_bookings(emu: Emulator) -> None:
    """``emu.add_webhook`` skips the handshake; bookings made on the store deliver too."""
    with served_on_thread() as sink:
        hook = emu.add_webhook(sink.url, ["booking.created"])
        sink.secrets.append(hook.secret)
        config_id = create_config(emu)
        booking = emu.store.create_booking(config_id, START, END, {"email": "g@example.com"})
        emu.store.delete_booking(booking.booking_id)  # not subscribed: nothing sent
        emu.deliver_webhooks()
        sink.join()
    assert [type(n) for n in sink.got] == [BookingCreated]
    assert [(d.trigger, d.ok) for d in emu.webhook_deliveries()] == [("booking.created", True)]
    assert emu.webhook_deliveries(webhook_id="other") == []


# --------------------------------------------------------------------------- AsyncScheduler


async def test_client_flow_pending_confirm_reschedule_delete(
    emu: Emulator, client: AsyncScheduler, http: aiohttp.ClientSession
) -> None:
    async with served() as sink:
        await aregister(http, emu, sink)
        config_id = await make_config(client, booking_type="organizer-confirmation")
        guest = Guest(name="Jane Doe", email="jane@example.com")
        booking = await client.bookings.create(
            start_time=START, end_time=END, guest=guest, configuration_id=config_id
        )
        await deliver(emu, sink)
        assert [type(n) for n in sink.got] == [BookingPending]
        salt = emu.booking_salt(booking.booking_id)
        await client.bookings.confirm(booking.booking_id, salt=salt, configuration_id=config_id)
        await client.bookings.reschedule(
            booking.booking_id,
            start_time=START + HOUR,
            end_time=END + HOUR,
            configuration_id=config_id,
        )
        await client.bookings.delete(
            booking.booking_id, cancellation_reason="Moved on", configuration_id=config_id
        )
        await deliver(emu, sink)

    pending, created, rescheduled, cancelled = sink.got
    assert [type(n) for n in sink.got] == [
        BookingPending,
        BookingCreated,
        BookingRescheduled,
        BookingCancelled,
    ]
    assert isinstance(pending, BookingPending)
    assert pending.booking.booking_type == "organizer-confirmation"
    assert pending.booking.booking_info.host_confirmation_url
    assert pending.booking.booking_ref is not None
    assert pending.booking.booking_ref.salt == salt
    assert isinstance(created, BookingCreated)
    assert isinstance(rescheduled, BookingRescheduled)
    assert isinstance(cancelled, BookingCancelled)
    assert created.booking.booking_info.start_time == START
    assert rescheduled.booking.booking_info.old_start_time == START
    assert rescheduled.booking.booking_info.start_time == START + HOUR
    assert cancelled.booking.booking_info.cancellation_reason == "Moved on"
    assert {n.booking.booking_id for n in sink.got} == {booking.booking_id}


async def test_declined_pending_booking_is_cancelled_once(
    emu: Emulator, client: AsyncScheduler, http: aiohttp.ClientSession
) -> None:
    async with served() as sink:
        await aregister(http, emu, sink, trigger_types=["booking.cancelled"])
        config_id = await make_config(client, booking_type="organizer-confirmation")
        booking = await client.bookings.create(
            start_time=START,
            end_time=END,
            guest=Guest(name="Jane", email="jane@example.com"),
            configuration_id=config_id,
        )
        await client.bookings.cancel(
            booking.booking_id,
            salt=emu.booking_salt(booking.booking_id),
            cancellation_reason="Busy",
            configuration_id=config_id,
        )
        await client.bookings.delete(booking.booking_id, configuration_id=config_id)
        await deliver(emu, sink)
    assert [type(n) for n in sink.got] == [BookingCancelled]
    n = sink.got[0]
    assert isinstance(n, BookingCancelled)
    assert n.booking.booking_info.cancellation_reason == "Busy"


# --------------------------------------------------------------------------- delivery behaviour


async def test_injected_duplicates_delivered_twice_handled_once(
    emu: Emulator, client: AsyncScheduler, http: aiohttp.ClientSession
) -> None:
    emu.set_webhook_faults(duplicate=1)
    async with served() as sink:
        await aregister(http, emu, sink)
        config_id = create_config(emu)
        await client.bookings.create(
            start_time=START,
            end_time=END,
            guest=Guest(name="Jane", email="jane@example.com"),
            configuration_id=config_id,
        )
        await deliver(emu, sink)
    log = emu.webhook_deliveries()
    assert [(d.trigger, d.copy, d.ok) for d in log] == [
        ("booking.created", 0, True),
        ("booking.created", 1, True),
    ]
    assert log[0].notification_id == log[1].notification_id
    assert [type(n) for n in sink.got] == [BookingCreated]
    assert sink.got[0].id == log[0].notification_id
    assert sink.receiver.duplicates == 1 and sink.receiver.handled == 1


async def test_delay_fault_holds_first_attempt_until_clock_passes(
    emu: Emulator, client: AsyncScheduler, http: aiohttp.ClientSession
) -> None:
    async with http.put(f"{emu.url}/_emulator/webhooks/faults", json={"delay_seconds": 90}) as r:
        assert r.status == 200 and (await r.json())["data"]["delay_seconds"] == 90
    async with served() as sink:
        await aregister(http, emu, sink)
        config_id = create_config(emu)
        await client.bookings.create(
            start_time=START,
            end_time=END,
            guest=Guest(name="Jane", email="jane@example.com"),
            configuration_id=config_id,
        )
        await deliver(emu, sink)
        assert sink.got == [] and emu.webhooks.pending == 1
        await advance(http, emu, sink, 89)
        assert sink.got == []
        await advance(http, emu, sink, 1)
        assert [type(n) for n in sink.got] == [BookingCreated]
        assert sink.got[0].time == T0  # the event time, not the delivery time
    assert [d.at for d in emu.webhook_deliveries()] == [T0 + 90]


async def test_receiver_failing_twice_gets_the_third_attempt(
    emu: Emulator, client: AsyncScheduler, http: aiohttp.ClientSession
) -> None:
    async with served() as sink:
        hook = await aregister(http, emu, sink, url=f"{sink.base}/flaky")
        sink.fail_next = 2
        config_id = create_config(emu)
        await client.bookings.create(
            start_time=START,
            end_time=END,
            guest=Guest(name="Jane", email="jane@example.com"),
            configuration_id=config_id,
        )
        await deliver(emu, sink)
        assert sink.got == [] and sink.posts == 1
        await advance(http, emu, sink, 299)
        assert sink.posts == 1  # the retry is not due yet
        await advance(http, emu, sink, 1)
        assert sink.got == [] and sink.posts == 2
        await advance(http, emu, sink, 600)
        assert sink.posts == 3
    log = emu.webhook_deliveries(webhook_id=hook["id"])
    assert [(d.attempt, d.ok, d.status, d.at) for d in log] == [
        (1, False, 500, T0),
        (2, False, 500, T0 + 300),
        (3, True, 200, T0 + 900),
    ]
    assert [type(n) for n in sink.got] == [BookingCreated]
    assert sink.got[0].webhook_delivery_attempt == 3
    async with http.get(f"{emu.url}/v3/webhooks/{hook['id']}", headers=KEY) as r:
        assert (await r.json())["data"]["status"] == "active"


async def test_a_retry_goes_to_every_destination_of_the_trigger(
    emu: Emulator, client: AsyncScheduler, http: aiohttp.ClientSession
) -> None:
    """Fact sheet §1.6: the retry of a notification goes to all destinations of its trigger."""
    async with served() as flaky, served() as steady:
        a = await aregister(http, emu, flaky, url=f"{flaky.base}/flaky")
        b = await aregister(http, emu, steady)
        other = await aregister(http, emu, steady, trigger_types=["booking.cancelled"])
        flaky.fail_next = 1
        config_id = create_config(emu)
        await client.bookings.create(
            start_time=START,
            end_time=END,
            guest=Guest(name="Jane", email="jane@example.com"),
            configuration_id=config_id,
        )
        await deliver(emu, flaky)
        await steady.receiver.join()
        await advance(http, emu, flaky, 300)
        await steady.receiver.join()
    log = [(d.webhook_id, d.attempt, d.ok) for d in emu.webhook_deliveries()]
    assert sorted(log) == sorted(
        [(a["id"], 1, False), (b["id"], 1, True), (a["id"], 2, True), (b["id"], 2, True)]
    )
    assert all(d.webhook_id != other["id"] for d in emu.webhook_deliveries())
    assert [type(n) for n in flaky.got] == [BookingCreated]
    assert [type(n) for n in steady.got] == [BookingCreated]
    assert steady.receiver.duplicates == 1  # the retry reached it again, same id: handled once


async def test_paused_webhook_gets_nothing(
    emu: Emulator, client: AsyncScheduler, http: aiohttp.ClientSession
) -> None:
    guest = Guest(name="Jane", email="jane@example.com")
    async with served() as sink:
        hook = await aregister(http, emu, sink)
        one = f"{emu.url}/v3/webhooks/{hook['id']}"
        async with http.put(one, json={"status": "pause"}, headers=KEY) as r:
            assert r.status == 200 and (await r.json())["data"]["status"] == "pause"
        config_id = create_config(emu)
        await client.bookings.create(
            start_time=START, end_time=END, guest=guest, configuration_id=config_id
        )
        await deliver(emu, sink)
        assert sink.got == [] and emu.webhook_deliveries() == [] and emu.webhooks.pending == 0
        async with http.put(one, json={"status": "active"}, headers=KEY) as r:
            assert r.status == 200
        await client.bookings.create(
            start_time=START + HOUR, end_time=END + HOUR, guest=guest, configuration_id=config_id
        )
        await deliver(emu, sink)
    assert [type(n) for n in sink.got] == [BookingCreated]
    assert sink.got[0].booking.booking_info.start_time == START + HOUR


async def test_reminder_fires_when_the_clock_passes_minutes_before_event(
    emu: Emulator, client: AsyncScheduler, http: aiohttp.ClientSession
) -> None:
    reminders = (
        Reminder(type="webhook", minutes_before_event=30),
        Reminder(type="email", minutes_before_event=90),
    )
    guest = Guest(name="Jane", email="jane@example.com")
    async with served() as sink:
        await aregister(http, emu, sink, trigger_types=["booking.reminder"])
        config_id = await make_config(client, reminders=reminders)
        booking = await client.bookings.create(
            start_time=START, end_time=END, guest=guest, configuration_id=config_id
        )
        dropped = await client.bookings.create(
            start_time=START + HOUR, end_time=END + HOUR, guest=guest, configuration_id=config_id
        )
        await client.bookings.delete(dropped.booking_id, configuration_id=config_id)
        await deliver(emu, sink)
        fire_at = START - 30 * 60
        await advance(http, emu, sink, fire_at - T0 - 1)
        assert sink.got == []
        emu.clock.advance(1)  # from Python: then ask for the due deliveries
        await deliver(emu, sink)
        assert [type(n) for n in sink.got] == [BookingReminder]
        await advance(http, emu, sink, 2 * HOUR)  # past the deleted booking's reminder time
    n = sink.got[0]
    assert isinstance(n, BookingReminder)
    assert n.booking.booking_id == booking.booking_id
    info = n.booking.booking_info
    assert info.time_until_event == 30 * 60
    assert info.organizer_email == "host@example.com"
    assert info.start_time == START and info.provider
    assert [type(n) for n in sink.got] == [BookingReminder]


async def test_rescheduled_booking_moves_its_reminder(
    emu: Emulator, client: AsyncScheduler, http: aiohttp.ClientSession
) -> None:
    async with served() as sink:
        await aregister(http, emu, sink, trigger_types=["booking.reminder"])
        reminders = (Reminder(type="webhook", minutes_before_event=60),)
        config_id = await make_config(client, reminders=reminders)
        booking = await client.bookings.create(
            start_time=START,
            end_time=END,
            guest=Guest(name="Jane", email="jane@example.com"),
            configuration_id=config_id,
        )
        await client.bookings.reschedule(
            booking.booking_id,
            start_time=START + 3 * HOUR,
            end_time=END + 3 * HOUR,
            configuration_id=config_id,
        )
        await advance(http, emu, sink, START - HOUR - T0)  # the old reminder time
        assert sink.got == []
        await advance(http, emu, sink, 3 * HOUR)
    assert [type(n) for n in sink.got] == [BookingReminder]
    assert sink.got[0].booking.booking_info.start_time == START + 3 * HOUR


# --------------------------------------------------------------------------- wired routes


def test_webhook_routes_use_the_emulator_envelopes(emu: Emulator) -> None:
    r = requests.get(f"{emu.url}/v3/webhooks")
    body = assert_error(r, 401, "unauthorized")
    r = requests.post(f"{emu.url}/v3/webhooks", data="{", headers=KEY)
    assert_error(r, 400, "invalid_request_error")
    r = requests.post(
        f"{emu.url}/v3/webhooks",
        data="trigger_types=booking.created",
        headers={**KEY, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(r, 400, "invalid_request_error")
    r = requests.post(f"{emu.url}/v3/webhooks", json={"webhook_url": "http://x"}, headers=KEY)
    assert "trigger_types" in assert_error(r, 400, "invalid_request_error")["error"]["message"]
    r = requests.get(f"{emu.url}/v3/webhooks/nope", headers=KEY)
    body = assert_error(r, 400, "70000")
    assert body["error"]["message"] == "destination.id.not.found : record not found"
    r = requests.patch(f"{emu.url}/v3/webhooks/nope", json={}, headers=KEY)
    assert_error(r, 405, "method_not_allowed")
    with served_on_thread() as sink:
        body = {"trigger_types": ["booking.created"], "webhook_url": f"{sink.base}/missing"}
        r = requests.post(f"{emu.url}/v3/webhooks", json=body, headers=KEY)
    assert assert_error(r, 400, "70005")["error"]["message"] == (
        "unable.verify.webhook_url : status is not ok, got 404"
    )
    assert requests.get(f"{emu.url}/v3/webhooks", headers=KEY).json()["data"] == []


def test_api_key_rules_apply_to_webhooks() -> None:
    with Emulator(clock=FakeClock(T0), api_keys=["right"]) as emu:
        r = requests.get(f"{emu.url}/v3/webhooks", headers={"Authorization": "Bearer wrong"})
        assert_error(r, 401, "unauthorized")
        r = requests.get(f"{emu.url}/v3/webhooks", headers={"Authorization": "Bearer right"})
        assert r.status_code == 200 and r.json()["data"] == []


def test_reset_forgets_webhooks_deliveries_and_faults(emu: Emulator) -> None:
    with served_on_thread() as sink:
        register(emu, sink)
        emu.set_webhook_faults(duplicate=2, delay_seconds=5)
        config_id = create_config(emu)
        emu.store.create_booking(config_id, START, END, {"email": "g@example.com"})
        emu.clock.advance(5)
        emu.deliver_webhooks()
        sink.join()
        assert len(emu.webhook_deliveries()) == 3
        r = requests.get(f"{emu.url}/_emulator/webhooks/deliveries")
        assert r.status_code == 200 and len(r.json()["data"]) == 3
        assert requests.post(f"{emu.url}/_emulator/reset").status_code == 200
    assert emu.webhooks.list_webhooks() == [] and emu.webhook_deliveries() == []
    assert emu.webhooks.faults.to_json() == {"duplicate": 0, "delay_seconds": 0}
    assert requests.get(f"{emu.url}/_emulator/webhooks").json()["data"] == []


def test_webhooks_survive_an_emulator_restart() -> None:
    emu = Emulator(clock=FakeClock(T0))
    with served_on_thread() as sink:
        with emu:
            hook = register(emu, sink)
        with emu:
            r = requests.get(f"{emu.url}/v3/webhooks", headers=KEY)
            assert [w["id"] for w in r.json()["data"]] == [hook["id"]]
            emu.store.add_grant(GRANT)
            config_id = create_config(emu)
            emu.store.create_booking(config_id, START, END, {"email": "g@example.com"})
            emu.deliver_webhooks()
            sink.join()
    assert [type(n) for n in sink.got] == [BookingCreated]


async def test_sync_deliver_refuses_to_block_a_running_loop(emu: Emulator) -> None:
    with pytest.raises(RuntimeError, match="deliver_webhooks_async"):
        emu.deliver_webhooks()


def test_deliver_needs_a_running_emulator() -> None:
    with pytest.raises(RuntimeError, match="not running"):
        Emulator(clock=FakeClock(T0)).deliver_webhooks()
