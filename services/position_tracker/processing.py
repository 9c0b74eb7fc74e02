"""What to do with a batch of position messages: store each (with speed and heading) or refuse it.

Pure decisions, apart from looking up a vehicle's previous stored position when the cache cannot
answer (first message of a vehicle, or one delivered out of order). A position already stored (a
redelivery) is recognised here, so that it is counted as a duplicate and not written again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from itertools import pairwise

from services.position_tracker.buckets import millis
from services.position_tracker.positions import StoredPosition
from services.positions.geo import Fix, Leg, leg, legs
from services.positions.messages import Position, Rejection, parse_position, teleport_rejection


@dataclass(frozen=True)
class Incoming:
    """A message as the broker delivered it."""

    #: As delivered (bytes; text in tests and benchmarks): parsed as any accepted format.
    body: bytes | str
    headers: dict[str, str]
    #: Wall-clock arrival in nanoseconds (the start of the message's span).
    received_ns: int
    #: Which broker connection delivered it: acks are only valid on that connection.
    connection: int = 0

    @property
    def message_id(self) -> str:
        return self.headers.get("message-id", "")

    @property
    def published_at(self) -> float | None:
        """When the broker accepted it (the JMS timestamp ActiveMQ sets, in ms)."""
        try:
            return int(self.headers["timestamp"]) / 1000
        except (KeyError, ValueError):
            return None


@dataclass(frozen=True)
class Decision:
    incoming: Incoming
    #: What will be stored, or why the message is refused.
    outcome: StoredPosition | Rejection
    body_format: str
    #: The position is stored already (a redelivery): counted, not written again.
    duplicate: bool = False

    @property
    def vehicle(self) -> str | None:
        if isinstance(self.outcome, StoredPosition):
            return self.outcome.vehicle
        return None


PreviousLookup = Callable[[str, datetime], StoredPosition | None]
LatestLookup = Callable[[Iterable[str]], dict[str, StoredPosition]]
#: The timestamps (ms) of a vehicle's stored positions between two moments, both included.
StoredLookup = Callable[[str, datetime, datetime], set[int]]


@dataclass
class PreviousPositions:
    """Each vehicle's newest stored position, in front of the database lookups."""

    lookup: PreviousLookup
    #: The latest positions of several vehicles in one query (vehicles new to this tracker).
    lookup_latest: LatestLookup
    #: Which of a vehicle's positions in a period are stored (a redelivered batch).
    lookup_stored: StoredLookup
    newest: dict[str, StoredPosition] = field(default_factory=dict)
    #: Vehicles found with no stored position while deciding the current batch.
    _unknown: set[str] = field(default_factory=set)

    def prepare(self, vehicles: Iterable[str]) -> None:
        """Read the latest stored positions of a batch's vehicles in one query (not one per
        vehicle: a thousand new vehicles cost one read, not a thousand). Every batch reads them
        again: another tracker may have stored a vehicle's newer positions since (message
        groups keep a vehicle on one consumer at a time, but a group moves when its consumer
        goes, and ActiveMQ's STOMP does not tell the new consumer)."""
        unseen = set(vehicles)
        if not unseen:
            return
        found = self.lookup_latest(unseen)
        # the newer of the two: what this tracker decided may not be written yet
        self.commit(list(found.values()))
        self._unknown = unseen - self.newest.keys()

    def before(self, vehicle: str, moment: datetime) -> StoredPosition | None:
        known = self.newest.get(vehicle)
        if known is not None and known.timestamp < moment:
            return known
        if known is None and vehicle in self._unknown:
            return None
        # A message older than what we hold (or a redelivery): ask the database.
        return self.lookup(vehicle, moment)

    def stored_among(self, positions: Iterable[tuple[int, Position]]) -> set[int]:
        """The indexes of the positions stored already. Only a position no newer than its
        vehicle's newest known one can be (the latest is written before the history, and only
        moves forward), so a batch in order costs nothing; a redelivered one costs one walk
        through each vehicle's buckets over the period it covers."""
        suspects: dict[str, list[tuple[int, datetime]]] = defaultdict(list)
        for index, position in positions:
            known = self.newest.get(position.vehicle)
            if known is not None and position.timestamp <= known.timestamp:
                suspects[position.vehicle].append((index, position.timestamp))
        found: set[int] = set()
        for vehicle, items in suspects.items():
            moments = [moment for _, moment in items]
            stored = self.lookup_stored(vehicle, min(moments), max(moments))
            found.update(index for index, moment in items if millis(moment) in stored)
        return found

    def commit(self, stored: Sequence[StoredPosition]) -> None:
        """Remember what is now durably stored (or about to be, before it is acknowledged)."""
        for position in stored:
            known = self.newest.get(position.vehicle)
            if known is None or position.timestamp > known.timestamp:
                self.newest[position.vehicle] = position


