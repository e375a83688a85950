"""Local argument checks, done before any I/O."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeAlias
from urllib.parse import quote

__all__ = [
    "TimeLike",
    "as_tuple",
    "check_int",
    "check_str",
    "check_token",
    "has_control",
    "path_id",
    "to_unix",
    "window",
]

TimeLike: TypeAlias = datetime | int | float
"""A timezone-aware ``datetime`` or Unix seconds (a float is floored to whole seconds)."""

MAX_UNIX_SECONDS = 32_503_680_000
"""3000-01-01T00:00:00Z: a larger "Unix seconds" value is almost surely milliseconds."""


def to_unix(value: TimeLike, name: str) -> int:
    """Unix seconds from an aware datetime or a number, fractions of a second dropped (floored).

    ``time.time() + 3600`` works: the API counts whole seconds, so ``1.9`` is ``1``. Naive
    datetimes, bools, NaN and infinities are refused, and so are values before 1970 or after
    the year 3000 (milliseconds by mistake).
    """
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an aware datetime or Unix seconds, not a bool")
    if isinstance(value, datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise ValueError(
                f"{name} is a naive datetime; pass a timezone-aware one "
                "(e.g. datetime(..., tzinfo=timezone.utc)) or Unix seconds"
            )
        return math.floor(value.timestamp())  # the API counts whole seconds
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number of Unix seconds, not {value}")
        value = math.floor(value)
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{name} must be >= 0 Unix seconds")
        if value > MAX_UNIX_SECONDS:
            raise ValueError(
                f"{name}={value} is after the year 3000 in Unix seconds: it looks like "
                f"milliseconds; pass seconds ({value // 1000}) or an aware datetime"
            )
        return value
    raise TypeError(
        f"{name} must be an aware datetime or Unix seconds (int or float), "
        f"not {type(value).__name__}"
    )


def window(start: TimeLike, end: TimeLike) -> tuple[int, int]:
    """A checked ``(start, end)`` pair with ``start < end``."""
    s = to_unix(start, "start_time")
    e = to_unix(end, "end_time")
    if s >= e:
        raise ValueError(f"start_time ({s}) must be before end_time ({e})")
    return s, e


def check_str(value: Any, name: str) -> str:
    """A non-empty string argument."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if not value.strip():
        raise ValueError(f"{name} must not be empty")
    return value


def check_int(value: Any, name: str, *, minimum: int | None = None) -> int:
    """An int argument (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}")
    return value


_CONTROL = re.compile(r"[\x00-\x1f\x7f]").search
_CONTROL_OR_C1 = re.compile(r"[\x00-\x1f\x7f-\x9f]").search


def has_control(text: str) -> bool:
    """Whether ``text`` holds a control character (C0, DEL or C1: a line break, tab, NUL...)."""
    return _CONTROL_OR_C1(text) is not None


def check_token(value: Any, name: str) -> str:
    """A credential argument (a session token): a non-empty str without control characters.

    The error names the argument and never shows the value (a line break would otherwise fail
    later, inside aiohttp, as header injection).
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str")
    if not value.strip():
        raise ValueError(f"{name} must not be empty")
    if has_control(value):
        raise ValueError(f"{name} contains a control character (a line break, tab or NUL)")
    return value


_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]+").fullmatch


def path_id(value: Any, name: str) -> str:
    """An id percent-encoded as one path segment, so it can never reach another path."""
    text = check_str(value, name)
    if text in (".", ".."):
        raise ValueError(f"{name} {text!r} is not a valid id")
    if _CONTROL(text):
        raise ValueError(f"{name} contains control characters")
    if _UNRESERVED(text):  # the usual id: nothing to encode
        return text
    return quote(text, safe="")


def as_tuple(items: Sequence[Any] | None, name: str) -> tuple[Any, ...] | None:
    """A sequence argument as a tuple (a str is refused: it is not a list of things)."""
    if items is None:
        return None
    if isinstance(items, str | bytes):
        raise TypeError(f"{name} must be a list, not a string")
    return tuple(items)
