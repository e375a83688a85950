"""``client.webhooks`` end to end against the emulator, async and sync: register the library's
receiver on loopback (the challenge passes), book, receive the signed notification, rotate the
secret, pause, delete."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

import scheduler_sync
from scheduler_async import AsyncScheduler, Guest, RetryPolicy
from scheduler_async.emulator import Emulator
from scheduler_async.models.webhook import (
    Webhook,
    WebhookIpAddresses,
    WebhookStatus,
    WebhookTrigger,
    WebhookWithSecret,
)
from scheduler_async.webhooks import BookingCreated, BookingNotification

from .support import BOOKING, HOUR, create_config
from .webhook_support import Sink, served, served_on_thread

START, END = BOOKING["start_time"], BOOKING["end_time"]
TRIGGERS = [WebhookTrigger.BOOKING_CREATED, WebhookTrigger.BOOKING_CANCELLED]
GUEST = Guest(name="Jane Doe", email="jane@example.com")


def booked_ids(sink: Sink) -> list[str]:
    """Booking ids of the booking notifications the receiver handled, in arrival order."""
    return [n.booking.booking_id for n in sink.got if isinstance(n, BookingNotification)]


@pytest.fixture
async def client(emu: Emulator) -> AsyncIterator[AsyncScheduler]:
    async with AsyncScheduler(
        api_key=emu.api_key,
        grant_id="grant-1",
        base_url=emu.url,
        retry=RetryPolicy(backoff_base=0.0),
    ) as c:
        yield c


@pytest.fixture
def sync_client(emu: Emulator) -> Iterator[scheduler_sync.Scheduler]:
    with scheduler_sync.Scheduler(
        api_key=emu.api_key,
        grant_id="grant-1",
        base_url=emu.url,
        retry=RetryPolicy(backoff_base=0.0),
    ) as c:
        yield c


async def test_async_register_book_rotate_pause_delete(
    emu: Emulator, client: AsyncScheduler
) -> None:
    async with served() as sink:
        hook = await client.webhooks.create(
            trigger_types=TRIGGERS, webhook_url=sink.url, description="crm"
        )
        assert isinstance(hook, WebhookWithSecret) and hook.webhook_secret
        assert hook.webhook_secret not in repr(hook)
        assert hook.status == WebhookStatus.ACTIVE and hook.created_at is not None
        first_secret = hook.webhook_secret
        sink.secrets[:] = [first_secret]  # only this secret is accepted by the receiver

        config_id = create_config(emu)
        one = await client.bookings.create(
            start_time=START, end_time=END, guest=GUEST, configuration_id=config_id
        )
        await emu.deliver_webhooks_async()
        await sink.receiver.join()
        assert [type(n) for n in sink.got] == [BookingCreated]
        assert booked_ids(sink) == [one.booking_id]

        # Rotate: the receiver now accepts only the new secret, and the next one verifies.
        rotated = await client.webhooks.rotate_secret(hook.id)
        assert rotated.id == hook.id and rotated.webhook_secret != first_secret
        sink.secrets[:] = [rotated.webhook_secret]
        two = await client.bookings.create(
            start_time=START + HOUR, end_time=END + HOUR, guest=GUEST, configuration_id=config_id
        )
        await emu.deliver_webhooks_async()
        await sink.receiver.join()
        assert booked_ids(sink) == [one.booking_id, two.booking_id]
        assert all(d.ok for d in emu.webhook_deliveries())  # none refused (401) by the receiver

        # Reads.
        listed = await client.webhooks.list()
        assert [h.id for h in listed] == [hook.id] and type(listed[0]) is Webhook
        got = await client.webhooks.get(hook.id)
        assert got.description == "crm" and got.webhook_url == sink.url
        assert tuple(got.trigger_types) == tuple(TRIGGERS)
        ips = await client.webhooks.ip_addresses()
        assert isinstance(ips, WebhookIpAddresses) and ips.ip_addresses

        # Pause via update: nothing delivered.
        paused = await client.webhooks.update(hook.id, status="pause")
        assert paused.status == WebhookStatus.PAUSE and paused.description == "crm"
        sent_before = len(emu.webhook_deliveries())
        await client.bookings.create(
            start_time=START + 2 * HOUR,
            end_time=END + 2 * HOUR,
            guest=GUEST,
            configuration_id=config_id,
        )
        await emu.deliver_webhooks_async()
        await sink.receiver.join()
        assert len(emu.webhook_deliveries()) == sent_before and len(sink.got) == 2
        assert emu.webhooks.pending == 0

        await client.webhooks.delete(hook.id)
        assert await client.webhooks.list() == ()


async def test_async_old_secret_is_refused_after_rotation(
    emu: Emulator, client: AsyncScheduler
) -> None:
    """A receiver still holding the old secret answers 401: the rotation took effect at once."""
    async with served() as sink:
        hook = await client.webhooks.create(trigger_types=TRIGGERS, webhook_url=sink.url)
        sink.secrets[:] = [hook.webhook_secret]
        await client.webhooks.rotate_secret(hook.id)
        config_id = create_config(emu)
        await client.bookings.create(
            start_time=START, end_time=END, guest=GUEST, configuration_id=config_id
        )
        await emu.deliver_webhooks_async()
        await sink.receiver.join()
    assert sink.got == []
    assert [d.status for d in emu.webhook_deliveries()] == [401]


async def test_async_send_test_event_and_mock_payload(
    emu: Emulator, client: AsyncScheduler
) -> None:
    async with served() as sink:
        sink.secrets[:] = ["mock-webhook-secret"]  # what Nylas signs test events with
        await client.webhooks.send_test_event(
            trigger_type=WebhookTrigger.BOOKING_CREATED, webhook_url=sink.url
        )
        await sink.receiver.join()
        payload = await client.webhooks.mock_payload(
            trigger_type=WebhookTrigger.BOOKING_CANCELLED, webhook_url=sink.url
        )
    assert sink.types() == ["booking.created"]
    assert payload.data["type"] == "booking.cancelled"


def test_sync_register_book_rotate_pause_delete(
    emu: Emulator, sync_client: scheduler_sync.Scheduler
) -> None:
    with served_on_thread() as sink:
        hook = sync_client.webhooks.create(trigger_types=TRIGGERS, webhook_url=sink.url)
        assert isinstance(hook, WebhookWithSecret) and hook.webhook_secret not in repr(hook)
        sink.secrets[:] = [hook.webhook_secret]
        config_id = create_config(emu)
        one = sync_client.bookings.create(
            start_time=START, end_time=END, guest=GUEST, configuration_id=config_id
        )
        emu.deliver_webhooks()
        sink.join()
        assert booked_ids(sink) == [one.booking_id]

        rotated = sync_client.webhooks.rotate_secret(hook.id)
        sink.secrets[:] = [rotated.webhook_secret]
        two = sync_client.bookings.create(
            start_time=START + HOUR, end_time=END + HOUR, guest=GUEST, configuration_id=config_id
        )
        emu.deliver_webhooks()
        sink.join()
        assert booked_ids(sink) == [one.booking_id, two.booking_id]
        assert [d.ok for d in emu.webhook_deliveries()] == [True, True]

        resp = sync_client.webhooks.with_response.update(hook.id, status=WebhookStatus.PAUSE)
        assert resp.status_code == 200 and resp.data.status == WebhookStatus.PAUSE
        sync_client.bookings.create(
            start_time=START + 2 * HOUR,
            end_time=END + 2 * HOUR,
            guest=GUEST,
            configuration_id=config_id,
        )
        emu.deliver_webhooks()
        sink.join()
        assert len(sink.got) == 2 and len(emu.webhook_deliveries()) == 2

        assert [h.status for h in sync_client.webhooks.list()] == [WebhookStatus.PAUSE]
        sync_client.webhooks.delete(hook.id)
        assert sync_client.webhooks.list() == ()


def test_sync_failed_challenge_is_a_bad_request(
    emu: Emulator, sync_client: scheduler_sync.Scheduler
) -> None:
    with served_on_thread() as sink, pytest.raises(scheduler_sync.BadRequestError) as info:
        sync_client.webhooks.create(
            trigger_types=TRIGGERS, webhook_url=f"{sink.base}/not-a-receiver"
        )
    assert "unable.verify.webhook_url" in str(info.value)
    assert sync_client.webhooks.list() == ()
