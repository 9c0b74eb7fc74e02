"""The gateway's call slots and its once-a-second tally of shed requests (no network)."""

from __future__ import annotations

import asyncio

from services.api_gateway.admission import Slots
from services.common.tally import Tally


def test_a_slot_is_given_at_once_while_free_and_refused_after_the_wait_when_not():
    async def scenario() -> list[bool]:
        slots = Slots(2, wait_seconds=0.01)
        taken = [await slots.take(), await slots.take(), await slots.take()]
        slots.give_back()
        return [*taken, await slots.take()]

    assert asyncio.run(scenario()) == [True, True, False, True]


def test_a_waiter_gets_a_slot_given_back_within_its_wait():
    async def scenario() -> bool:
        slots = Slots(1, wait_seconds=5.0)
        await slots.take()
        asyncio.get_running_loop().call_later(0.01, slots.give_back)
        return await slots.take()

    assert asyncio.run(scenario()) is True


def test_waiters_that_time_out_lose_no_slot():
    async def scenario() -> list[bool]:
        slots = Slots(1, wait_seconds=0.01)
        await slots.take()
        refused = await asyncio.gather(*(slots.take() for _ in range(50)))
        slots.give_back()
        return [*refused, await slots.take(), await slots.take()]

    assert asyncio.run(scenario()) == [False] * 50 + [True, False]


def test_the_tally_reports_at_once_then_at_most_once_per_interval():
    now = [100.0]
    tally = Tally(interval=1.0, clock=lambda: now[0])
    assert tally.add() == 1  # the first at once
    assert [tally.add() for _ in range(5)] == [0] * 5
    now[0] = 100.5
    assert tally.add() == 0
    now[0] = 101.0
    assert tally.add() == 7  # everything since the last report, this one included
    now[0] = 105.0
    assert tally.add() == 1
