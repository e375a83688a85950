"""The emulator's one exception type: an HTTP status plus the envelope ``error.type``.

Raised by state and validation code; the app turns it into
``{"request_id", "error": {"type", "message"}}``.  No aiohttp here.
"""

from __future__ import annotations

from typing import Self

__all__ = ["EVENT_IS_FULL", "TIMESLOT_UNAVAILABLE", "EmulatorError"]

#: The message prefix of every "slot no longer free" error (web-elements 2.6.0 matches it).
TIMESLOT_UNAVAILABLE = "The selected timeslot is unavailable"
#: The message of a group event without a free seat (the booking page tests for it).
EVENT_IS_FULL = "Event is full"


class EmulatorError(Exception):
    """A request the emulator refuses: HTTP ``status`` plus the envelope ``error.type``."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message

    @classmethod
    def invalid(cls, message: str) -> Self:
        """400 ``invalid_request_error``."""
        return cls(400, "invalid_request_error", message)

    @classmethod
    def unauthorized(cls, message: str = "Unauthorized") -> Self:
        """401 ``unauthorized``."""
        return cls(401, "unauthorized", message)

    @classmethod
    def forbidden(cls, message: str) -> Self:
        """403 ``forbidden``."""
        return cls(403, "forbidden", message)

    @classmethod
    def not_found(cls, message: str = "requested object not found") -> Self:
        """404 ``not_found_error``."""
        return cls(404, "not_found_error", message)

    @classmethod
    def conflict(cls, message: str) -> Self:
        """409 ``conflict``."""
        return cls(409, "conflict", message)

    @classmethod
    def timeslot_unavailable(cls, detail: str) -> Self:
        """409 ``timeslot_not_available`` whose message starts with
        :data:`TIMESLOT_UNAVAILABLE` (the prefix the booking page matches to refresh its slots
        and to try the next round-robin host), then ``": "`` and ``detail``."""
        return cls(409, "timeslot_not_available", f"{TIMESLOT_UNAVAILABLE}: {detail}")

    @classmethod
    def event_full(cls) -> Self:
        """409 ``timeslot_not_available`` (an ``error.type`` the booking page knows) with the
        exact message it tests for, :data:`EVENT_IS_FULL`."""
        return cls(409, "timeslot_not_available", EVENT_IS_FULL)

    @classmethod
    def invalid_session(cls, message: str) -> Self:
        """401 ``invalid_session`` (an expired, deleted or orphaned session token)."""
        return cls(401, "invalid_session", message)
