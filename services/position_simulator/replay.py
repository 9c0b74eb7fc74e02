"""Deterministic replay schedule: when to publish which point of which track, forever.

Every vehicle's emissions are numbered 0, 1, 2, ... across loops. The due time of emission
``index`` (which is also the timestamp the published position carries) is a pure function of
(start, track, speedup, index), computable directly (``VehicleReplay.emission``) without replaying
what came before. So after a reconnect the simulator resends index N with exactly the timestamp it
had the first time, and the tracker sees a duplicate, not a new position.

Two modes:

* **track-timed** (``rate_hz=None``, default): one emission per track point, due at
  ``start + (loop * loop_period + offset) / speedup``;
* **ticked** (``rate_hz`` given): one emission every ``1 / rate_hz`` seconds of wall-clock time,
  at the position the vehicle has at track time ``elapsed * speedup`` (interpolated between
  points, so a low rate still moves smoothly and a high rate never repeats stale points).

At the end of a track the vehicle drives back to its first point (at ``return_speed_kmh``, at
least one typical point interval) and starts again: a one-way track does not teleport.

Times are whole milliseconds (what MongoDB keeps) and strictly increase per vehicle.

Note that timestamps follow the wall clock: with ``speedup`` k the tracker computes speeds k times
the track's own. Keep ``max track speed x speedup`` under the tracker's teleport limit.
"""

from __future__ import annotations

import bisect
import heapq
import math
import random
import statistics
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count, pairwise

from services.position_simulator.tracks import Track, TrackPoint
from services.positions.geo import distance_m

DEFAULT_RETURN_SPEED_KMH = 40.0
MAX_RATE_HZ = 1000.0
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


@dataclass(frozen=True, slots=True)
class Emission:
    """One position to publish."""

    vehicle: str
    index: int  # 0, 1, 2, ... for this vehicle, across loops (stable identity of the emission)
    loop: int  # how many times the track was completed before this emission
    point_index: int  # index in track.points (in ticked mode: the last point passed)
    point: TrackPoint  # where the vehicle is; offset_s = track seconds into the loop
    due: datetime  # when to publish, and the timestamp the message carries (UTC, whole ms)

    @property
    def timestamp(self) -> datetime:
        return self.due


