"""The demo: one meeting booked end to end with this client, on an embedded emulator.

A *configuration* says who meets, for how long and on which calendars; a *session* is a short-lived
token that lets a booking page act on one configuration; a *booking* is a meeting made in a free
slot that the configuration's *availability* returned.

``python -m scheduler_async demo`` always starts the embedded emulator on an ephemeral loopback
port, seeds two participants with busy events, then runs: create configuration -> session ->
availability -> book the first slot -> reschedule -> delete, printing each step (HTTP status,
request_id) and a table of slots. Environment variables such as ``NYLAS_API_URI`` are ignored
unless ``--real`` asks for a real account (then ``NYLAS_API_KEY``, ``NYLAS_GRANT_ID`` and
``--email`` are needed, and ``--base-url`` or ``NYLAS_API_URI`` picks the API host).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from . import (
    APIResponse,
    AsyncScheduler,
    AvailabilityRules,
    Buffer,
    ConfigurationAvailability,
    ConfigurationParticipant,
    EventBooking,
    Guest,
    OpenHours,
    ParticipantAvailability,
    ParticipantBooking,
    SchedulerError,
    SchedulerSettings,
    TimeSlot,
)

__all__ = ["main"]

DEMO_KEY = "demo-api-key"
ORGANIZER = ("grant-ada", "ada@example.com", "Ada Lovelace", "Europe/Paris")
COLLEAGUE = ("grant-grace", "grace@example.com", "Grace Hopper", "America/New_York")


def _next_weekday(now: datetime) -> datetime:
    day = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _step(n: int, title: str, resp: APIResponse[Any]) -> None:
    print(f"[{n}] {title:<34} HTTP {resp.status_code}  request_id={resp.request_id}")


def _slot_table(slots: Sequence[TimeSlot], tz: ZoneInfo, limit: int = 12) -> str:
    lines = [
        f"    {'#':>2}  {'start (UTC)':<17} {'end':<5}  {'local (' + str(tz) + ')':<22} free",
        "    " + "-" * 74,
    ]
    for i, slot in enumerate(slots[:limit], 1):
        local = slot.start.astimezone(tz)
        lines.append(
            f"    {i:>2}  {slot.start:%Y-%m-%d %H:%M} {slot.end:%H:%M}  "
            f"{local:%a %H:%M %Z}{'':<10} {', '.join(slot.emails)}"
        )
    if len(slots) > limit:
        lines.append(f"    ... {len(slots) - limit} more")
    return "\n".join(lines)


async def run_flow(base_url: str, api_key: str, grant_id: str, emails: Sequence[str]) -> int:
    """Run the demo's flow (configuration, session, availability, book, reschedule, delete)
    against ``base_url``; return an exit code."""
    tz = ZoneInfo(ORGANIZER[3])
    day = _next_weekday(datetime.now(UTC))
    participants = [
        ConfigurationParticipant(
            email=emails[0],
            name=ORGANIZER[2],
            is_organizer=True,
            availability=ParticipantAvailability(calendar_ids=("primary",)),
            booking=ParticipantBooking(calendar_id="primary"),
            timezone=ORGANIZER[3],
        )
    ]
    if len(emails) > 1:
        participants.append(
            ConfigurationParticipant(
                email=emails[1],
                name=COLLEAGUE[2],
                grant_id=COLLEAGUE[0],
                is_organizer=False,
                availability=ParticipantAvailability(calendar_ids=("primary",)),
                timezone=COLLEAGUE[3],
            )
        )
    print(
        "A configuration says who meets, for how long and on which calendars; a session is a\n"
        "short-lived token that lets a booking page act on one configuration; a booking is a\n"
        "meeting placed in a free slot that the configuration's availability offers.\n"
    )
    async with AsyncScheduler(api_key=api_key, grant_id=grant_id, base_url=base_url) as client:
        cfg = await client.configurations.with_response.create(
            name="Demo: intro call",
            requires_session_auth=True,
            participants=participants,
            availability=ConfigurationAvailability(
                duration_minutes=30,
                interval_minutes=30,
                availability_rules=AvailabilityRules(
                    buffer=Buffer(before=0, after=5),
                    default_open_hours=(
                        OpenHours(days=(1, 2, 3, 4, 5), start="09:00", end="17:00", timezone="UTC"),
                    ),
                ),
            ),
            event_booking=EventBooking(title="Intro call", description="Booked by the demo"),
            scheduler=SchedulerSettings(min_booking_notice=60, available_days_in_future=30),
        )
        config = cfg.data
        _step(1, f"create configuration {config.id[:8]}...", cfg)

        sess = await client.sessions.with_response.create(
            configuration_id=config.id, time_to_live=10
        )
        session_id = sess.data.session_id
        _step(2, "create session (ttl 10 min)", sess)

        window = (day + timedelta(hours=8), day + timedelta(hours=18))
        avail = await client.availability.with_response.get(
            start_time=window[0], end_time=window[1], session_id=session_id
        )
        slots = avail.data.time_slots
        _step(3, f"availability {day:%a %d %b}: {len(slots)} slots", avail)
        print(_slot_table(slots, tz))
        if len(slots) < 2:
            print("not enough free slots to continue the demo", file=sys.stderr)
            return 1

        first = slots[0]
        booked = await client.bookings.with_response.create(
            start_time=first.start_time,
            end_time=first.end_time,
            guest=Guest(name="Jane Doe", email="jane.doe@example.com"),
            session_id=session_id,
        )
        booking = booked.data
        _step(4, f"book {first.start:%H:%M} UTC ({booking.status})", booked)

        after = await client.availability.get(
            start_time=window[0], end_time=window[1], session_id=session_id
        )
        still = any(s.start_time == first.start_time for s in after.time_slots)
        print(f"    slot {first.start:%H:%M} still offered after booking: {still}")

        target = next(s for s in after.time_slots if s.start_time > first.start_time)
        moved = await client.bookings.with_response.reschedule(
            booking.booking_id,
            start_time=target.start_time,
            end_time=target.end_time,
            session_id=session_id,
        )
        _step(5, f"reschedule to {target.start:%H:%M} UTC", moved)

        got = await client.bookings.with_response.get(booking.booking_id, session_id=session_id)
        _step(6, f"get booking: {got.data.title!r} {got.data.status}", got)

        deleted = await client.bookings.with_response.delete(
            booking.booking_id, cancellation_reason="demo finished", session_id=session_id
        )
        _step(7, "delete booking", deleted)

        ended = await client.sessions.with_response.delete(session_id)
        _step(8, "delete session", ended)
        gone = await client.configurations.with_response.delete(config.id)
        _step(9, "delete configuration", gone)
    print("demo finished: every step succeeded")
    return 0


def _seed(emulator: Any) -> list[str]:
    day = _next_weekday(datetime.now(UTC))

    def at(hour: float) -> int:
        return int((day + timedelta(hours=hour)).timestamp())

    emulator.add_grant(ORGANIZER[0], email=ORGANIZER[1])
    emulator.add_grant(COLLEAGUE[0], email=COLLEAGUE[1])
    emulator.add_event(ORGANIZER[0], "primary", at(9), at(10), title="Standup + planning")
    emulator.add_event(ORGANIZER[0], "primary", at(13), at(14), title="Lunch")
    emulator.add_event(COLLEAGUE[0], "primary", at(10.5), at(11.5), title="Code review")
    return [ORGANIZER[1], COLLEAGUE[1]]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m scheduler_async demo``."""
    parser = argparse.ArgumentParser(
        prog="python -m scheduler_async demo",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--real",
        action="store_true",
        help="run against a real Nylas account instead of the embedded emulator (needs "
        "NYLAS_API_KEY, NYLAS_GRANT_ID and --email; host from --base-url or NYLAS_API_URI)",
    )
    parser.add_argument(
        "--base-url",
        default=None,
        help="API host for --real (default: NYLAS_API_URI, else https://api.us.nylas.com)",
    )
    parser.add_argument(
        "--email",
        action="append",
        help="participant email(s) for --real (the grant's own address first)",
    )
    args = parser.parse_args(argv)
    if args.base_url and not args.real:
        parser.error("--base-url is only used with --real (the demo runs on the emulator)")
    try:
        if args.real:
            api_key = os.environ.get("NYLAS_API_KEY", "")
            grant_id = os.environ.get("NYLAS_GRANT_ID", "")
            if not api_key or not grant_id or not args.email:
                parser.error("--real needs NYLAS_API_KEY, NYLAS_GRANT_ID and --email")
            base_url = (
                args.base_url or os.environ.get("NYLAS_API_URI") or "https://api.us.nylas.com"
            )
            print(f"running the demo against the real API at {base_url}")
            return asyncio.run(run_flow(base_url, api_key, grant_id, args.email))

        from .emulator import Emulator

        with Emulator() as emulator:
            emails = _seed(emulator)
            print(f"embedded emulator at {emulator.url} (seeded {', '.join(emails)})")
            return asyncio.run(run_flow(emulator.url, DEMO_KEY, ORGANIZER[0], emails))
    except SchedulerError as exc:
        print(f"demo failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
