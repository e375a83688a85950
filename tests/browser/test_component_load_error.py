"""Offline, a page whose component cannot load says so on the page instead of staying blank."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from browser_support import require

from scheduler_async.emulator import Emulator
from scheduler_async.emulator.editor_page import EditorPageServer

try:
    from playwright.sync_api import Page, Route, expect
except ImportError:
    require(False, "Playwright for Python not installed (pip install -e '.[browser]')", module=True)
    raise

pytestmark = pytest.mark.browser

_OFF_LOOPBACK = re.compile(r"^https?://(?!127\.0\.0\.1[:/])")


@pytest.fixture
def offline(page: Page) -> Page:
    """The page with every request beyond loopback failing as with no network (none is sent)."""

    def refuse(route: Route) -> None:
        route.abort("internetdisconnected")

    page.route(_OFF_LOOPBACK, refuse)
    return page


@pytest.fixture
def cdn_emulator() -> Iterator[Emulator]:
    """An emulator serving the booking page with the component from the public CDN."""
    with Emulator(booking_page=True) as emulator:
        yield emulator


def _expect_load_error(page: Page, tag: str) -> None:
    note = page.locator("#component-load-error")
    expect(note).to_be_visible()
    expect(note).to_contain_text(f"Could not load the <{tag}> component from https://cdn.")
    expect(note).to_contain_text("python -m scheduler_async fetch-web-elements")
    assert page.evaluate("window.nylasComponentError")


def test_booking_page_shows_the_load_error(offline: Page, cdn_emulator: Emulator) -> None:
    offline.goto(cdn_emulator.booking_page_url(configuration_id="any"))
    _expect_load_error(offline, "nylas-scheduling")


def test_editor_page_shows_the_load_error(offline: Page, emu: Emulator) -> None:
    server = EditorPageServer(api_url=emu.url, client_id=emu.client_id, api_key=emu.api_key)
    server.start()
    try:
        offline.goto(server.url)
        _expect_load_error(offline, "nylas-scheduler-editor")
    finally:
        server.stop()