class VehicleReplay:
    """The replay schedule of one vehicle's track."""

    def __init__(
        self,
        track: Track,
        *,
        start: datetime,
        speedup: float = 1.0,
        rate_hz: float | None = None,
        skip_probability: float = 0.0,
        seed: int = 0,
        return_speed_kmh: float = DEFAULT_RETURN_SPEED_KMH,
    ) -> None:
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("start must be an aware datetime")
        if not speedup > 0:
            raise ValueError(f"speedup must be positive, got {speedup}")
        if rate_hz is not None and not 0 < rate_hz <= MAX_RATE_HZ:
            raise ValueError(f"rate_hz must be in (0, {MAX_RATE_HZ:g}], got {rate_hz}")
        if not 0.0 <= skip_probability < 1.0:
            raise ValueError(f"skip_probability must be in [0, 1), got {skip_probability}")
        if not return_speed_kmh > 0:
            raise ValueError(f"return_speed_kmh must be positive, got {return_speed_kmh}")
        if not track.points:
            raise ValueError(f"track of {track.vehicle!r} has no points")
        self.track = track
        self.vehicle = track.vehicle
        self.speedup = float(speedup)
        self.rate_hz = rate_hz
        self.skip_probability = skip_probability
        self.seed = seed
        self._start_ms = (start - _EPOCH) // _MS
        self._offsets = [point.offset_s for point in track.points]
        # Track seconds per loop: the track, then the drive back to its first point.
        self.loop_track_s = self._offsets[-1] + _return_gap_s(track, return_speed_kmh)
        # Track-timed mode: wall-clock milliseconds of each point within a loop, strictly rising.
        self._due_ms: list[int] = []
        for offset in self._offsets:
            due = round(offset * 1000 / self.speedup)
            self._due_ms.append(max(due, self._due_ms[-1] + 1) if self._due_ms else due)
        self._loop_ms = max(round(self.loop_track_s * 1000 / self.speedup), self._due_ms[-1] + 1)

    @property
    def start(self) -> datetime:
        return _EPOCH + self._start_ms * _MS

    @property
    def loop_wallclock_s(self) -> float:
        """Wall-clock seconds one loop of the track takes."""
        if self.rate_hz is None:
            return self._loop_ms / 1000
        return self.loop_track_s / self.speedup

    def is_skipped(self, index: int) -> bool:
        """The original's "skip half the points" option, as a pure function of the index."""
        if self.skip_probability == 0.0:
            return False
        draw = random.Random(f"skip:{self.seed}:{self.vehicle}:{index}").random()
        return draw < self.skip_probability

    def emission(self, index: int) -> Emission | None:
        """Emission number ``index``, or None when the skipping option drops it."""
        if index < 0:
            raise ValueError(f"index must be >= 0, got {index}")
        if self.is_skipped(index):
            return None
        if self.rate_hz is None:
            loop, point_index = divmod(index, len(self._offsets))
            due_ms = self._start_ms + loop * self._loop_ms + self._due_ms[point_index]
            point = self.track.points[point_index]
        else:
            due_ms = self._start_ms + self._tick_ms(index)
            track_s = index * self.speedup / self.rate_hz
            loop = int(track_s // self.loop_track_s)
            point_index, point = self._position_at(track_s - loop * self.loop_track_s)
        return Emission(self.vehicle, index, loop, point_index, point, _EPOCH + due_ms * _MS)

    def emissions(self, first_index: int = 0) -> Iterator[Emission]:
        """Every emission from ``first_index`` on, in due order, forever (skipped ones left out)."""
        for index in count(first_index):
            emission = self.emission(index)
            if emission is not None:
                yield emission

    def first_index_due_after(self, moment: datetime) -> int:
        """The smallest index whose due time is strictly after ``moment`` (skips ignored)."""
        elapsed_ms = (moment - _EPOCH) // _MS - self._start_ms
        if elapsed_ms < 0:
            return 0
        if self.rate_hz is None:
            loop, within = divmod(elapsed_ms, self._loop_ms)
            return loop * len(self._due_ms) + bisect.bisect_right(self._due_ms, within)
        index = int(elapsed_ms * self.rate_hz / 1000)
        while self._tick_ms(index) <= elapsed_ms:
            index += 1
        while index > 0 and self._tick_ms(index - 1) > elapsed_ms:
            index -= 1
        return index

    def _tick_ms(self, index: int) -> int:
        """Ticked mode: milliseconds from start to tick ``index`` (strictly rising)."""
        return math.floor(index * 1000 / self.rate_hz) if self.rate_hz else 0

    def _position_at(self, track_s: float) -> tuple[int, TrackPoint]:
        """Where the vehicle is ``track_s`` seconds into a loop (interpolated)."""
        points = self.track.points
        index = max(0, bisect.bisect_right(self._offsets, track_s) - 1)
        here = points[index]
        if index + 1 < len(points):
            there, span = points[index + 1], points[index + 1].offset_s - here.offset_s
        else:  # on the way back to the first point
            there, span = points[0], self.loop_track_s - here.offset_s
        fraction = 0.0 if span <= 0 else min(1.0, max(0.0, (track_s - here.offset_s) / span))
        return index, TrackPoint(
            here.lat + (there.lat - here.lat) * fraction,
            here.lon + (there.lon - here.lon) * fraction,
            track_s,
        )


def fleet_replays(
    tracks: Iterable[Track],
    *,
    start: datetime,
    speedup: float = 1.0,
    rate_hz: float | None = None,
    skip_probability: float = 0.0,
    seed: int = 0,
    return_speed_kmh: float = DEFAULT_RETURN_SPEED_KMH,
) -> dict[str, VehicleReplay]:
    """One ``VehicleReplay`` per track, keyed by vehicle name, all sharing the same settings."""
    replays: dict[str, VehicleReplay] = {}
    for track in tracks:
        if track.vehicle in replays:
            raise ValueError(f"two tracks for vehicle {track.vehicle!r}")
        replays[track.vehicle] = VehicleReplay(
            track,
            start=start,
            speedup=speedup,
            rate_hz=rate_hz,
            skip_probability=skip_probability,
            seed=seed,
            return_speed_kmh=return_speed_kmh,
        )
    return replays


def fleet_emissions(
    replays: Mapping[str, VehicleReplay], first_indexes: Mapping[str, int] | None = None
) -> Iterator[Emission]:
    """All vehicles' emissions merged in (due, vehicle) order, forever.

    ``first_indexes`` resumes each vehicle at a given index (e.g. one past the last the broker
    acknowledged); vehicles not in it start at 0.
    """
    first_indexes = first_indexes or {}
    streams = [
        replays[vehicle].emissions(first_indexes.get(vehicle, 0)) for vehicle in sorted(replays)
    ]
    return heapq.merge(*streams, key=lambda emission: (emission.due, emission.vehicle))


def _return_gap_s(track: Track, return_speed_kmh: float) -> float:
    """Track seconds from the last point back to the first: driven, and at least one interval."""
    first, last = track.points[0], track.points[-1]
    distance = distance_m(last.lat, last.lon, first.lat, first.lon)
    intervals = [b.offset_s - a.offset_s for a, b in pairwise(track.points)]
    typical = statistics.median([gap for gap in intervals if gap > 0] or [1.0])
    return max(distance / (return_speed_kmh / 3.6), typical)
