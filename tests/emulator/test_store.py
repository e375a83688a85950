"""Unit tests of the emulator's state layer (no HTTP): store, clocks and fault knobs."""

from __future__ import annotations

import base64
import threading
import uuid
from typing import Any

import pytest

from scheduler_async.booking_ref import parse_booking_ref
from scheduler_async.emulator.faults import FaultConfig, RateLimit, RouteFaults
from scheduler_async.emulator.store import (
    Clock,
    EmulatorError,
    FakeClock,
    Store,
    normalize_configuration,
)

from .support import DAY, HOUR, T0, config_body, round_robin_body


def slots(store: Store, config_id: str, start: int, end: int) -> list[tuple[int, int]]:
    result = store.availability(config_id, start, end)
    return [(s.start_time, s.end_time) for s in result.time_slots]


def guest() -> dict[str, str]:
    return {"name": "Guest", "email": "guest@example.com"}


def assert_error(exc: pytest.ExceptionInfo[EmulatorError], status: int, error_type: str) -> None:
    assert (exc.value.status, exc.value.error_type) == (status, error_type), exc.value.message


# --------------------------------------------------------------------------- clocks


def test_fake_clock_moves_only_when_told() -> None:
    clock = FakeClock(100)
    assert clock.now() == 100
    clock.advance(50)
    assert clock.now() == 150
    clock.set(1000)
    assert clock.now() == 1000
    clock.reset()
    assert clock.now() == 100


def test_wall_clock_offset() -> None:
    clock = Clock()
    clock.set(10)
    assert clock.now() in (10, 11)
    clock.advance(100)
    assert clock.now() in (110, 111)
    clock.reset()
    assert clock.now() > 1_700_000_000


# --------------------------------------------------------------------------- configurations


def test_defaults_are_filled() -> None:
    cfg = normalize_configuration(config_body())
    assert cfg["requires_session_auth"] is False
    assert cfg["availability"]["round_to"] == 15
    assert cfg["availability"]["availability_rules"]["availability_method"] == "collective"
    assert cfg["event_booking"]["booking_type"] == "booking"
    assert cfg["scheduler"] == {
        "available_days_in_future": 30,
        "min_booking_notice": 60,
        "min_cancellation_notice": 0,
    }


def test_explicit_values_are_kept() -> None:
    cfg = normalize_configuration(
        config_body(
            requires_session_auth=True,
            scheduler={"min_booking_notice": 0, "available_days_in_future": 7},
        )
    )
    assert cfg["requires_session_auth"] is True
    assert cfg["scheduler"]["min_booking_notice"] == 0
    assert cfg["scheduler"]["available_days_in_future"] == 7
    assert cfg["scheduler"]["min_cancellation_notice"] == 0


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"participants": []}, "participants"),
        ({"participants": None}, "participants"),
        ({"availability": {}}, "duration_minutes"),
        ({"availability": {"duration_minutes": 0}}, "duration_minutes"),
        ({"availability": {"duration_minutes": "30"}}, "duration_minutes"),
        ({"event_booking": {}}, "title"),
        ({"event_booking": {"title": "x", "booking_type": "nope"}}, "booking_type"),
        ({"requires_session_auth": "yes"}, "requires_session_auth"),
        (
            {
                "availability": {
                    "duration_minutes": 30,
                    "availability_rules": {"availability_method": "x"},
                }
            },
            "availability_method",
        ),
        ({"availability": {"duration_minutes": 30, "round_to": 7}}, "round_to"),
        ({"type": "group"}, "group"),
    ],
)
def test_invalid_configurations_are_400(change: dict[str, Any], needle: str) -> None:
    with pytest.raises(EmulatorError) as exc:
        normalize_configuration(config_body(**change))
    assert_error(exc, 400, "invalid_request_error")
    assert needle in exc.value.message


def test_missing_top_level_objects() -> None:
    for key in ("availability", "event_booking"):
        body = config_body()
        del body[key]
        with pytest.raises(EmulatorError, match=key):
            normalize_configuration(body)


