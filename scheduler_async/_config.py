"""Client settings: timeouts and connection-pool limits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import attrs

from ._args import has_control

__all__ = ["REGIONS", "Limits", "Timeout", "resolve_base_url", "resolve_setting"]

REGIONS = {"us": "https://api.us.nylas.com", "eu": "https://api.eu.nylas.com"}
"""Base URLs of the Nylas API regions."""


def resolve_base_url(base_url: str | None, region: str | None, environ: Mapping[str, str]) -> str:
    """The API base URL: an explicit argument always beats the environment.

    ============  ==========  ================  ==========================
    ``base_url``  ``region``  ``NYLAS_API_URI``  result
    ============  ==========  ================  ==========================
    given         given       any               ``ValueError`` (choose one)
    given         --          any               ``base_url``
    --            given       any               the region's URL
    --            --          set               ``NYLAS_API_URI``
    --            --          unset             the US region
    ============  ==========  ================  ==========================

    A URL that ends in the API's ``/v3`` prefix is refused: every path already carries it.
    """
    if base_url is not None and region is not None:
        raise ValueError(
            "pass either region= or base_url=, not both (base_url already names the region)"
        )
    if region is not None:
        if region not in REGIONS:
            raise ValueError(f"region must be one of {sorted(REGIONS)}, not {region!r}")
        return REGIONS[region]
    source = "base_url"
    if base_url is None:
        base_url = environ.get("NYLAS_API_URI") or None
        source = "NYLAS_API_URI"
    if base_url is None:
        return REGIONS["us"]
    return _check_base_url(base_url, source)


def resolve_setting(
    value: str | None, name: str, env_name: str, environ: Mapping[str, str], *, secret: bool = False
) -> str | None:
    """A string setting: the argument, else ``environ[env_name]``; ``None`` when neither is set.

    Surrounding whitespace is stripped (a key read from a file keeps its trailing newline) and an
    empty result means "not set". A control character left inside (a line break in the middle, a
    NUL) is a ``ValueError`` naming where the value came from; the value itself is never shown
    (``secret=True`` also keeps its type out of messages).
    """
    source = name
    if value is None:
        value = environ.get(env_name)
        source = env_name
    if value is None:
        return None
    if not isinstance(value, str):
        shown = "" if secret else f", not {type(value).__name__}"
        raise TypeError(f"{source} must be a str{shown}")
    value = value.strip()
    if has_control(value):
        raise ValueError(
            f"{source} contains a control character (a line break, tab or NUL inside the "
            "value): check how it was read"
        )
    return value or None


def _check_base_url(value: str, source: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{source} must be a str, not {type(value).__name__}")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{source} must be an http(s) URL such as https://api.us.nylas.com")
    path = parts.path.rstrip("/")
    if path == "/v3" or path.endswith("/v3"):
        fixed = urlunsplit((parts.scheme, parts.netloc, path[: -len("/v3")], "", ""))
        raise ValueError(
            f"{source} must not end in /v3 (every call adds /v3/...; calls would go to "
            f"/v3/v3/...): use {fixed!r}"
        )
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


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
