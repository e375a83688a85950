"""Configurations: ``/v3/grants/{grant_id}/scheduling/configurations`` (API key auth)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

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
from ._base import Resource

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
        raw = await self._send(
            "POST",
            path,
            credential=self._transport.api_key_credential(),
            body=body,
            repeatable=False,
            timeout=timeout,
            max_retries=max_retries,
        )
        data = self._parse(
            raw, Configuration, method="POST", log_path=path, creates=True, request_body=body
        )
        return self._wrap(raw, data)

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
        raw = await self._send(
            "GET",
            path,
            credential=self._transport.api_key_credential(),
            timeout=timeout,
            max_retries=max_retries,
        )
        return self._wrap(raw, self._parse(raw, Configuration, method="GET", log_path=path))

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
        raw = await self._send(
            "GET",
            path,
            credential=self._transport.api_key_credential(),
            params=params,
            timeout=timeout,
            max_retries=max_retries,
        )
        items = self._parse(raw, tuple[Configuration, ...], method="GET", log_path=path)
        cursor = raw.body.get("next_cursor")
        page = Page(
            data=items,
            next_cursor=cursor if isinstance(cursor, str) and cursor else None,
            request_id=raw.request_id,
        )
        return self._wrap(raw, page)

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
        raw = await self._send(
            "PUT",
            path,
            credential=self._transport.api_key_credential(),
            body=body,
            timeout=timeout,
            max_retries=max_retries,
        )
        return self._wrap(raw, self._parse(raw, Configuration, method="PUT", log_path=path))

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
        raw = await self._send(
            "DELETE",
            path,
            credential=self._transport.api_key_credential(),
            timeout=timeout,
            max_retries=max_retries,
        )
        return self._wrap(raw, None)


class AsyncConfigurations(Resource):
    """``client.configurations``: create, get, list, update and delete configurations."""

    __slots__ = ("with_response",)

    def __init__(self, transport: Any, grant_id: str | None) -> None:
        super().__init__(transport, grant_id)
        self.with_response = AsyncConfigurationsWithResponse(transport, grant_id)
        """The same calls, returning :class:`APIResponse` with status, headers and request id."""

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
    ) -> Configuration:
        """Create a configuration. A failure that may have created it is ``OutcomeUnknownError``."""
        resp = await self.with_response.create(
            participants=participants,
            availability=availability,
            event_booking=event_booking,
            name=name,
            slug=slug,
            requires_session_auth=requires_session_auth,
            scheduler=scheduler,
            appearance=appearance,
            grant_id=grant_id,
            timeout=timeout,
            max_retries=max_retries,
        )
        return resp.data

    async def get(
        self,
        configuration_id: str,
        *,
        grant_id: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> Configuration:
        """Get one configuration by id."""
        resp = await self.with_response.get(
            configuration_id, grant_id=grant_id, timeout=timeout, max_retries=max_retries
        )
        return resp.data

    async def list_page(
        self,
        *,
        limit: int | None = None,
        page_token: str | None = None,
        grant_id: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> Page[Configuration]:
        """Get one page of configurations; pass the previous page's ``next_cursor`` as token."""
        resp = await self.with_response.list_page(
            limit=limit,
            page_token=page_token,
            grant_id=grant_id,
            timeout=timeout,
            max_retries=max_retries,
        )
        return resp.data

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
    ) -> Configuration:
        """Update a configuration (PUT): each field given replaces that object; others are kept."""
        resp = await self.with_response.update(
            configuration_id,
            participants=participants,
            availability=availability,
            event_booking=event_booking,
            name=name,
            slug=slug,
            requires_session_auth=requires_session_auth,
            scheduler=scheduler,
            appearance=appearance,
            grant_id=grant_id,
            timeout=timeout,
            max_retries=max_retries,
        )
        return resp.data

    async def delete(
        self,
        configuration_id: str,
        *,
        grant_id: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> None:
        """Delete a configuration."""
        await self.with_response.delete(
            configuration_id, grant_id=grant_id, timeout=timeout, max_retries=max_retries
        )
