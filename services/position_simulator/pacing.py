"""Timing for tracks recorded without timestamps: a simple vehicle model instead of constant speed.

The tracker derives speed and heading from consecutive positions. Paced at a constant speed, the
few metres of GPS jitter in a real recording (a van waiting at a junction, the turn at the end of
a there-and-back round) become 180-degree reversals at full speed. Here a van drives the points:

* it starts and ends at rest, accelerates and brakes at bounded rates, and never exceeds
  ``cruise_kmh`` (the simulator's ``untimed_speed_kmh``);
* it slows for turns so that the heading change between two consecutive legs, over the time
  between them, stays under a lateral acceleration limit (what the tracker would see as a turn);
* a turn sharper than ``reversal_deg`` is a manoeuvre: the van stops there and drives the legs
  on either side at walking pace, as in a three-point turn;
* points that wander around one place (within ``standing_radius_m`` of an anchor, on a path over
  twice as long as their progress), and legs shorter than ``still_m``, are a van standing still:
  the jitter takes dwell time at ``standing_kmh`` at most, not a drive.

``paced_offsets`` is a pure function of the coordinates and the model; it only uses the WGS84
geodesic the tracker uses, so distances and headings are the ones the tracker will compute.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

from services.positions.geo import MPS_TO_KMH, wgs84


@dataclass(frozen=True, slots=True)
class VehicleModel:
    """A delivery van's limits; the defaults are gentle urban driving."""

    cruise_kmh: float = 40.0  # top speed on straight road
    acceleration_mps2: float = 1.0  # a loaded van: 0 to 40 km/h in about 11 s
    braking_mps2: float = 1.5  # comfortable braking, well under an emergency stop
    lateral_mps2: float = 2.0  # comfortable cornering: about 14 km/h round a street corner
    curve_window_m: float = 10.0  # bends are judged over this much road either side
    reversal_deg: float = 150.0  # sharper turns are manoeuvres from a standstill
    manoeuvre_kmh: float = 5.0  # walking pace, for the legs either side of a reversal
    standing_radius_m: float = 3.0  # GPS jitter of a van at rest stays within this
    standing_kmh: float = 1.0  # jitter while standing never looks faster than this
    standing_step_s: float = 1.0  # at least this long per point while standing (a logger tick)
    still_m: float = 0.5  # a leg shorter than this is the same place

    def __post_init__(self) -> None:
        for name in (
            "cruise_kmh",
            "acceleration_mps2",
            "braking_mps2",
            "lateral_mps2",
            "curve_window_m",
            "manoeuvre_kmh",
            "standing_kmh",
            "standing_step_s",
            "still_m",  # repeated points must stand, not be driven in no time
        ):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if not 0 < self.reversal_deg <= 180:
            raise ValueError(f"reversal_deg must be in (0, 180], got {self.reversal_deg}")
        if self.standing_radius_m < 0:
            raise ValueError(
                f"standing_radius_m must not be negative, got {self.standing_radius_m}"
            )


def paced_offsets(
    coordinates: Sequence[tuple[float, float]], model: VehicleModel | None = None
) -> list[float]:
    """Seconds since the first point at which the van passes each (lat, lon); strictly rising."""
    model = model or VehicleModel()
    if len(coordinates) < 2:
        return [0.0] * len(coordinates)
    lats = [lat for lat, _ in coordinates]
    lons = [lon for _, lon in coordinates]
    headings, _, lengths = wgs84().inv(lons[:-1], lats[:-1], lons[1:], lats[1:])
    # Local east/north metres (east + 1j * north) from the legs themselves: exact enough over the
    # few tens of metres ever compared.
    places = [
        0j,
        *accumulate(
            d * cmath.exp(1j * math.radians(90.0 - h))
            for h, d in zip(headings, lengths, strict=True)
        ),
    ]
    standing = _standing_legs(places, lengths, model)

    cruise = model.cruise_kmh / MPS_TO_KMH
    manoeuvre = min(model.manoeuvre_kmh / MPS_TO_KMH, cruise)
    caps = [cruise] * len(lengths)  # top speed on each leg
    limits = [0.0] * len(places)  # top speed at each point; at rest at both ends
    bends = _bend_radii(places, lengths, model.curve_window_m)
    for point, radius in enumerate(bends, start=1):
        before, after = point - 1, point
        if standing[before] or standing[after]:
            continue
        if _turn_deg(headings[before], headings[after]) > model.reversal_deg:
            caps[before] = caps[after] = manoeuvre  # and a stop at the point itself
        else:
            limits[point] = min(cruise, math.sqrt(model.lateral_mps2 * radius))
    for leg, cap in enumerate(caps):
        limits[leg] = min(limits[leg], cap)
        limits[leg + 1] = min(limits[leg + 1], cap)

    speeds = _reachable(limits, lengths, standing, model)
    durations = [
        _standing_s(length, model)
        if still
        else _drive_s(length, start, end, cap, model.acceleration_mps2, model.braking_mps2)
        for length, still, start, end, cap in zip(
            lengths, standing, speeds, speeds[1:], caps, strict=False
        )
    ]
    return [0.0, *accumulate(durations)]


