"""Client settings: timeouts and connection-pool limits."""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["Limits", "Timeout"]


def _positive_or_none(_: Any, attribute: Any, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{attribute.name} must be a number of seconds or None")
    if value <= 0:
        raise ValueError(f"{attribute.name} must be > 0 seconds")


@attrs.frozen(slots=True, kw_only=True)
class Timeout:
    """Per-attempt timeouts in seconds; ``None`` disables one.

    ``connect`` covers waiting for a free pooled connection plus opening it (a request that times
    out here was never sent, so it is safe to retry); ``read`` is the longest silence between two
    reads of the answer; ``total`` bounds the whole attempt.
    """

    connect: float | None = attrs.field(default=10.0, validator=_positive_or_none)
    read: float | None = attrs.field(default=30.0, validator=_positive_or_none)
    total: float | None = attrs.field(default=60.0, validator=_positive_or_none)

    @classmethod
    def coerce(cls, value: Timeout | float | None, default: Timeout) -> Timeout:
        """A :class:`Timeout` from a per-call value: a number sets ``total`` (and caps the rest)."""
        if value is None:
            return default
        if isinstance(value, Timeout):
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError("timeout must be a Timeout, a number of seconds, or None")
        seconds = float(value)
        return cls(
            connect=min(default.connect, seconds) if default.connect else seconds,
            read=min(default.read, seconds) if default.read else seconds,
            total=seconds,
        )


@attrs.frozen(slots=True, kw_only=True)
class Limits:
    """Connection-pool limits of the client's one aiohttp session."""

    max_connections: int = 100
    """Simultaneous connections in all (0 = unlimited)."""
    max_connections_per_host: int = 0
    """Simultaneous connections per host (0 = no separate cap)."""
    keepalive_expiry: float | None = 15.0
    """Seconds an idle connection is kept."""
