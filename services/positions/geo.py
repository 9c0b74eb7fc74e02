"""Geodesic maths for vehicle positions, on the WGS84 ellipsoid (never a sphere).

Distances and headings come from PROJ's geodesic (Karney's algorithms, through ``pyproj``), which
agrees with the Vincenty computation the original Fleetman tracker used to well below a millimetre
at city scale. It is C: a leg costs well under a microsecond, against tens of microseconds for the
pure-Python ``geographiclib`` that the tracker's ingest rate was paying for every position.

Speed follows the original tracker: the distance between the previous and the new report divided
by the seconds between them; ``None`` for a vehicle's first report, ``0`` when no time passed.
Miles per hour use the original's factor, 2.236936 per metre/second.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    from pyproj import Geod


@cache
def wgs84() -> Geod:
    """The geodesic solver on WGS84. pyproj (the `geodesy` extra of fleetman-positions) is
    imported on first use: the gateway, which shares the schemas but computes no leg, runs
    without it."""
    from pyproj import Geod

    return Geod(ellps="WGS84")


MPS_TO_KMH = 3.6
MPS_TO_MPH = 2.236936  # MPS_TO_MPH_FACTOR of the original Fleetman tracker

_SAME_POINT_M = 1e-6  # below this, two points are one point (no meaningful heading)


class TimedPoint(Protocol):
    """Anything with a latitude, a longitude (degrees) and an aware timestamp."""

    @property
    def latitude(self) -> float: ...

    @property
    def longitude(self) -> float: ...

    @property
    def timestamp(self) -> datetime: ...


class Fix(NamedTuple):
    """A plain timed point; ``messages.Position`` satisfies the same protocol."""

    latitude: float
    longitude: float
    timestamp: datetime


@dataclass(frozen=True, slots=True)
class Leg:
    """The movement between two timed points."""

    distance_m: float
    heading_deg: float | None  # initial heading in [0, 360); None when the points coincide
    elapsed_s: float  # absolute seconds between the two timestamps

    @property
    def speed_mps(self) -> float:
        """Metres per second; 0 when no time passed (the original's rule)."""
        if self.elapsed_s == 0:
            return 0.0
        return self.distance_m / self.elapsed_s

    @property
    def speed_kmh(self) -> float:
        return self.speed_mps * MPS_TO_KMH

    @property
    def speed_mph(self) -> float:
        return self.speed_mps * MPS_TO_MPH


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Geodesic distance in metres between two points on WGS84."""
    return float(wgs84().inv(lon1, lat1, lon2, lat2)[2])


def initial_heading_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float | None:
    """Initial heading (azimuth) from point 1 towards point 2, degrees clockwise from north.

    In [0, 360). ``None`` when the points coincide: a parked vehicle has no heading.
    """
    azimuth, _, distance = wgs84().inv(lon1, lat1, lon2, lat2)
    return _heading(azimuth, distance)


def normalise_heading(degrees: float) -> float:
    """Map any angle in degrees to [0, 360)."""
    heading = degrees % 360.0
    # -1e-17 % 360 == 360.0 in floating point: fold it back.
    return 0.0 if heading >= 360.0 else heading


def _heading(azimuth: float, distance: float) -> float | None:
    """The heading of a move, in [0, 360); None when the points coincide."""
    return None if distance < _SAME_POINT_M else normalise_heading(azimuth)


def leg(previous: TimedPoint, new: TimedPoint) -> Leg:
    """Distance, heading and elapsed time from ``previous`` to ``new``.

    Elapsed time is absolute, so a report delivered out of order still gets a sane speed.
    """
    return legs([(previous, new)])[0]


def legs(pairs: Sequence[tuple[TimedPoint, TimedPoint]]) -> list[Leg]:
    """``leg`` for each (previous, new) pair, in one call into PROJ.

    One call per batch rather than per position: PROJ releases the GIL on every call, and taking
    it back while the tracker's other threads are busy costs a hundred times the computation.
    """
    if not pairs:
        return []
    azimuths, _, distances = wgs84().inv(
        [a.longitude for a, _ in pairs],
        [a.latitude for a, _ in pairs],
        [b.longitude for _, b in pairs],
        [b.latitude for _, b in pairs],
    )
    return [
        Leg(
            distance_m=distance,
            heading_deg=_heading(azimuth, distance),
            elapsed_s=abs((b.timestamp - a.timestamp).total_seconds()),
        )
        for (a, b), azimuth, distance in zip(pairs, azimuths, distances, strict=True)
    ]


def speed_kmh(previous: TimedPoint | None, new: TimedPoint) -> float | None:
    """Speed in km/h from the previous report; None for a first report, 0 if no time passed."""
    return None if previous is None else leg(previous, new).speed_kmh


def speed_mph(previous: TimedPoint | None, new: TimedPoint) -> float | None:
    """Speed in mph (original factor); None for a first report, 0 if no time passed."""
    return None if previous is None else leg(previous, new).speed_mph


def kmh_to_mph(kmh: float) -> float:
    """Convert km/h to mph with the original's metres/second factor."""
    return kmh / MPS_TO_KMH * MPS_TO_MPH
