"""Fixtures for the browser tests: the emulator, a booking page on another origin, Chromium.

* ``browser_emulator`` (session): an :class:`Emulator` with a frozen clock at :data:`NOW` (its app
  has the CORS middleware outermost and ``GET /v3/scheduling/ui-settings``).
* ``booking_page_url`` (session): ``http://127.0.0.1:<port>/_emulator/booking-page`` served by
  a second server, so the page's origin differs from the API's and every API call is a real
  CORS call.
* ``chromium`` (module): Debian's headless Chromium driven by Playwright for Python (never a
  downloaded browser build); ``page`` (function): a fresh context (UTC, en-US) whose ``Date`` is
  fixed at :data:`NOW`, the emulator's business time, so both sides agree on "now".

Missing Chromium, Playwright or the component bundle (``scripts/fetch_web_elements.sh``) skips
with the reason, unless ``SCHEDULER_REQUIRE_SERVERS=1`` (CI), where it fails.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from aiohttp import web
from browser_support import COMPONENT_VERSION, GRANT, HOST_EMAIL, NOW, require

from scheduler_async.emulator.booking_page import (
    BOOKING_PAGE_PATH,
    COMPONENT_FILE,
    create_booking_page_app,
)
from scheduler_async.emulator.runner import Emulator
from scheduler_async.emulator.store import FakeClock
from scheduler_async.emulator.web_common import AppThread

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ROOT = Path(__file__).resolve().parents[2]


def component_dir() -> Path:
    """Where the component bundle is: ``$SCHEDULER_WEB_ELEMENTS_DIR`` or the fetch cache."""
    env = os.environ.get("SCHEDULER_WEB_ELEMENTS_DIR")
    return Path(env) if env else ROOT / ".cache" / "web-elements" / COMPONENT_VERSION


def chromium_path() -> str | None:
    """Debian's Chromium: ``$SCHEDULER_CHROMIUM`` or ``chromium`` on PATH."""
    env = os.environ.get("SCHEDULER_CHROMIUM")
    if env:
        return env if os.access(env, os.X_OK) else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


# --------------------------------------------------------------------------- servers


@pytest.fixture(scope="session")
def browser_emulator() -> Iterator[Emulator]:
    """The emulator (CORS and ui-settings are part of every emulator app), frozen at ``NOW``."""
    emulator = Emulator(clock=FakeClock(NOW))
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def emu(browser_emulator: Emulator) -> Emulator:
    """The browser emulator, reset (state, faults, clock back to ``NOW``)."""
    browser_emulator.reset()
    browser_emulator.add_grant(GRANT, email=HOST_EMAIL)
    return browser_emulator


@pytest.fixture(scope="session")
def component_path() -> Path:
    """The directory holding the component bundle (skip/fail when absent)."""
    directory = component_dir()
    require(
        (directory / COMPONENT_FILE).is_file(),
        f"@nylas/web-elements {COMPONENT_VERSION} bundle not found in {directory}; "
        "run python -m scheduler_async fetch-web-elements",
    )
    return directory


@pytest.fixture(scope="session")
def booking_page_url(browser_emulator: Emulator, component_path: Path) -> Iterator[str]:
    """``http://127.0.0.1:<page port>/_emulator/booking-page`` (a different origin from the API)."""
    api = browser_emulator.url

    def factory() -> web.Application:
        return create_booking_page_app(component_dir=component_path, api_url=api)

    with AppThread(factory, name="booking-page") as server:
        yield f"{server.base_url}{BOOKING_PAGE_PATH}"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Headless Debian Chromium under Playwright (skip/fail when either is missing).

    Module scope: Playwright's sync API keeps an event loop running on the main thread while it
    is open, which would break ``asyncio.run`` in the tests collected after the browser ones.
    """
    executable = chromium_path()
    require(executable is not None, "Chromium not found (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "Playwright for Python not installed (pip install -e '.[browser]')")
        raise
    assert executable is not None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def console() -> list[str]:
    """The page's console messages (``"<type>: <text>"``), for failure messages."""
    return []


@pytest.fixture
def page(chromium: Browser, emu: Emulator, console: list[str]) -> Iterator[Page]:
    """A fresh page (UTC, en-US, 1200x900) whose clock is fixed at the emulator's now."""
    context = chromium.new_context(
        locale="en-US", timezone_id="UTC", viewport={"width": 1200, "height": 900}
    )
    page = context.new_page()
    page.clock.set_fixed_time(dt.datetime.fromtimestamp(emu.clock.now(), tz=dt.UTC))
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    try:
        yield page
    finally:
        with contextlib.suppress(Exception):
            context.close()