def test_exactly_one_organizer_unless_round_robin() -> None:
    body = config_body()
    body["participants"].append({"email": "other@example.com", "is_organizer": True})
    with pytest.raises(EmulatorError, match="is_organizer"):
        normalize_configuration(body)
    body["participants"][0]["is_organizer"] = False
    body["participants"][1]["is_organizer"] = False
    with pytest.raises(EmulatorError, match="is_organizer"):
        normalize_configuration(body)
    normalize_configuration(round_robin_body())  # no organizer is fine for round-robin


def test_engine_validation_is_applied() -> None:
    body = config_body(
        availability={
            "duration_minutes": 30,
            "availability_rules": {
                "default_open_hours": [
                    {"days": [1], "start": "9:00", "end": "17:00", "timezone": "Mars/Olympus"}
                ]
            },
        }
    )
    with pytest.raises(EmulatorError) as exc:
        normalize_configuration(body)
    assert_error(exc, 400, "invalid_request_error")


def test_non_email_participant_is_accepted() -> None:
    body = config_body()
    body["participants"][0]["email"] = "nylas_test_8"
    assert normalize_configuration(body)["participants"][0]["email"] == "nylas_test_8"


def test_create_get_update_delete(store: Store) -> None:
    stored = store.create_configuration("grant-1", config_body(name="Page", slug="intro"))
    uuid.UUID(stored.configuration_id)
    wire = stored.to_json()
    assert next(iter(wire)) == "id"
    assert store.get_configuration("grant-1", stored.configuration_id) is stored

    updated = store.update_configuration(
        "grant-1", stored.configuration_id, {"event_booking": {"title": "New"}, "id": "ignored"}
    )
    assert updated.data["event_booking"] == {"title": "New", "booking_type": "booking"}
    assert updated.data["name"] == "Page"  # absent keys kept
    assert updated.configuration_id == stored.configuration_id

    with pytest.raises(EmulatorError) as exc:
        store.update_configuration("grant-1", stored.configuration_id, {"participants": []})
    assert_error(exc, 400, "invalid_request_error")
    assert store.get_configuration("grant-1", stored.configuration_id).data["name"] == "Page"

    with pytest.raises(EmulatorError) as exc:
        store.get_configuration("grant-2", stored.configuration_id)
    assert_error(exc, 404, "not_found_error")

    store.delete_configuration("grant-1", stored.configuration_id)
    with pytest.raises(EmulatorError) as exc:
        store.get_configuration("grant-1", stored.configuration_id)
    assert_error(exc, 404, "not_found_error")


def test_put_replaces_nested_object_wholesale(store: Store) -> None:
    stored = store.create_configuration(
        "g", config_body(scheduler={"min_booking_notice": 0, "cancellation_policy": "none"})
    )
    store.update_configuration(
        "g", stored.configuration_id, {"scheduler": {"min_booking_notice": 5}}
    )
    scheduler = store.get_configuration("g", stored.configuration_id).data["scheduler"]
    assert "cancellation_policy" not in scheduler
    assert scheduler["min_booking_notice"] == 5
    assert scheduler["available_days_in_future"] == 30


def test_slugs_are_unique_per_application(store: Store) -> None:
    store.create_configuration("g1", config_body(slug="intro"))
    with pytest.raises(EmulatorError) as exc:
        store.create_configuration("g2", config_body(slug="intro"))
    assert_error(exc, 409, "conflict")
    other = store.create_configuration("g2", config_body(slug="other"))
    with pytest.raises(EmulatorError):
        store.update_configuration("g2", other.configuration_id, {"slug": "intro"})
    store.update_configuration("g2", other.configuration_id, {"slug": "other"})  # own slug ok


def test_list_pagination_is_stable(store: Store) -> None:
    ids = [store.create_configuration("g", config_body()).configuration_id for _ in range(5)]
    store.create_configuration("someone-else", config_body())
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        page, token = store.list_configurations("g", limit=2, page_token=token)
        seen += [c.configuration_id for c in page]
        pages += 1
        if token is None:
            break
    assert seen == ids
    assert pages == 3
    page, token = store.list_configurations("g")
    assert len(page) == 5
    assert token is None
    with pytest.raises(EmulatorError):
        store.list_configurations("g", page_token="garbage!")
    with pytest.raises(EmulatorError):
        store.list_configurations("g", limit=0)


