"""``client.webhooks`` against aioresponses: exact wire requests, retries, secrets kept out."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from yarl import URL

import scheduler_async as sa
from scheduler_async import AsyncScheduler
from scheduler_async.models.webhook import (
    Webhook,
    WebhookIpAddresses,
    WebhookMockPayload,
    WebhookStatus,
    WebhookTrigger,
    WebhookWithSecret,
)
from tests.helpers import BASE, KEY, RID, auth_of, only_call, sent_json

SECRET = "whsec-TOP-SECRET-41dD3"
HOOKS = f"{BASE}/v3/webhooks"
HOOK_JSON: dict[str, Any] = {
    "id": "wh-1",
    "description": "bookings",
    "trigger_types": ["booking.created", "booking.cancelled"],
    "webhook_url": "https://example.com/hook",
    "status": "active",
    "notification_email_addresses": ["ops@example.com"],
    "compressed_delivery": False,
    "status_updated_at": 1_767_571_200,
    "created_at": 1_767_571_200,
    "updated_at": 1_767_571_300,
}
ERR_503 = {"request_id": "r503", "error": {"type": "unavailable", "message": "busy"}}


def ok(data: Any) -> dict[str, Any]:
    return {"request_id": RID, "data": data}


def calls(mock: Any, method: str, url: str) -> int:
    return len(mock.requests.get((method, URL(url)), []))


# ---------------------------------------------------------------- each call on the wire
async def test_create_sends_the_body_and_returns_the_secret(
    client: AsyncScheduler, mock: Any
) -> None:
    mock.post(HOOKS, payload=ok({**HOOK_JSON, "webhook_secret": SECRET}))
    hook = await client.webhooks.create(
        trigger_types=[WebhookTrigger.BOOKING_CREATED, "booking.cancelled"],
        webhook_url="https://example.com/hook",
        description="bookings",
        notification_email_addresses=["ops@example.com"],
        compressed_delivery=False,
    )
    kwargs = only_call(mock, "POST", HOOKS)
    assert sent_json(kwargs) == {
        "trigger_types": ["booking.created", "booking.cancelled"],
        "webhook_url": "https://example.com/hook",
        "description": "bookings",
        "notification_email_addresses": ["ops@example.com"],
        "compressed_delivery": False,
    }
    assert auth_of(kwargs) == f"Bearer {KEY}"
    assert isinstance(hook, WebhookWithSecret)
    assert hook.webhook_secret == SECRET
    assert hook.trigger_types == (WebhookTrigger.BOOKING_CREATED, WebhookTrigger.BOOKING_CANCELLED)
    assert hook.status == WebhookStatus.ACTIVE and hook.updated_at == 1_767_571_300
    assert SECRET not in repr(hook)


async def test_create_sends_only_the_required_fields_by_default(
    client: AsyncScheduler, mock: Any
) -> None:
    minimal = {"id": "wh-2", "trigger_types": ["booking.created"], "webhook_url": "https://e.x/h"}
    mock.post(HOOKS, payload=ok({**minimal, "webhook_secret": SECRET}))
    resp = await client.webhooks.with_response.create(
        trigger_types=["booking.created"], webhook_url="https://e.x/h"
    )
    body = sent_json(only_call(mock, "POST", HOOKS))
    assert body == {"trigger_types": ["booking.created"], "webhook_url": "https://e.x/h"}
    assert resp.request_id == RID and resp.data.id == "wh-2" and resp.data.status is None


async def test_list_get_update_delete(client: AsyncScheduler, mock: Any) -> None:
    one = f"{HOOKS}/wh-1"
    mock.get(HOOKS, payload=ok([HOOK_JSON, {**HOOK_JSON, "id": "wh-2", "status": "failing"}]))
    mock.get(one, payload=ok(HOOK_JSON))
    mock.put(one, payload=ok({**HOOK_JSON, "status": "pause"}))
    mock.delete(one, payload=ok({"status": "success"}))

    hooks = await client.webhooks.list()
    assert [h.id for h in hooks] == ["wh-1", "wh-2"]
    assert hooks[1].status == WebhookStatus.FAILING
    assert all(type(h) is Webhook for h in hooks)
    assert sent_json(only_call(mock, "GET", HOOKS)) is None

    got = await client.webhooks.get("wh-1")
    assert got == Webhook(
        id="wh-1",
        description="bookings",
        trigger_types=(WebhookTrigger.BOOKING_CREATED, WebhookTrigger.BOOKING_CANCELLED),
        webhook_url="https://example.com/hook",
        status=WebhookStatus.ACTIVE,
        notification_email_addresses=("ops@example.com",),
        compressed_delivery=False,
        status_updated_at=1_767_571_200,
        created_at=1_767_571_200,
        updated_at=1_767_571_300,
    )
    assert auth_of(only_call(mock, "GET", one)) == f"Bearer {KEY}"

    paused = await client.webhooks.update("wh-1", status=WebhookStatus.PAUSE)
    assert sent_json(only_call(mock, "PUT", one)) == {"status": "pause"}  # partial: only it
    assert paused.status == "pause"

    deleted = await client.webhooks.with_response.delete("wh-1")
    assert deleted.data is None and deleted.status_code == 200
    assert auth_of(only_call(mock, "DELETE", one)) == f"Bearer {KEY}"


async def test_update_sends_exactly_the_fields_given(client: AsyncScheduler, mock: Any) -> None:
    one = f"{HOOKS}/wh-1"
    mock.put(one, payload=ok(HOOK_JSON))
    await client.webhooks.update(
        "wh-1",
        trigger_types=["booking.reminder"],
        webhook_url="https://example.com/new",
        description="",
        compressed_delivery=True,
        status="active",
    )
    assert sent_json(only_call(mock, "PUT", one)) == {
        "trigger_types": ["booking.reminder"],
        "webhook_url": "https://example.com/new",
        "description": "",
        "compressed_delivery": True,
        "status": "active",
    }


async def test_rotate_secret_uses_the_spec_route(client: AsyncScheduler, mock: Any) -> None:
    url = f"{HOOKS}/rotate-secret/wh-1"
    mock.post(url, payload=ok({**HOOK_JSON, "webhook_secret": "new-" + SECRET}))
    resp = await client.webhooks.with_response.rotate_secret("wh-1")
    kwargs = only_call(mock, "POST", url)
    assert sent_json(kwargs) == {} and auth_of(kwargs) == f"Bearer {KEY}"
    assert resp.data.webhook_secret == "new-" + SECRET and resp.status_code == 200


async def test_send_test_event_mock_payload_ip_addresses(client: AsyncScheduler, mock: Any) -> None:
    test_url, mock_url, ips_url = (
        f"{HOOKS}/send-test-event",
        f"{HOOKS}/mock-payload",
        f"{HOOKS}/ip-addresses",
    )
    example = {"specversion": "1.0", "type": "booking.created", "data": {"object": {}}}
    mock.post(test_url, payload=ok("success"))
    mock.post(mock_url, payload=ok({"data": example}))
    mock.get(ips_url, payload=ok({"ip_addresses": ["192.0.2.1"], "updated_at": 1_767_571_200}))

    resp = await client.webhooks.with_response.send_test_event(
        trigger_type=WebhookTrigger.BOOKING_CREATED, webhook_url="https://example.com/hook"
    )
    assert resp.data is None and resp.request_id == RID
    assert sent_json(only_call(mock, "POST", test_url)) == {
        "trigger_type": "booking.created",
        "webhook_url": "https://example.com/hook",
    }
    payload = await client.webhooks.mock_payload(
        trigger_type="booking.cancelled", webhook_url="https://example.com/hook"
    )
    assert payload == WebhookMockPayload(data=example)
    assert sent_json(only_call(mock, "POST", mock_url)) == {
        "trigger_type": "booking.cancelled",
        "webhook_url": "https://example.com/hook",
    }
    ips = await client.webhooks.ip_addresses()
    assert ips == WebhookIpAddresses(ip_addresses=("192.0.2.1",), updated_at=1_767_571_200)
    assert auth_of(only_call(mock, "GET", ips_url)) == f"Bearer {KEY}"


async def test_ids_are_one_encoded_path_segment(client: AsyncScheduler, mock: Any) -> None:
    url = f"{HOOKS}/a%2F..%2Fb"
    mock.get(url, payload=ok(HOOK_JSON))
    await client.webhooks.get("a/../b")
    only_call(mock, "GET", url)


# ---------------------------------------------------------------- arguments
@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"trigger_types": [], "webhook_url": "https://e.x/h"}, ValueError),
        ({"trigger_types": "booking.created", "webhook_url": "https://e.x/h"}, TypeError),
        ({"trigger_types": [""], "webhook_url": "https://e.x/h"}, ValueError),
        ({"trigger_types": ["booking.created"], "webhook_url": "ftp://e.x/h"}, ValueError),
        ({"trigger_types": ["booking.created"], "webhook_url": 3}, TypeError),
        (
            {"trigger_types": ["booking.created"], "webhook_url": "https://e.x", "description": 1},
            TypeError,
        ),
        (
            {
                "trigger_types": ["booking.created"],
                "webhook_url": "https://e.x",
                "compressed_delivery": "yes",
            },
            TypeError,
        ),
    ],
)
async def test_create_checks_arguments_before_sending(
    client: AsyncScheduler, mock: Any, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        await client.webhooks.create(**kwargs)
    assert not mock.requests


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"status": "failing"}, {"status": WebhookStatus.FAILED}, {"status": "inactive"}],
)
async def test_update_refuses_nothing_or_a_server_status(
    client: AsyncScheduler, mock: Any, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(ValueError):
        await client.webhooks.update("wh-1", **kwargs)
    assert not mock.requests


async def test_without_api_key_nothing_is_sent(mock: Any) -> None:
    async with AsyncScheduler(base_url=BASE) as c:
        with pytest.raises(sa.MissingCredentialsError):
            await c.webhooks.list()
    assert not mock.requests


# ---------------------------------------------------------------- retries and errors
async def test_reads_are_retried_on_503(client: AsyncScheduler, mock: Any) -> None:
    mock.get(HOOKS, status=503, payload=ERR_503)
    mock.get(HOOKS, payload=ok([HOOK_JSON]))
    resp = await client.webhooks.with_response.list()
    assert resp.retries_taken == 1 and len(resp.data) == 1
    assert calls(mock, "GET", HOOKS) == 2


@pytest.mark.parametrize("status", [500, 502, 504])
@pytest.mark.parametrize("call", ["create", "rotate_secret"])
async def test_create_and_rotate_are_not_retried_after_a_5xx(
    client: AsyncScheduler, mock: Any, call: str, status: int
) -> None:
    url = HOOKS if call == "create" else f"{HOOKS}/rotate-secret/wh-1"
    mock.post(url, status=status, payload=ERR_503)  # it may have been applied
    with pytest.raises(sa.OutcomeUnknownError) as info:
        if call == "create":
            await client.webhooks.create(
                trigger_types=["booking.created"], webhook_url="https://e.x/h"
            )
        else:
            await client.webhooks.rotate_secret("wh-1")
    assert calls(mock, "POST", url) == 1
    assert info.value.request_id == "r503"
    assert isinstance(info.value.cause, sa.APIStatusError)
    assert info.value.cause.status_code == status


async def _outcome(coro: Any) -> str:
    try:
        await coro
    except sa.APIError as exc:
        return type(exc).__name__
    return "ok"


async def test_create_answers_503_without_retry_after_exactly_as_bookings_create(
    client: AsyncScheduler, mock: Any
) -> None:
    """Same transport rule for every create (see _retry.NOT_APPLIED_STATUSES): same outcome,
    same number of attempts, for ``webhooks.create`` and ``bookings.create``."""
    booking_url = f"{BASE}/v3/scheduling/bookings?configuration_id=CFG"
    outcomes: list[str] = []
    for url in (HOOKS, booking_url):
        mock.post(url, status=503, payload=ERR_503)
        mock.post(url, status=503, payload=ERR_503)
        mock.post(url, status=503, payload=ERR_503)
    outcomes.append(
        await _outcome(
            client.webhooks.create(trigger_types=["booking.created"], webhook_url="https://e.x")
        )
    )
    outcomes.append(
        await _outcome(
            client.bookings.create(
                start_time=10,
                end_time=20,
                guest=sa.Guest(name="a", email="a@x"),
                configuration_id="CFG",
            )
        )
    )
    assert outcomes[0] == outcomes[1]
    assert calls(mock, "POST", HOOKS) == calls(mock, "POST", booking_url) >= 1


@pytest.mark.parametrize("call", ["create", "rotate_secret"])
async def test_create_and_rotate_are_not_retried_after_a_read_timeout(
    client: AsyncScheduler, mock: Any, call: str
) -> None:
    url = HOOKS if call == "create" else f"{HOOKS}/rotate-secret/wh-1"
    mock.post(url, exception=aiohttp.SocketTimeoutError())
    with pytest.raises(sa.OutcomeUnknownError) as info:
        if call == "create":
            await client.webhooks.create(
                trigger_types=["booking.created"], webhook_url="https://e.x/h"
            )
        else:
            await client.webhooks.rotate_secret("wh-1")
    assert calls(mock, "POST", url) == 1
    if call == "create":
        assert info.value.request_body["webhook_url"] == "https://e.x/h"


async def test_create_is_retried_after_429_with_retry_after(
    client: AsyncScheduler, mock: Any
) -> None:
    limited = {"request_id": "r429", "error": {"type": "rate_limit", "message": "slow down"}}
    mock.post(HOOKS, status=429, payload=limited, headers={"Retry-After": "0"})
    mock.post(HOOKS, payload=ok({**HOOK_JSON, "webhook_secret": SECRET}))
    hook = await client.webhooks.create(
        trigger_types=["booking.created"], webhook_url="https://e.x/h"
    )
    assert hook.webhook_secret == SECRET and calls(mock, "POST", HOOKS) == 2


async def test_unknown_id_is_a_bad_request(client: AsyncScheduler, mock: Any) -> None:
    err = {
        "request_id": "r400",
        "error": {"type": "70000", "message": "destination.id.not.found : record not found"},
    }
    mock.get(f"{HOOKS}/nope", status=400, payload=err)
    with pytest.raises(sa.BadRequestError) as info:
        await client.webhooks.get("nope")
    assert info.value.request_id == "r400" and "destination.id.not.found" in str(info.value)


# ---------------------------------------------------------------- the secret stays hidden
async def test_unreadable_create_answer_never_shows_the_secret(
    client: AsyncScheduler, mock: Any
) -> None:
    broken = {"id": "wh-1", "webhook_secret": SECRET}  # trigger_types, webhook_url missing
    mock.post(HOOKS, payload=ok(broken))
    with pytest.raises(sa.OutcomeUnknownError) as info:
        await client.webhooks.create(trigger_types=["booking.created"], webhook_url="https://e.x")
    cause = info.value.cause
    assert isinstance(cause, sa.MalformedResponseError)
    assert "webhook_secret" in (cause.body_excerpt or "")
    for text in (str(info.value), repr(info.value), str(cause), repr(cause), cause.body_excerpt):
        assert SECRET not in (text or "")


async def test_cut_off_rotate_answer_never_shows_the_secret(
    client: AsyncScheduler, mock: Any
) -> None:
    url = f"{HOOKS}/rotate-secret/wh-1"
    raw = json.dumps(ok({"id": "wh-1", "webhook_secret": SECRET}))[:-3]  # not JSON any more
    mock.post(url, status=200, body=raw)
    with pytest.raises(sa.APIError) as info:  # the transport's rule for an unreadable 2xx
        await client.webhooks.rotate_secret("wh-1")
    err = info.value
    cause = err.cause if isinstance(err, sa.OutcomeUnknownError) else err
    assert isinstance(cause, sa.MalformedResponseError)
    assert '"webhook_secret": "***' in cause.body_excerpt
    for text in (str(err), repr(err), str(cause), repr(cause), cause.body_excerpt):
        assert SECRET not in text
