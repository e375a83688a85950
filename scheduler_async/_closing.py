"""``AsyncClosing``: ``async with`` for the objects closed with ``await obj.aclose()``."""

from __future__ import annotations

from types import TracebackType
from typing import Self

__all__ = ["AsyncClosing"]


class AsyncClosing:
    """Base of the objects closed with :meth:`aclose`: ``async with`` closes them on exit.

    ``scripts/gen_sync.py`` reads these methods for the sync twin of a class based on it.
    """

    __slots__ = ()

    async def aclose(self) -> None:
        """Release what the object holds (each subclass says what)."""
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
