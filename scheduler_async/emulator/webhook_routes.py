"""aiohttp routes of the emulator's ``/v3/webhooks`` API and its webhook admin API.

::

    POST   /v3/webhooks                          create (challenge GET to webhook_url first)
    GET    /v3/webhooks                          list
    GET    /v3/webhooks/ip-addresses             source addresses
    POST   /v3/webhooks/mock-payload             example payload {trigger_type[, webhook_url]}
    POST   /v3/webhooks/send-test-event          {webhook_url[, trigger_type]}
    POST   /v3/webhooks/rotate-secret/{id}       new secret (Node/Ruby/CLI, spec)
    PUT    /v3/webhooks/{id}/rotate-secret       new secret (Python SDK)
    GET    /v3/webhooks/{id}                     get
    PUT    /v3/webhooks/{id}                     partial update (status active|pause)
    DELETE /v3/webhooks/{id}                     delete -> {"data": {"status": "success"}}

    GET    /_emulator/webhooks                   destinations (secrets masked: "****" + last 4)
    GET    /_emulator/webhooks/deliveries        the delivery log (?webhook_id=&notification_id=)
    POST   /_emulator/webhooks/deliver           send what is due now (after a clock change)
    GET|PUT|DELETE /_emulator/webhooks/faults    {duplicate, delay_seconds}

Every ``/v3/webhooks`` route needs the API key; the check is the ``authorize`` callable given to
:func:`register_webhook_routes` (in the emulator: ``web_common.require_api_key``, so the API-key
rules of the other routes apply).  Errors are ``{"request_id", "error": {"type", "message"}}``;
the documented ones are HTTP 400 with numeric types: ``70000`` ``destination.id.not.found :
record not found`` (unknown id, also on update/delete/rotate: no 404), ``70005``
``unable.verify.webhook_url : status is not ok, got <status>`` (the challenge GET failed or timed
out, also for send-test-event).  Bodies follow the emulator's rules (``web_common.read_json``):
malformed or invalid ones are 400 ``invalid_request_error``; a missing key 401 ``unauthorized``.

The create challenge is also run when ``PUT`` changes ``webhook_url`` (undocumented either way).
:func:`setup_routes` is the emulator's wiring (``app.ROUTE_MODULES``).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from .errors import EmulatorError
from .web_common import (
    CLOCK_HOOKS_KEY,
    SETTINGS_KEY,
    STORE_KEY,
    error_response,
    json_response,
    read_json,
    request_id_of,
    require_api_key,
)
from .webhook_delivery import WebhookHub
from .webhook_state import WebhookHubError

__all__ = [
    "HUB_KEY",
    "register_webhook_admin_routes",
    "register_webhook_routes",
    "setup_routes",
]

HUB_KEY = web.AppKey("webhook_hub", WebhookHub)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Authorize = Callable[[web.Request], None]
RequestId = Callable[[web.Request], str]

_STATUSES = ("active", "pause")


def _default_request_id(_: web.Request) -> str:
    return str(uuid.uuid4())


def _default_authorize(request: web.Request) -> None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise EmulatorError.unauthorized("missing API key (Authorization: Bearer <API key>)")


async def _read_body(request: web.Request, *, required: bool) -> dict[str, Any]:
    # The emulator's body rules (JSON content type, object, depth): 400 invalid_request_error.
    return await read_json(request, required=required)


def _str_list(body: Mapping[str, Any], name: str, *, required: bool) -> None:
    value = body.get(name)
    if value is None:
        if required:
            raise WebhookHubError.invalid(f"{name} is required")
        return
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise WebhookHubError.invalid(f"{name} must be an array of strings")
    if required and not value:
        raise WebhookHubError.invalid(f"{name} must not be empty")


def _validate(body: Mapping[str, Any], *, create: bool) -> None:
    _str_list(body, "trigger_types", required=create)
    _str_list(body, "notification_email_addresses", required=False)
    url = body.get("webhook_url")
    if url is None and create:
        raise WebhookHubError.invalid("webhook_url is required")
    if url is not None and (
        not isinstance(url, str) or not url.startswith(("http://", "https://"))
    ):
        raise WebhookHubError.invalid("webhook_url must be an http(s) URL")
    if body.get("description") is not None and not isinstance(body["description"], str):
        raise WebhookHubError.invalid("description must be a string")
    cd = body.get("compressed_delivery")
    if cd is not None and not isinstance(cd, bool):
        raise WebhookHubError.invalid("compressed_delivery must be a boolean")
    status = body.get("status")
    if status is not None and (create or status not in _STATUSES):
        raise WebhookHubError.invalid("status must be one of: active, pause")


class _Routes:
    def __init__(self, hub: WebhookHub, authorize: Authorize, request_id: RequestId) -> None:
        self.hub = hub
        self.authorize = authorize
        self.request_id = request_id

    def wrap(self, fn: Callable[[web.Request], Awaitable[Any]], *, auth: bool = True) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            rid = self.request_id(request)
            try:
                if auth:
                    self.authorize(request)
                result = await fn(request)
            except EmulatorError as exc:
                return error_response(rid, exc.status, exc.error_type, exc.message)
            return json_response(rid, {"request_id": rid, **result})

        return handler

    async def create(self, request: web.Request) -> dict[str, Any]:
        body = await _read_body(request, required=True)
        _validate(body, create=True)
        await self.hub.verify_destination(body["webhook_url"])
        return {"data": self.hub.create(body).to_json(with_secret=True)}

    async def list(self, request: web.Request) -> dict[str, Any]:
        return {"data": [h.to_json() for h in self.hub.list_webhooks()]}

    async def get(self, request: web.Request) -> dict[str, Any]:
        return {"data": self.hub.get(request.match_info["webhook_id"]).to_json()}

    async def update(self, request: web.Request) -> dict[str, Any]:
        webhook_id = request.match_info["webhook_id"]
        self.hub.get(webhook_id)
        body = await _read_body(request, required=False)
        _validate(body, create=False)
        url = body.get("webhook_url")
        if url is not None and url != self.hub.get(webhook_id).webhook_url:
            await self.hub.verify_destination(url)
        return {"data": self.hub.update(webhook_id, body).to_json()}

    async def delete(self, request: web.Request) -> dict[str, Any]:
        self.hub.delete(request.match_info["webhook_id"])
        return {"data": {"status": "success"}}

    async def rotate(self, request: web.Request) -> dict[str, Any]:
        await request.read()
        return {
            "data": self.hub.rotate_secret(request.match_info["webhook_id"]).to_json(
                with_secret=True
            )
        }

    async def ip_addresses(self, request: web.Request) -> dict[str, Any]:
        hub = self.hub
        data = {"ip_addresses": list(hub.ip_addresses), "updated_at": hub.ip_addresses_updated_at}
        return {"data": data}

    async def mock_payload(self, request: web.Request) -> dict[str, Any]:
        body = await _read_body(request, required=True)
        trigger = body.get("trigger_type")
        if not isinstance(trigger, str) or not trigger:
            raise WebhookHubError.invalid("trigger_type is required")
        return {"data": {"data": self.hub.mock_payload(trigger)}}

    async def send_test_event(self, request: web.Request) -> dict[str, Any]:
        body = await _read_body(request, required=True)
        url = body.get("webhook_url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise WebhookHubError.invalid("webhook_url is required")
        trigger = body.get("trigger_type") or "booking.created"
        if not isinstance(trigger, str):
            raise WebhookHubError.invalid("trigger_type must be a string")
        if not await self.hub.send_test_event(url, trigger):
            raise WebhookHubError.unverified("test event was not acknowledged with a 2xx")
        return {"data": "success"}

    # admin

    async def admin_list(self, request: web.Request) -> dict[str, Any]:
        return {
            "data": [
                {**h.to_json(), "webhook_secret": h.masked_secret()}
                for h in self.hub.list_webhooks()
            ]
        }

    async def admin_deliveries(self, request: web.Request) -> dict[str, Any]:
        q = request.query
        items = self.hub.deliveries(
            webhook_id=q.get("webhook_id"), notification_id=q.get("notification_id")
        )
        return {"data": [a.to_json() for a in items], "pending": self.hub.pending}

    async def admin_deliver(self, request: web.Request) -> dict[str, Any]:
        attempts = await self.hub.deliver_due()
        return {"data": [a.to_json() for a in attempts], "pending": self.hub.pending}

    async def admin_get_faults(self, request: web.Request) -> dict[str, Any]:
        return {"data": self.hub.faults.to_json()}

    async def admin_put_faults(self, request: web.Request) -> dict[str, Any]:
        self.hub.faults.update(await _read_body(request, required=True))
        return {"data": self.hub.faults.to_json()}

    async def admin_delete_faults(self, request: web.Request) -> dict[str, Any]:
        self.hub.faults.update({"duplicate": 0, "delay_seconds": 0})
        return {"data": self.hub.faults.to_json()}


def register_webhook_routes(
    app: web.Application,
    hub: WebhookHub,
    *,
    authorize: Authorize = _default_authorize,
    request_id: RequestId = _default_request_id,
    manage_lifecycle: bool = True,
) -> None:
    """Add the ``/v3/webhooks`` routes for ``hub`` to ``app`` (stored as ``app[HUB_KEY]``).

    ``authorize(request)`` checks the API key (raise to refuse); ``request_id(request)`` gives the
    request id of the answer. With ``manage_lifecycle`` the hub's worker starts with the app and
    stops (closing its HTTP session) on cleanup.
    """
    app[HUB_KEY] = hub
    routes = _Routes(hub, authorize, request_id)
    w = routes.wrap
    r = app.router
    r.add_post("/v3/webhooks", w(routes.create))
    r.add_get("/v3/webhooks", w(routes.list), allow_head=False)
    r.add_get("/v3/webhooks/ip-addresses", w(routes.ip_addresses), allow_head=False)
    r.add_post("/v3/webhooks/mock-payload", w(routes.mock_payload))
    r.add_post("/v3/webhooks/send-test-event", w(routes.send_test_event))
    r.add_post("/v3/webhooks/rotate-secret/{webhook_id}", w(routes.rotate))
    r.add_put("/v3/webhooks/{webhook_id}/rotate-secret", w(routes.rotate))
    r.add_post("/v3/webhooks/{webhook_id}/rotate-secret", w(routes.rotate))
    one = "/v3/webhooks/{webhook_id}"
    r.add_get(one, w(routes.get), allow_head=False)
    r.add_put(one, w(routes.update))
    r.add_delete(one, w(routes.delete))
    if manage_lifecycle:

        async def _start(_: web.Application) -> None:
            await hub.start()

        async def _stop(_: web.Application) -> None:
            await hub.close()

        app.on_startup.append(_start)
        app.on_cleanup.append(_stop)


def register_webhook_admin_routes(
    app: web.Application,
    hub: WebhookHub,
    *,
    prefix: str = "/_emulator/webhooks",
    request_id: RequestId = _default_request_id,
) -> None:
    """Add the admin routes (no auth of their own: in the emulator, its middleware guards every
    ``/_emulator`` route with the API keys when it has any, and keeps CORS off them)."""
    routes = _Routes(hub, _default_authorize, request_id)

    def w(fn: Callable[[web.Request], Awaitable[Any]]) -> Handler:
        return routes.wrap(fn, auth=False)

    r = app.router
    r.add_get(prefix, w(routes.admin_list), allow_head=False)
    r.add_get(prefix + "/deliveries", w(routes.admin_deliveries), allow_head=False)
    r.add_post(prefix + "/deliver", w(routes.admin_deliver))
    r.add_get(prefix + "/faults", w(routes.admin_get_faults), allow_head=False)
    r.add_put(prefix + "/faults", w(routes.admin_put_faults))
    r.add_delete(prefix + "/faults", w(routes.admin_delete_faults))


def setup_routes(app: web.Application) -> None:
    """Wire webhooks into the emulator app (an entry of ``app.ROUTE_MODULES``).

    The store's hub (``store.webhook_hub()``: subscribed to booking changes, reset with
    the store) serves ``/v3/webhooks`` with the emulator's API-key check and request ids, and
    ``/_emulator/webhooks/...``; its worker runs with the app.  Moving the clock through
    ``POST /_emulator/clock`` sends what became due (reminders, retries) before answering.
    """
    hub = app[STORE_KEY].webhook_hub(application_id=app[SETTINGS_KEY].client_id)
    register_webhook_routes(app, hub, authorize=require_api_key, request_id=request_id_of)
    register_webhook_admin_routes(app, hub, request_id=request_id_of)

    async def deliver_due() -> None:
        await hub.deliver_due()

    app.setdefault(CLOCK_HOOKS_KEY, []).append(deliver_due)
