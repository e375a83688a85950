"""Configurations: ``/v3/grants/{grant_id}/scheduling/configurations`` (API key auth)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._args import as_tuple, check_int, check_str, path_id
from .._config import Timeout
from .._convert import unstructure
from .._response import APIResponse
from ..models import (
    Configuration,
    ConfigurationAvailability,
    ConfigurationParticipant,
    EventBooking,
    Page,
    SchedulerSettings,
)
from ._base import PlainResource, Request, Resource, plain, structure_data

if TYPE_CHECKING:
    from .._transport import Response, Transport

__all__ = ["AsyncConfigurations", "AsyncConfigurationsWithResponse"]


def _body(
    *,
    participants: Sequence[ConfigurationParticipant] | None,
    availability: ConfigurationAvailability | None,
    event_booking: EventBooking | None,
    name: str | None,
    slug: str | None,
    requires_session_auth: bool | None,
    scheduler: SchedulerSettings | None,
    appearance: Mapping[str, str] | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if participants is not None:
        parts = as_tuple(participants, "participants") or ()
        if not parts:
            raise ValueError("participants must not be empty")
        for p in parts:
            if not isinstance(p, ConfigurationParticipant):
                raise TypeError("participants must be ConfigurationParticipant objects")
        body["participants"] = unstructure(list(parts))
    if availability is not None:
        if not isinstance(availability, ConfigurationAvailability):
            raise TypeError("availability must be a ConfigurationAvailability")
        check_int(availability.duration_minutes, "availability.duration_minutes", minimum=1)
        body["availability"] = unstructure(availability)
    if event_booking is not None:
        if not isinstance(event_booking, EventBooking):
            raise TypeError("event_booking must be an EventBooking")
        check_str(event_booking.title, "event_booking.title")
        body["event_booking"] = unstructure(event_booking)
    if name is not None:
        body["name"] = check_str(name, "name")
    if slug is not None:
        body["slug"] = check_str(slug, "slug")
    if requires_session_auth is not None:
        if not isinstance(requires_session_auth, bool):
            raise TypeError("requires_session_auth must be a bool")
        body["requires_session_auth"] = requires_session_auth
    if scheduler is not None:
        if not isinstance(scheduler, SchedulerSettings):
            raise TypeError("scheduler must be a SchedulerSettings")
        body["scheduler"] = unstructure(scheduler)
    if appearance is not None:
        body["appearance"] = dict(appearance)
    return body


def _page(request: Request, response: Response) -> Page[Configuration]:
    request_id = response.request_id
    items = structure_data(request, response, tuple[Configuration, ...])
    cursor = response.body.get("next_cursor")
    return Page(
        data=items,
        next_cursor=cursor if isinstance(cursor, str) and cursor else None,
        request_id=request_id,
    )


class AsyncConfigurationsWithResponse(Resource):
    """Configuration calls that return :class:`APIResponse` (model plus HTTP metadata)."""

    __slots__ = ()

    async def create(
        self,
        *,
        participants: Sequence[ConfigurationParticipant],
        availability: ConfigurationAvailability,
        event_booking: EventBooking,
        name: str | None = None,
        slug: str | None = None,
        requires_session_auth: bool | None = None,
        scheduler: SchedulerSettings | None = None,
        appearance: Mapping[str, str] | None = None,
        grant_id: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[Configuration]:
        """Create a configuration. A failure that may have created it is ``OutcomeUnknownError``."""
        body = _body(
            participants=participants,
            availability=availability,
            event_booking=event_booking,
            name=name,
            slug=slug,
            requires_session_auth=requires_session_auth,
            scheduler=scheduler,
            appearance=appearance,
        )
        path = f"/v3/grants/{self._grant(grant_id)}/scheduling/configurations"
        request = Request(
            method="POST", path=path, credential=self._api_key(), body=body, repeatable=False
        )
        return await self._call(request, Configuration, timeout=timeout, max_retries=max_retries)

    async def get(
        self,
        configuration_id: str,
        *,
        grant_id: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[Configuration]:
        """Get one configuration by id."""
        cid = path_id(configuration_id, "configuration_id")
        path = f"/v3/grants/{self._grant(grant_id)}/scheduling/configurations/{cid}"
        request = Request(method="GET", path=path, credential=self._api_key())
        return await self._call(request, Configuration, timeout=timeout, max_retries=max_retries)

    async def list_page(
        self,
        *,
        limit: int | None = None,
        page_token: str | None = None,
        grant_id: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[Page[Configuration]]:
        """Get one page of configurations; pass the previous page's ``next_cursor`` as token."""
        params: dict[str, str] = {}
        if limit is not None:
            check_int(limit, "limit", minimum=1)
            if limit > 200:
                raise ValueError("limit must be <= 200")
            params["limit"] = str(limit)
        if page_token is not None:
            params["page_token"] = check_str(page_token, "page_token")
        path = f"/v3/grants/{self._grant(grant_id)}/scheduling/configurations"
        request = Request(method="GET", path=path, credential=self._api_key(), query=params)
        return await self._call(request, _page, timeout=timeout, max_retries=max_retries)

    async def update(
        self,
        configuration_id: str,
        *,
        participants: Sequence[ConfigurationParticipant] | None = None,
        availability: ConfigurationAvailability | None = None,
        event_booking: EventBooking | None = None,
        name: str | None = None,
        slug: str | None = None,
        requires_session_auth: bool | None = None,
        scheduler: SchedulerSettings | None = None,
        appearance: Mapping[str, str] | None = None,
        grant_id: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[Configuration]:
        """Update a configuration (PUT): each field given replaces that object; others are kept."""
        cid = path_id(configuration_id, "configuration_id")
        body = _body(
            participants=participants,
            availability=availability,
            event_booking=event_booking,
            name=name,
            slug=slug,
            requires_session_auth=requires_session_auth,
            scheduler=scheduler,
            appearance=appearance,
        )
        if not body:
            raise ValueError("update needs at least one field to change")
        path = f"/v3/grants/{self._grant(grant_id)}/scheduling/configurations/{cid}"
        request = Request(method="PUT", path=path, credential=self._api_key(), body=body)
        return await self._call(request, Configuration, timeout=timeout, max_retries=max_retries)

    async def delete(
        self,
        configuration_id: str,
        *,
        grant_id: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[None]:
        """Delete a configuration."""
        cid = path_id(configuration_id, "configuration_id")
        path = f"/v3/grants/{self._grant(grant_id)}/scheduling/configurations/{cid}"
        request = Request(method="DELETE", path=path, credential=self._api_key())
        return await self._call(request, None, timeout=timeout, max_retries=max_retries)


class AsyncConfigurations(PlainResource):
    """``client.configurations``: create, get, list, update and delete configurations."""

    __slots__ = ("with_response",)

    def __init__(
        self, transport: Transport, grant_id: str | None, client_id: str | None = None
    ) -> None:
        super().__init__(transport, grant_id, client_id)
        self.with_response = AsyncConfigurationsWithResponse(transport, grant_id, client_id)
        """The same calls, returning :class:`APIResponse` with status, headers and request id."""

    create = plain(AsyncConfigurationsWithResponse.create)
    get = plain(AsyncConfigurationsWithResponse.get)
    list_page = plain(AsyncConfigurationsWithResponse.list_page)
    update = plain(AsyncConfigurationsWithResponse.update)
    delete = plain(AsyncConfigurationsWithResponse.delete)

    async def list(
        self,
        *,
        limit: int | None = None,
        grant_id: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> AsyncIterator[Configuration]:
        """Iterate over every configuration, fetching pages of ``limit`` as needed."""
        token: str | None = None
        while True:
            page = await self.list_page(
                limit=limit,
                page_token=token,
                grant_id=grant_id,
                timeout=timeout,
                max_retries=max_retries,
            )
            for item in page.data:
                yield item
            if not page.next_cursor:
                return
            token = page.next_cursor