def test_strict_store_refuses_unknown_grants() -> None:
    store = Store(FakeClock(T0), strict=True)
    with pytest.raises(EmulatorError) as exc:
        store.create_configuration("nope", config_body())
    assert_error(exc, 404, "not_found_error")
    store.add_grant("known")
    store.create_configuration("known", config_body())


def test_lenient_store_provisions_grants(store: Store) -> None:
    store.create_configuration("fresh", config_body())
    grant = store.grants["fresh"]
    assert grant.primary_calendar_id == "primary"
    assert list(grant.calendars) == ["primary"]
    assert store.events_on("fresh") == []


def test_grant_lookup_by_email(store: Store) -> None:
    store.add_grant("g-1", email="Host@Example.com")
    assert store.get_grant("email:host@example.com").grant_id == "g-1"
    assert store.get_grant("host@example.com").grant_id == "g-1"
    assert store.get_grant("grant:g-1").grant_id == "g-1"


# --------------------------------------------------------------------------- sessions


def test_session_ttl_and_expiry(store: Store) -> None:
    cfg = store.create_configuration("g", config_body(slug="s"))
    session = store.create_session(configuration_id=cfg.configuration_id)
    assert session.expires_at == T0 + 5 * 60
    assert store.resolve_session(session.session_id) is session
    store.clock.advance(5 * 60)
    with pytest.raises(EmulatorError) as exc:
        store.resolve_session(session.session_id)
    assert_error(exc, 401, "invalid_session")
    assert store.resolve_session("not-a-session") is None

    by_slug = store.create_session(slug="s", time_to_live=30)
    assert by_slug.expires_at == store.clock.now() + 30 * 60
    store.delete_session(by_slug.session_id)
    with pytest.raises(EmulatorError) as exc:
        store.resolve_session(by_slug.session_id)
    assert_error(exc, 401, "invalid_session")
    with pytest.raises(EmulatorError) as exc:
        store.delete_session(by_slug.session_id)
    assert_error(exc, 404, "not_found_error")


@pytest.mark.parametrize("ttl", [0, 31, -1, True, 2.5, "10"])
def test_session_ttl_out_of_range(store: Store, ttl: Any) -> None:
    cfg = store.create_configuration("g", config_body())
    with pytest.raises(EmulatorError) as exc:
        store.create_session(configuration_id=cfg.configuration_id, time_to_live=ttl)
    assert_error(exc, 400, "invalid_request_error")


def test_session_needs_known_configuration(store: Store) -> None:
    with pytest.raises(EmulatorError) as exc:
        store.create_session(configuration_id="missing")
    assert_error(exc, 404, "not_found_error")
    with pytest.raises(EmulatorError) as exc:
        store.create_session()
    assert_error(exc, 400, "invalid_request_error")


def test_configuration_with_live_session_cannot_be_deleted(store: Store) -> None:
    cfg = store.create_configuration("g", config_body())
    store.create_session(configuration_id=cfg.configuration_id, time_to_live=1)
    with pytest.raises(EmulatorError) as exc:
        store.delete_configuration("g", cfg.configuration_id)
    assert_error(exc, 409, "conflict")
    store.clock.advance(60)  # the session expires
    store.delete_configuration("g", cfg.configuration_id)


# --------------------------------------------------------------------------- availability


def test_busy_events_block_slots(store: Store) -> None:
    store.add_grant("g", email="host@example.com", calendars=["work", "other"])
    body = config_body()
    body["participants"][0]["availability"]["calendar_ids"] = ["primary", "work"]
    cfg = store.create_configuration("g", body).configuration_id
    start, end = T0 + 2 * HOUR, T0 + 4 * HOUR
    assert len(slots(store, cfg, start, end)) == 4

    store.add_event("g", "primary", start, start + 1800)
    store.add_event("g", "work", start + 1800, start + 3600, status="tentative")
    store.add_event("g", "other", start + 3600, start + 5400)  # calendar not checked
    store.add_event("g", "primary", start + 5400, end, busy=False)  # free event
    store.add_event("g", "primary", start + 5400, end, status="cancelled")
    assert slots(store, cfg, start, end) == [(start + 3600, start + 5400), (start + 5400, end)]


