"""The track generator: reproducible byte for byte, and physically plausible delivery rounds."""

from itertools import pairwise
from pathlib import Path

import pytest

from services.position_simulator import trackgen
from services.position_simulator.tracks import load_tracks
from services.positions.geo import distance_m, initial_heading_deg

COMMITTED = Path(__file__).resolve().parents[2] / "services" / "position_simulator" / "tracks"
TELEPORT_LIMIT_KMH = 300


@pytest.fixture(scope="module")
def committed_tracks():
    return load_tracks(COMMITTED)


def test_regenerating_with_the_default_seed_reproduces_the_committed_files(tmp_path):
    assert trackgen.main(["--out", str(tmp_path)]) == 0
    generated = {path.name: path.read_bytes() for path in tmp_path.glob("*.gpx")}
    committed = {path.name: path.read_bytes() for path in COMMITTED.glob("*.gpx")}
    assert sorted(generated) == sorted(committed)
    for name, content in committed.items():
        assert generated[name] == content, f"{name} differs: run trackgen to regenerate"


def test_at_least_twelve_vehicles_with_original_style_names(committed_tracks):
    names = [track.vehicle for track in committed_tracks]
    assert len(names) >= 12
    assert {"City Truck", "Village Truck", "Factory Run A", "Sheffield Truck A"} <= set(names)
    for track in committed_tracks:
        assert track.source is not None
        assert track.source.name == trackgen.track_file_name(track.vehicle)


def test_another_seed_gives_other_tracks():
    assert trackgen.generate_track("City Truck", 1) != trackgen.generate_track("City Truck", 2)
    assert trackgen.generate_track("City Truck", 1) == trackgen.generate_track("City Truck", 1)


def test_adding_vehicles_leaves_the_first_ones_unchanged():
    small = trackgen.generate_fleet(3, seed=7)
    large = trackgen.generate_fleet(14, seed=7)
    assert large[:3] == small
    assert large[-1].vehicle == "Sheffield Truck C"
    assert trackgen.vehicle_names(18)[-1] == "Delivery Van 2"


def test_cli_options(tmp_path):
    assert trackgen.main(["--out", str(tmp_path), "--seed", "3", "--vehicles", "2"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["city_truck.gpx", "village_truck.gpx"]
    with pytest.raises(SystemExit):
        trackgen.main(["--out", str(tmp_path), "--vehicles", "0"])


def leg_speeds_kmh(track):
    for a, b in pairwise(track.points):
        elapsed = b.offset_s - a.offset_s
        yield distance_m(a.lat, a.lon, b.lat, b.lon) / elapsed * 3.6


def test_every_leg_speed_is_between_0_and_90_kmh(committed_tracks):
    for track in committed_tracks:
        speeds = list(leg_speeds_kmh(track))
        assert min(speeds) >= 0
        assert max(speeds) <= 91, track.vehicle
        assert max(speeds) < TELEPORT_LIMIT_KMH
        assert max(speeds) > 40, f"{track.vehicle} never gets going"


def test_a_few_hundred_points_every_two_to_five_seconds(committed_tracks):
    for track in committed_tracks:
        assert 200 <= len(track.points) <= 900, track.vehicle
        intervals = {b.offset_s - a.offset_s for a, b in pairwise(track.points)}
        assert intervals <= {1.0, 2.0, 3.0, 4.0, 5.0}, track.vehicle
        # only the final arrival may come sooner than 2 s
        assert sum(1 for a, b in pairwise(track.points) if b.offset_s - a.offset_s < 2) <= 1


def test_round_returns_to_its_start(committed_tracks):
    for track in committed_tracks:
        first, last = track.points[0], track.points[-1]
        assert distance_m(first.lat, first.lon, last.lat, last.lon) < 25, track.vehicle


def test_tracks_are_around_sheffield(committed_tracks):
    centre_lat, centre_lon = trackgen.MAP_CENTRE
    for track in committed_tracks:
        for point in track.points:
            assert distance_m(centre_lat, centre_lon, point.lat, point.lon) < 6000


def stops(track):
    """Lengths in seconds of the periods where the vehicle does not move."""
    found, run = [], 0.0
    for a, b in pairwise(track.points):
        if distance_m(a.lat, a.lon, b.lat, b.lon) < 0.01:
            run += b.offset_s - a.offset_s
        elif run:
            found.append(run)
            run = 0.0
    return found


def test_deliveries_stop_for_twenty_to_one_hundred_twenty_seconds(committed_tracks):
    for track in committed_tracks:
        long_stops = [s for s in stops(track) if s >= 18]
        assert len(long_stops) >= 5, track.vehicle
        assert max(long_stops) <= 125, track.vehicle


def test_legs_are_street_like_not_random_walks(committed_tracks):
    for track in committed_tracks:
        headings = []
        for a, b in pairwise(track.points):
            heading = initial_heading_deg(a.lat, a.lon, b.lat, b.lon)
            if heading is not None and distance_m(a.lat, a.lon, b.lat, b.lon) > 5:
                headings.append(heading)
        changes = [min(abs(x - y), 360 - abs(x - y)) for x, y in pairwise(headings)]
        straight = sum(1 for change in changes if change < 2) / len(changes)
        assert straight > 0.75, track.vehicle
        # turns are at right angles (a grid), so most changes are ~0 or ~90 degrees
        odd = sum(1 for change in changes if 10 < change < 60 or 120 < change < 170)
        assert odd / len(changes) < 0.15, track.vehicle


def test_vehicles_accelerate_and_brake_rather_than_jump(committed_tracks):
    for track in committed_tracks:
        speeds = list(leg_speeds_kmh(track))
        intervals = [b.offset_s - a.offset_s for a, b in pairwise(track.points)]
        for (v1, v2), (dt1, dt2) in zip(pairwise(speeds), pairwise(intervals), strict=True):
            # braking is at most ~2.2 m/s²; corners (chord shorter than the path) add a little
            assert abs(v2 - v1) / 3.6 <= 3.5 * (dt1 + dt2) / 2, track.vehicle
