"""Cursor pagination, the one implementation every list uses (async and sync).

A list answer is ``{"data": [...], "next_cursor": "<opaque>"}``; the next page is asked for with
``page_token=<next_cursor>``, and the last page has no cursor (absent, ``null`` or ``""``).

* :func:`read_page` turns one answer (its ``data`` already parsed) into a
  :class:`~scheduler_async.models.Page`; a cursor that is neither a string nor ``null`` is a
  :class:`MalformedResponseError`, never read as "last page" (which would silently drop the
  rest of the list);
* :class:`Pager` is the page loop's state: it fetches page after page and ends the iteration
  with :class:`MalformedResponseError` when the server hands out a cursor it already gave (the
  list would otherwise never end);
* :func:`paginate` drives a :class:`Pager` from ``async for``; the sync facade drives the same
  :class:`Pager` one loop crossing per page (``scheduler_sync._runtime.SyncRuntime.iter_pages``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from . import errors
from ._args import check_int, check_str
from ._scrub import MIN_SECRET_LENGTH, safe_repr
from .models import Page

if TYPE_CHECKING:
    from ._transport import Request, Response

__all__ = ["PageLike", "Pager", "describe_cursor", "page_query", "paginate", "read_page"]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class PageLike(Protocol[T_co]):
    """What a ``<name>_page`` method returns: the items and the cursor of the next page."""

    @property
    def data(self) -> Sequence[T_co]:
        """The items of this page."""
        ...

    @property
    def next_cursor(self) -> str | None:
        """The token of the next page; ``None`` (or empty) on the last page."""
        ...


def page_query(
    limit: int | None, page_token: str | None, *, maximum: int | None = 200
) -> dict[str, str]:
    """The ``limit`` and ``page_token`` query parameters of a ``<name>_page`` call, checked.

    ``limit`` is at least 1 and at most ``maximum`` (``None``: no upper bound).
    """
    params: dict[str, str] = {}
    if limit is not None:
        check_int(limit, "limit", minimum=1)
        if maximum is not None and limit > maximum:
            raise ValueError(f"limit must be <= {maximum}")
        params["limit"] = str(limit)
    if page_token is not None:
        params["page_token"] = check_str(page_token, "page_token")
    return params


def read_page(request: Request, response: Response, items: tuple[T, ...]) -> Page[T]:
    """One list answer as a :class:`Page`: its parsed ``items`` and its ``next_cursor``."""
    cursor = response.body.get("next_cursor")
    if cursor is not None and not isinstance(cursor, str):
        raise errors.MalformedResponseError(
            f"next_cursor must be a string or null, not {type(cursor).__name__}",
            status_code=response.status,
            headers=response.headers,
            method=request.method,
            path=request.where,
            request_id=response.request_id,
            retries_taken=response.retries,
        )
    return Page(data=items, next_cursor=cursor or None, request_id=response.request_id)


def describe_cursor(cursor: str) -> str:
    """A short name of ``cursor`` for an error: never more than a third of a long string.

    A cursor is opaque and a hostile or broken server may put anything in it (an echoed
    credential included), so an error shows only its first characters and its length.
    """
    if len(cursor) < MIN_SECRET_LENGTH:  # too short to be a credential (see _scrub)
        return safe_repr(cursor)
    shown = cursor[: min(8, len(cursor) // 3)]
    return f"{safe_repr(shown + '…')} ({len(cursor)} characters)"


class Pager(Generic[T]):
    """The state of one page loop: the token to send next and every cursor already seen.

    ``fetch(**{token_param: token})`` returns one page; the first call passes ``None``.
    :meth:`next_page` returns the pages in order, then ``None``; :attr:`finished` says so
    without a call (the sync facade saves a loop crossing with it). A cursor seen before (the same
    one again, or a cycle) raises :class:`MalformedResponseError` naming it (shortened, see
    :func:`describe_cursor`) and ends the loop; the items of that answer are not used.
    """

    __slots__ = ("_done", "_fetch", "_pages", "_seen", "_token", "_token_param")

    def __init__(
        self, fetch: Callable[..., Awaitable[PageLike[T]]], token_param: str = "page_token"
    ) -> None:
        self._fetch = fetch
        self._token_param = token_param
        self._token: str | None = None
        self._seen: set[str] = set()
        self._pages = 0
        self._done = False

    @property
    def finished(self) -> bool:
        """Whether the last page was fetched (or the loop ended with an error)."""
        return self._done

    async def next_page(self) -> PageLike[T] | None:
        """The next page, or ``None`` after the last one."""
        if self._done:
            return None
        self._done = True  # until this page is known to have a fresh cursor
        page = await self._fetch(**{self._token_param: self._token})
        self._pages += 1
        cursor = page.next_cursor
        if cursor:
            if cursor in self._seen:
                raise errors.MalformedResponseError(
                    f"the server sent next_cursor {describe_cursor(cursor)} again (page "
                    f"{self._pages}): following it would never end the list",
                    request_id=getattr(page, "request_id", None),
                )
            self._seen.add(cursor)
            self._token = cursor
            self._done = False
        return page


async def paginate(
    fetch: Callable[..., Awaitable[PageLike[T]]], token_param: str = "page_token"
) -> AsyncIterator[T]:
    """Every item of every page, fetched as needed (see :class:`Pager`)."""
    pager = Pager(fetch, token_param)
    while not pager.finished and (page := await pager.next_page()) is not None:
        for item in page.data:
            yield item