def _turn_deg(heading: float, next_heading: float) -> float:
    """Absolute heading change in [0, 180] degrees."""
    return abs((next_heading - heading + 180.0) % 360.0 - 180.0)


def _bend_radii(places: Sequence[complex], lengths: Sequence[float], window: float) -> list[float]:
    """Radius of the road's bend at each inner point, judged over ``window`` metres either side.

    The heading change between the chords from ``window`` metres back and to ``window`` metres
    ahead, over the distance between the chords' midpoints. Judged on points a few metres apart,
    GPS noise of a few decimetres would read as sharp bends.
    """
    path = [0.0, *accumulate(lengths)]
    radii: list[float] = []
    back = ahead = 0
    for point in range(1, len(places) - 1):
        while back + 1 < point and path[point] - path[back + 1] >= window:
            back += 1
        ahead = max(ahead, point + 1)
        while ahead < len(places) - 1 and path[ahead] - path[point] < window:
            ahead += 1
        incoming, outgoing = places[point] - places[back], places[ahead] - places[point]
        turn = abs(cmath.phase(outgoing / incoming)) if incoming and outgoing else 0.0
        radii.append((abs(incoming) + abs(outgoing)) / (2 * turn) if turn else math.inf)
    return radii


def _standing_legs(
    places: Sequence[complex], lengths: Sequence[float], model: VehicleModel
) -> list[bool]:
    """Which legs are jitter of a van at rest rather than driving."""
    standing = [length < model.still_m for length in lengths]
    anchor = 0
    while anchor < len(lengths):
        last = anchor
        while (
            last + 1 < len(places)
            and abs(places[last + 1] - places[anchor]) <= model.standing_radius_m
        ):
            last += 1
        # A van creeping forward makes progress; jitter wanders: most of its path goes nowhere.
        path = sum(lengths[anchor:last])
        if last - anchor >= 2 and path > 2 * abs(places[last] - places[anchor]):
            standing[anchor:last] = [True] * (last - anchor)
            anchor = last
        else:
            anchor += 1
    return standing


def _reachable(
    limits: list[float], lengths: Sequence[float], standing: Sequence[bool], model: VehicleModel
) -> list[float]:
    """Speed at each point: under its limit, reachable by accelerating and by braking in time."""
    speeds = list(limits)
    for leg, length in enumerate(lengths):
        if not standing[leg]:
            reach = math.sqrt(speeds[leg] ** 2 + 2 * model.acceleration_mps2 * length)
            speeds[leg + 1] = min(speeds[leg + 1], reach)
    for leg in range(len(lengths) - 1, -1, -1):
        if not standing[leg]:
            reach = math.sqrt(speeds[leg + 1] ** 2 + 2 * model.braking_mps2 * lengths[leg])
            speeds[leg] = min(speeds[leg], reach)
    return speeds


def _drive_s(
    length: float, start: float, end: float, cap: float, accel: float, brake: float
) -> float:
    """Seconds to drive `length` metres from `start` to `end` m/s: speed up, hold, brake."""
    # Highest speed with room to brake to `end` in time, held at `cap` if it gets there.
    peak = math.sqrt(
        (2 * accel * brake * length + brake * start**2 + accel * end**2) / (accel + brake)
    )
    peak = max(min(peak, cap), start, end)
    rising = (peak**2 - start**2) / (2 * accel)
    falling = (peak**2 - end**2) / (2 * brake)
    holding = max(0.0, length - rising - falling)
    return (peak - start) / accel + (peak - end) / brake + holding / peak


def _standing_s(length: float, model: VehicleModel) -> float:
    return max(model.standing_step_s, length / (model.standing_kmh / MPS_TO_KMH))
