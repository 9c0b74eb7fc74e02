"""Ingest under trouble: readiness calls it stalled when messages wait and nothing was stored for
longer than the limit (an idle tracker is fine); a retried attempt gets a growing time budget."""

from __future__ import annotations

import pytest

from services.position_tracker.consumer import attempt_budget_s, backlog_of_mine, stall_problem
from services.position_tracker.settings import TrackerSettings


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


def test_an_ingest_attempt_gets_more_time_on_each_retry_up_to_30_s():
    settings = TrackerSettings(db_operation_timeout_ms=5000)
    budgets = [attempt_budget_s(settings, n) for n in range(1, 7)]
    assert budgets == [5.0, 10.0, 20.0, 30.0, 30.0, 30.0]
    # a base above the cap is kept as it is
    assert attempt_budget_s(TrackerSettings(db_operation_timeout_ms=45_000), 3) == 45.0


def test_the_queues_backlog_counts_against_a_tracker_only_when_it_is_the_only_consumer():
    assert backlog_of_mine(500, consumers=1) == 500
    assert backlog_of_mine(500, consumers=0) == 500  # (a statistics reply racing a reconnect)
    # another tracker may hold every group with messages waiting: this one is idle, not stalled
    assert backlog_of_mine(500, consumers=3) == 0
