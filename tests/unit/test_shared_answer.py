"""The gateway's shared fleet list (services/api_gateway/shared.py): one fetch for the polls of a
moment, refreshed in the background, never older than its maximum age, failures not kept."""

from __future__ import annotations

import asyncio

import pytest

from services.api_gateway.shared import SharedAnswer
from services.api_gateway.upstream import UpstreamResponse


class Tracker:
    """Answers ``n`` (the number of its fetch) after ``delay`` seconds of the test's clock."""

    def __init__(self, clock: list[float], delay: float = 0.0) -> None:
        self.clock = clock
        self.delay = delay
        self.fetches = 0
        self.status = 200
        self.gate: asyncio.Event | None = None

    async def fetch(self) -> UpstreamResponse:
        self.fetches += 1
        n = self.fetches
        if self.gate is not None:
            await self.gate.wait()
        self.clock[0] += self.delay
        return UpstreamResponse(self.status, str(n).encode(), "application/json")


def shared(tracker: Tracker, clock: list[float], max_age=0.15, refresh_after=0.05):
    return SharedAnswer(tracker.fetch, max_age, refresh_after, clock=lambda: clock[0])


def test_concurrent_polls_share_one_fetch():
    async def scenario():
        clock = [0.0]
        tracker = Tracker(clock)
        tracker.gate = asyncio.Event()
        answer = shared(tracker, clock)
        polls = [asyncio.create_task(answer.get()) for _ in range(50)]
        await asyncio.sleep(0)
        tracker.gate.set()
        bodies = {(await p).content for p in polls}
        return tracker.fetches, bodies

    assert asyncio.run(scenario()) == (1, {b"1"})


def test_a_poll_past_refresh_after_is_answered_at_once_and_starts_the_next_fetch():
    async def scenario():
        clock = [0.0]
        tracker = Tracker(clock)
        answer = shared(tracker, clock)
        first = (await answer.get()).content
        clock[0] = 0.04
        within = (await answer.get()).content  # young: no fetch
        fetches_within = tracker.fetches
        clock[0] = 0.1
        stale_ok = (await answer.get()).content  # answered from the current one...
        await asyncio.sleep(0)  # ...while the refresh runs
        after = (await answer.get()).content
        return first, within, fetches_within, stale_ok, after, tracker.fetches

    assert asyncio.run(scenario()) == (b"1", b"1", 1, b"1", b"2", 2)


def test_never_older_than_max_age():
    async def scenario():
        clock = [0.0]
        tracker = Tracker(clock)
        answer = shared(tracker, clock)
        await answer.get()
        clock[0] = 0.151  # past max_age: this poll waits for a fetch of its own
        return (await answer.get()).content, tracker.fetches

    assert asyncio.run(scenario()) == (b"2", 2)


def test_the_age_counts_from_the_fetchs_start():
    async def scenario():
        clock = [0.0]
        tracker = Tracker(clock, delay=0.1)  # the tracker takes 100 ms
        answer = shared(tracker, clock)
        await answer.get()  # started at 0, answered at 0.1
        clock[0] = 0.16  # 160 ms after the fetch started: too old although answered 60 ms ago
        return (await answer.get()).content

    assert asyncio.run(scenario()) == b"2"


def test_a_failure_reaches_its_waiters_and_is_not_kept():
    async def scenario():
        clock = [0.0]
        tracker = Tracker(clock)
        tracker.status = 503
        answer = shared(tracker, clock)
        failed = await answer.get()
        tracker.status = 200
        recovered = await answer.get()  # the failure was not kept: a new fetch
        return failed.status_code, recovered.status_code, tracker.fetches

    assert asyncio.run(scenario()) == (503, 200, 2)


def test_a_raised_failure_goes_to_every_waiter():
    async def scenario():
        clock = [0.0]

        async def fetch() -> UpstreamResponse:
            await asyncio.sleep(0)
            raise TimeoutError

        answer = SharedAnswer(fetch, 0.15, 0.05, clock=lambda: clock[0])
        return await asyncio.gather(*(answer.get() for _ in range(3)), return_exceptions=True)

    assert [type(r) for r in asyncio.run(scenario())] == [TimeoutError] * 3


def test_a_poll_that_gives_up_does_not_cancel_the_fetch():
    async def scenario():
        clock = [0.0]
        tracker = Tracker(clock)
        tracker.gate = asyncio.Event()
        answer = shared(tracker, clock)
        impatient = asyncio.create_task(answer.get())
        patient = asyncio.create_task(answer.get())
        await asyncio.sleep(0)
        impatient.cancel()
        tracker.gate.set()
        return (await patient).content

    assert asyncio.run(scenario()) == b"1"


@pytest.mark.parametrize(("max_age", "refresh_after"), [(0.1, 0.2), (0.1, -0.01)])
def test_refresh_after_within_max_age(max_age: float, refresh_after: float):
    with pytest.raises(ValueError, match="refresh_after"):
        SharedAnswer(Tracker([0.0]).fetch, max_age, refresh_after)
