"""The fleet snapshot behind ``GET /vehicles``: how often it reads the database, and when."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from pymongo.errors import ServerSelectionTimeoutError

from services.position_tracker.positions import StoredPosition
from services.position_tracker.snapshot import FleetSnapshot
from tests.support.polling import eventually

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


class Database:
    """Counts reads of the fleet; can be slowed down or made to fail."""

    def __init__(self) -> None:
        self.reads = 0
        self.delay = 0.0
        self.failing = False
        self.fleet = [StoredPosition("Van", 53.0, -1.5, NOW, None, None, NOW)]

    def __call__(self) -> list[StoredPosition]:
        self.reads += 1
        time.sleep(self.delay)
        if self.failing:
            raise ServerSelectionTimeoutError("database down")
        return list(self.fleet)


def rendered(positions: list[StoredPosition], now: datetime) -> bytes:
    return ",".join(p.vehicle for p in positions).encode()


def snapshot(db: Database, **options: float) -> FleetSnapshot:
    return FleetSnapshot(db, {"names": rendered}, **options)


def test_requests_within_the_maximum_age_share_one_read():
    db = Database()
    fleet = snapshot(db, max_age=0.2)  # no background thread started
    assert fleet.rendered("names") == b"Van"
    for _ in range(100):
        fleet.current()
    assert db.reads == 1
    db.fleet.append(StoredPosition("Truck", 53.0, -1.5, NOW, None, None, NOW))
    time.sleep(0.45)  # past twice the age: the request reads for itself
    assert fleet.rendered("names") == b"Van,Truck"
    assert db.reads == 2


def test_concurrent_requests_on_a_stale_snapshot_wait_for_one_read():
    db = Database()
    db.delay = 0.2
    fleet = snapshot(db, max_age=0.05)
    threads = [threading.Thread(target=fleet.current) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert db.reads == 1


def test_the_background_reads_follow_requests_and_stop_when_nobody_asks():
    db = Database()
    fleet = snapshot(db, max_age=0.05, idle_after=0.3)
    fleet.start()
    try:
        time.sleep(0.3)
        assert db.reads == 0  # nobody asked yet
        fleet.current()
        eventually(lambda: _at_least(db.reads, 5), timeout=5)  # kept fresh while asked
        time.sleep(0.6)  # idle now
        idle_reads = db.reads
        time.sleep(0.5)
        assert db.reads == idle_reads
        fleet.current()  # asked again: reading again
        eventually(lambda: _at_least(db.reads, idle_reads + 3), timeout=5)
    finally:
        fleet.stop()


def test_a_database_failure_reaches_the_request_that_must_read():
    db = Database()
    fleet = snapshot(db, max_age=0.05)
    db.failing = True
    with pytest.raises(ServerSelectionTimeoutError):
        fleet.current()
    db.failing = False
    assert fleet.rendered("names") == b"Van"


def _at_least(value: int, minimum: int) -> int:
    assert value >= minimum, f"{value} < {minimum}"
    return value
