"""Cursor pagination (``scheduler_async.pagination``): every list ends, async and sync.

The hostile server below hands out the same ``next_cursor`` for ``STUCK_PAGES`` pages and only
then ends the list: a loop that trusts the cursor walks all of them (and, against a server that
never stops, forever); the client must stop at the first repeated cursor.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from aioresponses import CallbackResult, aioresponses

from scheduler_async import AsyncScheduler, MalformedResponseError
from scheduler_async.models import Page
from scheduler_async.pagination import Pager, describe_cursor
from scheduler_sync import Scheduler
from tests.helpers import BASE, CONFIG_JSON, KEY

STUCK_PAGES = 50
CONFIGS = re.compile(rf"^{re.escape(BASE)}/v3/grants/grant-1/scheduling/configurations(\?.*)?$")
EVENTS = re.compile(
    rf"^{re.escape(BASE)}/v3/grants/grant-1/scheduling/configurations/cfg-g/group-events\?.*$"
)
EVENT_JSON = {
    "id": "ev-1",
    "calendar_id": "primary",
    "title": "Yoga",
    "capacity": 3,
    "when": {"start_time": 1767250800, "end_time": 1767254400},
}
LONG_CURSOR = "eyJvZmZzZXQiOiAxMDAsICJzZWVkIjogIjAxMjM0NTY3ODkifQ"


class StuckServer:
    """Answers every list call with one item and the cursors of ``cursors``, cycling."""

    def __init__(self, item: dict[str, Any], cursors: list[str]) -> None:
        self.item = item
        self.cursors = cursors
        self.calls = 0

    def __call__(self, url: Any, **kwargs: Any) -> CallbackResult:
        self.calls += 1
        cursor = self.cursors[(self.calls - 1) % len(self.cursors)]
        last = self.calls >= STUCK_PAGES  # a loop that trusts the cursor ends here
        return CallbackResult(
            payload={
                "request_id": f"r{self.calls}",
                "data": [{**self.item, "id": f"x{self.calls}"}],
                "next_cursor": None if last else cursor,
            }
        )


@pytest.fixture
def sync_client() -> Iterator[Scheduler]:
    """A sync client with the unit-test settings (API key, grant ``grant-1``)."""
    with Scheduler(api_key=KEY, grant_id="grant-1", base_url=BASE, max_retries=0) as c:
        yield c


def _check(exc: pytest.ExceptionInfo[MalformedResponseError], cursor: str, pages: int) -> None:
    text = str(exc.value)
    assert describe_cursor(cursor) in text and f"page {pages}" in text
    assert exc.value.request_id == f"r{pages}"


async def test_async_configurations_list_stops_at_a_repeated_cursor(
    client: AsyncScheduler, mock: aioresponses
) -> None:
    server = StuckServer(CONFIG_JSON, [LONG_CURSOR])
    mock.get(CONFIGS, callback=server, repeat=True)
    seen: list[str] = []
    with pytest.raises(MalformedResponseError) as exc:
        async for config in client.configurations.list():
            seen.append(config.id)
    assert seen == ["x1"] and server.calls == 2  # the repeating page's items are not used
    _check(exc, LONG_CURSOR, 2)
    assert LONG_CURSOR not in str(exc.value)  # named, but shortened


async def test_async_group_events_list_stops_at_a_cursor_cycle(
    client: AsyncScheduler, mock: aioresponses
) -> None:
    server = StuckServer(EVENT_JSON, ["A-cursor", "B-cursor"])  # A, B, A, ...
    mock.get(EVENTS, callback=server, repeat=True)
    seen: list[str] = []
    with pytest.raises(MalformedResponseError, match="'A-…' \\(8 characters\\) again"):
        async for event in client.group_events.list("cfg-g", start_time=1, end_time=2):
            seen.append(event.id)
    assert seen == ["x1", "x2"] and server.calls == 3


def test_sync_lists_stop_at_a_repeated_cursor(sync_client: Scheduler, mock: aioresponses) -> None:
    configs = StuckServer(CONFIG_JSON, [LONG_CURSOR])
    mock.get(CONFIGS, callback=configs, repeat=True)
    seen: list[str] = []
    with pytest.raises(MalformedResponseError) as exc:
        for config in sync_client.configurations.list(limit=5):
            seen.append(config.id)
    assert seen == ["x1"] and configs.calls == 2
    _check(exc, LONG_CURSOR, 2)

    events = StuckServer(EVENT_JSON, ["E1"])
    mock.get(EVENTS, callback=events, repeat=True)
    with pytest.raises(MalformedResponseError, match="next_cursor 'E1' again"):
        list(sync_client.group_events.list("cfg-g", start_time=1, end_time=2))
    assert events.calls == 2


async def test_a_cursor_that_echoes_the_api_key_is_not_shown(
    client: AsyncScheduler, mock: aioresponses
) -> None:
    mock.get(CONFIGS, callback=StuckServer(CONFIG_JSON, [KEY]), repeat=True)
    with pytest.raises(MalformedResponseError) as exc:
        [c async for c in client.configurations.list()]
    assert KEY not in str(exc.value) and KEY[:8] not in str(exc.value)


@pytest.mark.parametrize("cursor", [5, ["a"], {"next": "a"}, True])
async def test_a_cursor_that_is_not_a_string_is_malformed(
    client: AsyncScheduler, mock: aioresponses, cursor: Any
) -> None:
    payload = {"request_id": "r1", "data": [CONFIG_JSON], "next_cursor": cursor}
    mock.get(CONFIGS, payload=payload)
    with pytest.raises(MalformedResponseError, match="next_cursor must be a string or null"):
        [c async for c in client.configurations.list()]


@pytest.mark.parametrize("last", [None, ""])
async def test_an_empty_or_null_cursor_ends_the_list(
    client: AsyncScheduler, mock: aioresponses, last: str | None
) -> None:
    mock.get(CONFIGS, payload={"request_id": "r1", "data": [CONFIG_JSON], "next_cursor": "c2"})
    mock.get(CONFIGS, payload={"request_id": "r2", "data": [CONFIG_JSON], "next_cursor": last})
    assert len([c async for c in client.configurations.list()]) == 2


def test_describe_cursor_never_shows_more_than_a_third() -> None:
    assert describe_cursor("abc") == "'abc'"
    assert describe_cursor("12345678") == "'12…' (8 characters)"
    assert describe_cursor("x" * 300) == f"'{'x' * 8}…' (300 characters)"


async def test_pager_after_the_last_page_returns_none() -> None:
    calls: list[str | None] = []

    async def fetch(*, token: str | None) -> Any:
        calls.append(token)
        return Page(data=(1,), next_cursor=None if token else "t")

    pager: Pager[int] = Pager(fetch, "token")
    assert (await pager.next_page()) is not None
    assert (await pager.next_page()) is not None
    assert await pager.next_page() is None and await pager.next_page() is None
    assert calls == [None, "t"]


CALENDARS = re.compile(rf"^{re.escape(BASE)}/v3/grants/grant-1/calendars(\?.*)?$")
CALENDAR_JSON = {"id": "cal", "grant_id": "grant-1", "name": "Work", "is_primary": False}


async def test_async_calendars_list_stops_at_a_repeated_cursor(
    client: AsyncScheduler, mock: aioresponses
) -> None:
    server = StuckServer(CALENDAR_JSON, ["C-cursor"])
    mock.get(CALENDARS, callback=server, repeat=True)
    seen: list[str] = []
    with pytest.raises(MalformedResponseError, match="'C-…' \\(8 characters\\) again"):
        async for calendar in client.calendars.list():
            seen.append(calendar.id)
    assert seen == ["x1"] and server.calls == 2


def test_sync_calendars_list_stops_at_a_repeated_cursor(
    sync_client: Scheduler, mock: aioresponses
) -> None:
    server = StuckServer(CALENDAR_JSON, ["C-cursor"])
    mock.get(CALENDARS, callback=server, repeat=True)
    with pytest.raises(MalformedResponseError, match="again"):
        list(sync_client.calendars.list())
    assert server.calls == 2
