"""Several trackers on one queue (issue 21): 20,000 positions of 200 vehicles, each vehicle in
its message group as our simulator sends them, three trackers, one killed mid-stream. Nothing
is lost, nothing is stored twice, and every stored speed and heading is what one tracker
computes from the same input."""

from __future__ import annotations

import json
import time
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import pytest
from pymongo import MongoClient

from tests.support.broker import StompClient
from tests.support.fleet import MONGODB_URL, TrackerNames, running_tracker
from tests.support.history import one_tracker, same_movement, stored_records
from tests.support.polling import eventually

pytestmark = pytest.mark.stack

VEHICLES, REPORTS = 200, 100
KILL_AT = 8_000


def _messages(start: datetime) -> list[tuple[str, str]]:
    """(vehicle, body) in publishing order: every vehicle's k-th report, then the (k+1)-th."""
    found = []
    for k in range(REPORTS):
        for v in range(VEHICLES):
            at = start + timedelta(seconds=5 * k)
            lat, lng = 53.30 + v * 0.001 + k * 0.0003, -1.50 + k * 0.0002 * (1 + v % 3)
            body = {"vehicle": f"Scale Van {v:03d}", "lat": lat, "lng": lng, "timestamp": at}
            found.append((body["vehicle"], json.dumps(body, default=datetime.isoformat)))
    return found


def _count(database: str) -> int:
    with MongoClient(MONGODB_URL, tz_aware=True) as client:
        return len(stored_records(client[database]))


def test_three_trackers_one_killed_lose_nothing_duplicate_nothing_and_agree(isolation, run_id):
    names = TrackerNames.unique(isolation, "scale")
    now = datetime.now(UTC).replace(microsecond=0)
    messages = _messages(now - timedelta(seconds=5 * REPORTS + 30))
    expected = one_tracker((body for _, body in messages), now)
    with ExitStack() as stack:
        # Slices of 30 vehicles: the trackers' batches are written as waves, other batches
        # passing between the slices, while one of them is killed.
        trackers = [
            stack.enter_context(
                running_tracker(names, run_id, BATCH_WAIT_MS="50", WRITE_SLICE_VEHICLES="30")
            )
            for _ in range(3)
        ]
        broker = StompClient()
        stack.callback(broker.close)
        for i, (vehicle, body) in enumerate(messages):
            broker.send(names.queue, body, {"JMSXGroupID": vehicle})
            if i == KILL_AT:
                trackers[1].kill()  # SIGKILL: its unacknowledged messages go to the others
        eventually(lambda: _count(names.database) >= len(messages), timeout=180)
        time.sleep(3)  # a late redelivery would show up as an extra record now
        with MongoClient(MONGODB_URL, tz_aware=True) as client:
            records = stored_records(client[names.database])
    assert {r.key for r in records} == set(expected), "lost positions"
    copies = Counter(r.key for r in records)
    twice = [key for key, count in copies.items() if count > 1]
    assert not twice, f"{len(twice)} positions stored more than once, e.g. {twice[:3]}"
    wrong = [(r, expected[r.key]) for r in records if not same_movement(r, expected[r.key])]
    assert not wrong, f"{len(wrong)} positions differ from one tracker's, e.g. {wrong[:3]}"
