"""Group events: ``/v3/grants/{grant_id}/scheduling/configurations/{id}/group-events`` and the
two application-level calls (import, validate-timeslot) of a group configuration.

The client sends the spec's form (PUT for updates, a bare JSON array for imports, the
application-level import path) and decodes every answer variant the sources disagree on (see
:mod:`scheduler_async.models.group`).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from .._args import TimeLike, as_tuple, check_int, check_str, path_id, window
from .._config import Timeout
from .._convert import unstructure
from .._response import APIResponse
from ..errors import OutcomeUnknownError, SchedulerError
from ..models import (
    GroupEvent,
    GroupEventImport,
    GroupEventImportFailure,
    GroupEventImportResult,
    GroupEventOrganizer,
    GroupEventParticipant,
    Page,
    TimeSlot,
)
from ..pagination import page_query, paginate
from ._base import PlainResource, Request, Resource, page_of, plain

__all__ = ["MAX_IMPORT_BATCH", "AsyncGroupEvents", "AsyncGroupEventsWithResponse"]

MAX_IMPORT_BATCH = 20
"""Most events one import call may carry (the API's limit)."""
MAX_CAPACITY = 500


def _capacity(value: int, name: str = "capacity") -> int:
    check_int(value, name, minimum=1)
    if value > MAX_CAPACITY:
        raise ValueError(f"{name} must be <= {MAX_CAPACITY}")
    return value


def _event_body(
    *,
    start_time: TimeLike | None,
    end_time: TimeLike | None,
    start_timezone: str | None,
    end_timezone: str | None,
    title: str | None,
    capacity: int | None,
    calendar_id: str | None,
    participants: Sequence[GroupEventParticipant] | None,
    description: str | None,
    location: str | None,
    recurrence: Sequence[str] | None,
    busy: bool | None,
    organizer: GroupEventOrganizer | None,
    conferencing: Mapping[str, Any] | None,
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if (start_time is None) != (end_time is None):
        raise ValueError("pass start_time and end_time together")
    if (start_timezone is None) != (end_timezone is None):
        raise ValueError("pass start_timezone and end_timezone together")
    if start_time is not None and end_time is not None:
        start, end = window(start_time, end_time)
        when: dict[str, Any] = {"start_time": start, "end_time": end}
        if start_timezone is not None and end_timezone is not None:
            when["start_timezone"] = check_str(start_timezone, "start_timezone")
            when["end_timezone"] = check_str(end_timezone, "end_timezone")
        body["when"] = when
    elif start_timezone is not None:
        raise ValueError("start_timezone/end_timezone need start_time and end_time")
    if title is not None:
        body["title"] = check_str(title, "title")
        if len(title) > 1024:
            raise ValueError("title must be at most 1024 characters")
    if capacity is not None:
        body["capacity"] = _capacity(capacity)
    if calendar_id is not None:
        body["calendar_id"] = check_str(calendar_id, "calendar_id")
    parts = as_tuple(participants, "participants")
    if parts:  # none given: the API uses the organizer
        for p in parts:
            if not isinstance(p, GroupEventParticipant):
                raise TypeError("participants must be GroupEventParticipant objects")
        body["participants"] = unstructure(list(parts))
    if description is not None:
        body["description"] = description
    if location is not None:
        if len(location) > 255:
            raise ValueError("location must be at most 255 characters")
        body["location"] = location
    rules = as_tuple(recurrence, "recurrence")
    if rules is not None:
        body["recurrence"] = [check_str(r, "recurrence") for r in rules]
    if busy is not None:
        if not isinstance(busy, bool):
            raise TypeError("busy must be a bool")
        body["busy"] = busy
    if organizer is not None:
        if not isinstance(organizer, GroupEventOrganizer):
            raise TypeError("organizer must be a GroupEventOrganizer")
        body["organizer"] = unstructure(organizer)
    if conferencing is not None:
        body["conferencing"] = dict(conferencing)
    return body


def _check_imports(items: tuple[Any, ...]) -> None:
    for item in items:
        if not isinstance(item, GroupEventImport):
            raise TypeError("events must be GroupEventImport objects")
        check_str(item.event_id, "events[].event_id")
        check_str(item.calendar_id, "events[].calendar_id")
        if item.capacity is not None:
            _capacity(item.capacity, "events[].capacity")


_page = page_of(GroupEvent)


def _events_path(self: Resource, grant_id: str | None, configuration_id: str) -> str:
    cid = path_id(configuration_id, "configuration_id")
    return f"/v3/grants/{self._grant(grant_id)}/scheduling/configurations/{cid}/group-events"


class AsyncGroupEventsWithResponse(Resource):
    """Group-event calls that return :class:`APIResponse`."""

    __slots__ = ()

    async def list_page(
        self,
        configuration_id: str,
        *,
        start_time: TimeLike,
        end_time: TimeLike,
        calendar_id: str = "primary",
        limit: int | None = None,
        page_token: str | None = None,
        grant_id: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[Page[GroupEvent]]:
        """One page of the group events of a group configuration in ``[start_time, end_time]``.

        Events starting at or after ``start_time`` and ending at or before ``end_time``;
        ``calendar_id`` is the group calendar (``primary`` by default).
        """
        start, end = window(start_time, end_time)
        params = {
            "calendar_id": check_str(calendar_id, "calendar_id"),
            "start_time": str(start),
            "end_time": str(end),
        }
        params |= page_query(limit, page_token, maximum=None)
        path = _events_path(self, grant_id, configuration_id)
        return await self._keyed(
            "GET", path, _page, query=params, timeout=timeout, max_retries=max_retries
        )

    async def create(
        self,
        configuration_id: str,
        *,
        title: str,
        start_time: TimeLike,
        end_time: TimeLike,
        capacity: int | None = None,
        calendar_id: str = "primary",
        participants: Sequence[GroupEventParticipant] | None = None,
        start_timezone: str | None = None,
        end_timezone: str | None = None,
        description: str | None = None,
        location: str | None = None,
        recurrence: Sequence[str] | None = None,
        busy: bool | None = None,
        organizer: GroupEventOrganizer | None = None,
        conferencing: Mapping[str, Any] | None = None,
        grant_id: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[GroupEvent]:
        """Create a group event (``capacity`` seats, 1-500; the configuration's default if
        omitted). ``recurrence`` takes RRULE/EXDATE lines, e.g. ``["RRULE:FREQ=WEEKLY"]``.

        Never retried once it may have reached the server: a failure that may have created the
        event raises ``OutcomeUnknownError`` (list the events before creating it again).
        """
        body = _event_body(
            start_time=start_time,
            end_time=end_time,
            start_timezone=start_timezone,
            end_timezone=end_timezone,
            title=title,
            capacity=capacity,
            calendar_id=calendar_id,
            participants=participants,
            description=description,
            location=location,
            recurrence=recurrence,
            busy=busy,
            organizer=organizer,
            conferencing=conferencing,
        )
        return await self._keyed(
            "POST",
            _events_path(self, grant_id, configuration_id),
            GroupEvent,
            body=body,
            repeatable=False,
            timeout=timeout,
            max_retries=max_retries,
        )

    async def update(
        self,
        configuration_id: str,
        event_id: str,
        *,
        title: str | None = None,
        start_time: TimeLike | None = None,
        end_time: TimeLike | None = None,
        capacity: int | None = None,
        calendar_id: str | None = None,
        participants: Sequence[GroupEventParticipant] | None = None,
        start_timezone: str | None = None,
        end_timezone: str | None = None,
        description: str | None = None,
        location: str | None = None,
        recurrence: Sequence[str] | None = None,
        busy: bool | None = None,
        organizer: GroupEventOrganizer | None = None,
        conferencing: Mapping[str, Any] | None = None,
        grant_id: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[GroupEvent]:
        """Update a group event (PUT): each field given replaces that value; others are kept.

        ``event_id`` is a master event (all instances) or one instance of a recurring event.
        """
        body = _event_body(
            start_time=start_time,
            end_time=end_time,
            start_timezone=start_timezone,
            end_timezone=end_timezone,
            title=title,
            capacity=capacity,
            calendar_id=calendar_id,
            participants=participants,
            description=description,
            location=location,
            recurrence=recurrence,
            busy=busy,
            organizer=organizer,
            conferencing=conferencing,
        )
        if not body:
            raise ValueError("update needs at least one field to change")
        path = f"{_events_path(self, grant_id, configuration_id)}/{path_id(event_id, 'event_id')}"
        return await self._keyed(
            "PUT", path, GroupEvent, body=body, timeout=timeout, max_retries=max_retries
        )

    async def delete(
        self,
        configuration_id: str,
        event_id: str,
        *,
        calendar_id: str | None = None,
        grant_id: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[None]:
        """Delete a group event (a master deletes every instance); its bookings are cancelled."""
        path = f"{_events_path(self, grant_id, configuration_id)}/{path_id(event_id, 'event_id')}"
        params = (
            {} if calendar_id is None else {"calendar_id": check_str(calendar_id, "calendar_id")}
        )
        return await self._keyed(
            "DELETE", path, None, query=params, timeout=timeout, max_retries=max_retries
        )

    async def import_batch(
        self,
        configuration_id: str,
        events: Sequence[GroupEventImport],
        *,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[GroupEventImportResult]:
        """Turn up to 20 existing calendar events into group events, in one call.

        Per-event refusals (e.g. ``Event already imported``) are in ``import_failed``. Never
        retried once it may have reached the server (``OutcomeUnknownError``). For more than
        20 events use :meth:`AsyncGroupEvents.import_events`.
        """
        items = as_tuple(events, "events") or ()
        if not items:
            raise ValueError("events must not be empty")
        if len(items) > MAX_IMPORT_BATCH:
            raise ValueError(f"at most {MAX_IMPORT_BATCH} events per import call")
        _check_imports(items)
        cid = path_id(configuration_id, "configuration_id")
        path = f"/v3/scheduling/configurations/{cid}/import-group-events"
        return await self._keyed(
            "POST",
            path,
            GroupEventImportResult,
            body=unstructure(list(items)),
            repeatable=False,
            timeout=timeout,
            max_retries=max_retries,
        )

    async def validate_timeslot(
        self,
        configuration_id: str,
        *,
        slot: TimeSlot | None = None,
        event_id: str | None = None,
        start_time: TimeLike | None = None,
        end_time: TimeLike | None = None,
        master_id: str | None = None,
        calendar_id: str | None = None,
        capacity: int | None = None,
        emails: Sequence[str] | None = None,
        session_id: str | None = None,
        slug: str | None = None,
        client_id: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[None]:
        """Check that a group slot can still be booked, before showing the booking form.

        Pass the availability ``slot`` (or its fields one by one). Returns when the slot is
        still valid; otherwise raises the API's error: ``ConflictError`` ``Event is full``,
        ``BadRequestError`` when the event changed (time, calendar or capacity),
        ``NotFoundError`` when it was deleted. Authenticates like bookings: ``session_id`` for
        a private configuration, nothing (public) by default, or ``slug`` + ``client_id``.
        """
        body: dict[str, Any] = {}
        if slot is not None:
            if not isinstance(slot, TimeSlot):
                raise TypeError("slot must be a TimeSlot from availability")
            body = {"start_time": slot.start_time, "end_time": slot.end_time}
            for name in ("event_id", "master_id", "calendar_id", "capacity"):
                if getattr(slot, name) is not None:
                    body[name] = getattr(slot, name)
            if slot.emails:
                body["emails"] = list(slot.emails)
        given: dict[str, Any] = {
            "event_id": event_id,
            "master_id": master_id,
            "calendar_id": calendar_id,
            "capacity": capacity,
        }
        if (start_time is None) != (end_time is None):
            raise ValueError("pass start_time and end_time together")
        if start_time is not None and end_time is not None:
            given["start_time"], given["end_time"] = window(start_time, end_time)
        if emails is not None:
            given["emails"] = [check_str(e, "emails") for e in as_tuple(emails, "emails") or ()]
        for name, value in given.items():
            if value is None:
                continue
            if name in body and body[name] != value:
                raise ValueError(f"{name}={value!r} disagrees with the slot's {body[name]!r}")
            body[name] = value
        body["event_id"] = check_str(body.get("event_id"), "event_id")
        if "start_time" not in body:
            raise ValueError("validate_timeslot needs slot= or start_time and end_time")
        if body.get("capacity") is not None:
            check_int(body["capacity"], "capacity", minimum=0)
        cid = path_id(configuration_id, "configuration_id")
        if session_id is None and slug is None:
            credential, _ = self._scheduling_auth(None, configuration_id, None, None)
        else:
            credential, _ = self._scheduling_auth(session_id, None, slug, client_id)
        path = f"/v3/scheduling/configurations/{cid}/group-events/validate-timeslot"
        request = Request(method="POST", path=path, credential=credential, body=body)
        return await self._call(request, None, timeout=timeout, max_retries=max_retries)


class AsyncGroupEvents(PlainResource[AsyncGroupEventsWithResponse]):
    """``client.group_events``: the group events (seats) of group configurations."""

    __slots__ = ()

    list_page = plain(AsyncGroupEventsWithResponse.list_page)
    create = plain(AsyncGroupEventsWithResponse.create)
    update = plain(AsyncGroupEventsWithResponse.update)
    delete = plain(AsyncGroupEventsWithResponse.delete)
    import_batch = plain(AsyncGroupEventsWithResponse.import_batch)
    validate_timeslot = plain(AsyncGroupEventsWithResponse.validate_timeslot)

    async def list(
        self,
        configuration_id: str,
        *,
        start_time: TimeLike,
        end_time: TimeLike,
        calendar_id: str = "primary",
        limit: int | None = None,
        grant_id: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> AsyncIterator[GroupEvent]:
        """Iterate over every group event in the window, fetching pages as needed.

        A server that hands out a cursor it already gave ends the iteration with
        ``MalformedResponseError`` (the list would otherwise never end).
        """
        fetch = functools.partial(
            self.list_page,
            configuration_id,
            start_time=start_time,
            end_time=end_time,
            calendar_id=calendar_id,
            limit=limit,
            grant_id=grant_id,
            timeout=timeout,
            max_retries=max_retries,
        )
        async for item in paginate(fetch, "page_token"):
            yield item

    async def import_events(
        self,
        configuration_id: str,
        events: Sequence[GroupEventImport],
        *,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> GroupEventImportResult:
        """Import any number of calendar events as group events, 20 per call, one call at a time.

        Returns one merged result: every id that went in (``imported_events``) and every event
        that did not (``import_failed``, with the server's reason). If a whole call fails
        mid-way (network, auth, server error), the later batches are still sent and each event
        of the failed batch is reported in ``import_failed`` with the error as its reason, so
        nothing is lost and the result names exactly which events went in. A batch whose
        outcome is unknown (``OutcomeUnknownError``) is reported with a reason starting
        ``"outcome unknown"``: those events may have been imported (importing them again
        answers ``Event already imported``).
        """
        items = as_tuple(events, "events") or ()
        if not items:
            raise ValueError("events must not be empty")
        _check_imports(items)  # argument errors surface before anything is sent
        self._api_key()
        imported: list[str] = []
        failed: list[GroupEventImportFailure] = []
        for offset in range(0, len(items), MAX_IMPORT_BATCH):
            batch = items[offset : offset + MAX_IMPORT_BATCH]
            try:
                result = await self.import_batch(
                    configuration_id, batch, timeout=timeout, max_retries=max_retries
                )
            except OutcomeUnknownError as exc:
                reason = f"outcome unknown: {exc}"
                failed.extend(
                    GroupEventImportFailure(event_id=e.event_id, reason=reason) for e in batch
                )
            except SchedulerError as exc:
                reason = f"batch failed: {exc}"
                failed.extend(
                    GroupEventImportFailure(event_id=e.event_id, reason=reason) for e in batch
                )
            else:
                imported.extend(result.imported_events)
                failed.extend(result.import_failed)
        return GroupEventImportResult(imported_events=tuple(imported), import_failed=tuple(failed))
