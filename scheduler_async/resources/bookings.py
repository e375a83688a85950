"""Bookings: ``/v3/scheduling/bookings`` (session token or public reference)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from .._args import TimeLike, as_tuple, check_str, path_id, to_unix, window
from .._config import Timeout
from .._convert import unstructure
from .._response import APIResponse
from ..errors import BadRequestError, SchedulerError
from ..models import (
    AdditionalGuest,
    Booking,
    BookingParticipant,
    ConfirmStatus,
    Guest,
    TimeSlot,
)
from ..sweep import BookingRequest, BookingResult, Progress, fan_out
from ._base import PlainResource, Request, Resource, arguments_of, collect, plain

__all__ = ["AsyncBookings", "AsyncBookingsWithResponse"]

EMAIL_LANGUAGES = frozenset({"en", "es", "fr", "de", "nl", "sv", "ja", "zh", "ko"})


def _slot_body(
    slot: TimeSlot | None,
    start_time: TimeLike | None,
    end_time: TimeLike | None,
    master_key: str,
) -> dict[str, Any]:
    """``start_time``/``end_time`` (and a group slot's event fields) for a create/reschedule.

    With ``slot``, explicit times are optional and must equal the slot's; a group slot adds
    ``event_id``, ``calendar_id`` and its master id under ``master_key``.
    """
    if slot is None:
        if start_time is None or end_time is None:
            raise TypeError("pass start_time and end_time, or slot= (a TimeSlot)")
        start, end = window(start_time, end_time)
        return {"start_time": start, "end_time": end}
    if not isinstance(slot, TimeSlot):
        raise TypeError("slot must be a TimeSlot from availability")
    for name, value, own in (
        ("start_time", start_time, slot.start_time),
        ("end_time", end_time, slot.end_time),
    ):
        if value is not None and to_unix(value, name) != own:
            raise ValueError(f"{name} ({to_unix(value, name)}) disagrees with the slot's ({own})")
    start, end = window(slot.start_time, slot.end_time)
    body: dict[str, Any] = {"start_time": start, "end_time": end}
    if slot.event_id is not None:
        body["event_id"] = slot.event_id
        if slot.master_id is not None:
            body[master_key] = slot.master_id
        if slot.calendar_id is not None:
            body["calendar_id"] = slot.calendar_id
    return body


_NOT_PENDING = "only pending bookings"
"""What the server's 400 says when ``cancel`` (or ``confirm``) meets a non-pending booking."""


def _cancel_hint(exc: BadRequestError) -> BadRequestError | None:
    """The server's "only pending bookings ..." 400 with a pointer to ``bookings.delete``.

    The server's words stay first and unchanged; the hint is marked as the client's. ``None``
    for any other 400.
    """
    if _NOT_PENDING not in exc.message.lower():
        return None
    hinted = BadRequestError(
        f"{exc.message} [scheduler-client: bookings.cancel only declines a pending booking; "
        "to cancel a confirmed booking call bookings.delete(booking_id)]",
        status_code=exc.status_code,
        error_type=exc.error_type,
        provider_error=exc.provider_error,
        headers=exc.headers,
        body=exc.body,
        method=exc.method,
        path=exc.path,
        request_id=exc.request_id,
        retries_taken=exc.retries_taken,
    )
    return hinted


class AsyncBookingsWithResponse(Resource):
    """Booking calls that return :class:`APIResponse`."""

    __slots__ = ()

    async def create(
        self,
        *,
        start_time: TimeLike | None = None,
        end_time: TimeLike | None = None,
        guest: Guest,
        slot: TimeSlot | None = None,
        participants: Sequence[BookingParticipant] | None = None,
        additional_guests: Sequence[AdditionalGuest] | None = None,
        additional_fields: Mapping[str, Any] | None = None,
        timezone: str | None = None,
        email_language: str | None = None,
        session_id: str | None = None,
        configuration_id: str | None = None,
        slug: str | None = None,
        client_id: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[Booking]:
        """Book a slot that availability returned: pass ``slot=`` (the :class:`TimeSlot`) or
        ``start_time``/``end_time``. A group slot also sends its ``event_id``, ``master_id`` and
        ``calendar_id`` (taking one seat; a full event is ``ConflictError`` ``Event is full``).

        Never retried once it may have reached the server: a failure that may have created the
        booking raises ``OutcomeUnknownError`` (check availability or your records, then decide).
        """
        times = _slot_body(slot, start_time, end_time, "master_id")
        if not isinstance(guest, Guest):
            raise TypeError("guest must be a Guest(name=..., email=...)")
        check_str(guest.email, "guest.email")
        credential, params = self._scheduling_auth(session_id, configuration_id, slug, client_id)
        body: dict[str, Any] = {**times, "guest": unstructure(guest)}
        parts = as_tuple(participants, "participants")
        if parts is not None:
            body["participants"] = unstructure(list(parts))
        extra = as_tuple(additional_guests, "additional_guests")
        if extra is not None:
            body["additional_guests"] = unstructure(list(extra))
        if additional_fields is not None:
            body["additional_fields"] = dict(additional_fields)
        if timezone is not None:
            body["timezone"] = check_str(timezone, "timezone")
        if email_language is not None:
            if email_language not in EMAIL_LANGUAGES:
                raise ValueError(f"email_language must be one of {sorted(EMAIL_LANGUAGES)}")
            body["email_language"] = email_language
        path = "/v3/scheduling/bookings"
        request = Request(
            method="POST",
            path=path,
            credential=credential,
            query=params,
            body=body,
            repeatable=False,
        )
        return await self._call(request, Booking, timeout=timeout, max_retries=max_retries)

    async def get(
        self,
        booking_id: str,
        *,
        session_id: str | None = None,
        configuration_id: str | None = None,
        slug: str | None = None,
        client_id: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[Booking]:
        """Get a booking by id."""
        path = f"/v3/scheduling/bookings/{path_id(booking_id, 'booking_id')}"
        credential, params = self._scheduling_auth(session_id, configuration_id, slug, client_id)
        request = Request(method="GET", path=path, credential=credential, query=params)
        return await self._call(request, Booking, timeout=timeout, max_retries=max_retries)

    async def reschedule(
        self,
        booking_id: str,
        *,
        start_time: TimeLike | None = None,
        end_time: TimeLike | None = None,
        slot: TimeSlot | None = None,
        session_id: str | None = None,
        configuration_id: str | None = None,
        slug: str | None = None,
        client_id: str | None = None,
        fetch: bool = False,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[Booking | None]:
        """Move a booking to another available slot (PATCH; absolute times, safe to repeat).

        Pass ``slot=`` (a :class:`TimeSlot`) or ``start_time``/``end_time``; a group slot also
        sends ``event_id``, ``calendar_id`` and ``master_event_id`` (the spec's spelling).

        The API answers a reschedule with its ``request_id`` only, so this returns ``None``.
        With ``fetch=True`` it then reads the booking back (one GET, same credential) and
        returns the rescheduled :class:`Booking`; the status, headers and request id are the
        PATCH's. If only that GET fails, the booking *was* moved: the error raised says so in
        a note (do not reschedule again because of it).
        """
        if not isinstance(fetch, bool):
            raise TypeError("fetch must be a bool")
        path = f"/v3/scheduling/bookings/{path_id(booking_id, 'booking_id')}"
        body = _slot_body(slot, start_time, end_time, "master_event_id")
        credential, params = self._scheduling_auth(session_id, configuration_id, slug, client_id)
        request = Request(
            method="PATCH",
            path=path,
            credential=credential,
            query=params,
            body=body,
        )
        moved: APIResponse[Booking | None] = await self._call(
            request, None, timeout=timeout, max_retries=max_retries
        )
        if not fetch:
            return moved
        read = Request(method="GET", path=path, credential=credential, query=params)
        try:
            got = await self._call(read, Booking, timeout=timeout, max_retries=max_retries)
        except SchedulerError as exc:
            exc.add_note(
                "bookings.reschedule: the booking WAS rescheduled (the PATCH succeeded); only "
                "reading it back with fetch=True failed"
            )
            raise
        return attrs.evolve(moved, data=got.data, elapsed=moved.elapsed + got.elapsed)

    async def confirm(
        self,
        booking_id: str,
        *,
        salt: str,
        session_id: str | None = None,
        configuration_id: str | None = None,
        slug: str | None = None,
        client_id: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[Booking]:
        """Confirm a pending (organizer-confirmation) booking with the salt of its reference."""
        path = f"/v3/scheduling/bookings/{path_id(booking_id, 'booking_id')}"
        credential, params = self._scheduling_auth(session_id, configuration_id, slug, client_id)
        request = Request(
            method="PUT",
            path=path,
            credential=credential,
            query=params,
            body={"salt": check_str(salt, "salt"), "status": ConfirmStatus.CONFIRMED.value},
        )
        return await self._call(request, Booking, timeout=timeout, max_retries=max_retries)

    async def cancel(
        self,
        booking_id: str,
        *,
        salt: str,
        cancellation_reason: str | None = None,
        session_id: str | None = None,
        configuration_id: str | None = None,
        slug: str | None = None,
        client_id: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[None]:
        """Decline a pending booking (PUT ``status: cancelled`` with its salt); frees the slot.

        Only a *pending* (organizer-confirmation) booking can be cancelled this way: to cancel a
        confirmed booking use :meth:`delete`. The server refuses the former with a 400
        (``BadRequestError``) whose message this client extends with that hint.
        """
        path = f"/v3/scheduling/bookings/{path_id(booking_id, 'booking_id')}"
        credential, params = self._scheduling_auth(session_id, configuration_id, slug, client_id)
        body: dict[str, Any] = {
            "salt": check_str(salt, "salt"),
            "status": ConfirmStatus.CANCELLED.value,
        }
        if cancellation_reason is not None:
            body["cancellation_reason"] = check_str(cancellation_reason, "cancellation_reason")
        request = Request(method="PUT", path=path, credential=credential, query=params, body=body)
        try:
            return await self._call(request, None, timeout=timeout, max_retries=max_retries)
        except BadRequestError as exc:
            hinted = _cancel_hint(exc)
            if hinted is None:
                raise
            raise hinted from None

    async def delete(
        self,
        booking_id: str,
        *,
        cancellation_reason: str | None = None,
        session_id: str | None = None,
        configuration_id: str | None = None,
        slug: str | None = None,
        client_id: str | None = None,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> APIResponse[None]:
        """Cancel and delete a booking, freeing its slot.

        If a retry finds it already gone (an earlier attempt deleted it), that counts as done:
        ``gone_after_retry`` is then true on the response.
        """
        path = f"/v3/scheduling/bookings/{path_id(booking_id, 'booking_id')}"
        credential, params = self._scheduling_auth(session_id, configuration_id, slug, client_id)
        body = None
        if cancellation_reason is not None:
            body = {"cancellation_reason": check_str(cancellation_reason, "cancellation_reason")}
        request = Request(
            method="DELETE", path=path, credential=credential, query=params, body=body
        )
        return await self._call(request, None, timeout=timeout, max_retries=max_retries)


class AsyncBookings(PlainResource[AsyncBookingsWithResponse]):
    """``client.bookings``: create, get, reschedule, confirm, cancel and delete bookings."""

    __slots__ = ()

    create = plain(AsyncBookingsWithResponse.create)
    get = plain(AsyncBookingsWithResponse.get)
    reschedule = plain(AsyncBookingsWithResponse.reschedule)
    confirm = plain(AsyncBookingsWithResponse.confirm)
    cancel = plain(AsyncBookingsWithResponse.cancel)
    delete = plain(AsyncBookingsWithResponse.delete)

    async def create_many(
        self,
        requests: Iterable[BookingRequest],
        *,
        concurrency: int = 10,
        progress: Callable[[Progress], None] | None = None,
        progress_bar: bool = False,
        timeout: Timeout | float | None = None,
        max_retries: int | None = None,
    ) -> AsyncIterator[BookingResult]:
        """Create many bookings with at most ``concurrency`` in flight.

        Yields a :class:`BookingResult` per request as each completes. Creates follow the same
        rule as :meth:`create`: never repeated once they may have reached the server; such a
        result has ``outcome_unknown`` set (check before booking again). Failures never abort
        the others.
        """

        async def one(r: BookingRequest) -> Booking:
            return await self.create(**arguments_of(r), timeout=timeout, max_retries=max_retries)

        def wrap(
            r: BookingRequest, value: Booking | None, error: SchedulerError | None
        ) -> BookingResult:
            return BookingResult(request=r, booking=value, error=error)

        results = fan_out(
            requests,
            one,
            wrap,
            concurrency=concurrency,
            progress=progress,
            progress_bar=progress_bar,
            label="bookings",
            pool_limit=self._transport.limits.max_connections,
        )
        async with contextlib.aclosing(results):
            async for result in results:
                yield result

    create_many_all = collect(
        create_many, "Like :meth:`create_many`, collected into a list (one call from sync code)."
    )
