"""Admission of calls to the tracker: a bounded number in flight, a short wait, then shed.

A request that finds every slot taken waits a few milliseconds for one and is otherwise shed
(503 with Retry-After, ``upstream.py``): under overload the gateway answers at once instead of
queueing requests until they time out, and the tracker gets no more calls than it can take.
"""

from __future__ import annotations

import asyncio


class Slots:
    """At most ``limit`` calls at once; a caller waits at most ``wait_seconds`` for a slot."""

    def __init__(self, limit: int, wait_seconds: float) -> None:
        self.limit = limit
        self._wait = wait_seconds
        # asyncio's semaphore is fair (no barging past waiters) and gives a permit back when a
        # waiter is cancelled after being woken (so the timeout below cannot lose a slot).
        self._free = asyncio.Semaphore(limit)

    async def take(self) -> bool:
        """Take a slot: True, else False after ``wait_seconds`` (the caller sheds)."""
        if not self._free.locked():
            return await self._free.acquire()  # a free slot: returns without suspending
        try:
            async with asyncio.timeout(self._wait):
                return await self._free.acquire()
        except TimeoutError:
            return False

    def give_back(self) -> None:
        self._free.release()
