"""Availability (``GET /v3/scheduling/availability``) and sessions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import attrs

from ._fields import checked

__all__ = ["Availability", "Session", "TimeSlot"]


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class TimeSlot:
    """A bookable slot and the participants free for it.

    A slot of a group configuration also names its group event (``event_id``, ``master_id`` for
    an instance of a recurring event, ``calendar_id``) and its remaining seats (``capacity``).
    """

    emails: tuple[str, ...]
    start_time: int
    end_time: int
    event_id: str | None = None
    master_id: str | None = None
    """Also decoded from the ``master_event_id`` spelling."""
    calendar_id: str | None = None
    capacity: int | None = None

    if not TYPE_CHECKING:

        def __getattr__(self, name: str) -> None:
            # The decoder's fast path (models/__init__.py) leaves the group fields of a plain
            # slot unset to save four stores per slot: an unset one reads as its default, None.
            if name in _GROUP_FIELDS:
                return None
            raise AttributeError(name)

    @property
    def is_group(self) -> bool:
        """Whether this slot is a seat on a group event."""
        return self.event_id is not None

    @property
    def start(self) -> datetime:
        """``start_time`` as an aware UTC datetime."""
        return datetime.fromtimestamp(self.start_time, UTC)

    @property
    def end(self) -> datetime:
        """``end_time`` as an aware UTC datetime."""
        return datetime.fromtimestamp(self.end_time, UTC)


_GROUP_FIELDS = frozenset(("event_id", "master_id", "calendar_id", "capacity"))


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class Availability:
    """Bookable slots; ``order`` only for round-robin configurations."""

    time_slots: tuple[TimeSlot, ...] = ()
    order: tuple[str, ...] | None = None


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class Session:
    """A scheduler session; ``session_id`` is a bearer secret and is hidden from ``repr``."""

    session_id: str = attrs.field(repr=False)
