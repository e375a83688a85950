"""Configurations: ``/v3/grants/{grant_id}/scheduling/configurations`` (API key auth)."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._args import as_tuple, check_int, check_str, path_id
from .._config import Timeout
from .._convert import unstructure
from .._response import APIResponse
from ..models import (
    AnyConfiguration,
    Configuration,
    ConfigurationAvailability,
    ConfigurationParticipant,
    EventBooking,
    GroupBooking,
    GroupConfiguration,
    Page,
    SchedulerSettings,
)
from ..pagination import page_query, paginate
from ._base import PlainResource, Request, Resource, page_of, plain, structure_data

if TYPE_CHECKING:
    from .._transport import Response

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


def _group_body(group_booking: GroupBooking) -> dict[str, Any]:
    if not isinstance(group_booking, GroupBooking):
        raise TypeError("group_booking must be a GroupBooking")
    check_str(group_booking.calendar_id, "group_booking.calendar_id")
    if group_booking.default_capacity is not None:
        check_int(group_booking.default_capacity, "group_booking.default_capacity", minimum=1)
        if group_booking.default_capacity > 500:
            raise ValueError("group_booking.default_capacity must be <= 500")
    return {"type": "group", "group_booking": unstructure(group_booking)}


def _any_configuration(request: Request, response: Response) -> AnyConfiguration:
    result: AnyConfiguration = structure_data(request, response, AnyConfiguration)
    return result


def _path(self: Resource, grant_id: str | None, configuration_id: str | None = None) -> str:
    """The configurations collection of the grant, or one configuration in it."""
    path = f"/v3/grants/{self._grant(grant_id)}/scheduling/configurations"
    if configuration_id is None:
        return path
    return f"{path}/{path_id(configuration_id, 'configuration_id')}"


_page = page_of(AnyConfiguration)


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
        return await self._keyed(
            "POST",
            _path(self, grant_id),
            Configuration,
            body=body,
            repeatable=False,
            timeout=timeout,
            max_retries=max_retries,
        )

    async def create_group(
        self,
        *,
        group_booking: GroupBooking,
        name: str,
        slug: str | None = None,
        requires_session_auth: bool | None = None,
        scheduler: SchedulerSettings | None = None,
        appearance: Mapping[str, str] | None = None,
        grant_id: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[GroupConfiguration]:
        """Create a group configuration (``type: "group"``): guests book seats on group events.

        It has no participants, availability or event booking; its events are managed with
        ``client.group_events``. A failure that may have created it is ``OutcomeUnknownError``.
        """
        body = _group_body(group_booking)
        body.update(
            _body(
                participants=None,
                availability=None,
                event_booking=None,
                name=check_str(name, "name"),
                slug=slug,
                requires_session_auth=requires_session_auth,
                scheduler=scheduler,
                appearance=appearance,
            )
        )
        return await self._keyed(
            "POST",
            _path(self, grant_id),
            GroupConfiguration,
            body=body,
            repeatable=False,
            timeout=timeout,
            max_retries=max_retries,
        )

    async def get(
        self,
        configuration_id: str,
        *,
        grant_id: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[AnyConfiguration]:
        """Get one configuration by id: a :class:`Configuration`, a :class:`GroupConfiguration`,
        or an :class:`UnknownConfiguration` (a type this library does not know; raw fields kept)."""
        path = _path(self, grant_id, configuration_id)
        return await self._keyed(
            "GET", path, _any_configuration, timeout=timeout, max_retries=max_retries
        )

    async def list_page(
        self,
        *,
        limit: int | None = None,
        page_token: str | None = None,
        grant_id: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[Page[AnyConfiguration]]:
        """Get one page of configurations; pass the previous page's ``next_cursor`` as token.

        Standard, group and unknown-type configurations all decode (see :meth:`get`).
        """
        query = page_query(limit, page_token)
        path = _path(self, grant_id)
        return await self._keyed(
            "GET", path, _page, query=query, timeout=timeout, max_retries=max_retries
        )

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
        group_booking: GroupBooking | None = None,
        grant_id: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[AnyConfiguration]:
        """Update a configuration (PUT): each field given replaces that object; others are kept.

        ``group_booking`` updates a group configuration (and sends ``type: "group"``); it cannot
        be combined with ``participants``, ``availability`` or ``event_booking``. The answer is
        whichever kind the configuration is (see :meth:`get`).
        """
        path_id(configuration_id, "configuration_id")  # a bad id is reported first
        if group_booking is not None and (
            participants is not None or availability is not None or event_booking is not None
        ):
            raise ValueError(
                "a group configuration has no participants, availability or event_booking"
            )
        body = {} if group_booking is None else _group_body(group_booking)
        body |= _body(
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
        path = _path(self, grant_id, configuration_id)
        return await self._keyed(
            "PUT", path, _any_configuration, body=body, timeout=timeout, max_retries=max_retries
        )

    async def delete(
        self,
        configuration_id: str,
        *,
        grant_id: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[None]:
        """Delete a configuration."""
        path = _path(self, grant_id, configuration_id)
        return await self._keyed("DELETE", path, None, timeout=timeout, max_retries=max_retries)


class AsyncConfigurations(PlainResource[AsyncConfigurationsWithResponse]):
    """``client.configurations``: create (standard or group), get, list, update and delete."""

    __slots__ = ()

    create = plain(AsyncConfigurationsWithResponse.create)
    create_group = plain(AsyncConfigurationsWithResponse.create_group)
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
    ) -> AsyncIterator[AnyConfiguration]:
        """Iterate over every configuration (standard, group or unknown type), page by page.

        A server that hands out a cursor it already gave ends the iteration with
        ``MalformedResponseError`` (the list would otherwise never end).
        """
        fetch = functools.partial(
            self.list_page, limit=limit, grant_id=grant_id, timeout=timeout, max_retries=max_retries
        )
        async for item in paginate(fetch, "page_token"):
            yield item
