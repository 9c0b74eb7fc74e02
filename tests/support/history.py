"""What the tracker stored, read straight from its database (every copy, duplicates included),
and what one tracker would store for the same input (the reference for several trackers)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pymongo.database import Database

from services.position_tracker import buckets
from services.position_tracker.positions import StoredPosition
from services.position_tracker.processing import Incoming, Limits, PreviousPositions, decide

#: A position's identity: its vehicle and its timestamp in ms.
Key = tuple[str, int]


@dataclass(frozen=True)
class Record:
    """One position record as written in a history bucket."""

    vehicle: str
    timestamp: datetime
    stored_at: datetime
    speed_kmh: float | None
    heading: float | None

    @property
    def key(self) -> Key:
        return self.vehicle, buckets.millis(self.timestamp)


def _known(value: float) -> float | None:
    return None if math.isnan(value) else value


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
                    Record(
                        doc["vehicle"],
                        buckets.from_millis(at),
                        buckets.from_millis(stored),
                        _known(speed),
                        _known(heading),
                    )
                    for at, _lat, _lng, speed, heading, stored in buckets.RECORD.iter_unpack(chunk)
                ]
    return sorted(found, key=lambda r: (r.timestamp, r.vehicle))


def stored_timestamps(db: Database, vehicle: str | None = None) -> list[datetime]:
    """The timestamp of every position record (see :func:`stored_records`), sorted."""
    return [r.timestamp for r in stored_records(db, vehicle)]


def one_tracker(bodies: Iterable[str], now: datetime) -> dict[Key, tuple[float | None, ...]]:
    """What one tracker stores for these messages in this order on an empty store: each
    position's (speed, heading). Every body must be a valid position."""
    nothing = PreviousPositions(lambda _v, _t: None, lambda _v: {}, lambda _v, _a, _b: set())
    batch = [Incoming(body, {}, 0) for body in bodies]
    outcomes = [d.outcome for d in decide(batch, nothing, now, Limits(timedelta(days=2), 300.0))]
    wrong = [o for o in outcomes if not isinstance(o, StoredPosition)]
    assert not wrong, f"refused: {wrong[:3]}"
    return {
        (o.vehicle, buckets.millis(o.timestamp)): (o.speed_kmh, o.heading)
        for o in outcomes  # type: ignore[union-attr]
    }


def same_movement(record: Record, expected: tuple[float | None, ...]) -> bool:
    """Whether a stored record's speed and heading are these (to rounding)."""
    return all(
        (a is None) == (b is None) and (a is None or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9))  # type: ignore[arg-type]
        for a, b in zip((record.speed_kmh, record.heading), expected, strict=True)
    )
