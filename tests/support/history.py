"""What the tracker stored, read straight from its database (every copy, duplicates included)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pymongo.database import Database

from services.position_tracker import buckets


@dataclass(frozen=True)
class Record:
    """One position record as written in a history bucket."""

    vehicle: str
    timestamp: datetime
    stored_at: datetime


def stored_records(db: Database, vehicle: str | None = None) -> list[Record]:
    """Every position record in the history buckets, by timestamp: a position stored twice
    appears twice (readers would merge the two, so only this shows a double write)."""
    found = []
    query = {} if vehicle is None else {"vehicle": vehicle}
    for name in db.list_collection_names():
        if buckets.partition_hour(name) is None:
            continue
        for doc in db[name].find(query):
            for chunk in doc["chunks"]:
                found += [
                    Record(doc["vehicle"], buckets.from_millis(at), buckets.from_millis(stored))
                    for at, *_, stored in buckets.RECORD.iter_unpack(chunk)
                ]
    return sorted(found, key=lambda r: (r.timestamp, r.vehicle))


def stored_timestamps(db: Database, vehicle: str | None = None) -> list[datetime]:
    """The timestamp of every position record (see :func:`stored_records`), sorted."""
    return [r.timestamp for r in stored_records(db, vehicle)]
