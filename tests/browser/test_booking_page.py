"""The unchanged ``<nylas-scheduling>`` component (web-elements 2.6.0) against the emulator.

Each flow drives the real component in headless Chromium on a page whose origin differs from the
emulator's (so every call is a preflighted CORS call) and then checks the emulator's state.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
from browser_support import API_KEY, HOST_EMAIL, HOUR, NOW, create_configuration, require

from scheduler_async.emulator import Emulator

try:
    from playwright.sync_api import Page, Response, expect
except ImportError:
    require(False, "Playwright for Python not installed (pip install -e '.[browser]')", module=True)
    raise

pytestmark = pytest.mark.browser
# generous: the machine is shared; these are upper bounds on waiting, never sleeps
expect.set_options(timeout=20_000)

GUEST = {"name": "Gina Guest", "email": "gina@example.com"}


# True once every rendered nylas-* element whose ``isLoading`` is a boolean (the scheduler
# store's flag, mapped onto the components) has it false.  Several buttons (the organizer card's
# Confirm/Reject among them) silently ignore clicks while it is true.
_IDLE = """() => {
  const found = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll("*")) {
      if (el.tagName.startsWith("NYLAS-") && typeof el.isLoading === "boolean") found.push(el);
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  return found.length > 0 && found.every((el) => el.isLoading === false);
}"""


def _is_availability(response: Response) -> bool:
    return response.request.method == "GET" and "/v3/scheduling/availability" in response.url


def open_page(page: Page, booking_page_url: str, **params: str) -> None:
    """Load the page and wait until the component has finished its start-up fetches.

    The component loads ui-settings, then availability, toggling the store's ``isLoading``
    around each; a click that lands while it is true (e.g. the organizer card's Reject) is
    dropped.  So wait for the availability answer itself, then for every component to be idle
    (``isLoading`` stays false after the last fetch).
    """
    query = "&".join(f"{k}={v}" for k, v in params.items())
    with page.expect_response(_is_availability):
        page.goto(f"{booking_page_url}?{query}")
    page.wait_for_function("window.nylasComponentDefined === true")
    page.wait_for_function(_IDLE)


def events(page: Page, kind: str) -> list[Any]:
    found: list[Any] = page.evaluate(
        "(kind) => window.nylasEvents.filter(e => e.type === kind).map(e => e.detail)", kind
    )
    return found


def pick_slot_and_fill_form(page: Page, label: str, guest: dict[str, str] = GUEST) -> None:
    page.get_by_role("button", name=label, exact=True).click()
    page.get_by_role("button", name="Next", exact=True).click()
    page.locator("input-component#name input").fill(guest["name"])
    page.locator("input-component#email input").fill(guest["email"])


def live_bookings(emu: Emulator, config_id: str) -> list[Any]:
    with emu.store.lock:
        return [
            b for b in emu.store.bookings.values() if b.configuration_id == config_id and b.is_live
        ]


def expected_labels(emu: Emulator, config_id: str, count: int) -> list[str]:
    """Slot labels (``09:00 AM``...) of the first ``count`` slots the emulator offers today."""
    r = requests.get(
        f"{emu.url}/v3/scheduling/availability",
        params={
            "configuration_id": config_id,
            "start_time": str(NOW),
            "end_time": str(NOW + 16 * HOUR),
        },
    )
    assert r.status_code == 200, r.text
    labels = []
    for slot in r.json()["data"]["time_slots"][:count]:
        hour, minute = divmod((slot["start_time"] % 86400) // 60, 60)
        suffix = "AM" if hour < 12 else "PM"
        labels.append(f"{(hour - 1) % 12 + 1:02d}:{minute:02d} {suffix}")
    return labels


def test_public_configuration_renders_slots_and_books(
    page: Page, emu: Emulator, booking_page_url: str, console: list[str]
) -> None:
    config_id = create_configuration(emu)
    open_page(page, booking_page_url, configuration_id=config_id)

    labels = expected_labels(emu, config_id, 3)
    assert labels == ["09:00 AM", "09:30 AM", "10:00 AM"]  # 08:00 now + 60 min notice, 09-17 UTC
    for label in labels:
        expect(page.get_by_role("button", name=label, exact=True)).to_be_visible()
    expect(page.get_by_text("Intro call with Host")).to_be_visible()  # ui-settings name

    pick_slot_and_fill_form(page, "10:00 AM")
    page.get_by_role("button", name="Book now").click()
    expect(page.get_by_text("Booking confirmed!")).to_be_visible()

    (booking,) = live_bookings(emu, config_id)
    assert (booking.start_time, booking.end_time) == (NOW + 2 * HOUR, NOW + 2 * HOUR + 1800)
    assert booking.guest == GUEST
    assert booking.status == "booked"
    assert (booking.timezone, booking.email_language) == ("UTC", "en")
    assert booking.organizer_email == HOST_EMAIL
    (event,) = [e for e in emu.events("grant-browser") if e.booking_id == booking.booking_id]
    assert (event.start_time, event.status) == (NOW + 2 * HOUR, "confirmed")
    booked = events(page, "bookedEventInfo")
    assert booked and booked[-1]["data"]["booking_id"] == booking.booking_id, console


def test_reschedule_from_confirmation_card_then_cancel_with_reason(
    page: Page, emu: Emulator, booking_page_url: str, console: list[str]
) -> None:
    config_id = create_configuration(emu)
    open_page(page, booking_page_url, configuration_id=config_id)
    pick_slot_and_fill_form(page, "10:00 AM")
    page.get_by_role("button", name="Book now").click()
    expect(page.get_by_text("Booking confirmed!")).to_be_visible()
    (booking,) = live_bookings(emu, config_id)

    with page.expect_response(lambda r: "/v3/scheduling/ui-settings" in r.url):
        page.get_by_role("button", name="Reschedule").click()  # reloads ui-settings (booking_id)
    page.wait_for_function(_IDLE)
    # the booked slot is offered again while rescheduling (availability with booking_id)
    expect(page.get_by_role("button", name="10:00 AM", exact=True)).to_be_visible()
    page.get_by_role("button", name="11:30 AM", exact=True).click()
    page.get_by_role("button", name="Next", exact=True).click()
    expect(page.locator("input-component#email input")).to_have_value(GUEST["email"])
    page.get_by_role("button", name="Book now").click()
    expect(page.get_by_text("Booking rescheduled!")).to_be_visible()

    moved = emu.booking(booking.booking_id)
    assert moved.is_live
    assert (moved.start_time, moved.end_time) == (NOW + 3 * HOUR + 1800, NOW + 4 * HOUR)
    assert [b.booking_id for b in live_bookings(emu, config_id)] == [booking.booking_id]

    page.get_by_role("button", name="Cancel booking").click()
    page.locator("textarea-component#cancel-reason textarea").fill("Something came up")
    page.get_by_role("button", name="Cancel booking").click()
    expect(page.get_by_text("Your booking has been cancelled successfully!")).to_be_visible()

    cancelled = emu.booking(booking.booking_id)
    assert cancelled.deleted and cancelled.status == "cancelled", console
    assert cancelled.cancellation_reason == "Something came up"
    assert live_bookings(emu, config_id) == []


def test_private_configuration_with_session(
    page: Page, emu: Emulator, booking_page_url: str, console: list[str]
) -> None:
    config_id = create_configuration(emu, requires_session_auth=True)
    r = requests.post(
        f"{emu.url}/v3/scheduling/sessions", json={"configuration_id": config_id}, headers=API_KEY
    )
    assert r.status_code == 200, r.text
    session_id = r.json()["data"]["session_id"]

    open_page(page, booking_page_url, session_id=session_id)
    pick_slot_and_fill_form(page, "09:30 AM")
    page.get_by_role("button", name="Book now").click()
    expect(page.get_by_text("Booking confirmed!")).to_be_visible()

    (booking,) = live_bookings(emu, config_id)
    assert booking.start_time == NOW + HOUR + 1800, console
    assert booking.guest == GUEST


def test_slug_and_client_id(page: Page, emu: Emulator, booking_page_url: str) -> None:
    config_id = create_configuration(emu, slug="intro-call")
    open_page(page, booking_page_url, slug="intro-call", client_id=emu.client_id)
    pick_slot_and_fill_form(page, "09:00 AM")
    page.get_by_role("button", name="Book now").click()
    expect(page.get_by_text("Booking confirmed!")).to_be_visible()
    (booking,) = live_bookings(emu, config_id)
    assert booking.start_time == NOW + HOUR


def _pending_booking(emu: Emulator) -> tuple[str, str]:
    config_id = create_configuration(
        emu, event_booking={"title": "Intro call", "booking_type": "organizer-confirmation"}
    )
    r = requests.post(
        f"{emu.url}/v3/scheduling/bookings",
        params={"configuration_id": config_id},
        json={"start_time": NOW + 2 * HOUR, "end_time": NOW + 2 * HOUR + 1800, "guest": GUEST},
    )
    assert r.status_code == 200, r.text
    booking_id: str = r.json()["data"]["booking_id"]
    assert emu.booking(booking_id).status == "pending"
    return config_id, booking_id


def test_organizer_confirms_through_booking_ref_link(
    page: Page, emu: Emulator, booking_page_url: str, console: list[str]
) -> None:
    _, booking_id = _pending_booking(emu)
    ref = emu.booking_reference(booking_id)
    open_page(page, booking_page_url, organizer_confirmation_booking_ref=ref)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Your booking has been confirmed successfully!")).to_be_visible()
    assert emu.booking(booking_id).status == "booked", console


def test_organizer_rejects_through_booking_ref_link(
    page: Page, emu: Emulator, booking_page_url: str, console: list[str]
) -> None:
    _, booking_id = _pending_booking(emu)
    ref = emu.booking_reference(booking_id)
    open_page(page, booking_page_url, organizer_confirmation_booking_ref=ref)
    page.get_by_role("button", name="Reject").click()
    page.locator("textarea-component#cancel-reason textarea").fill("Double-booked")
    page.get_by_role("button", name="Cancel booking").click()  # the reject form's submit
    expect(page.get_by_text("cancelled successfully")).to_be_visible()
    rejected = emu.booking(booking_id)
    assert rejected.status == "cancelled", console
    assert rejected.cancellation_reason == "Double-booked"


def test_slot_taken_after_page_loaded_shows_refresh(
    page: Page, emu: Emulator, booking_page_url: str, console: list[str]
) -> None:
    config_id = create_configuration(emu)
    open_page(page, booking_page_url, configuration_id=config_id)
    pick_slot_and_fill_form(page, "10:00 AM")
    r = requests.post(  # another guest takes the slot meanwhile
        f"{emu.url}/v3/scheduling/bookings",
        params={"configuration_id": config_id},
        json={
            "start_time": NOW + 2 * HOUR,
            "end_time": NOW + 2 * HOUR + 1800,
            "guest": {"name": "Other", "email": "other@example.com"},
        },
    )
    assert r.status_code == 200, r.text
    page.get_by_role("button", name="Book now").click()
    expect(page.get_by_text("Timeslot no longer available")).to_be_visible(timeout=10_000)
    expect(page.get_by_role("button", name="10:30 AM", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="10:00 AM", exact=True)).to_have_count(0)
    (booking,) = live_bookings(emu, config_id)
    assert booking.guest["email"] == "other@example.com", console


def test_round_robin_falls_over_to_next_participant(
    page: Page, emu: Emulator, booking_page_url: str, console: list[str]
) -> None:
    hosts = ["ana@example.com", "ben@example.com"]
    for i, email in enumerate(hosts):
        emu.add_grant(f"grant-rr-{i}", email=email)
    participants = [
        {
            "name": email.split("@")[0].title(),
            "email": email,
            "grant_id": f"grant-rr-{i}",
            "availability": {"calendar_ids": ["primary"]},
            "booking": {"calendar_id": "primary"},
        }
        for i, email in enumerate(hosts)
    ]
    config_id = create_configuration(
        emu,
        participants=participants,
        availability={
            "duration_minutes": 30,
            "availability_rules": {
                "availability_method": "max-fairness",
                "default_open_hours": [
                    {"days": [1, 2, 3, 4, 5], "timezone": "UTC", "start": "09:00", "end": "17:00"}
                ],
            },
        },
    )
    open_page(page, booking_page_url, configuration_id=config_id)
    pick_slot_and_fill_form(page, "10:00 AM")
    r = requests.get(
        f"{emu.url}/v3/scheduling/availability",
        params={
            "configuration_id": config_id,
            "start_time": str(NOW),
            "end_time": str(NOW + 86400),
        },
    )
    first, second = r.json()["data"]["order"]
    # the first host in the page's order gets busy at 10:00 after the page loaded
    emu.add_event(f"grant-rr-{hosts.index(first)}", "primary", NOW + 2 * HOUR, NOW + 3 * HOUR)
    page.get_by_role("button", name="Book now").click()
    expect(page.get_by_text("Booking confirmed!")).to_be_visible(timeout=10_000)
    (booking,) = live_bookings(emu, config_id)
    assert booking.organizer_email == second, console


def _booked(emu: Emulator, start: int) -> tuple[str, str]:
    config_id = create_configuration(emu)
    r = requests.post(
        f"{emu.url}/v3/scheduling/bookings",
        params={"configuration_id": config_id},
        json={"start_time": start, "end_time": start + 1800, "guest": GUEST},
    )
    assert r.status_code == 200, r.text
    booking_id: str = r.json()["data"]["booking_id"]
    return config_id, booking_id


def test_guest_reschedules_through_booking_ref_link(
    page: Page, emu: Emulator, booking_page_url: str, console: list[str]
) -> None:
    _, booking_id = _booked(emu, NOW + 2 * HOUR)
    ref = emu.booking_reference(booking_id)
    open_page(page, booking_page_url, reschedule_booking_ref=ref)
    page.get_by_role("button", name="02:00 PM", exact=True).click()
    page.get_by_role("button", name="Next", exact=True).click()
    # prefilled from ui-settings' booking block
    expect(page.locator("input-component#name input")).to_have_value(GUEST["name"])
    expect(page.locator("input-component#email input")).to_have_value(GUEST["email"])
    page.get_by_role("button", name="Book now").click()
    expect(page.get_by_text("Booking rescheduled!")).to_be_visible()
    moved = emu.booking(booking_id)
    assert (moved.start_time, moved.is_live) == (NOW + 6 * HOUR, True), console
    settings = events(page, "configSettingsLoaded")
    assert settings[-1]["settings"]["data"]["booking"]["guest"] == GUEST


def test_guest_cancels_through_booking_ref_link(
    page: Page, emu: Emulator, booking_page_url: str, console: list[str]
) -> None:
    _, booking_id = _booked(emu, NOW + 2 * HOUR)
    ref = emu.booking_reference(booking_id)
    open_page(page, booking_page_url, cancel_booking_ref=ref)
    page.locator("textarea-component#cancel-reason textarea").fill("Not needed any more")
    page.get_by_role("button", name="Cancel booking").click()
    expect(page.get_by_text("Your booking has been cancelled successfully!")).to_be_visible()
    cancelled = emu.booking(booking_id)
    assert cancelled.deleted, console
    assert cancelled.cancellation_reason == "Not needed any more"


def test_group_slot_books_a_seat_then_shows_event_is_full(
    page: Page, emu: Emulator, booking_page_url: str, console: list[str]
) -> None:
    cfgs = f"{emu.url}/v3/grants/grant-browser/scheduling/configurations"
    r = requests.post(
        cfgs,
        json={"type": "group", "name": "Yoga class", "group_booking": {"calendar_id": "primary"}},
        headers=API_KEY,
    )
    assert r.status_code == 200, r.text
    config_id = r.json()["data"]["id"]
    host = [{"name": "Hanna Host", "email": HOST_EMAIL, "is_organizer": True}]
    for start, capacity in ((NOW + 2 * HOUR, 2), (NOW + 4 * HOUR, 1)):
        r = requests.post(
            f"{cfgs}/{config_id}/group-events",
            json={
                "title": "Yoga",
                "calendar_id": "primary",
                "participants": host,
                "capacity": capacity,
                "when": {"start_time": start, "end_time": start + HOUR},
            },
            headers=API_KEY,
        )
        assert r.status_code == 200, r.text

    # a seat in the 10:00 class (2 seats), booked through the page; the picker does not
    # preselect a date for group slots, so pick Monday 5 January first
    open_page(page, booking_page_url, configuration_id=config_id)
    page.get_by_role("button").filter(has_text=re.compile(r"^5$")).click()
    page.get_by_role("button", name=re.compile(r"^10:00 AM")).click()
    expect(page.get_by_text("2 spots left")).to_be_visible()
    page.get_by_role("button", name="Next", exact=True).click()  # validate-timeslot: fine
    page.locator("input-component#name input").fill(GUEST["name"])
    page.locator("input-component#email input").fill(GUEST["email"])
    page.get_by_role("button", name="Book now").click()
    expect(page.get_by_text("Booking confirmed!")).to_be_visible()
    (booking,) = live_bookings(emu, config_id)
    assert (booking.start_time, booking.guest) == (NOW + 2 * HOUR, GUEST), console

    # the 12:00 class has one seat; another guest takes it after the page loaded
    open_page(page, booking_page_url, configuration_id=config_id)
    slots = requests.get(
        f"{emu.url}/v3/scheduling/availability",
        params={
            "configuration_id": config_id,
            "start_time": str(NOW),
            "end_time": str(NOW + 86400),
        },
    ).json()["data"]["time_slots"]
    noon = next(s for s in slots if s["start_time"] == NOW + 4 * HOUR)
    r = requests.post(
        f"{emu.url}/v3/scheduling/bookings",
        params={"configuration_id": config_id},
        json={
            "start_time": noon["start_time"],
            "end_time": noon["end_time"],
            "event_id": noon["event_id"],
            "calendar_id": noon["calendar_id"],
            "guest": {"name": "Other", "email": "other@example.com"},
        },
    )
    assert r.status_code == 200, r.text
    page.get_by_role("button").filter(has_text=re.compile(r"^5$")).click()
    page.get_by_role("button", name=re.compile(r"^12:00 PM")).click()
    page.get_by_role("button", name="Next", exact=True).click()  # validate-timeslot
    expect(page.get_by_text("Event is full")).to_be_visible()
    seats = [b for b in live_bookings(emu, config_id) if b.start_time == NOW + 4 * HOUR]
    assert [b.guest["email"] for b in seats] == ["other@example.com"], console