@dataclass(frozen=True)
class Limits:
    future_skew: timedelta
    teleport_kmh: float
    #: A position older than this is refused (None: no bound).
    max_age: timedelta | None = None


def decide(
    batch: Sequence[Incoming], previous: PreviousPositions, now: datetime, limits: Limits
) -> list[Decision]:
    """A decision per message, in the batch's order.

    Positions of one vehicle are chained in time order, so each gets its speed and heading from
    the position just before it, whether that is in the batch or already stored.
    """
    parse = partial(parse_position, max_future_skew=limits.future_skew, max_age=limits.max_age)
    parsed: list[tuple[Incoming, Position | Rejection]] = [
        (item, _to_millis(parse(item.body, now=now))) for item in batch
    ]
    valid = sorted(
        ((i, p) for i, (_, p) in enumerate(parsed) if isinstance(p, Position)),
        key=lambda ip: (ip[1].vehicle, ip[1].timestamp),
    )
    previous.prepare(p.vehicle for _, p in valid)
    planned = _legs_within(valid)
    outcomes: dict[int, StoredPosition | Rejection] = {}
    # Every copy of a redelivered batch, not only each vehicle's first (the rest are chained).
    duplicates = previous.stored_among(valid)
    #: Each vehicle's latest kept position in this batch, with its index.
    chained: dict[str, tuple[int, StoredPosition]] = {}
    for index, position in valid:
        link = chained.get(position.vehicle)
        if link is not None and link[1].timestamp == position.timestamp:
            outcomes[index] = link[1]  # the same position twice in one batch
            duplicates.add(index)
            continue
        movement = None
        if link is not None and link[1].timestamp < position.timestamp:
            last: StoredPosition | None = link[1]
            plan = planned.get(index)
            if plan is not None and plan[0] == link[0]:
                movement = plan[1]  # else a refused position broke the chain: computed alone
        else:
            last = previous.before(position.vehicle, position.timestamp)
        outcome = _derive(position, last, now, limits, movement)
        outcomes[index] = outcome
        if isinstance(outcome, StoredPosition):
            chained[position.vehicle] = (index, outcome)
    return [
        Decision(
            item,
            outcomes.get(i, result),  # type: ignore[arg-type]
            result.body_format.value if isinstance(result, Position) else "unknown",
            duplicate=i in duplicates,
        )
        for i, (item, result) in enumerate(parsed)
    ]


def _to_millis(parsed: Position | Rejection) -> Position | Rejection:
    """Timestamps to the millisecond: a position's identity as stored (and as MongoDB keeps
    datetimes), so that a redelivered message is recognised as the position stored before."""
    if isinstance(parsed, Rejection) or parsed.timestamp.microsecond % 1000 == 0:
        return parsed
    moment = parsed.timestamp
    return replace(parsed, timestamp=moment.replace(microsecond=moment.microsecond // 1000 * 1000))


def _legs_within(valid: Sequence[tuple[int, Position]]) -> dict[int, tuple[int, Leg]]:
    """For each position, the leg from the one before it of the same vehicle in the batch, with
    that one's index: all computed in one call (``geo.legs``)."""
    pairs = [
        (before, after)
        for before, after in pairwise(valid)
        if before[1].vehicle == after[1].vehicle and before[1].timestamp < after[1].timestamp
    ]
    computed = legs([(before, after) for (_, before), (_, after) in pairs])
    return {
        after_index: (before_index, movement)
        for ((before_index, _), (after_index, _)), movement in zip(pairs, computed, strict=True)
    }


def _derive(
    position: Position,
    last: StoredPosition | None,
    now: datetime,
    limits: Limits,
    movement: Leg | None = None,
) -> StoredPosition | Rejection:
    """``movement``: the leg from ``last``, when already computed."""
    speed = heading = None
    if last is not None:
        if movement is None:
            movement = leg(Fix(last.lat, last.lng, last.timestamp), position)
        teleport = teleport_rejection(movement, limits.teleport_kmh)
        if teleport is not None:
            return replace(teleport, vehicle=position.vehicle)
        speed = movement.speed_kmh
        heading = movement.heading_deg if movement.heading_deg is not None else last.heading
    return StoredPosition(
        vehicle=position.vehicle,
        lat=position.latitude,
        lng=position.longitude,
        timestamp=position.timestamp,
        speed_kmh=speed,
        heading=heading,
        stored_at=now,
    )
