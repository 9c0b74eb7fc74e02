"""What the tracker stored, read straight from its database (every copy, duplicates included)."""

from __future__ import annotations

from datetime import datetime

from pymongo.database import Database

from services.position_tracker import buckets


def stored_timestamps(db: Database, vehicle: str | None = None) -> list[datetime]:
    """The timestamp of every position record in the history buckets, sorted: a position stored
    twice appears twice (readers would merge them, so only this shows a double write)."""
    found = []
    for name in db.list_collection_names():
        if buckets.partition_hour(name) is None:
            continue
        query = {} if vehicle is None else {"vehicle": vehicle}
        for doc in db[name].find(query):
            for chunk in doc["chunks"]:
                found += [buckets.from_millis(r[0]) for r in buckets.RECORD.iter_unpack(chunk)]
    return sorted(found)
