"""Pacing untimed tracks with a van model, judged as the tracker sees the replay.

Every packaged track and every one of the original Fleetman course's 38 plain track files
(tests/data, see its README) is replayed one loop, and the speed, heading and acceleration the
tracker computes between consecutive published positions must look like driving.
"""

import random
import tarfile
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import gpxpy
import pytest

from services.position_simulator import trackgen
from services.position_simulator.pacing import VehicleModel, paced_offsets
from services.position_simulator.replay import VehicleReplay
from services.position_simulator.tracks import (
    DEFAULT_UNTIMED_SPEED_KMH,
    Track,
    TrackPoint,
    load_tracks,
)
from services.positions.geo import MPS_TO_KMH, Fix, Leg, legs, wgs84

PACKAGED = Path(__file__).resolve().parents[2] / "services" / "position_simulator" / "tracks"
ORIGINALS = Path(__file__).resolve().parents[1] / "data" / "fleetman_tracks.tar.xz"
ORIGINAL_COUNT = 38
START = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)

SPEED_TOLERANCE_KMH = 1.0  # due times are whole milliseconds: a short leg's speed is a bit off
ROUNDING_S = 0.001  # the most a leg's duration is off by, its ends rounded to the millisecond
REVERSAL_DEG = 150.0
REVERSAL_SPEED_KMH = 6.0  # a turn-round is a manoeuvre at walking pace, never a drive
MAX_ACCELERATION_MPS2 = 3.0  # between consecutive legs' average speeds (brisk braking)
# The original simulator's own pace: a message every 2-12 s, half the points skipped.
ORIGINAL_SECONDS_PER_POINT = 3.5
MIN_ROUND_SPEED_KMH = 8.0  # a delivery round with its stops and corners; urban vans average 10-20
MODEL = VehicleModel()


# --------------------------------------------------------------------------- helpers


def tracker_legs(track: Track) -> list[Leg]:
    """One loop of the replay, as the tracker sees it: legs between consecutive positions."""
    replay = VehicleReplay(track, start=START)
    emissions = [replay.emission(index) for index in range(len(track.points))]
    fixes = [Fix(e.point.lat, e.point.lon, e.due) for e in emissions if e is not None]
    return legs(list(pairwise(fixes)))


def turn_deg(a: Leg, b: Leg) -> float:
    """Heading change between two legs; none when either stands still (has no heading)."""
    if a.heading_deg is None or b.heading_deg is None:
        return 0.0
    return abs((b.heading_deg - a.heading_deg + 180.0) % 360.0 - 180.0)


def assert_drives_plausibly(track: Track, cruise_kmh: float, longest_s: float) -> None:
    """Speeds, turn-rounds and accelerations as the tracker sees them; duration at most ``longest_s``."""
    seen = tracker_legs(track)
    fastest = max(seen, key=lambda leg: leg.speed_kmh)
    assert fastest.speed_kmh <= cruise_kmh + SPEED_TOLERANCE_KMH, f"{track.vehicle}: {fastest}"
    for index, (a, b) in enumerate(pairwise(seen)):
        if turn_deg(a, b) > REVERSAL_DEG:
            speed = max(a.speed_kmh, b.speed_kmh)
            assert speed <= REVERSAL_SPEED_KMH, f"{track.vehicle}: reversal at leg {index}"
        between_s = (a.elapsed_s + b.elapsed_s) / 2
        change = abs(b.speed_mps - a.speed_mps)
        # Legs under a metre last tens of milliseconds, so rounding alone moves their speeds.
        rounding = ROUNDING_S * (a.speed_mps / a.elapsed_s + b.speed_mps / b.elapsed_s)
        assert change <= MAX_ACCELERATION_MPS2 * between_s + rounding, f"{track.vehicle}: {index}"
    fastest_s = sum(leg.distance_m for leg in seen) / (cruise_kmh / MPS_TO_KMH)
    assert fastest_s <= track.duration_s <= longest_s, f"{track.vehicle}: {track.duration_s} s"


def round_longest_s(track: Track) -> float:
    """The longest a delivery round of this length may take."""
    distance_m = sum(leg.distance_m for leg in tracker_legs(track))
    return distance_m / (MIN_ROUND_SPEED_KMH / MPS_TO_KMH)


def offsets(points: list[tuple[float, float]], model: VehicleModel = MODEL) -> list[float]:
    result = paced_offsets(points, model)
    assert result[0] == 0.0
    assert all(b > a for a, b in pairwise(result)), "offsets must rise strictly"
    return result


