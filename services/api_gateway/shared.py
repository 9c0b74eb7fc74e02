"""One upstream answer shared by the requests of a moment: the fleet list every open map polls.

Without it each poll costs the gateway an upstream call (about a millisecond of its CPU and as
much of the tracker's), and the gateway path's latency is the tracker's plus as much again. With
it, polls within ``max_age`` of a fetch's start share that fetch's answer, and the first poll
past ``refresh_after`` starts the next fetch in the background while it is answered from the
current one, so at a steady poll rate nearly every poll is answered from memory and no poll
waits for the tracker. A poll that finds no answer young enough waits for the fetch under way
(one at a time, whoever started it), never for one of its own.

Only a 200 is kept; a failure (shed, timeout, 5xx) goes to the polls that waited for that fetch
and is forgotten. The age counts from the fetch's start (the tracker's state is at least that
recent), so the freshness contract (a stored position is in ``/api/vehicles`` within 1 s) takes
at most ``max_age`` of the gateway: see ``GatewaySettings.list_max_age_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Awaitable, Callable
from functools import partial

from services.api_gateway.upstream import TrackerClient, UpstreamResponse


class SharedAnswer:
    """The latest 200 of ``fetch``, reused while younger than ``max_age`` seconds."""

    def __init__(
        self,
        fetch: Callable[[], Awaitable[UpstreamResponse]],
        max_age: float,
        refresh_after: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 <= refresh_after <= max_age:
            raise ValueError(f"refresh_after {refresh_after} must be within [0, {max_age}]")
        self._fetch = fetch
        self.max_age = max_age
        self.refresh_after = refresh_after
        self._clock = clock
        self._answer: UpstreamResponse | None = None
        #: When the fetch that got ``_answer`` started.
        self._fetched_at = -math.inf
        self._pending: asyncio.Task[UpstreamResponse] | None = None

    async def get(self) -> UpstreamResponse:
        age = self._clock() - self._fetched_at
        if self._answer is not None and age <= self.max_age:
            if age > self.refresh_after:
                self._refresh()
            return self._answer
        # shielded: a poll that gives up (its client went away) does not cancel the others' fetch
        return await asyncio.shield(self._refresh())

    def _refresh(self) -> asyncio.Task[UpstreamResponse]:
        if self._pending is None:
            self._pending = asyncio.create_task(self._run())
            self._pending.add_done_callback(_retrieve)
        return self._pending

    async def _run(self) -> UpstreamResponse:
        started = self._clock()
        try:
            answer = await self._fetch()
        finally:
            self._pending = None
        if answer.status_code == 200 and started > self._fetched_at:
            self._answer, self._fetched_at = answer, started
        return answer


def _retrieve(task: asyncio.Task[UpstreamResponse]) -> None:
    """A background refresh nobody waited for may fail: its failure was reported by the client
    (metrics, logs); retrieving it keeps asyncio from logging it again as never retrieved."""
    with contextlib.suppress(asyncio.CancelledError):
        task.exception()


def shared_get(
    tracker: TrackerClient, path: str, max_age: float
) -> Callable[[], Awaitable[UpstreamResponse]]:
    """GET ``path`` from the tracker, its answer shared for ``max_age`` (0: not shared),
    refreshed in the background from a third of it."""
    fetch = partial(tracker.get, path)
    if max_age <= 0:
        return fetch
    return SharedAnswer(fetch, max_age, refresh_after=max_age / 3).get
