"""Positions in MongoDB (FerretDB locally): every position, and the latest one per vehicle.

A position's ``_id`` is derived from its vehicle and timestamp, so storing a redelivered message
again is a duplicate-key no-op, never a second record.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from pymongo import ASCENDING, DESCENDING, MongoClient, UpdateOne
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

DUPLICATE_KEY = 11000


@dataclass(frozen=True, slots=True)
class StoredPosition:
    """A valid position with what the tracker derived from it."""

    vehicle: str
    lat: float
    lng: float
    timestamp: datetime
    #: km/h from the vehicle's previous position; None for its first report.
    speed_kmh: float | None
    #: Degrees clockwise from north towards this position; None when it did not move.
    heading: float | None
    stored_at: datetime

    @property
    def key(self) -> str:
        """Unique per vehicle and timestamp (milliseconds; a fixed-width prefix keeps it unambiguous)."""
        millis = int(self.timestamp.timestamp() * 1000)
        return f"{millis:014d}:{self.vehicle}"

    def document(self) -> dict[str, object]:
        return {
            "_id": self.key,
            "vehicle": self.vehicle,
            "lat": self.lat,
            "lng": self.lng,
            "timestamp": self.timestamp,
            "speed_kmh": self.speed_kmh,
            "heading": self.heading,
            "stored_at": self.stored_at,
        }

    @classmethod
    def from_document(cls, doc: dict[str, object]) -> StoredPosition:
        fields = {name: doc.get(name) for name in cls.__dataclass_fields__}
        for name in ("timestamp", "stored_at"):
            moment = fields[name]
            if isinstance(moment, datetime) and moment.tzinfo is None:
                fields[name] = moment.replace(tzinfo=UTC)
        return cls(**fields)  # type: ignore[arg-type]


class PositionStore:
    """The tracker's database access; every method raises PyMongoError when the database fails."""

    def __init__(self, url: str, database: str, timeout_ms: int = 3000) -> None:
        self.client: MongoClient[dict[str, object]] = MongoClient(
            url,
            tz_aware=True,
            serverSelectionTimeoutMS=timeout_ms,
            connectTimeoutMS=timeout_ms,
            socketTimeoutMS=max(timeout_ms, 10_000),
            appname="position-tracker",
        )
        db = self.client[database]
        self.positions: Collection[dict[str, object]] = db["positions"]
        self.vehicles: Collection[dict[str, object]] = db["vehicles"]
        #: Vehicles whose latest-position document is known to exist.
        self._known_vehicles: set[str] = set()

    def ensure_indexes(self) -> None:
        # History and "previous position" queries: one vehicle, by time.
        self.positions.create_index([("vehicle", ASCENDING), ("timestamp", DESCENDING)])
        # Retention deletes by time across vehicles.
        self.positions.create_index([("timestamp", ASCENDING)])

    def ping(self) -> str | None:
        """None when the database answers, else why not (for ``/readyz``)."""
        try:
            self.client.admin.command("ping")
        except PyMongoError as exc:
            return f"database unreachable: {type(exc).__name__}"
        return None

    def close(self) -> None:
        self.client.close()

    # -- writes ------------------------------------------------------------------------------
    def insert(self, positions: Sequence[StoredPosition]) -> set[str]:
        """Store positions; returns the keys that were already stored (duplicates)."""
        if not positions:
            return set()
        try:
            self.positions.insert_many([p.document() for p in positions], ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            others = [e for e in errors if e.get("code") != DUPLICATE_KEY]
            if others:
                raise
            return {positions[e["index"]].key for e in errors}
        return set()

    def update_latest(self, positions: Iterable[StoredPosition]) -> None:
        """Make each vehicle's newest position its latest, unless a newer one is stored.

        One round trip per batch: a conditional update per vehicle, sent together; a vehicle
        seen for the first time gets its document inserted first.
        """
        newest: dict[str, StoredPosition] = {}
        for position in positions:
            known = newest.get(position.vehicle)
            if known is None or position.timestamp > known.timestamp:
                newest[position.vehicle] = position
        for vehicle in newest.keys() - self._known_vehicles:
            if self.vehicles.find_one({"_id": vehicle}, {"_id": 1}) is None:
                # DuplicateKeyError: another tracker inserted it first; the update below decides.
                with contextlib.suppress(DuplicateKeyError):
                    self.vehicles.insert_one({"_id": vehicle, **asdict(newest[vehicle])})
            self._known_vehicles.add(vehicle)
        updates = [
            UpdateOne({"_id": v, "timestamp": {"$lt": p.timestamp}}, {"$set": asdict(p)})
            for v, p in newest.items()
        ]
        if updates:
            self.vehicles.bulk_write(updates, ordered=False)

    def purge_before(self, moment: datetime) -> int:
        """Delete positions older than ``moment`` (the retention bound); returns how many."""
        return self.positions.delete_many({"timestamp": {"$lt": moment}}).deleted_count

    # -- reads -------------------------------------------------------------------------------
    def previous(self, vehicle: str, before: datetime) -> StoredPosition | None:
        """The vehicle's stored position just before ``before``.

        In order (the usual case) that is the vehicle's latest position, read by ``_id``; only an
        older report needs the time index, which FerretDB's SQLite backend cannot use (it scans
        the collection: seconds once it holds a day of positions, at every tracker restart).
        """
        latest = self.latest(vehicle)
        if latest is not None and latest.timestamp < before:
            return latest
        doc = self.positions.find_one(
            {"vehicle": vehicle, "timestamp": {"$lt": before}}, sort=[("timestamp", DESCENDING)]
        )
        return None if doc is None else StoredPosition.from_document(doc)

    def latest(self, vehicle: str) -> StoredPosition | None:
        doc = self.vehicles.find_one({"_id": vehicle})
        return None if doc is None else StoredPosition.from_document(doc)

    def latest_all(self) -> list[StoredPosition]:
        return [
            StoredPosition.from_document(d) for d in self.vehicles.find().sort("_id", ASCENDING)
        ]

    def history(
        self, vehicle: str, since: datetime | None, until: datetime | None, limit: int
    ) -> list[StoredPosition]:
        """The vehicle's newest ``limit`` positions in [since, until], newest first."""
        window: dict[str, datetime] = {}
        if since is not None:
            window["$gte"] = since
        if until is not None:
            window["$lte"] = until
        query: dict[str, object] = {"vehicle": vehicle}
        if window:
            query["timestamp"] = window
        cursor = self.positions.find(query).sort("timestamp", DESCENDING).limit(limit)
        return [StoredPosition.from_document(d) for d in cursor]

    def newest_stored_at(self) -> datetime | None:
        doc = self.vehicles.find_one(sort=[("stored_at", DESCENDING)])
        return None if doc is None else StoredPosition.from_document(doc).stored_at
