"""Virtual time for limiter tests: a clock and a sleep that only move when the test says so."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable, Iterable


class VirtualClock:
    """``clock()`` returns virtual seconds; ``sleep(d)`` waits until ``run`` advances past it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), next(self._seq), fut))
        await fut

    @staticmethod
    async def settle() -> None:
        """Let every ready task run until it blocks again."""
        for _ in range(50):
            await asyncio.sleep(0)

    async def run(self, aws: Iterable[Awaitable[object]]) -> list[object]:
        """Run the awaitables concurrently, advancing virtual time whenever all of them sleep."""
        tasks = [asyncio.ensure_future(a) for a in aws]
        try:
            while not all(t.done() for t in tasks):
                await self.settle()
                if all(t.done() for t in tasks):
                    break
                while self._sleepers and self._sleepers[0][2].done():
                    heapq.heappop(self._sleepers)
                if not self._sleepers:
                    raise AssertionError("tasks are blocked on something other than the clock")
                wake = self._sleepers[0][0]
                self.now = max(self.now, wake)
                while self._sleepers and self._sleepers[0][0] <= self.now:
                    _, _, fut = heapq.heappop(self._sleepers)
                    if not fut.done():
                        fut.set_result(None)
            return [t.result() for t in tasks]
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
