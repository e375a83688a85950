"""One page of a cursor-paginated list."""

from __future__ import annotations

from typing import Generic, TypeVar

import attrs

from ._fields import checked

__all__ = ["Page"]

T = TypeVar("T")


@attrs.frozen(slots=True, kw_only=True, field_transformer=checked)
class Page(Generic[T]):
    """Items of one page and the cursor of the next (``None`` on the last page)."""

    data: tuple[T, ...]
    next_cursor: str | None = None
    request_id: str | None = None

    @property
    def has_next_page(self) -> bool:
        """Whether another page follows."""
        return bool(self.next_cursor)
