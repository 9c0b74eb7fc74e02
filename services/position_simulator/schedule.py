"""Which position each vehicle publishes next, in due order, with a cursor per vehicle.

A vehicle's cursor moves only when the broker has acknowledged its current emission, so after a
broker outage the same emission (same index, so the same timestamp) is sent again. Pure: no I/O,
no clock of its own.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from services.position_simulator.replay import Emission, VehicleReplay, fleet_replays
from services.position_simulator.tracks import Track
from services.positions.geo import distance_m

_MS = timedelta(milliseconds=1)


def select_tracks(tracks: Iterable[Track], vehicles: int | None) -> list[Track]:
    """The first ``vehicles`` tracks by vehicle name (all of them when None)."""
    ordered = sorted(tracks, key=lambda track: track.vehicle)
    if vehicles is None:
        return ordered
    if vehicles > len(ordered):
        raise ValueError(f"{vehicles} vehicles asked for, but the tracks hold {len(ordered)}")
    return ordered[:vehicles]


def top_speed_kmh(tracks: Iterable[Track]) -> float:
    """The fastest any vehicle goes between two consecutive timed points of its track."""
    fastest = 0.0
    for track in tracks:
        for a, b in pairwise(track.points):
            if b.offset_s > a.offset_s:
                metres = distance_m(a.lat, a.lon, b.lat, b.lon)
                fastest = max(fastest, metres / (b.offset_s - a.offset_s) * 3.6)
    return fastest


#: Seeded replays are anchored here rather than at start-up, so where a vehicle is depends on the
#: wall clock only: a restarted simulator carries on where it was (same points, same timestamps)
#: instead of sending every vehicle back to its first point.
REPLAY_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def start_phase(seed: int, vehicle: str) -> float:
    """Where in its loop a vehicle starts, as a fraction in [0, 1): reproducible per seed."""
    return random.Random(f"phase:{seed}:{vehicle}").random()


def build_replays(
    tracks: Iterable[Track],
    *,
    now: datetime,
    rate_hz: float,
    speedup: float,
    seed: int | None = None,
    skip_probability: float = 0.0,
) -> tuple[dict[str, VehicleReplay], dict[str, int]]:
    """Ticked replays whose first emission is due at ``now``, and each vehicle's first index.

    Without a seed every vehicle starts at its track's first point. With one, each vehicle's loop
    is anchored at ``REPLAY_EPOCH`` shifted by a reproducible phase: where it is (and every
    timestamp) is a pure function of (seed, vehicle, wall clock), so a restart resumes the replay.
    """
    tracks = list(tracks)
    common = {"rate_hz": rate_hz, "speedup": speedup, "skip_probability": skip_probability}
    replays = fleet_replays(tracks, start=now, seed=seed or 0, **common)
    if seed is None:
        return replays, dict.fromkeys(replays, 0)
    shifted: dict[str, VehicleReplay] = {}
    first: dict[str, int] = {}
    now_ms = now - timedelta(microseconds=now.microsecond % 1000)  # replays count whole ms
    for track in tracks:
        loop_s = replays[track.vehicle].loop_wallclock_s
        anchor = REPLAY_EPOCH - timedelta(seconds=start_phase(seed, track.vehicle) * loop_s)
        replay = VehicleReplay(track, start=anchor, seed=seed, **common)
        shifted[track.vehicle] = replay
        first[track.vehicle] = replay.first_index_due_after(now_ms - _MS)
    return shifted, first


class Schedule:
    """The next emission of every vehicle, ordered by (due, vehicle)."""

    def __init__(
        self, replays: Mapping[str, VehicleReplay], first_indexes: Mapping[str, int] | None = None
    ) -> None:
        if not replays:
            raise ValueError("nothing to replay: no vehicles")
        self._replays = dict(replays)
        first_indexes = first_indexes or {}
        self._heap: list[tuple[datetime, str, Emission]] = []
        for vehicle, replay in self._replays.items():
            self._push(self._next_from(replay, first_indexes.get(vehicle, 0)))
        heapq.heapify(self._heap)

    @property
    def vehicles(self) -> tuple[str, ...]:
        return tuple(sorted(self._replays))

    def peek(self) -> Emission:
        """The emission due first (it stays first until ``acknowledged``)."""
        return self._heap[0][2]

    def cursor(self, vehicle: str) -> int:
        """Index of the vehicle's next emission."""
        for _, name, emission in self._heap:
            if name == vehicle:
                return emission.index
        raise KeyError(vehicle)

    def acknowledged(self, emission: Emission) -> None:
        """The broker has ``emission``: move its vehicle's cursor to its next emission."""
        _due, vehicle, current = self._heap[0]
        if current != emission:
            raise ValueError(f"{emission} is not the next emission ({current})")
        nxt = self._next_from(self._replays[vehicle], emission.index + 1)
        heapq.heapreplace(self._heap, (nxt.due, vehicle, nxt))

    def skip_due_before(self, moment: datetime) -> int:
        """Move every cursor due before ``moment`` to its first emission at or after it.

        Used when an outage left more behind than is worth resending. Returns how many
        emissions were skipped.
        """
        skipped = 0
        entries = []
        for due, vehicle, emission in self._heap:
            if due < moment:
                replay = self._replays[vehicle]
                behind = emission.index
                emission = self._next_from(replay, replay.first_index_due_after(moment - _MS))
                skipped += emission.index - behind
            entries.append((emission.due, vehicle, emission))
        self._heap = entries
        heapq.heapify(self._heap)
        return skipped

    def _push(self, emission: Emission) -> None:
        self._heap.append((emission.due, emission.vehicle, emission))

    @staticmethod
    def _next_from(replay: VehicleReplay, index: int) -> Emission:
        """The first emission at or after ``index`` that the skip option does not drop."""
        while True:
            emission = replay.emission(index)
            if emission is not None:
                return emission
            index += 1
