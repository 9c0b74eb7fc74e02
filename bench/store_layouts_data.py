"""The three history layouts ``store_layouts.py`` compares, the day of positions it writes, and
the pure helpers of its report (percentiles, query plans, the table).

Every layout keeps each vehicle's latest position in ``vehicles`` by ``_id`` (``$max`` on an
embedded ``latest``: ``PositionStore._write_latest``), so only the history differs:

1. ``documents``: the first layout, one document per position in ``positions`` (``_id``
   ``<ms>:<vehicle>``, indexes ``{vehicle: 1, timestamp: -1}`` and ``{timestamp: 1}``), read
   with ``{vehicle, timestamp}`` queries sorted by time, retention by ``delete_many``;
2. ``subdocuments``: five-minute buckets per vehicle in hourly collections, as the tracker's,
   but each position a subdocument ``$push``-ed onto an array;
3. ``chunks``: the tracker's layout, ``PositionStore`` itself (binary chunks of fixed-width
   records, ``buckets.py``).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bson import Binary
from pymongo import ASCENDING, DESCENDING, UpdateOne

from services.position_tracker import buckets
from services.position_tracker.buckets import (
    bucket_id,
    bucket_start,
    millis,
    partition,
    partition_end,
)
from services.position_tracker.positions import StoredPosition
from services.position_tracker.store import Document, PositionStore, _bulk

BATCH = 1000
DAY = timedelta(days=1)
#: Documents per ``insert_many`` of a bulk load.
LOAD_SLICE = 5000


# -- the data ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Dataset:
    """``vehicles`` reporting in turn, each every ``interval``, ``positions`` in all from
    ``start``: the fleet's reports in time order, as the tracker receives them."""

    name: str
    vehicles: int
    positions: int
    start: datetime
    interval: timedelta

    @classmethod
    def sparse(cls, positions: int, start: datetime) -> Dataset:
        """1,000 vehicles over a day (one report every 86.4 s each at 1,000,000 positions)."""
        return cls("sparse", 1000, positions, start, DAY * 1000 / positions)

    @classmethod
    def dense(cls, positions: int, start: datetime) -> Dataset:
        """12 vehicles at 1 Hz (positions / 12 seconds: 23 h at 1,000,000)."""
        return cls("dense", 12, positions, start, timedelta(seconds=1))

    @property
    def end(self) -> datetime:
        """Just after the last position."""
        return self.moment(self.positions)

    def vehicle(self, index: int) -> str:
        return f"veh-{index:04d}"

    def moment(self, i: int) -> datetime:
        """When the ``i``-th report happens: vehicle ``i % vehicles`` of round ``i // vehicles``,
        the vehicles spread evenly over the round."""
        turn, index = divmod(i, self.vehicles)
        return self.start + self.interval * turn + self.interval * index / self.vehicles

    def position(self, i: int) -> StoredPosition:
        turn, index = divmod(i, self.vehicles)
        at = self.moment(i)
        at = at.replace(microsecond=at.microsecond // 1000 * 1000)  # stored in ms
        return StoredPosition(
            vehicle=self.vehicle(index),
            lat=53.0 + index * 0.001 + turn * 1e-5,
            lng=-1.5 + turn * 1e-5,
            timestamp=at,
            speed_kmh=None if turn == 0 else 40.0 + index % 50,
            heading=None if turn == 0 else float(turn % 360),
            stored_at=at + timedelta(seconds=1),
        )

    def batches(self, first: int = 0, last: int | None = None) -> Iterator[list[StoredPosition]]:
        """Batches of :data:`BATCH` positions in time order, positions ``first`` to ``last``."""
        last = self.positions if last is None else last
        for low in range(first, last, BATCH):
            yield [self.position(i) for i in range(low, min(low + BATCH, last))]

    def timestamps(self, index: int, since: datetime, limit: int) -> list[datetime]:
        """Vehicle ``index``'s newest ``limit`` timestamps from ``since`` on, newest first: what
        a history read must answer."""
        found: list[datetime] = []
        last = (self.positions - 1 - index) // self.vehicles * self.vehicles + index
        for i in range(last, -1, -self.vehicles):
            at = self.position(i).timestamp
            if at < since or len(found) == limit:
                break
            found.append(at)
        return found

    def hours(self) -> list[datetime]:
        """The hours the positions fall in (each an hourly collection of the bucket layouts)."""
        hour = self.start.replace(minute=0, second=0, microsecond=0)
        found = []
        while hour < self.end:
            found.append(hour)
            hour += timedelta(hours=1)
        return found

    def later(self, count: int, offset: timedelta) -> list[StoredPosition]:
        """The next reports of ``count`` vehicles, ``offset`` after the day (latest updates)."""
        at = self.end + offset
        return [
            StoredPosition(self.vehicle(i % self.vehicles), 53.0, -1.5, at, 1.0, 0.0, at)
            for i in range(count)
        ]


def sample(dataset: Dataset, count: int, seed: int = 7) -> list[tuple[str, datetime]]:
    """``count`` (vehicle, moment inside the day) pairs, random but the same every run."""
    rng = random.Random(seed)
    span = (dataset.end - dataset.start).total_seconds()
    return [
        (
            dataset.vehicle(rng.randrange(dataset.vehicles)),
            dataset.start + timedelta(seconds=rng.uniform(0.1, 0.9) * span),
        )
        for _ in range(count)
    ]


# -- the layouts -------------------------------------------------------------------------------
class Layout(PositionStore):
    """A history layout: writes batches, serves the tracker's reads, drops an hour."""

    name = "chunks"
    title = "buckets of binary chunks (chosen)"
    #: Collections this layout writes, besides the hourly ones.
    collections: tuple[str, ...] = ("vehicles",)

    def prepare(self) -> None:
        """Create what the layout needs before the first write (indexes)."""

    def newest(self, vehicle: str, limit: int) -> list[StoredPosition]:
        """The vehicle's newest ``limit`` positions, no time bound."""
        return self.history(vehicle, None, None, limit) or []

    def drop_hour(self, hour: datetime, slices: int = 1) -> None:
        """Retention: remove the positions of ``hour`` (the oldest), here its collection."""
        self.purge_before(hour + timedelta(hours=1))

    def write_latest(self, positions: Sequence[StoredPosition]) -> None:
        self._write_latest(positions)

    def load(self, batches: Iterable[Sequence[StoredPosition]]) -> None:
        """Bulk-load the documents that writing these batches live leaves behind (each bucket a
        chunk per batch that reached it, each vehicle its latest and first), with
        ``insert_many``, an hour at a time: a day in minutes on any backend, where live writes
        take an hour or more on the slow ones."""
        pending: dict[str, dict[str, Document]] = defaultdict(dict)
        ends: dict[str, list[StoredPosition]] = {}
        for batch in batches:
            for (vehicle, start), items in by_bucket(batch).items():
                self._add(pending[partition(start)], vehicle, start, items)
            for p in batch:
                ends.setdefault(p.vehicle, [p, p])[1] = p
            for name in [n for n in pending if partition_end(n) <= batch[0].timestamp]:  # type: ignore[operator]
                self._insert_all(name, pending.pop(name))
        for name in list(pending):
            self._insert_all(name, pending.pop(name))
        self._write_latest([p for pair in ends.values() for p in pair])

    def _add(
        self, docs: dict[str, Document], vehicle: str, start: datetime, items: list[StoredPosition]
    ) -> None:
        key, chunk = bucket_id(vehicle, start), Binary(buckets.pack(items))
        if key in docs:
            docs[key]["chunks"].append(chunk)  # type: ignore[attr-defined]
        else:
            docs[key] = buckets.new_bucket(vehicle, start, chunk)

    def _insert_all(self, name: str, docs: dict[str, Document]) -> None:
        values = list(docs.values())
        for low in range(0, len(values), LOAD_SLICE):
            self.db[name].insert_many(values[low : low + LOAD_SLICE], ordered=False)
        for key in docs:
            self._remember(key)

    def explained(self, vehicle: str, moment: datetime) -> dict[str, tuple[str, dict[str, object]]]:
        """The queries to explain: name -> (collection, find command fields)."""
        start = bucket_start(moment)
        return {"by _id": (partition(start), {"filter": {"_id": bucket_id(vehicle, start)}})}


class SubdocumentLayout(Layout):
    """Five-minute buckets of ``{timestamp, lat, lng, ...}`` subdocuments (``$push``/``$each``)."""

    name = "subdocuments"
    title = "buckets of subdocuments"

    def _write_history(self, positions: Sequence[StoredPosition]) -> None:
        """As ``PositionStore._write_history``, subdocuments instead of a chunk."""
        grouped = by_bucket(positions)
        fresh: dict[str, list[Document]] = defaultdict(list)
        pushes: dict[str, list[UpdateOne]] = defaultdict(list)
        for (vehicle, start), items in grouped.items():
            name, key = partition(start), bucket_id(vehicle, start)
            subdocs = [p.latest_document() for p in items]
            if key in self._known:
                pushes[name].append(_push_each(vehicle, start, subdocs))
            else:
                fresh[name].append(
                    {"_id": key, "vehicle": vehicle, "start": start, "positions": subdocs}
                )
        for name, docs in fresh.items():
            for existing in self._insert_new(self.db[name], docs):
                pushes[name].append(
                    _push_each(existing["vehicle"], existing["start"], existing["positions"])  # type: ignore[arg-type]
                )
        for name, updates in pushes.items():
            _bulk(self.db[name], updates)
        for vehicle, start in grouped:
            self._remember(bucket_id(vehicle, start))

    def _add(
        self, docs: dict[str, Document], vehicle: str, start: datetime, items: list[StoredPosition]
    ) -> None:
        key, subdocs = bucket_id(vehicle, start), [p.latest_document() for p in items]
        if key in docs:
            docs[key]["positions"].extend(subdocs)  # type: ignore[attr-defined]
        else:
            docs[key] = {"_id": key, "vehicle": vehicle, "start": start, "positions": subdocs}

    def _buckets(
        self, vehicle: str, newest: datetime, oldest: datetime
    ) -> Iterator[tuple[datetime, dict[int, StoredPosition]]]:
        for start in buckets.buckets_between(newest, oldest):
            doc = self.partition(start).find_one({"_id": bucket_id(vehicle, start)})
            if doc is not None:
                found: dict[int, StoredPosition] = {}
                for sub in doc["positions"]:  # type: ignore[attr-defined]
                    p = StoredPosition.from_document(vehicle, sub)
                    found.setdefault(millis(p.timestamp), p)
                yield start, found


def by_bucket(
    positions: Iterable[StoredPosition],
) -> dict[tuple[str, datetime], list[StoredPosition]]:
    """Positions by (vehicle, bucket start), in their order."""
    grouped: dict[tuple[str, datetime], list[StoredPosition]] = defaultdict(list)
    for p in positions:
        grouped[(p.vehicle, bucket_start(p.timestamp))].append(p)
    return grouped


def _push_each(vehicle: str, start: datetime, subdocs: list[Document]) -> UpdateOne:
    return UpdateOne(
        {"_id": bucket_id(vehicle, start)},
        {
            "$push": {"positions": {"$each": subdocs}},
            "$setOnInsert": {"vehicle": vehicle, "start": start},
        },
        upsert=True,
    )


class DocumentLayout(Layout):
    """The first layout: a document per position, queried by vehicle and time."""

    name = "documents"
    title = "one document per position"
    collections = ("vehicles", "positions")

    def prepare(self) -> None:
        positions = self.db["positions"]
        positions.create_index([("vehicle", ASCENDING), ("timestamp", DESCENDING)])
        positions.create_index([("timestamp", ASCENDING)])

    def _write_history(self, positions: Sequence[StoredPosition]) -> None:
        self._insert_new(self.db["positions"], [self._document(p) for p in positions])

    def load(self, batches: Iterable[Sequence[StoredPosition]]) -> None:
        ends: dict[str, list[StoredPosition]] = {}
        docs: list[Document] = []
        for batch in batches:
            docs += (self._document(p) for p in batch)
            for p in batch:
                ends.setdefault(p.vehicle, [p, p])[1] = p
            if len(docs) >= LOAD_SLICE:
                self.db["positions"].insert_many(docs, ordered=False)
                docs = []
        if docs:
            self.db["positions"].insert_many(docs, ordered=False)
        self._write_latest([p for pair in ends.values() for p in pair])

    @staticmethod
    def _document(p: StoredPosition) -> Document:
        return {"_id": p.key, "vehicle": p.vehicle, **p.latest_document()}

    def history(
        self, vehicle: str, since: datetime | None, until: datetime | None, limit: int
    ) -> list[StoredPosition] | None:
        cursor = (
            self.db["positions"]
            .find(self._query(vehicle, since, until))
            .sort("timestamp", DESCENDING)
            .limit(limit)
        )
        return [StoredPosition.from_document(vehicle, d) for d in cursor]

    def previous(self, vehicle: str, before: datetime) -> StoredPosition | None:
        """As the first tracker did: the latest by ``_id`` when in order, else a query."""
        record = self.vehicle(vehicle)
        if record is not None and record.latest.timestamp < before:
            return record.latest
        doc = self.db["positions"].find_one(
            {"vehicle": vehicle, "timestamp": {"$lt": before}}, sort=[("timestamp", DESCENDING)]
        )
        return None if doc is None else StoredPosition.from_document(vehicle, doc)

    def drop_hour(self, hour: datetime, slices: int = 1) -> None:
        """``delete_many`` by time, in ``slices`` consecutive commands."""
        for i in range(1, slices + 1):
            bound = hour + timedelta(hours=1) * i / slices
            self.db["positions"].delete_many({"timestamp": {"$lt": bound}})

    def explained(self, vehicle: str, moment: datetime) -> dict[str, tuple[str, dict[str, object]]]:
        return {
            "history": (
                "positions",
                {
                    "filter": self._query(vehicle, moment - timedelta(hours=1), None),
                    "sort": {"timestamp": -1},
                },
            ),
            "retention": ("positions", {"filter": {"timestamp": {"$lt": moment}}}),
            "by _id": ("vehicles", {"filter": {"_id": vehicle}}),
        }

    @staticmethod
    def _query(vehicle: str, since: datetime | None, until: datetime | None) -> dict[str, object]:
        window: dict[str, datetime] = {}
        if since is not None:
            window["$gte"] = since
        if until is not None:
            window["$lte"] = until
        return {"vehicle": vehicle, "timestamp": window} if window else {"vehicle": vehicle}


LAYOUTS: dict[str, type[Layout]] = {
    layout.name: layout for layout in (DocumentLayout, SubdocumentLayout, Layout)
}


# -- the report --------------------------------------------------------------------------------
def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` percentile (0..1) by the nearest-rank method; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def plan_kind(planner: Mapping[str, object]) -> str:
    """What a FerretDB ``explain`` answer says the backend does: ``SEARCH`` (an index) or
    ``SCAN`` (the whole table), from SQLite's EXPLAIN QUERY PLAN lines or PostgreSQL's plan."""
    plan = planner.get("Plan")
    if isinstance(plan, list):  # SQLite: ["id=2 parent=0 notused=0 detail=SCAN t", ...]
        details = [str(line).split("detail=", 1)[-1] for line in plan]
        if any(d.startswith("SEARCH") and "INDEX" in d for d in details):
            return "SEARCH"
        return "SCAN" if any(d.startswith("SCAN") for d in details) else "?"
    if isinstance(plan, Mapping):  # PostgreSQL: nested nodes
        kinds = set(_pg_nodes(plan))
        if kinds & {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}:
            return "Index Scan"
        return "Seq Scan" if "Seq Scan" in kinds else "?"
    return "?"


def _pg_nodes(node: Mapping[str, object]) -> Iterator[str]:
    yield str(node.get("Node Type"))
    for child in node.get("Plans", []) or []:  # type: ignore[attr-defined]
        yield from _pg_nodes(child)


def ms(seconds: float) -> str:
    """A duration for the table: ``0.42``, ``12``, ``3,494``."""
    if math.isnan(seconds):
        return "-"
    value = seconds * 1000
    return f"{value:.2f}" if value < 10 else f"{value:,.0f}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)
