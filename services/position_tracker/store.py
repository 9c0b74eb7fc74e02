"""Positions in MongoDB (FerretDB locally): each vehicle's latest position, and its history in
time buckets (``buckets.py`` says why that layout).

Two collections' worth of documents, every one read and written by ``_id``:

- ``vehicles``: ``{_id: name, latest: {timestamp, lat, lng, speed_kmh, heading, stored_at},
  first: <oldest timestamp>}``. ``latest`` only moves forward (``$max`` compares the embedded
  document by its first field, the timestamp), whatever order writers come in.
- ``positions.<hour>``: the history buckets (``buckets.py``).

A batch writes the latest positions first, then the history: a crash in between leaves a latest
position missing from the history, and its message (not acknowledged) comes back, is found
missing by :meth:`PositionStore.stored_times` and stored; never the other way round, so a
redelivered position is always recognised as already stored.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice

import pymongo
from bson import Binary
from pymongo import MongoClient, UpdateOne
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError, PyMongoError

from services.position_tracker import buckets
from services.position_tracker.buckets import bucket_id, bucket_start, millis, partition
from services.position_tracker.positions import StoredPosition

DUPLICATE_KEY = 11000
#: Write statements per command. FerretDB 1.24 deadlocks on an update command with as many
#: statements as its backend pools connections (each holds one until the command ends): 100 on
#: SQLite, 50 on PostgreSQL (both measured, bench/README.md). The local stack's build is patched;
#: any other FerretDB is not.
STATEMENTS_PER_COMMAND = 20
#: How far back a walk through a vehicle's buckets goes when nothing else bounds it (history
#: kept forever, and a vehicle stored before ``first`` was recorded).
LONGEST_WALK = timedelta(days=31)
#: The earliest moment there is.
EARLIEST = datetime.min.replace(tzinfo=UTC)
#: How long ``ping`` waits for the database.
PING_TIMEOUT_S = 1.0
#: Buckets known to exist, remembered so that writing to them skips the insert attempt.
KNOWN_BUCKETS = 100_000

Document = dict[str, object]


@dataclass(frozen=True, slots=True)
class VehicleRecord:
    """A vehicle's document: its latest position and when its history starts."""

    latest: StoredPosition
    first: datetime | None

    @classmethod
    def of(cls, doc: Document) -> VehicleRecord:
        first = doc.get("first")
        return cls(
            StoredPosition.from_document(str(doc["_id"]), doc["latest"]),  # type: ignore[arg-type]
            first if isinstance(first, datetime) else None,
        )