def test_tentative_as_busy_false(store: Store) -> None:
    body = config_body(
        availability={"duration_minutes": 30, "availability_rules": {"tentative_as_busy": False}}
    )
    cfg = store.create_configuration("g", body).configuration_id
    start = T0 + 2 * HOUR
    store.add_event("g", "primary", start, start + 1800, status="tentative")
    assert (start, start + 1800) in slots(store, cfg, start, start + HOUR)


def test_participant_grant_resolution(store: Store) -> None:
    store.add_grant("org", email="host@example.com")
    store.add_grant("by-email", email="mate@example.com")
    store.add_grant("explicit")
    body = config_body()
    body["participants"] += [
        {"email": "mate@example.com", "availability": {"calendar_ids": ["primary"]}},
        {
            "email": "pal@example.com",
            "grant_id": "explicit",
            "availability": {"calendar_ids": ["primary"]},
        },
        {"email": "nobody@example.com", "availability": {"calendar_ids": ["primary"]}},
        {"email": "free@example.com"},
    ]
    cfg = store.create_configuration("org", body).configuration_id
    start = T0 + 2 * HOUR
    store.add_event("by-email", "primary", start, start + 1800)
    store.add_event("explicit", "primary", start + 1800, start + 3600)
    store.add_event("org", "primary", start + 3600, start + 5400)
    assert slots(store, cfg, start, start + 3 * HOUR) == [
        (start + 5400, start + 7200),
        (start + 7200, start + 9000),
        (start + 9000, start + 10800),
    ]


def test_notice_and_horizon_use_the_business_clock(store: Store) -> None:
    cfg = store.create_configuration("g", config_body()).configuration_id
    first = slots(store, cfg, T0, T0 + 3 * HOUR)[0]
    assert first[0] == T0 + HOUR  # 60 minutes' notice
    store.clock.advance(HOUR)
    assert slots(store, cfg, T0, T0 + 3 * HOUR)[0][0] == T0 + 2 * HOUR
    assert slots(store, cfg, T0 + 40 * DAY, T0 + 41 * DAY) == []


def test_availability_rejects_inverted_window(store: Store) -> None:
    cfg = store.create_configuration("g", config_body()).configuration_id
    with pytest.raises(EmulatorError) as exc:
        store.availability(cfg, T0 + 10, T0)
    assert_error(exc, 400, "invalid_request_error")


# --------------------------------------------------------------------------- bookings


def test_booking_writes_event_and_removes_slot(store: Store) -> None:
    cfg = store.create_configuration(
        "g", config_body(event_booking={"title": "Call", "description": "d"})
    )
    start = T0 + 2 * HOUR
    booking = store.create_booking(cfg.configuration_id, start, start + 1800, guest())
    assert booking.status == "booked"
    assert booking.to_json() == {
        "booking_id": booking.booking_id,
        "event_id": booking.event_id,
        "title": "Call",
        "status": "booked",
        "organizer": {"email": "host@example.com", "name": "Host"},
        "description": "d",
        "booking_ref": booking.reference,
    }
    ref = parse_booking_ref(booking.reference)  # the client's decoder agrees with the emulator
    assert (ref.configuration_id, ref.booking_id) == (cfg.configuration_id, booking.booking_id)
    assert ref.salt == booking.salt_b64
    (event,) = store.events_on("g", "primary")
    assert (event.event_id, event.start_time, event.end_time) == (
        booking.event_id,
        start,
        start + 1800,
    )
    assert event.booking_id == booking.booking_id
    assert (start, start + 1800) not in slots(store, cfg.configuration_id, start, start + HOUR)

    with pytest.raises(EmulatorError) as exc:
        store.create_booking(cfg.configuration_id, start, start + 1800, guest())
    assert_error(exc, 409, "timeslot_not_available")


@pytest.mark.parametrize(
    ("offset", "length"),
    [(2 * HOUR + 300, 1800), (2 * HOUR, 3600), (10 * 60, 1800), (40 * DAY, 1800)],
)
def test_booking_outside_offered_slots_is_400(store: Store, offset: int, length: int) -> None:
    cfg = store.create_configuration("g", config_body()).configuration_id
    with pytest.raises(EmulatorError) as exc:
        store.create_booking(cfg, T0 + offset, T0 + offset + length, guest())
    assert_error(exc, 400, "invalid_request_error")


