"""Values, not only names (issue 20, item 3): known work through the real broker and database
moves the tracker's metrics by exactly what happened, in the units the catalog declares.

Each check is driven by the catalog (``Metric.counts``, ``Unit.SECONDS``, ``*_timestamp_seconds``),
so a new metric gets it by being declared. What each catches: a counter no longer incremented
(moved by 0, not N), a duration fed milliseconds (observations longer than the test itself),
a moment taken from a monotonic clock (the machine's uptime, not the wall clock).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from services.position_tracker.telemetry import (
    BATCH_SIZE,
    CATALOG,
    LAST_STORED_TIMESTAMP,
    POSITIONS_STORED,
    PUBLISH_TO_STORE_DELAY,
    STORE_DURATION,
)
from tests.support.broker import StompClient
from tests.support.fleet import TrackerNames, running_tracker
from tests.support.metric_values import (
    MAX_SKEW_S,
    counter_moves,
    durations_within,
    scrape,
    timestamps_near_now,
)
from tests.support.polling import eventually

pytestmark = pytest.mark.stack

VEHICLES = ("Values Van 1", "Values Van 2", "Values Van 3")
PER_VEHICLE = 20
REFUSED = ("{not json", json.dumps({"vehicle": "Values Van 9", "lat": 53.0}))


@pytest.fixture
def names(isolation) -> TrackerNames:
    return TrackerNames.unique(isolation, "values")


def _positions(start: datetime) -> list[str]:
    return [
        json.dumps(
            {
                "vehicle": vehicle,
                "lat": 53.37 + i * 0.0004 + n * 0.01,
                "lng": -1.50 + i * 0.0003,
                "timestamp": (start + timedelta(seconds=5 * i)).isoformat(),
            }
        )
        for n, vehicle in enumerate(VEHICLES)
        for i in range(PER_VEHICLE)
    ]


def test_known_work_moves_every_metric_by_what_happened_in_its_unit(names, run_id):
    positions = _positions(datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3))
    with running_tracker(names, run_id, BATCH_WAIT_MS="50") as tracker:
        before = scrape(tracker.url)
        started = time.monotonic()
        broker = StompClient()
        try:
            for text in (*positions, *REFUSED):
                broker.send(names.queue, text)
        finally:
            broker.close()

        def all_stored() -> None:  # as the API sees it, not the metrics under test
            for vehicle in VEHICLES:
                history = httpx.get(
                    f"{tracker.url}/vehicles/{vehicle}/history", params={"limit": 50}, timeout=5
                )
                assert len(history.json()["positions"]) == PER_VEHICLE

        eventually(all_stored, timeout=60)
        time.sleep(1)  # a late, wrong increment would show
        after = scrape(tracker.url)
        elapsed = time.monotonic() - started

    events = {
        "position message consumed": len(positions) + len(REFUSED),
        "valid position stored": len(positions),
        "position message refused": len(REFUSED),
        "failed batch write": 0,
    }
    assert counter_moves(CATALOG, before, after, events) == []
    assert {m.counts for m in CATALOG.metrics if m.counts} == set(events)  # none unexercised
    inserted = after.value(POSITIONS_STORED.name, result="inserted")
    assert inserted - before.value(POSITIONS_STORED.name, result="inserted") == len(positions)
    # every stored position went through one batch write, and its delay was observed once
    batched = after.value(f"{BATCH_SIZE.name}_sum") - before.value(f"{BATCH_SIZE.name}_sum")
    assert batched == len(positions)
    delays = f"{PUBLISH_TO_STORE_DELAY.name}_count"
    assert after.value(delays) - before.value(delays) == len(positions)
    writes = f"{STORE_DURATION.name}_count"
    assert after.value(writes) - before.value(writes) >= 1
    assert durations_within(CATALOG, before, after, elapsed) == []
    assert after.value(LAST_STORED_TIMESTAMP.name) > 0
    assert timestamps_near_now(CATALOG, after, max_age_s=MAX_SKEW_S) == []
