"""A parsed result together with the HTTP metadata of the call that produced it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Generic, TypeVar

import attrs

__all__ = ["APIResponse"]

T = TypeVar("T")


@attrs.frozen(slots=True, kw_only=True)
class APIResponse(Generic[T]):
    """What ``client.<resource>.with_response.<method>(...)`` returns."""

    data: T
    """The parsed model (``None`` for answers without data)."""
    status_code: int
    headers: Mapping[str, str] = attrs.field(repr=False)
    request_id: str | None
    retries_taken: int
    """How many retries the call needed (0 = first attempt succeeded)."""
    elapsed: float
    """Seconds from the first attempt to the answer, waits included."""
    gone_after_retry: bool = False
    """A retried DELETE found the object already gone: an earlier attempt deleted it."""