def test_booking_blocked_by_calendar_event_is_409_timeslot_not_available(store: Store) -> None:
    cfg = store.create_configuration("g", config_body()).configuration_id
    start = T0 + 2 * HOUR
    store.add_event("g", "primary", start, start + 1800)
    with pytest.raises(EmulatorError) as exc:
        store.create_booking(cfg, start, start + 1800, guest())
    assert_error(exc, 409, "timeslot_not_available")


def test_booking_on_a_host_without_calendars_still_blocks(store: Store) -> None:
    body = config_body()
    del body["participants"][0]["availability"]  # free at all times
    cfg = store.create_configuration("g", body).configuration_id
    start = T0 + 2 * HOUR
    store.create_booking(cfg, start, start + 1800, guest())
    with pytest.raises(EmulatorError) as exc:
        store.create_booking(cfg, start, start + 1800, guest())
    assert_error(exc, 409, "timeslot_not_available")


def test_booking_uses_participant_booking_calendar(store: Store) -> None:
    store.add_grant("g", calendars=["bookings"])
    body = config_body()
    body["participants"][0]["availability"]["calendar_ids"] = ["primary", "bookings"]
    body["participants"][0]["booking"] = {"calendar_id": "bookings"}
    cfg = store.create_configuration("g", body).configuration_id
    booking = store.create_booking(cfg, T0 + 2 * HOUR, T0 + 2 * HOUR + 1800, guest())
    assert booking.calendar_id == "bookings"
    assert [e.event_id for e in store.events_on("g", "bookings")] == [booking.event_id]
    assert store.events_on("g", "primary") == []


def test_booking_validation(store: Store) -> None:
    cfg = store.create_configuration("g", config_body()).configuration_id
    start = T0 + 2 * HOUR
    with pytest.raises(EmulatorError, match="participants"):
        store.create_booking(cfg, start, start + 1800, guest(), participants=["x@example.com"])
    with pytest.raises(EmulatorError, match="email_language"):
        store.create_booking(cfg, start, start + 1800, guest(), email_language="xx")
    with pytest.raises(EmulatorError) as exc:
        store.create_booking("missing", start, start + 1800, guest())
    assert_error(exc, 404, "not_found_error")
    booking = store.create_booking(
        cfg, start, start + 1800, guest(), participants=["host@example.com"], email_language="fr"
    )
    assert booking.email_language == "fr"


def test_booking_reference_layout(store: Store) -> None:
    cfg = store.create_configuration("g", config_body()).configuration_id
    booking = store.create_booking(cfg, T0 + 2 * HOUR, T0 + 2 * HOUR + 1800, guest())
    ref = store.booking_reference(booking.booking_id)
    assert "=" not in ref
    assert "+" not in ref
    assert "/" not in ref
    raw = base64.urlsafe_b64decode(ref + "=" * (-len(ref) % 4))
    assert raw[:16] == uuid.UUID(cfg).bytes
    assert raw[16:32] == uuid.UUID(booking.booking_id).bytes
    salt = store.booking_salt(booking.booking_id)
    assert base64.urlsafe_b64encode(raw[32:]).rstrip(b"=").decode() == salt
    assert len(raw[32:]) == 16


def test_organizer_confirmation_flow(store: Store) -> None:
    body = config_body(event_booking={"title": "Call", "booking_type": "organizer-confirmation"})
    cfg = store.create_configuration("g", body).configuration_id
    start = T0 + 2 * HOUR
    pending = store.create_booking(cfg, start, start + 1800, guest())
    assert pending.status == "pending"
    assert (start, start + 1800) not in slots(store, cfg, start, start + HOUR)  # placeholder blocks

    salt = store.booking_salt(pending.booking_id)
    wrong = base64.urlsafe_b64encode(b"x" * 16).rstrip(b"=").decode()
    with pytest.raises(EmulatorError) as exc:
        store.confirm_booking(pending.booking_id, cfg, salt=wrong, status="confirmed")
    assert_error(exc, 403, "forbidden")
    with pytest.raises(EmulatorError) as exc:
        store.confirm_booking(pending.booking_id, cfg, salt="***", status="confirmed")
    assert_error(exc, 400, "invalid_request_error")
    with pytest.raises(EmulatorError) as exc:
        store.confirm_booking(pending.booking_id, cfg, salt=salt, status="confirm")
    assert_error(exc, 400, "invalid_request_error")

    confirmed = store.confirm_booking(pending.booking_id, cfg, salt=salt, status="confirmed")
    assert confirmed.status == "booked"
    assert store.events[confirmed.event_id].title == "Call"
    with pytest.raises(EmulatorError) as exc:  # no longer pending
        store.confirm_booking(pending.booking_id, cfg, salt=salt, status="confirmed")
    assert_error(exc, 400, "invalid_request_error")


