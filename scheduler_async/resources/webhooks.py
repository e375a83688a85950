"""Webhooks: ``/v3/webhooks`` (API key auth; application-scoped, no grant in the path).

Create and rotate-secret answer a :class:`WebhookWithSecret`: the signing secret is shown
once and never appears in reprs, logs or errors. Both are sent at most once (a create, and a
rotation that would silently invalidate the secret a lost answer carried).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._args import as_tuple, check_str, path_id
from .._config import Timeout
from .._response import APIResponse
from ..models.webhook import (
    Webhook,
    WebhookIpAddresses,
    WebhookMockPayload,
    WebhookStatus,
    WebhookTrigger,
    WebhookWithSecret,
)
from ._base import PlainResource, Resource, plain

__all__ = ["AsyncWebhooks", "AsyncWebhooksWithResponse"]

_SETTABLE_STATUSES = (WebhookStatus.ACTIVE.value, WebhookStatus.PAUSE.value)


def _url(value: Any, name: str) -> str:
    url = check_str(value, name)
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"{name} must be an http(s) URL")
    return url


def _trigger(value: Any, name: str) -> str:
    return str(check_str(value, name))  # a WebhookTrigger is a str; a new trigger name works too


def _body(
    *,
    trigger_types: Sequence[WebhookTrigger | str] | None,
    webhook_url: str | None,
    description: str | None,
    notification_email_addresses: Sequence[str] | None,
    compressed_delivery: bool | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if trigger_types is not None:
        triggers = as_tuple(trigger_types, "trigger_types") or ()
        if not triggers:
            raise ValueError("trigger_types must not be empty")
        body["trigger_types"] = [_trigger(t, "trigger_types") for t in triggers]
    if webhook_url is not None:
        body["webhook_url"] = _url(webhook_url, "webhook_url")
    if description is not None:
        if not isinstance(description, str):
            raise TypeError("description must be a str")
        body["description"] = description
    if notification_email_addresses is not None:
        emails = as_tuple(notification_email_addresses, "notification_email_addresses") or ()
        body["notification_email_addresses"] = [
            check_str(e, "notification_email_addresses") for e in emails
        ]
    if compressed_delivery is not None:
        if not isinstance(compressed_delivery, bool):
            raise TypeError("compressed_delivery must be a bool")
        body["compressed_delivery"] = compressed_delivery
    return body


def _test_body(trigger_type: WebhookTrigger | str, webhook_url: str) -> dict[str, str]:
    """The body of ``send_test_event`` and ``mock_payload``."""
    return {
        "trigger_type": _trigger(trigger_type, "trigger_type"),
        "webhook_url": _url(webhook_url, "webhook_url"),
    }


def _path(webhook_id: str) -> str:
    return f"/v3/webhooks/{path_id(webhook_id, 'webhook_id')}"


class AsyncWebhooksWithResponse(Resource):
    """Webhook calls that return :class:`APIResponse` (model plus HTTP metadata)."""

    __slots__ = ()

    async def create(
        self,
        *,
        trigger_types: Sequence[WebhookTrigger | str],
        webhook_url: str,
        description: str | None = None,
        notification_email_addresses: Sequence[str] | None = None,
        compressed_delivery: bool | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[WebhookWithSecret]:
        """Register a webhook; Nylas first checks ``webhook_url`` with a ``challenge`` GET.

        The answer carries ``webhook_secret``, shown only here and by :meth:`rotate_secret`:
        store it. Sent at most once: a failure that may have created the webhook is
        ``OutcomeUnknownError`` (list the webhooks before creating it again).
        """
        body = _body(
            trigger_types=trigger_types,
            webhook_url=webhook_url,
            description=description,
            notification_email_addresses=notification_email_addresses,
            compressed_delivery=compressed_delivery,
        )
        return await self._keyed(
            "POST",
            "/v3/webhooks",
            WebhookWithSecret,
            body=body,
            repeatable=False,
            timeout=timeout,
            max_retries=max_retries,
        )

    async def list(
        self,
        *,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[tuple[Webhook, ...]]:
        """Every webhook of the application (the API answers them all at once, unpaged)."""
        return await self._keyed(
            "GET", "/v3/webhooks", tuple[Webhook, ...], timeout=timeout, max_retries=max_retries
        )

    async def get(
        self,
        webhook_id: str,
        *,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[Webhook]:
        """Get one webhook by id (without its secret)."""
        path = _path(webhook_id)
        return await self._keyed("GET", path, Webhook, timeout=timeout, max_retries=max_retries)

    async def update(
        self,
        webhook_id: str,
        *,
        trigger_types: Sequence[WebhookTrigger | str] | None = None,
        webhook_url: str | None = None,
        description: str | None = None,
        notification_email_addresses: Sequence[str] | None = None,
        compressed_delivery: bool | None = None,
        status: WebhookStatus | str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[Webhook]:
        """Update a webhook (PUT): only the fields given are sent; the others are kept.

        ``status`` is ``"active"`` or ``"pause"`` (a paused webhook receives nothing).
        """
        path = _path(webhook_id)
        body = _body(
            trigger_types=trigger_types,
            webhook_url=webhook_url,
            description=description,
            notification_email_addresses=notification_email_addresses,
            compressed_delivery=compressed_delivery,
        )
        if status is not None:
            if str(status) not in _SETTABLE_STATUSES:
                raise ValueError("status must be 'active' or 'pause'")
            body["status"] = str(status)
        if not body:
            raise ValueError("update needs at least one field to change")
        return await self._keyed(
            "PUT", path, Webhook, body=body, timeout=timeout, max_retries=max_retries
        )

    async def delete(
        self,
        webhook_id: str,
        *,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[None]:
        """Delete a webhook: it receives nothing more."""
        path = _path(webhook_id)
        return await self._keyed("DELETE", path, None, timeout=timeout, max_retries=max_retries)

    async def rotate_secret(
        self,
        webhook_id: str,
        *,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[WebhookWithSecret]:
        """Give a webhook a new ``webhook_secret``; the old one stops signing at once.

        Sent at most once (a repeat would silently replace the secret a lost answer carried):
        a failure that may have rotated it is ``OutcomeUnknownError``; rotate again then.
        """
        return await self._keyed(
            "POST",
            f"/v3/webhooks/rotate-secret/{path_id(webhook_id, 'webhook_id')}",
            WebhookWithSecret,
            body={},
            repeatable=False,
            timeout=timeout,
            max_retries=max_retries,
        )

    async def send_test_event(
        self,
        *,
        trigger_type: WebhookTrigger | str,
        webhook_url: str,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[None]:
        """Have Nylas POST a test notification to ``webhook_url`` (signed with
        ``mock-webhook-secret``); an error status if it was not acknowledged."""
        body = _test_body(trigger_type, webhook_url)
        return await self._keyed(
            "POST",
            "/v3/webhooks/send-test-event",
            None,
            body=body,
            timeout=timeout,
            max_retries=max_retries,
        )

    async def mock_payload(
        self,
        *,
        trigger_type: WebhookTrigger | str,
        webhook_url: str,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[WebhookMockPayload]:
        """An example notification of ``trigger_type``, as raw JSON (nothing is sent)."""
        body = _test_body(trigger_type, webhook_url)
        return await self._keyed(
            "POST",
            "/v3/webhooks/mock-payload",
            WebhookMockPayload,
            body=body,
            timeout=timeout,
            max_retries=max_retries,
        )

    async def ip_addresses(
        self,
        *,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[WebhookIpAddresses]:
        """The addresses notifications come from (to allow-list them)."""
        path = "/v3/webhooks/ip-addresses"
        return await self._keyed(
            "GET", path, WebhookIpAddresses, timeout=timeout, max_retries=max_retries
        )


class AsyncWebhooks(PlainResource[AsyncWebhooksWithResponse]):
    """``client.webhooks``: register, list, update, pause, delete webhooks; rotate secrets."""

    __slots__ = ()

    create = plain(AsyncWebhooksWithResponse.create)
    list = plain(AsyncWebhooksWithResponse.list)
    get = plain(AsyncWebhooksWithResponse.get)
    update = plain(AsyncWebhooksWithResponse.update)
    delete = plain(AsyncWebhooksWithResponse.delete)
    rotate_secret = plain(AsyncWebhooksWithResponse.rotate_secret)
    send_test_event = plain(AsyncWebhooksWithResponse.send_test_event)
    mock_payload = plain(AsyncWebhooksWithResponse.mock_payload)
    ip_addresses = plain(AsyncWebhooksWithResponse.ip_addresses)
