"""Geodesic maths: the original Fleetman speed vectors, and an independent haversine check."""

import math
from datetime import UTC, datetime, timedelta

import pytest

from services.positions import geo
from services.positions.geo import Fix

# Vectors from the original TestSpeedCalculations (k8s-fleetman position tracker), whose
# timestamps were "Wed Jul 05 10:26:24 BST 2017" and so on.


def at(hh: int, mm: int, ss: int) -> datetime:
    return datetime(2017, 7, 5, hh, mm, ss, tzinfo=UTC) - timedelta(hours=1)  # BST = UTC+1


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Independent great-circle distance on a sphere of the mean Earth radius."""
    radius = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * radius * math.asin(math.sqrt(h))


def test_original_vector_153_metres_in_five_seconds():
    first = Fix(53.33507, -1.53766, at(10, 26, 24))
    second = Fix(53.33635, -1.53682, at(10, 26, 29))
    assert geo.speed_mph(None, first) is None
    assert geo.speed_mph(first, second) == pytest.approx(68.45025, abs=0.1)


def test_original_vector_one_kilometre_in_one_minute():
    first = Fix(53.33393, -1.52097, at(10, 26, 0))
    second = Fix(53.34292, -1.52083, at(10, 27, 0))
    assert geo.speed_mph(None, first) is None
    assert geo.speed_mph(first, second) == pytest.approx(37.28, abs=0.1)


def test_original_vector_stationary_vehicle_is_zero():
    first = Fix(53.33393, -1.52097, at(10, 26, 0))
    second = Fix(53.33393, -1.52097, at(10, 26, 5))
    assert geo.speed_mph(first, second) == 0
    assert geo.speed_kmh(first, second) == 0


def test_original_vector_speed_uses_only_the_last_leg():
    # testSpeedIsBasedOnlyOnLastReport: three reports, the last leg is 1.29 km in 84 s.
    reports = [
        Fix(53.33393, -1.52097, at(10, 26, 0)),
        Fix(53.34292, -1.52083, at(10, 27, 0)),
        Fix(53.33635, -1.53682, at(10, 28, 24)),
    ]
    speeds = [
        geo.speed_mph(prev, new) for prev, new in zip([None, *reports[:-1]], reports, strict=True)
    ]
    assert speeds[0] is None
    assert speeds[2] == pytest.approx(34.35, abs=0.1)
    # the average over the whole trip would be different: only the last leg counts
    whole = geo.distance_m(53.33393, -1.52097, 53.34292, -1.52083) + geo.distance_m(
        53.34292, -1.52083, 53.33635, -1.53682
    )
    assert whole / 144 * geo.MPS_TO_MPH != pytest.approx(34.35, abs=0.1)


def test_no_time_elapsed_gives_zero_not_infinity():
    moment = at(10, 0, 0)
    assert geo.speed_kmh(Fix(53.0, -1.5, moment), Fix(53.01, -1.5, moment)) == 0


def test_out_of_order_reports_give_a_positive_speed():
    early = Fix(53.33393, -1.52097, at(10, 26, 0))
    late = Fix(53.34292, -1.52083, at(10, 27, 0))
    assert geo.speed_kmh(late, early) == pytest.approx(geo.speed_kmh(early, late))
    assert geo.speed_kmh(late, early) > 0


def test_kmh_and_mph_use_the_same_metres_per_second():
    first = Fix(53.33507, -1.53766, at(10, 26, 24))
    second = Fix(53.33635, -1.53682, at(10, 26, 29))
    kmh = geo.speed_kmh(first, second)
    mph = geo.speed_mph(first, second)
    assert kmh is not None and mph is not None
    assert mph == pytest.approx(kmh / 3.6 * 2.236936)
    assert geo.kmh_to_mph(kmh) == pytest.approx(mph)


@pytest.mark.parametrize(
    ("lat1", "lon1", "lat2", "lon2"),
    [
        (53.375564, -1.506785, 53.39, -1.45),  # Sheffield, a few km
        (53.33507, -1.53766, 53.33635, -1.53682),  # 153 m
        (51.5074, -0.1278, 53.4808, -2.2426),  # London - Manchester
        (0.0, 0.0, 0.0, 1.0),  # equator
        (60.0, 10.0, 60.5, 10.5),  # Scandinavia
    ],
)
def test_distance_agrees_with_an_independent_haversine(lat1, lon1, lat2, lon2):
    ellipsoid = geo.distance_m(lat1, lon1, lat2, lon2)
    sphere = haversine_m(lat1, lon1, lat2, lon2)
    assert ellipsoid == pytest.approx(sphere, rel=0.005)


def test_distance_is_on_the_ellipsoid_not_a_sphere():
    # One degree of latitude is ~110.6 km at the equator and ~111.7 km near the pole on WGS84;
    # on any sphere both would be equal.
    equator = geo.distance_m(0.0, 0.0, 1.0, 0.0)
    polar = geo.distance_m(88.0, 0.0, 89.0, 0.0)
    assert equator == pytest.approx(110_574, abs=5)
    assert polar == pytest.approx(111_692, abs=5)


@pytest.mark.parametrize(
    ("lat2", "lon2", "expected"),
    [
        (53.01, -1.5, 0.0),  # north
        (53.0, -1.49, 90.0),  # east
        (52.99, -1.5, 180.0),  # south
        (53.0, -1.51, 270.0),  # west
    ],
)
def test_heading_cardinal_directions(lat2, lon2, expected):
    heading = geo.initial_heading_deg(53.0, -1.5, lat2, lon2)
    assert heading is not None
    assert 0.0 <= heading < 360.0
    assert min(abs(heading - expected), 360 - abs(heading - expected)) < 0.05


def test_heading_of_coincident_points_is_none():
    assert geo.initial_heading_deg(53.0, -1.5, 53.0, -1.5) is None
    leg = geo.leg(Fix(53.0, -1.5, at(10, 0, 0)), Fix(53.0, -1.5, at(10, 0, 5)))
    assert leg.heading_deg is None
    assert leg.distance_m == 0


def test_heading_agrees_with_spherical_bearing():
    lat1, lon1, lat2, lon2 = 53.34292, -1.52083, 53.33635, -1.53682
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    spherical = math.degrees(math.atan2(y, x)) % 360
    heading = geo.initial_heading_deg(lat1, lon1, lat2, lon2)
    assert heading == pytest.approx(spherical, abs=0.5)
    assert 180 < heading < 270  # south-west


@pytest.mark.parametrize(("angle", "expected"), [(-90.0, 270.0), (360.0, 0.0), (-1e-17, 0.0)])
def test_normalise_heading(angle, expected):
    assert geo.normalise_heading(angle) == pytest.approx(expected)
    assert 0.0 <= geo.normalise_heading(angle) < 360.0
