"""When the tracker's readiness calls ingest stalled: messages wait and nothing was stored for
longer than the limit; an idle tracker with nothing to do is fine."""

from __future__ import annotations

import pytest

from services.position_tracker.consumer import stall_problem


@pytest.mark.parametrize(
    ("waiting", "idle_s", "stalled"),
    [(0, 600.0, False), (5, 10.0, False), (5, 30.0, False), (5, 31.0, True)],
)
def test_ingest_is_stalled_only_with_messages_waiting_and_nothing_stored_for_long(
    waiting, idle_s, stalled
):
    problem = stall_problem(waiting, idle_s, limit_s=30.0)
    assert (problem is not None) is stalled
    if stalled:
        assert problem == "ingest stalled: 5 messages waiting, nothing stored for 31 s"
