"""The tracker's store on the real database: history across bucket and hour boundaries, the
previous-position lookup, retention, and the migration from the first layout."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from services.position_tracker import buckets
from services.position_tracker.migration import (
    OLD_POSITIONS,
    migrate_positions,
    migrate_vehicles,
)
from services.position_tracker.positions import StoredPosition
from services.position_tracker.retention import RetentionJob
from services.position_tracker.store import EARLIEST, PositionStore
from tests.support.fleet import MONGODB_URL, TrackerNames

pytestmark = pytest.mark.stack

#: Just before an hour and a bucket boundary, so the history below crosses both.
T0 = datetime(2026, 11, 26, 7, 58, 30, tzinfo=UTC)


@pytest.fixture
def store(isolation) -> Iterator[PositionStore]:
    names = TrackerNames.unique(isolation, "store")
    store = PositionStore(MONGODB_URL, names.database)
    yield store
    store.client.drop_database(names.database)
    store.close()


def at(seconds: float, vehicle: str = "Store Van") -> StoredPosition:
    moment = T0 + timedelta(seconds=seconds)
    speed = None if seconds == 0 else 10.0 + seconds % 7
    return StoredPosition(vehicle, 53.0 + seconds / 1e5, -1.5, moment, speed, None, moment)


def t(**delta: float) -> datetime:
    return T0 + timedelta(**delta)


def expected(
    stored: list[StoredPosition], since: datetime | None, until: datetime | None, limit: int
) -> list[StoredPosition]:
    """What the history must answer, computed the plain way."""
    inside = [
        p
        for p in stored
        if (since is None or p.timestamp >= since) and (until is None or p.timestamp <= until)
    ]
    return sorted(inside, key=lambda p: p.timestamp, reverse=True)[:limit]


def test_history_is_complete_and_ordered_across_buckets_hours_and_writes(store):
    # Every 7 s for 2.5 h: 30 five-minute buckets in 4 hourly collections, written in batches
    # of varied sizes, shuffled (out of order), one batch written twice (a redelivery).
    rng = random.Random(7)
    stored = [at(s) for s in range(0, 9000, 7)]
    batches, rest = [], list(stored)
    rng.shuffle(rest)
    while rest:
        size = rng.randint(1, 60)
        batches.append(rest[:size])
        rest = rest[size:]
    for batch in [*batches, batches[3]]:
        store.write(batch)
    assert len(store.db.list_collection_names()) == 1 + 4  # vehicles, four hours
    queries = [
        (None, None, 1000),
        (None, None, 1),
        (t(seconds=600), t(seconds=4000), 1000),  # inside, crossing the first hour
        (t(seconds=90), t(seconds=91), 1000),  # one second holding no position: empty
        (t(seconds=91), t(seconds=91), 10),  # exactly one position
        (None, t(seconds=300), 5),  # an older window than the newest positions
        (t(seconds=5000), None, 100),  # newest first, limit reached mid-window
        (t(hours=-3), t(hours=5), 1000),  # wider than everything stored
        (EARLIEST, EARLIEST + timedelta(days=1), 10),  # the first day a datetime holds: nothing
        (EARLIEST, None, 10),
    ]
    for since, until, limit in queries:
        answer = store.history("Store Van", since, until, limit)
        assert answer == expected(stored, since, until, limit), (since, until, limit)
    assert store.history("Nobody", None, None, 10) is None


def test_the_previous_position_in_order_out_of_order_and_redelivered(store):
    stored = [at(0), at(600), at(1200)]
    store.write(stored)
    minute = timedelta(minutes=1)
    # In order: newer than the latest, so the latest (read by _id) is the one before.
    assert store.previous("Store Van", T0 + 30 * minute) == at(1200)
    # Out of order: between stored positions, found in the buckets before it.
    assert store.previous("Store Van", T0 + 15 * minute) == at(600)
    # A redelivery of a stored one: the position before it.
    assert store.previous("Store Van", T0 + 20 * minute) == at(600)
    assert store.previous("Store Van", T0) is None
    assert store.previous("Unknown Van", T0) is None
    # Which positions of a period are stored (a redelivered batch), across buckets.
    assert store.stored_times("Store Van", T0, T0 + 20 * minute) == {
        buckets.millis(T0),
        buckets.millis(T0 + 10 * minute),
        buckets.millis(T0 + 20 * minute),
    }
    assert store.stored_times("Store Van", T0 + minute, T0 + 9 * minute) == set()
    assert store.stored_times("Unknown Van", T0, T0 + 20 * minute) == set()


def test_latest_only_moves_forward_whatever_the_order_of_writes(store):
    store.write([at(60)])
    store.write([at(30)])  # a late message
    assert store.latest("Store Van") == at(60)
    assert store.latest_of(["Store Van", "Nobody"]) == {"Store Van": at(60)}
    store.write([at(90)])
    assert [p.vehicle for p in store.latest_all()] == ["Store Van"]
    assert store.latest("Store Van") == at(90)


def test_a_batch_of_many_vehicles_is_written_in_commands_ferretdb_can_take(store):
    # FerretDB 1.24 deadlocks on an update command of 100 statements or more.
    fleet = [at(5, vehicle=f"Van {i:03d}") for i in range(250)]
    store.write(fleet)
    store.write([at(10, vehicle=f"Van {i:03d}") for i in range(250)])
    assert len(store.latest_all()) == 250
    assert len(store.history("Van 123", None, None, 10)) == 2


def test_retention_drops_whole_hours_and_reads_stop_at_its_bound(isolation):
    names = TrackerNames.unique(isolation, "retention")
    now = datetime.now(UTC)
    kept = PositionStore(MONGODB_URL, names.database, retention=timedelta(hours=2))
    try:
        moments = [now - timedelta(hours=h, minutes=1) for h in (0, 1, 2, 3)]
        kept.write([StoredPosition("Old Van", 53.0, -1.5, m, None, None, m) for m in moments])
        dropped = kept.purge_before(now - timedelta(hours=2))
        hours = [buckets.partition(buckets.bucket_start(m)) for m in moments]
        # The hour 3 h ago ends before the bound; the last two hours do not.
        assert hours[3] in dropped and hours[0] not in dropped and hours[1] not in dropped
        served = [p.timestamp for p in kept.history("Old Van", None, None, 10) or []]
        assert served == [buckets.from_millis(buckets.millis(m)) for m in moments[:2]]
    finally:
        kept.client.drop_database(names.database)
        kept.close()


def test_vehicles_not_heard_from_within_the_retention_are_forgotten_in_batches(store):
    now = datetime.now(UTC)

    def reported(name: str, hours_ago: float) -> StoredPosition:
        at = now - timedelta(hours=hours_ago)
        return StoredPosition(name, 53.0, -1.5, at, None, None, now)

    store.write([*(reported(f"Quiet {i}", 25 + i / 60) for i in range(7)), reported("Heard", 0)])
    assert store.forget_vehicles_before(now - timedelta(hours=24), batch=3) == 7
    assert [p.vehicle for p in store.latest_all()] == ["Heard"]
    # The retention job forgets them too; one that reports again is written anew.
    store.write([reported("Quiet 8", 30), reported("Quiet 0", 0)])
    assert RetentionJob(store, hours=24).run_once()[1] == 1
    assert [p.vehicle for p in store.latest_all()] == ["Heard", "Quiet 0"]


def test_a_database_of_the_first_layout_is_migrated_even_when_interrupted(store):
    old_positions = [at(s, vehicle=f"Van {s % 3}") for s in range(0, 2400, 10)]
    db = store.db
    db[OLD_POSITIONS].insert_many(
        [{"_id": p.key, "vehicle": p.vehicle, **p.latest_document()} for p in old_positions]
    )
    for vehicle in ("Van 0", "Van 1", "Van 2"):
        newest = max((p for p in old_positions if p.vehicle == vehicle), key=lambda p: p.timestamp)
        db["vehicles"].insert_one({"_id": vehicle, "vehicle": vehicle, **newest.latest_document()})

    assert migrate_vehicles(store) == 3
    assert migrate_vehicles(store) == 0
    assert store.latest("Van 1") == max(
        (p for p in old_positions if p.vehicle == "Van 1"), key=lambda p: p.timestamp
    )

    class Interrupted(Exception):
        pass

    def crash_after_first_page(done: int, total: int) -> None:
        raise Interrupted

    with pytest.raises(Interrupted):
        migrate_positions(store, None, page=50, progress=crash_after_first_page)
    assert migrate_positions(store, None, page=50) == len(old_positions) - 50
    assert OLD_POSITIONS not in db.list_collection_names()
    assert migrate_positions(store, None) == 0
    for vehicle in ("Van 0", "Van 1", "Van 2"):
        mine = [p for p in old_positions if p.vehicle == vehicle]
        assert store.history(vehicle, None, None, 1000) == expected(mine, None, None, 1000)


def test_the_migration_command_moves_a_database_by_hand(store):
    old = [at(s) for s in range(0, 600, 20)]
    store.db[OLD_POSITIONS].insert_many(
        [{"_id": p.key, "vehicle": p.vehicle, **p.latest_document()} for p in old]
    )
    command = [sys.executable, "-m", "services.position_tracker.migration"]
    args = ["--mongodb-url", MONGODB_URL, "--database", store.db.name, "--retention-hours", "0"]
    done = subprocess.run([*command, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"done ({len(old)} positions moved)" in done.stderr
    assert store.history("Store Van", None, None, 100) == expected(old, None, None, 100)
    again = subprocess.run([*command, *args], capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "done (0 positions moved)" in again.stderr
    usage = subprocess.run([*command, "--help"], capture_output=True, text=True, timeout=60)
    assert usage.returncode == 0 and "--retention-hours" in usage.stdout


def test_concurrent_writers_of_one_bucket_lose_nothing(store):
    """Several trackers writing one vehicle's bucket at once (no message groups, or a group
    moving): every chunk pushed is kept. FerretDB 1.24 lost one of two concurrent updates of a
    document until our patch 0003 (3 writers x 300 pushes kept 462)."""
    writers = [PositionStore(MONGODB_URL, store.db.name) for _ in range(3)]
    store.write([at(0)])  # the bucket exists: every later write is a $push to it
    for writer in writers:
        writer.write([at(0)])  # each writer knows the bucket (its cache), as a running tracker

    def write(index: int) -> None:
        for k in range(1, 81):
            writers[index].write([at(k * 3 + index)])  # one chunk each, into the same buckets

    threads = [threading.Thread(target=write, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for writer in writers:
        writer.close()
    stored = store.history("Store Van", T0, T0 + timedelta(seconds=250), 1000)
    assert stored is not None
    assert len(stored) == 241, f"{241 - len(stored)} of 241 positions lost"