def test_declining_a_pending_booking_frees_the_slot(store: Store) -> None:
    body = config_body(event_booking={"title": "Call", "booking_type": "organizer-confirmation"})
    cfg = store.create_configuration("g", body).configuration_id
    start = T0 + 2 * HOUR
    pending = store.create_booking(cfg, start, start + 1800, guest())
    declined = store.confirm_booking(
        pending.booking_id,
        cfg,
        salt=store.booking_salt(pending.booking_id),
        status="cancelled",
        cancellation_reason="busy",
    )
    assert declined.status == "cancelled"
    assert declined.cancellation_reason == "busy"
    assert store.get_booking(pending.booking_id, cfg).status == "cancelled"
    assert (start, start + 1800) in slots(store, cfg, start, start + HOUR)
    assert store.events[pending.event_id].status == "cancelled"


def test_reschedule(store: Store) -> None:
    body = config_body(availability={"duration_minutes": 60, "interval_minutes": 30})
    cfg = store.create_configuration("g", body).configuration_id
    start = T0 + 2 * HOUR
    booking = store.create_booking(cfg, start, start + HOUR, guest())
    other = store.create_booking(cfg, start + 3 * HOUR, start + 4 * HOUR, guest())
    # its own current slot does not count against it (overlapping move)
    store.reschedule_booking(booking.booking_id, cfg, start + 1800, start + 5400)
    assert (booking.start_time, booking.end_time) == (start + 1800, start + 5400)
    event = store.events[booking.event_id]
    assert (event.start_time, event.end_time) == (start + 1800, start + 5400)
    assert (start, start + HOUR) not in slots(store, cfg, start, start + HOUR)
    store.reschedule_booking(booking.booking_id, cfg, start, start + HOUR)  # and back
    assert (start + HOUR, start + 2 * HOUR) in slots(store, cfg, start, start + 3 * HOUR)
    with pytest.raises(EmulatorError) as exc:
        store.reschedule_booking(booking.booking_id, cfg, other.start_time, other.end_time)
    assert_error(exc, 409, "timeslot_not_available")
    with pytest.raises(EmulatorError) as exc:
        store.reschedule_booking(booking.booking_id, cfg, start + 60, start + 60 + HOUR)
    assert_error(exc, 400, "invalid_request_error")
    with pytest.raises(EmulatorError) as exc:
        store.reschedule_booking(booking.booking_id, "other-config", start, start + HOUR)
    assert_error(exc, 404, "not_found_error")


def test_delete_frees_the_slot_and_hides_the_booking(store: Store) -> None:
    cfg = store.create_configuration("g", config_body()).configuration_id
    start = T0 + 2 * HOUR
    booking = store.create_booking(cfg, start, start + 1800, guest())
    store.delete_booking(booking.booking_id, cfg, cancellation_reason="sorry")
    assert store.bookings[booking.booking_id].status == "cancelled"
    assert store.bookings[booking.booking_id].cancellation_reason == "sorry"
    assert (start, start + 1800) in slots(store, cfg, start, start + HOUR)
    for call in (store.get_booking, store.delete_booking):
        with pytest.raises(EmulatorError) as exc:
            call(booking.booking_id, cfg)
        assert_error(exc, 404, "not_found_error")
    store.create_booking(cfg, start, start + 1800, guest())  # bookable again