def leg_speeds_kmh(points: list[tuple[float, float]], times: list[float]) -> list[float]:
    lats, lons = [p[0] for p in points], [p[1] for p in points]
    _, _, lengths = wgs84().inv(lons[:-1], lats[:-1], lons[1:], lats[1:])
    return [
        d / (t2 - t1) * MPS_TO_KMH for d, (t1, t2) in zip(lengths, pairwise(times), strict=True)
    ]


def walk(
    start: tuple[float, float], heading_deg: float, count: int, step_m: float
) -> list[tuple[float, float]]:
    """``count`` points after ``start``, ``step_m`` apart on a geodesic heading."""
    lat, lon = start
    points = []
    for _ in range(count):
        lon, lat, _ = wgs84().fwd(lon, lat, heading_deg, step_m)
        points.append((lat, lon))
    return points


ORIGIN = (53.38, -1.47)


# --------------------------------------------------------------------------- synthetic


def test_a_straight_road_reaches_cruise_and_starts_and_ends_at_rest():
    points = [ORIGIN, *walk(ORIGIN, 45.0, 200, 10.0)]  # 2 km
    times = offsets(points)
    speeds = leg_speeds_kmh(points, times)
    assert max(speeds) == pytest.approx(MODEL.cruise_kmh, abs=0.01)
    assert speeds[0] < 10 and speeds[-1] < 10
    # About 11 s to reach 40 km/h at 1 m/s², so the first 50 m are still speeding up.
    assert all(b > a for a, b in pairwise(speeds[:5]))
    assert times[-1] > 2000 / (MODEL.cruise_kmh / MPS_TO_KMH)


def test_the_cruise_speed_is_the_maximum():
    points = [ORIGIN, *walk(ORIGIN, 0.0, 300, 10.0)]
    fast = offsets(points, VehicleModel(cruise_kmh=80.0))
    speeds = leg_speeds_kmh(points, fast)
    assert max(speeds) == pytest.approx(80.0, abs=0.01)
    assert fast[-1] < offsets(points)[-1]


def test_a_right_angle_corner_slows_the_van_down():
    north = walk(ORIGIN, 0.0, 50, 10.0)
    east = walk(north[-1], 90.0, 50, 10.0)
    points = [ORIGIN, *north, *east]
    speeds = leg_speeds_kmh(points, offsets(points))
    corner = len(north)  # the leg arriving at the corner; the next one leaves it
    assert max(speeds[corner - 1 : corner + 1]) < 20
    assert max(speeds[:corner]) > 35 and max(speeds[corner:]) > 35


def test_a_gentle_bend_is_taken_faster_than_a_sharp_one():
    def corner_speed(turn: float) -> float:
        before = walk(ORIGIN, 0.0, 50, 10.0)
        after = walk(before[-1], turn, 50, 10.0)
        points = [ORIGIN, *before, *after]
        return leg_speeds_kmh(points, offsets(points))[len(before)]

    assert corner_speed(10.0) > corner_speed(45.0) > corner_speed(90.0)


def test_jitter_within_three_metres_is_standing_time_not_driving():
    approach = walk(ORIGIN, 0.0, 30, 10.0)
    stop = approach[-1]
    rng = random.Random(7)
    jitter = []
    for _ in range(12):  # GPS noise of a van at rest: up to 3 m in any direction
        lon, lat, _ = wgs84().fwd(stop[1], stop[0], rng.uniform(0, 360), rng.uniform(0.3, 2.9))
        jitter.append((lat, lon))
    leave = walk(stop, 0.0, 30, 10.0)
    points = [ORIGIN, *approach, *jitter, *leave]
    times = offsets(points)
    speeds = leg_speeds_kmh(points, times)
    arrival, departure = len(approach), len(approach) + len(jitter)  # points: the stop's ends
    assert max(speeds[arrival:departure]) <= MODEL.standing_kmh + 0.01
    assert times[departure] - times[arrival] >= MODEL.standing_step_s * len(jitter)
    assert max(speeds) > 35  # the drive either side is a drive


def test_a_van_creeping_forward_is_not_standing():
    points = [ORIGIN, *walk(ORIGIN, 0.0, 40, 1.0)]  # 40 m in 1 m steps: slow, but moving
    speeds = leg_speeds_kmh(points, offsets(points))
    assert max(speeds) > 5 * MODEL.standing_kmh


