"""Vehicles driving around Sheffield, as functions of time, and when each one reports.

A vehicle's track is a Lissajous loop (a closed, self-crossing round of 2 to 12 km across)
around a point near the city centre, driven at a speed that varies along it and never exceeds
its top speed (40 to 90 km/h): wherever two positions of a vehicle are taken, the distance
between them is at most that speed times the time between them, so the tracker never refuses a
move as a teleport, however the positions are spaced. Not road-snapped: plausible enough for a
store, which only sees numbers.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.position_tracker.positions import StoredPosition
from services.positions.formats import position_body
from services.positions.geo import Fix, legs

SHEFFIELD = (53.3811, -1.4701)
METRES_PER_DEGREE = 111_320.0
#: How long after its timestamp a pre-filled position says it was stored.
STORED_AFTER = timedelta(milliseconds=40)


@dataclass(frozen=True)
class Track:
    lat: float
    lng: float
    #: Half-widths of the loop east-west and north-south, metres.
    east_m: float
    north_m: float
    east_turns: int
    north_turns: int
    #: Radians a second: the loop's top speed is at most ``top_kmh``.
    omega: float
    phase: float

    @classmethod
    def random(cls, rng: random.Random) -> Track:
        east_turns, north_turns = rng.choice([(1, 1), (1, 2), (2, 1), (2, 3), (3, 2), (1, 3)])
        east_m, north_m = rng.uniform(1000, 6000), rng.uniform(1000, 6000)
        top_kmh = rng.uniform(40, 90)
        # The speed is omega * sqrt((a E cos)^2 + (b N cos)^2) <= omega * hypot(a E, b N).
        omega = top_kmh / 3.6 / math.hypot(east_turns * east_m, north_turns * north_m)
        return cls(
            lat=SHEFFIELD[0] + rng.uniform(-0.03, 0.03),
            lng=SHEFFIELD[1] + rng.uniform(-0.05, 0.05),
            east_m=east_m,
            north_m=north_m,
            east_turns=east_turns,
            north_turns=north_turns,
            omega=omega,
            phase=rng.uniform(0, 2 * math.pi),
        )

    def at(self, seconds: float) -> tuple[float, float]:
        """Latitude and longitude at ``seconds`` since the epoch."""
        angle = self.omega * seconds
        east = self.east_m * math.sin(self.east_turns * angle + self.phase)
        north = self.north_m * math.sin(self.north_turns * angle)
        lat = self.lat + north / METRES_PER_DEGREE
        return lat, self.lng + east / (METRES_PER_DEGREE * math.cos(math.radians(self.lat)))


@dataclass(frozen=True)
class Fleet:
    names: list[str]
    tracks: list[Track]

    @classmethod
    def make(cls, vehicles: int, seed: int, prefix: str = "Load Van") -> Fleet:
        """``vehicles`` vehicles; the first n of a larger fleet with the same seed are the n of a
        smaller one (the new vehicles of a scenario extend the existing ones)."""
        rng = random.Random(seed)
        width = len(str(vehicles - 1))
        return cls(
            [f"{prefix} {i:0{width}d}" for i in range(vehicles)],
            [Track.random(rng) for _ in range(vehicles)],
        )

    def point(self, vehicle: int, at_ms: int) -> tuple[float, float]:
        return self.tracks[vehicle].at(at_ms / 1000)

    def body(self, vehicle: int, at_ms: int) -> str:
        """The message the simulator would publish."""
        return position_body(self.names[vehicle], *self.point(vehicle, at_ms), moment(at_ms))

    def stored(
        self, reports: list[tuple[int, int]], interval_ms: int, first_ms: int
    ) -> list[StoredPosition]:
        """The positions the tracker would store for ``reports`` ((vehicle, ms)) of vehicles
        reporting every ``interval_ms`` since ``first_ms``: speed and heading from the report
        before (none for a vehicle's first), stored just after their timestamp."""
        points = [(v, at, self.point(v, at)) for v, at in reports]
        follow = [(v, at, p) for v, at, p in points if at - interval_ms >= first_ms]
        pairs = [
            (Fix(*self.point(v, at - interval_ms), moment(at - interval_ms)), Fix(*p, moment(at)))
            for v, at, p in follow
        ]
        moves = dict(zip(((v, at) for v, at, _ in follow), legs(pairs), strict=True))
        found = []
        for v, at, (lat, lng) in points:
            move = moves.get((v, at))
            found.append(
                StoredPosition(
                    vehicle=self.names[v],
                    lat=lat,
                    lng=lng,
                    timestamp=moment(at),
                    speed_kmh=None if move is None else move.speed_kmh,
                    heading=None if move is None else move.heading_deg,
                    stored_at=moment(at) + STORED_AFTER,
                )
            )
        return found


@dataclass(frozen=True)
class Schedule:
    """When each of ``vehicles`` vehicles reports: ``count`` times, every ``interval_ms`` from
    ``start_ms``, vehicle i ``i / vehicles`` of an interval after vehicle 0 (they do not all
    report at the same instant)."""

    vehicles: int
    start_ms: int
    interval_ms: int
    count: int

    def at(self, vehicle: int, k: int) -> int:
        return self.start_ms + k * self.interval_ms + vehicle * self.interval_ms // self.vehicles

    @property
    def end_ms(self) -> int:
        """Just after the last report."""
        return self.at(self.vehicles - 1, self.count - 1) + 1

    @property
    def total(self) -> int:
        return self.vehicles * self.count

    def between(self, low_ms: int, high_ms: int) -> list[tuple[int, int]]:
        """The reports (vehicle, ms) in [low, high), in time order."""
        found = []
        for v in range(self.vehicles):
            offset = self.start_ms + v * self.interval_ms // self.vehicles
            first = max(0, -(-(low_ms - offset) // self.interval_ms))
            last = min(self.count, -(-(high_ms - offset) // self.interval_ms))
            found += [(v, offset + k * self.interval_ms) for k in range(first, last)]
        return sorted(found, key=lambda report: (report[1], report[0]))

    def slices(self, low_ms: int, high_ms: int, width_ms: int) -> Iterator[list[tuple[int, int]]]:
        """The reports in [low, high) by consecutive slices of ``width_ms``."""
        for start in range(low_ms, high_ms, width_ms):
            yield self.between(start, min(start + width_ms, high_ms))


def moment(at_ms: int) -> datetime:
    return datetime.fromtimestamp(at_ms / 1000, UTC)


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)
