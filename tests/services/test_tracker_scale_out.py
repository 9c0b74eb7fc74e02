"""Several trackers on one queue (issue 21): 20,000 positions of 200 vehicles, each vehicle in
its message group as our simulator sends them, three trackers, one killed mid-stream. Nothing
is lost, nothing is stored twice, and every stored speed and heading is what one tracker
computes from the same input."""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import pytest
from pymongo import MongoClient

from services.position_tracker import buckets
from services.position_tracker.positions import StoredPosition
from services.position_tracker.processing import Incoming, Limits, PreviousPositions, decide
from tests.support.broker import StompClient
from tests.support.fleet import MONGODB_URL, TrackerNames, running_tracker
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


def _one_tracker(messages: list[tuple[str, str]], now: datetime) -> dict[tuple, tuple]:
    """What one tracker stores for this input: (vehicle, ms) → (speed, heading)."""
    nothing = PreviousPositions(lambda _v, _t: None, lambda _v: {}, lambda _v, _a, _b: set())
    limits = Limits(timedelta(minutes=5), 300.0)
    batch = [Incoming(body, {"JMSXGroupID": vehicle}, 0) for vehicle, body in messages]
    decisions = decide(batch, nothing, now, limits)
    outcomes = [d.outcome for d in decisions]
    assert all(isinstance(o, StoredPosition) for o in outcomes)
    return {
        (o.vehicle, buckets.millis(o.timestamp)): (o.speed_kmh, o.heading)
        for o in outcomes  # type: ignore[union-attr]
    }


def _stored(database: str) -> list[tuple[str, int, float, float]]:
    """Every record written (a position stored twice appears twice)."""
    with MongoClient(MONGODB_URL) as client:
        db = client[database]
        return [
            (doc["vehicle"], at, speed, heading)
            for name in db.list_collection_names()
            if buckets.partition_hour(name) is not None
            for doc in db[name].find()
            for chunk in doc["chunks"]
            for at, _lat, _lng, speed, heading, _stored in buckets.RECORD.iter_unpack(chunk)
        ]


def _same(a: float | None, b: float) -> bool:
    return math.isnan(b) if a is None else math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def test_three_trackers_one_killed_lose_nothing_duplicate_nothing_and_agree(isolation, run_id):
    names = TrackerNames.unique(isolation, "scale")
    now = datetime.now(UTC).replace(microsecond=0)
    messages = _messages(now - timedelta(seconds=5 * REPORTS + 30))
    expected = _one_tracker(messages, now)
    with ExitStack() as stack:
        trackers = [
            stack.enter_context(running_tracker(names, run_id, BATCH_WAIT_MS="50"))
            for _ in range(3)
        ]
        broker = StompClient()
        stack.callback(broker.close)
        for i, (vehicle, body) in enumerate(messages):
            broker.send(names.queue, body, {"JMSXGroupID": vehicle})
            if i == KILL_AT:
                trackers[1].kill()  # SIGKILL: its unacknowledged messages go to the others
        eventually(lambda: len(_stored(names.database)) >= len(messages), timeout=180)
        time.sleep(3)  # a late redelivery would show up as an extra record now
        records = _stored(names.database)
    assert {(v, at) for v, at, *_ in records} == set(expected), "lost positions"
    copies = Counter((v, at) for v, at, *_ in records)
    twice = [key for key, count in copies.items() if count > 1]
    assert not twice, f"{len(twice)} positions stored more than once, e.g. {twice[:3]}"
    wrong = [
        (v, at, (speed, heading), expected[(v, at)])
        for v, at, speed, heading in records
        if not (_same(expected[(v, at)][0], speed) and _same(expected[(v, at)][1], heading))
    ]
    assert not wrong, f"{len(wrong)} positions differ from one tracker's, e.g. {wrong[:3]}"
