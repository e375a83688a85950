"""Availability (``GET /v3/scheduling/availability``) and sessions."""

from __future__ import annotations

from datetime import UTC, datetime

import attrs

__all__ = ["Availability", "Session", "TimeSlot"]


@attrs.frozen(slots=True, kw_only=True)
class TimeSlot:
    """A bookable slot and the participants free for it."""

    emails: tuple[str, ...]
    start_time: int
    end_time: int

    @property
    def start(self) -> datetime:
        """``start_time`` as an aware UTC datetime."""
        return datetime.fromtimestamp(self.start_time, UTC)

    @property
    def end(self) -> datetime:
        """``end_time`` as an aware UTC datetime."""
        return datetime.fromtimestamp(self.end_time, UTC)


@attrs.frozen(slots=True, kw_only=True)
class Availability:
    """Bookable slots; ``order`` only for round-robin configurations."""

    time_slots: tuple[TimeSlot, ...] = ()
    order: tuple[str, ...] | None = None


@attrs.frozen(slots=True, kw_only=True)
class Session:
    """A scheduler session; ``session_id`` is a bearer secret and is hidden from ``repr``."""

    session_id: str = attrs.field(repr=False)
