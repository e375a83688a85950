"""The official ``nylas`` Python SDK (6.18.0) ``client.webhooks.*`` against the wired emulator,
unchanged: the calls, then a booking delivered with the secret the SDK returned."""

from __future__ import annotations

import nylas  # type: ignore[import-untyped]
import requests

from scheduler_async.emulator import Emulator
from scheduler_async.webhooks import BookingCreated, BookingRescheduled

from .support import BOOKING, KEY, T0, create_config
from .webhook_support import served_on_thread


def test_sdk_webhooks_calls(emu: Emulator) -> None:
    client = nylas.Client(api_key="sdk-key", api_uri=emu.url)
    with served_on_thread() as sink:
        created = client.webhooks.create(
            request_body={
                "trigger_types": ["booking.created", "booking.rescheduled"],
                "webhook_url": sink.url,
                "description": "backend",
            }
        ).data
        assert created.webhook_secret and created.status == "active"
        assert created.created_at == T0 and created.description == "backend"
        sink.secrets.append(created.webhook_secret)

        config_id = create_config(emu)
        r = requests.post(
            f"{emu.url}/v3/scheduling/bookings",
            params={"configuration_id": config_id},
            json=BOOKING,
            headers=KEY,
        )
        assert r.status_code == 200, r.text
        booking_id = r.json()["data"]["booking_id"]
        emu.deliver_webhooks()
        sink.join()
        assert [type(n) for n in sink.got] == [BookingCreated]

        listed = client.webhooks.list().data
        assert [w.id for w in listed] == [created.id]
        found = client.webhooks.find(webhook_id=created.id).data
        assert found.webhook_url == sink.url
        assert found.trigger_types == ["booking.created", "booking.rescheduled"]
        updated = client.webhooks.update(
            webhook_id=created.id, request_body={"description": "sdk", "status": "pause"}
        ).data
        assert (updated.description, updated.status) == ("sdk", "pause")
        assert updated.webhook_url == sink.url  # a partial update keeps the rest
        updated = client.webhooks.update(
            webhook_id=created.id, request_body={"status": "active"}
        ).data
        assert updated.status == "active"

        rotated = client.webhooks.rotate_secret(webhook_id=created.id).data
        assert rotated.webhook_secret and rotated.webhook_secret != created.webhook_secret
        assert emu.webhooks.get(created.id).secret == rotated.webhook_secret
        sink.secrets[:] = [rotated.webhook_secret]  # the old secret stops at once
        moved = {"start_time": BOOKING["start_time"] + 3600, "end_time": BOOKING["end_time"] + 3600}
        r = requests.patch(
            f"{emu.url}/v3/scheduling/bookings/{booking_id}",
            params={"configuration_id": config_id},
            json=moved,
            headers=KEY,
        )
        assert r.status_code == 200, r.text
        emu.deliver_webhooks()
        sink.join()
        assert [type(n) for n in sink.got] == [BookingCreated, BookingRescheduled]

        ips = client.webhooks.ip_addresses().data
        assert ips.ip_addresses == ["127.0.0.1"]
        deleted = client.webhooks.destroy(webhook_id=created.id)
        assert deleted.data.status == "success"
    assert emu.webhooks.list_webhooks() == []
    assert [d.ok for d in emu.webhook_deliveries()] == [True, True]