def test_min_cancellation_notice(store: Store) -> None:
    body = config_body(scheduler={"min_cancellation_notice": 120})
    cfg = store.create_configuration("g", body).configuration_id
    start = T0 + 3 * HOUR
    booking = store.create_booking(cfg, start, start + 1800, guest())
    store.clock.advance(HOUR + 1)  # now less than 120 minutes before the start
    with pytest.raises(EmulatorError) as exc:
        store.delete_booking(booking.booking_id, cfg)
    assert_error(exc, 400, "invalid_request_error")
    with pytest.raises(EmulatorError):
        store.reschedule_booking(booking.booking_id, cfg, start + HOUR, start + HOUR + 1800)


def test_availability_with_booking_id_frees_its_slot(store: Store) -> None:
    cfg = store.create_configuration("g", config_body()).configuration_id
    start = T0 + 2 * HOUR
    booking = store.create_booking(cfg, start, start + 1800, guest())
    offered = store.availability(cfg, start, start + HOUR, booking_id=booking.booking_id)
    assert (start, start + 1800) in [(s.start_time, s.end_time) for s in offered.time_slots]


def test_round_robin_rotates_hosts(store: Store) -> None:
    cfg = store.create_configuration("org", round_robin_body("max-fairness")).configuration_id
    start = T0 + 2 * HOUR
    result = store.availability(cfg, start, start + HOUR)
    assert result.order == ("ann@example.com", "bob@example.com")
    first = store.create_booking(cfg, start, start + 1800, guest())
    assert first.organizer_email == "ann@example.com"
    assert first.grant_id == "grant-ann"
    assert store.availability(cfg, start, start + HOUR).order == (
        "bob@example.com",
        "ann@example.com",
    )
    # Ann is busy at that time now; the slot is still offered with Bob.
    (slot, *_) = store.availability(cfg, start, start + HOUR).time_slots
    assert slot.emails == ("bob@example.com",)
    second = store.create_booking(cfg, start, start + 1800, guest())
    assert second.organizer_email == "bob@example.com"
    with pytest.raises(EmulatorError) as exc:
        store.create_booking(cfg, start, start + 1800, guest())
    assert_error(exc, 409, "timeslot_not_available")
    third = store.create_booking(cfg, start + 1800, start + 3600, guest())
    assert third.organizer_email == "ann@example.com"  # Ann booked least recently


def test_round_robin_max_availability_uses_counts(store: Store) -> None:
    cfg = store.create_configuration("org", round_robin_body("max-availability")).configuration_id
    start = T0 + 2 * HOUR
    hosts = [
        store.create_booking(cfg, start + i * 1800, start + (i + 1) * 1800, guest()).organizer_email
        for i in range(4)
    ]
    assert hosts == ["ann@example.com", "bob@example.com"] * 2