class PositionStore:
    """The tracker's database access; every method raises PyMongoError when the database fails."""

    def __init__(
        self,
        url: str,
        database: str,
        timeout_ms: int = 3000,
        retention: timedelta | None = None,
        operation_timeout_ms: int = 5000,
    ) -> None:
        self.client: MongoClient[Document] = MongoClient(
            url,
            tz_aware=True,
            serverSelectionTimeoutMS=timeout_ms,
            connectTimeoutMS=timeout_ms,
            # Every command carries maxTimeMS (the driver's client-side operation timeout): a call
            # nobody waits for stops in the database too, instead of running on and piling up.
            # ``pymongo.timeout(seconds)`` narrows it for a block (an API request's budget).
            timeoutMS=operation_timeout_ms,
            appname="position-tracker",
        )
        self.db = self.client[database]
        self.vehicles: Collection[Document] = self.db["vehicles"]
        #: Positions older than this are not served (their hour is dropped soon after).
        self.retention = retention
        self._known: OrderedDict[str, None] = OrderedDict()
        #: Vehicles whose document this store has written (so it exists).
        self._known_vehicles: set[str] = set()

    def ping(self) -> str | None:
        """None when the database answers, else why not (for ``/readyz``)."""
        try:
            # Well within a caller's probe timeout (the gateway's is 2 s): a database that is
            # down is reported as such, not as a tracker that does not answer.
            with pymongo.timeout(PING_TIMEOUT_S):
                self.client.admin.command("ping")
        except PyMongoError as exc:
            return f"database unreachable: {type(exc).__name__}"
        return None

    def close(self) -> None:
        self.client.close()

    def partition(self, start: datetime) -> Collection[Document]:
        return self.db[partition(start)]

    # -- writes ------------------------------------------------------------------------------
    def write(self, positions: Sequence[StoredPosition]) -> None:
        """Store positions: the vehicles' latest, then their history (see the module's doc)."""
        if positions:
            self._write_latest(positions)
            self._write_history(positions)

    def _write_latest(self, positions: Sequence[StoredPosition]) -> None:
        """Each vehicle's newest position as its latest (unless a newer one is stored), and its
        oldest as where its history starts. A vehicle this store has not written yet is inserted
        (a thousand new vehicles cost one command), falling back to the update if it exists."""
        newest: dict[str, StoredPosition] = {}
        oldest: dict[str, datetime] = {}
        for p in positions:
            if p.vehicle not in newest or p.timestamp > newest[p.vehicle].timestamp:
                newest[p.vehicle] = p
            if p.vehicle not in oldest or p.timestamp < oldest[p.vehicle]:
                oldest[p.vehicle] = p.timestamp
        fresh = [
            {"_id": vehicle, "latest": p.latest_document(), "first": oldest[vehicle]}
            for vehicle, p in newest.items()
            if vehicle not in self._known_vehicles
        ]
        existing = {str(doc["_id"]) for doc in self._insert_new(self.vehicles, fresh)}
        updates = [
            UpdateOne(
                {"_id": vehicle},
                {"$max": {"latest": p.latest_document()}, "$min": {"first": oldest[vehicle]}},
                upsert=True,
            )
            for vehicle, p in newest.items()
            if vehicle in self._known_vehicles or vehicle in existing
        ]
        _bulk(self.vehicles, updates)
        self._known_vehicles.update(newest)

    def _write_history(self, positions: Sequence[StoredPosition]) -> None:
        """One chunk per vehicle and bucket: inserted as a new bucket when none is known to
        exist (the cheap path: a bucket's first write), else pushed onto it."""
        by_bucket: dict[tuple[str, datetime], list[StoredPosition]] = defaultdict(list)
        for p in positions:
            by_bucket[(p.vehicle, bucket_start(p.timestamp))].append(p)
        fresh: dict[str, list[Document]] = defaultdict(list)
        pushes: dict[str, list[UpdateOne]] = defaultdict(list)
        for (vehicle, start), items in by_bucket.items():
            chunk = buckets.pack(items)
            name, key = partition(start), bucket_id(vehicle, start)
            if key in self._known:
                pushes[name].append(_push(vehicle, start, chunk))
            else:
                fresh[name].append(buckets.new_bucket(vehicle, start, Binary(chunk)))
        for name, docs in fresh.items():
            for existing in self._insert_new(self.db[name], docs):
                chunk = bytes(existing["chunks"][0])  # type: ignore[index]
                pushes[name].append(_push(existing["vehicle"], existing["start"], chunk))  # type: ignore[arg-type]
        for name, updates in pushes.items():
            _bulk(self.db[name], updates)
        for vehicle, start in by_bucket:
            self._remember(bucket_id(vehicle, start))

    @staticmethod
    def _insert_new(collection: Collection[Document], docs: list[Document]) -> list[Document]:
        """Insert documents; returns those that already existed (a duplicate ``_id``)."""
        if not docs:
            return []
        try:
            collection.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            return [docs[e["index"]] for e in errors]
        return []

    def _remember(self, key: str) -> None:
        self._known[key] = None
        self._known.move_to_end(key)
        if len(self._known) > KNOWN_BUCKETS:
            self._known.popitem(last=False)

    def purge_before(self, moment: datetime) -> list[str]:
        """Drop the hourly collections that hold only positions older than ``moment`` (the
        retention bound); returns their names."""
        dropped = []
        for name in sorted(self.db.list_collection_names()):
            end = buckets.partition_end(name)
            if end is not None and end <= moment:
                self.db.drop_collection(name)
                dropped.append(name)
        return dropped

    def forget_vehicles_before(self, moment: datetime, batch: int = 500) -> int:
        """Delete the documents of vehicles whose latest position is older than ``moment`` (not
        heard from within the retention: they leave the fleet list), ``batch`` at a time so no
        command runs long; returns how many. A vehicle that reports meanwhile is kept (the
        delete checks its latest again) or, if deleted just before, written anew (upsert)."""
        forgotten = 0
        stale = {"latest.timestamp": {"$lt": moment}}
        while ids := [d["_id"] for d in self.vehicles.find(stale, {"_id": 1}, limit=batch)]:
            forgotten += self.vehicles.delete_many({"_id": {"$in": ids}, **stale}).deleted_count
            self._known_vehicles.difference_update(str(i) for i in ids)
            if len(ids) < batch:
                break
        return forgotten

    # -- reads -------------------------------------------------------------------------------
    def vehicle(self, vehicle: str) -> VehicleRecord | None:
        doc = self.vehicles.find_one({"_id": vehicle})
        return None if doc is None or "latest" not in doc else VehicleRecord.of(doc)

    def latest(self, vehicle: str) -> StoredPosition | None:
        record = self.vehicle(vehicle)
        return None if record is None else record.latest

    def latest_of(self, vehicles: Iterable[str]) -> dict[str, StoredPosition]:
        """The latest positions of these vehicles (those with one), in one query."""
        names = sorted(set(vehicles))
        if not names:
            return {}
        cursor = self.vehicles.find({"_id": {"$in": names}})
        return {str(d["_id"]): VehicleRecord.of(d).latest for d in cursor if "latest" in d}

    def latest_all(self) -> list[StoredPosition]:
        """Every vehicle's latest position, by name."""
        found = [VehicleRecord.of(d).latest for d in self.vehicles.find() if "latest" in d]
        return sorted(found, key=lambda p: p.vehicle)

    def previous(self, vehicle: str, before: datetime) -> StoredPosition | None:
        """The vehicle's newest stored position before ``before``.

        In order (the usual case) that is the vehicle's latest, one read by ``_id``; an older
        report (delivered late) reads the bucket it falls in, and older buckets until one holds
        an earlier position.
        """
        record = self.vehicle(vehicle)
        if record is None:
            return None
        if record.latest.timestamp < before:
            return record.latest
        at = millis(before)
        for _start, found in self._buckets(vehicle, before, self._oldest(record, before)):
            earlier = [t for t in found if t < at]
            if earlier:
                return found[max(earlier)]
        return None

    def stored_times(self, vehicle: str, oldest: datetime, newest: datetime) -> set[int]:
        """The timestamps (ms) of the vehicle's stored positions in [oldest, newest]: which
        positions of a redelivered batch are stored already."""
        low, high = millis(oldest), millis(newest)
        return {
            at
            for _start, found in self._buckets(vehicle, newest, oldest)
            for at in found
            if low <= at <= high
        }

    def history(
        self, vehicle: str, since: datetime | None, until: datetime | None, limit: int
    ) -> list[StoredPosition] | None:
        """The vehicle's newest ``limit`` positions in [since, until], newest first; None for a
        vehicle with no position."""
        record = self.vehicle(vehicle)
        if record is None:
            return None
        newest = record.latest.timestamp if until is None else min(until, record.latest.timestamp)
        oldest = self._oldest(record, newest)
        if since is not None:
            oldest = max(oldest, since)
        low, high = millis(oldest), millis(newest)
        found: list[StoredPosition] = []
        for _start, positions in self._buckets(vehicle, newest, oldest):
            found.extend(p for t, p in positions.items() if low <= t <= high)
            if len(found) >= limit:  # every older bucket holds older positions only
                break
        found.sort(key=lambda p: p.timestamp, reverse=True)
        return found[:limit]

    def newest_stored_at(self) -> datetime | None:
        latest = self.latest_all()
        return max((p.stored_at for p in latest), default=None)

    def _oldest(self, record: VehicleRecord, newest: datetime) -> datetime:
        """How far back the vehicle's history can go: its first position, the retention bound."""
        # Not before the first moment a datetime holds (a window asked around year 1).
        bounds = [newest - min(LONGEST_WALK, newest - EARLIEST)]
        if record.first is not None:
            bounds.append(record.first)
        if self.retention:
            bounds.append(datetime.now(newest.tzinfo) - self.retention)
        return max(bounds)

    def _buckets(
        self, vehicle: str, newest: datetime, oldest: datetime
    ) -> Iterator[tuple[datetime, dict[int, StoredPosition]]]:
        """The vehicle's buckets from ``newest`` back to ``oldest``, each with its positions
        (empty buckets are skipped)."""
        for start in buckets.buckets_between(newest, oldest):
            doc = self.partition(start).find_one({"_id": bucket_id(vehicle, start)})
            if doc is not None:
                yield start, buckets.unpack(vehicle, (bytes(c) for c in doc["chunks"]))  # type: ignore[attr-defined]


def _push(vehicle: str, start: datetime, chunk: bytes) -> UpdateOne:
    """Append a chunk to a bucket, creating the bucket if it is not there (anymore)."""
    return UpdateOne(
        {"_id": bucket_id(vehicle, start)},
        {
            "$push": {"chunks": Binary(chunk)},
            "$setOnInsert": {"vehicle": vehicle, "start": start, "format": buckets.FORMAT},
        },
        upsert=True,
    )


def _bulk(collection: Collection[Document], updates: list[UpdateOne]) -> None:
    """The updates, in commands of at most :data:`STATEMENTS_PER_COMMAND`."""
    pending = iter(updates)
    while batch := list(islice(pending, STATEMENTS_PER_COMMAND)):
        collection.bulk_write(batch, ordered=False)