def test_a_u_turn_is_a_manoeuvre_at_walking_pace():
    out = walk(ORIGIN, 0.0, 30, 10.0)
    points = [ORIGIN, *out, *reversed([ORIGIN, *out[:-1]])]  # there and back, no repeated point
    speeds = leg_speeds_kmh(points, offsets(points))
    turn = len(out)  # the leg leaving the far end
    assert max(speeds[turn - 1 : turn + 1]) <= MODEL.manoeuvre_kmh + 0.01
    assert max(speeds) > 35


def test_a_zigzag_of_a_few_metres_never_reverses_at_speed():
    points = [ORIGIN, *walk(ORIGIN, 0.0, 20, 10.0)]
    back = walk(points[-1], 180.0, 1, 4.0)[0]
    points += [back, *walk(back, 0.0, 20, 10.0)]
    times = offsets(points)
    track = Track("Zigzag", tuple(TrackPoint(*p, t) for p, t in zip(points, times, strict=True)))
    assert_drives_plausibly(track, MODEL.cruise_kmh, ORIGINAL_SECONDS_PER_POINT * len(points))


def test_repeated_points_are_a_short_stop():
    points = [ORIGIN, *walk(ORIGIN, 0.0, 10, 10.0)]
    points = [*points, points[-1], points[-1], *walk(points[-1], 0.0, 10, 10.0)]
    times = offsets(points)
    assert times[12] - times[10] >= 2 * MODEL.standing_step_s


@pytest.mark.parametrize("points", [[], [ORIGIN], [ORIGIN, ORIGIN]])
def test_degenerate_tracks(points):
    result = paced_offsets(points)
    assert len(result) == len(points)
    assert result[:1] in ([], [0.0])
    assert all(b > a for a, b in pairwise(result))


@pytest.mark.parametrize(
    "field",
    ["cruise_kmh", "acceleration_mps2", "braking_mps2", "lateral_mps2", "standing_kmh", "still_m"],
)
def test_limits_must_be_positive(field):
    with pytest.raises(ValueError, match=field):
        VehicleModel(**{field: 0.0})


def test_reversal_angle_must_be_an_angle():
    with pytest.raises(ValueError, match="reversal_deg"):
        VehicleModel(reversal_deg=200.0)


# --------------------------------------------------------------------------- real tracks


@pytest.fixture(scope="module")
def original_tracks(tmp_path_factory) -> dict[str, Track]:
    folder = tmp_path_factory.mktemp("fleetman")
    with tarfile.open(ORIGINALS) as archive:
        archive.extractall(folder, filter="data")
    return {track.source.name: track for track in load_tracks(folder) if track.source}


@pytest.fixture(scope="module")
def untimed_packaged_tracks(tmp_path_factory) -> dict[str, Track]:
    """The packaged rounds with their times removed: untimed GPX, paced by the model."""
    folder = tmp_path_factory.mktemp("untimed")
    for path in PACKAGED.glob("*.gpx"):
        gpx = gpxpy.parse(path.read_text())
        for point in gpx.walk(only_points=True):
            point.time = None
        (folder / path.name).write_text(gpx.to_xml())
    return {track.source.name: track for track in load_tracks(folder) if track.source}


def test_all_38_original_files_are_there(original_tracks):
    assert len(original_tracks) == ORIGINAL_COUNT
    assert sum(len(track.points) for track in original_tracks.values()) == 102_859


def test_every_original_track_drives_plausibly(original_tracks):
    for track in original_tracks.values():
        longest_s = ORIGINAL_SECONDS_PER_POINT * len(track.points)
        assert_drives_plausibly(track, DEFAULT_UNTIMED_SPEED_KMH, longest_s)


def test_every_packaged_track_without_times_drives_plausibly(untimed_packaged_tracks):
    assert len(untimed_packaged_tracks) == len(list(PACKAGED.glob("*.gpx")))
    for track in untimed_packaged_tracks.values():
        assert_drives_plausibly(track, DEFAULT_UNTIMED_SPEED_KMH, round_longest_s(track))


def test_every_packaged_track_as_loaded_drives_plausibly():
    """The packaged rounds carry their own times (trackgen's van); the same bounds hold."""
    for track in load_tracks(PACKAGED):
        assert_drives_plausibly(track, trackgen.MAX_SPEED_KMH, round_longest_s(track))
