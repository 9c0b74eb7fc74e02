"""From the first layout (a document per position in ``positions``, flat ``vehicles``) to the
bucketed one (``store.py``, ``buckets.py``).

The tracker runs it at start: the vehicles (one document each) before it consumes anything, the
positions in a background thread while it ingests (both write history with ``$push``, which
commutes). By hand, e.g. for a cluster before the new tracker starts::

    python -m services.position_tracker.migration --mongodb-url mongodb://db:27017/ --database fleetman

It can stop at any moment and carries on where it was: progress is saved after every page in the
``migrations`` collection, and a page written twice only repeats chunks, which readers merge.
Old positions are read in the collection's natural order, no filter and no sort (FerretDB would
read and sort the whole collection for either); ``positions`` is dropped once all are moved.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice

from pymongo.errors import PyMongoError

from observability.runtime.logs import fields
from services.position_tracker.positions import StoredPosition
from services.position_tracker.store import PositionStore

log = logging.getLogger("position_tracker.migration")

OLD_POSITIONS = "positions"
PROGRESS = "migrations"
STEP = "positions-to-buckets"
PAGE = 10_000
#: The first layout's vehicle fields, now under ``latest``.
FLAT_FIELDS = ("vehicle", "lat", "lng", "timestamp", "speed_kmh", "heading", "stored_at")


def migrate_vehicles(store: PositionStore) -> int:
    """Give every vehicle of the first layout its ``latest`` document; returns how many."""
    old = list(store.vehicles.find({"latest": {"$exists": False}}))
    for doc in old:
        vehicle = str(doc["_id"])
        latest = StoredPosition.from_document(vehicle, doc)
        store.vehicles.update_one(
            {"_id": vehicle},
            {
                "$max": {"latest": latest.latest_document()},
                "$unset": dict.fromkeys(FLAT_FIELDS, ""),
            },
        )
    if old:
        log.info("moved %d vehicles to the new layout", len(old), extra=_event("vehicles"))
    return len(old)


def pending_positions(store: PositionStore) -> bool:
    return OLD_POSITIONS in store.db.list_collection_names()


def migrate_positions(
    store: PositionStore,
    retention: timedelta | None,
    page: int = PAGE,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Move the first layout's positions into buckets, then drop them; returns how many moved.

    Positions older than ``retention`` are left out (the retention would drop them anyway).
    """
    if not pending_positions(store):
        return 0
    old = store.db[OLD_POSITIONS]
    marks = store.db[PROGRESS]
    done = int((marks.find_one({"_id": STEP}) or {}).get("done", 0))  # type: ignore[arg-type]
    total = old.estimated_document_count()
    horizon = None if not retention else datetime.now(UTC) - retention
    moved = 0
    for chunk in _pages(old.find({}, batch_size=page).skip(done), page):
        positions = [_position(doc) for doc in chunk]
        store.write([p for p in positions if horizon is None or p.timestamp >= horizon])
        done += len(chunk)
        moved += len(chunk)
        marks.update_one({"_id": STEP}, {"$set": {"done": done}}, upsert=True)
        if progress is not None:
            progress(done, total)
    store.db.drop_collection(OLD_POSITIONS)
    marks.delete_one({"_id": STEP})
    log.info("moved %d positions to the bucketed history", done, extra=_event("positions"))
    return moved


def _pages(cursor: Iterator[dict[str, object]], size: int) -> Iterator[list[dict[str, object]]]:
    while page := list(islice(cursor, size)):
        yield page


def _position(doc: dict[str, object]) -> StoredPosition:
    return StoredPosition.from_document(str(doc["vehicle"]), doc)


def _event(what: str) -> dict[str, object]:
    return fields(**{"event.action": f"migrated-{what}", "event.outcome": "success"})


class BackgroundMigration:
    """Moves the old positions while the tracker ingests; retried after a database failure."""

    def __init__(self, store: PositionStore, retention: timedelta | None) -> None:
        self.store = store
        self.retention = retention
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tracker-migration", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if pending_positions(self.store):
                    migrate_positions(self.store, self.retention, progress=_log_progress)
                return
            except PyMongoError as exc:
                log.warning("moving old positions failed, retrying in 10 s: %s", exc)
                self._stop.wait(10)


def _log_progress(done: int, total: int) -> None:
    log.info("moved %d of about %d old positions to the bucketed history", done, total)


def main(argv: list[str] | None = None) -> int:
    from services.position_tracker.settings import TrackerSettings

    defaults = TrackerSettings()
    parser = argparse.ArgumentParser(
        prog="python -m services.position_tracker.migration",
        description="Move a tracker database of the first layout (one document per position) to "
        "the bucketed history. Safe to run again, or beside running trackers.",
    )
    parser.add_argument("--mongodb-url", default=defaults.mongodb_url, help="default: %(default)s")
    parser.add_argument(
        "--database", default=defaults.mongodb_database, help="default: %(default)s"
    )
    parser.add_argument(
        "--retention-hours",
        type=float,
        default=defaults.retention_hours,
        help="positions older than this are not moved; 0 moves all (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    store = PositionStore(args.mongodb_url, args.database)
    try:
        migrate_vehicles(store)
        retention = timedelta(hours=args.retention_hours) if args.retention_hours else None
        moved = migrate_positions(store, retention, progress=_log_progress)
    except PyMongoError as exc:
        print(f"migration: the database failed: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"migration: done ({moved} positions moved)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