def test_concurrent_creates_from_threads(store: Store) -> None:
    cfg = store.create_configuration("g", config_body()).configuration_id
    start = T0 + 2 * HOUR
    outcomes: list[int] = []
    barrier = threading.Barrier(20)

    def book() -> None:
        barrier.wait()
        try:
            store.create_booking(cfg, start, start + 1800, guest())
            outcomes.append(200)
        except EmulatorError as exc:
            outcomes.append(exc.status)

    threads = [threading.Thread(target=book) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == [200] + [409] * 19


def test_add_event_validation() -> None:
    strict = Store(FakeClock(T0), strict=True)
    with pytest.raises(EmulatorError) as exc:
        strict.add_event("nope", "primary", T0, T0 + 60)
    assert_error(exc, 404, "not_found_error")
    strict.add_grant("g")
    with pytest.raises(EmulatorError) as exc:
        strict.add_event("g", "missing-calendar", T0, T0 + 60)
    assert_error(exc, 404, "not_found_error")
    with pytest.raises(EmulatorError):
        strict.add_event("g", "primary", T0 + 60, T0)
    with pytest.raises(EmulatorError):
        strict.add_event("g", "primary", T0, T0 + 60, status="maybe")
    event = strict.add_event("g", "primary", T0, T0 + 60, event_id="e1")
    with pytest.raises(EmulatorError) as exc:
        strict.add_event("g", "primary", T0, T0 + 60, event_id="e1")
    assert_error(exc, 409, "conflict")
    strict.remove_event(event.event_id)
    assert strict.events_on("g") == []


def test_reset_forgets_everything(store: Store) -> None:
    cfg = store.create_configuration("g", config_body()).configuration_id
    store.create_booking(cfg, T0 + 2 * HOUR, T0 + 2 * HOUR + 1800, guest())
    store.reset()
    assert not (store.grants or store.configurations or store.bookings or store.events)


# --------------------------------------------------------------------------- faults


def test_route_faults_validation() -> None:
    with pytest.raises(ValueError, match="sum"):
        RouteFaults(error_500=0.6, error_503=0.6)
    with pytest.raises(ValueError):
        RouteFaults(error_500=2)
    with pytest.raises(ValueError):
        RouteFaults(times=0)
    with pytest.raises(ValueError):
        RateLimit(0)
    faults = FaultConfig()
    with pytest.raises(ValueError, match="unknown"):
        faults.set_route("*", error_418=1.0)


def test_fault_draws_are_reproducible() -> None:
    def draws(seed: int) -> list[str | None]:
        faults = FaultConfig(seed=seed)
        faults.set_route("*", error_500=0.3, error_503=0.3)
        out = []
        for _ in range(50):
            decision = faults.decide("GET", "/x", "/x")
            out.append(decision.kind if decision else None)
        return out

    assert draws(7) == draws(7)
    assert draws(7) != draws(8)
    assert {"error_500", "error_503", None} == set(draws(7))


def test_fault_route_matching_and_times() -> None:
    faults = FaultConfig()
    assert not faults.active
    faults.set_route("POST /v3/scheduling/bookings", error_503=1.0, retry_after=3, times=2)
    assert faults.active
    assert (
        faults.decide("GET", "/v3/scheduling/availability", "/v3/scheduling/availability") is None
    )
    first = faults.decide("POST", "/v3/scheduling/bookings", "/v3/scheduling/bookings")
    assert first is not None
    assert (first.kind, first.retry_after) == ("error_503", 3)
    assert faults.decide("POST", "/v3/scheduling/bookings", "/v3/scheduling/bookings") is not None
    assert faults.decide("POST", "/v3/scheduling/bookings", "/v3/scheduling/bookings") is None
    assert not faults.active

    faults.set_route("/v3/scheduling/bookings/{booking_id}", stall=1.0, stall_seconds=0.5)
    decision = faults.decide(
        "PUT", "/v3/scheduling/bookings/{booking_id}", "/v3/scheduling/bookings/1"
    )
    assert decision is not None
    assert (decision.kind, decision.stall_seconds) == ("stall", 0.5)
    faults.clear_route("/v3/scheduling/bookings/{booking_id}")
    faults.set_route("GET /v3/scheduling/bookings/abc", error_500=1.0)
    assert faults.decide(
        "GET", "/v3/scheduling/bookings/{booking_id}", "/v3/scheduling/bookings/abc"
    )
    faults.reset()
    assert faults.routes == {}


def test_rate_limit_window() -> None:
    faults = FaultConfig()
    faults.configure(rate_limit=(2, 60.0))
    assert faults.check_rate_limit() is None
    assert faults.check_rate_limit() is None
    retry = faults.check_rate_limit()
    assert retry is not None
    assert 1 <= retry <= 60
    faults.configure(rate_limit=None)
    assert faults.check_rate_limit() is None


def test_fault_json_round_trip() -> None:
    faults = FaultConfig(latency_ms=5, seed=3)
    faults.configure_from_json(
        {
            "latency_ms": 10,
            "seed": 4,
            "rate_limit": {"requests": 5, "window_seconds": 2},
            "routes": {"*": {"error_429": 0.5, "retry_after": 2}},
        }
    )
    dumped = faults.to_json()
    assert dumped["latency_ms"] == 10
    assert dumped["seed"] == 4
    assert dumped["rate_limit"] == {"requests": 5, "window_seconds": 2.0}
    assert dumped["routes"]["*"]["error_429"] == 0.5
    bad: dict[str, Any]
    for bad in ({"nope": 1}, {"routes": []}, {"rate_limit": 5}, {"latency_ms": "x"}, {"seed": 1.5}):
        with pytest.raises(ValueError):
            faults.configure_from_json(bad)
    faults.reset()
    assert faults.to_json()["latency_ms"] == 5
    assert faults.to_json()["seed"] == 3
