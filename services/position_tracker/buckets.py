"""The history's layout: each vehicle's positions in time buckets, buckets in hourly collections.

Pure functions and constants, no database. Why this layout (measured in ``bench/README.md``):

- Every read and write of the tracker is by ``_id`` (a vehicle's latest position, a bucket of its
  history), the one query FerretDB serves from an index (with the local stack's patch; real
  MongoDB always does). FerretDB 1.24 pushes no range, sort or limit down, so any other query,
  the old ``{vehicle, timestamp}`` ones included, reads the whole collection: seconds once it
  holds a day of positions.
- A bucket holds one vehicle's positions of :data:`BUCKET_SECONDS` (MongoDB's bucket pattern for
  time series); its ``_id`` is computed from the vehicle and the time, so the history of any
  period is a known list of ``_id`` lookups, newest first, however much else is stored.
- A bucket's positions are binary chunks of fixed-width records, one chunk per write (``$push``):
  FerretDB spends its time per BSON element, and a chunk is one element however many positions
  it holds (a five-minute bucket of 300 positions reads in ~1 ms as one chunk, ~10 ms as
  subdocuments). ``$push`` is safe with several writers; a chunk written twice (a redelivery
  after a crash) is harmless, readers keep one record per timestamp.
- Buckets live in one collection per hour (:func:`partition`): retention drops whole
  collections, which costs nothing, instead of deleting positions one by one.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from services.position_tracker.positions import StoredPosition

#: The time a bucket spans; a whole number of buckets make an hour (one partition).
BUCKET_SECONDS = 300
#: Buckets live in ``positions.<hour>`` collections (``positions.2026-12-02T08``).
PARTITION_PREFIX = "positions."
PARTITION_FORMAT = "%Y-%m-%dT%H"
#: The layout version written in every bucket (``format``), for future migrations.
FORMAT = 1

#: One position: timestamp (ms), latitude, longitude, speed (km/h), heading (degrees),
#: stored at (ms); little-endian; an unknown speed or heading is NaN.
RECORD = struct.Struct("<qddddq")

_BUCKET = timedelta(seconds=BUCKET_SECONDS)
_HOUR = timedelta(hours=1)
assert 3600 % BUCKET_SECONDS == 0, "a bucket must never straddle two partitions"


def millis(moment: datetime) -> int:
    """Milliseconds since the epoch: a position's identity within its vehicle (as MongoDB
    stores datetimes)."""
    return int(moment.timestamp() * 1000)


def from_millis(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


def bucket_start(moment: datetime) -> datetime:
    """The start of the bucket holding ``moment``."""
    seconds = math.floor(moment.timestamp())
    return datetime.fromtimestamp(seconds - seconds % BUCKET_SECONDS, UTC)


def partition(start: datetime) -> str:
    """The collection holding the bucket that starts at ``start``."""
    return PARTITION_PREFIX + start.strftime(PARTITION_FORMAT)


def partition_hour(name: str) -> datetime | None:
    """The hour a partition collection holds, None for any other collection."""
    if not name.startswith(PARTITION_PREFIX):
        return None
    try:
        hour = datetime.strptime(name.removeprefix(PARTITION_PREFIX), PARTITION_FORMAT)
    except ValueError:
        return None
    return hour.replace(tzinfo=UTC)


def partition_end(name: str) -> datetime | None:
    """When the hour a partition holds ends (None for other collections)."""
    hour = partition_hour(name)
    return None if hour is None else hour + _HOUR


def bucket_id(vehicle: str, start: datetime) -> str:
    """A bucket's ``_id``: the vehicle, then the bucket's start. Unambiguous whatever the name
    holds, since the start is a fixed-width suffix."""
    return f"{vehicle}|{start:%Y-%m-%dT%H:%M:%SZ}"


def buckets_between(newest: datetime, oldest: datetime) -> Iterator[datetime]:
    """The starts of the buckets covering [oldest, newest], newest first."""
    start, last = bucket_start(newest), bucket_start(oldest)
    while start >= last:
        yield start
        start -= _BUCKET


def new_bucket(vehicle: str, start: datetime, chunk: bytes) -> dict[str, object]:
    """A bucket document holding its first chunk."""
    return {
        "_id": bucket_id(vehicle, start),
        "vehicle": vehicle,
        "start": start,
        "format": FORMAT,
        "chunks": [chunk],
    }


def pack(positions: Iterable[StoredPosition]) -> bytes:
    """One chunk: the positions as consecutive records."""
    return b"".join(
        RECORD.pack(
            millis(p.timestamp),
            p.lat,
            p.lng,
            math.nan if p.speed_kmh is None else p.speed_kmh,
            math.nan if p.heading is None else p.heading,
            millis(p.stored_at),
        )
        for p in positions
    )


def unpack(vehicle: str, chunks: Iterable[bytes]) -> dict[int, StoredPosition]:
    """A bucket's positions by timestamp (ms); a position written twice is kept once, as first
    stored."""
    found: dict[int, StoredPosition] = {}
    for chunk in chunks:
        for at, lat, lng, speed, heading, stored in RECORD.iter_unpack(chunk):
            known = found.get(at)
            if known is not None and millis(known.stored_at) <= stored:
                continue
            found[at] = StoredPosition(
                vehicle=vehicle,
                lat=lat,
                lng=lng,
                timestamp=from_millis(at),
                speed_kmh=None if math.isnan(speed) else speed,
                heading=None if math.isnan(heading) else heading,
                stored_at=from_millis(stored),
            )
    return found
