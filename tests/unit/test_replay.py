"""Replay scheduling: deterministic due times, looping, resuming, ticks and point skipping."""

from datetime import UTC, datetime, timedelta
from itertools import islice, pairwise

import pytest

from services.position_simulator.replay import (
    Emission,
    VehicleReplay,
    fleet_emissions,
    fleet_replays,
)
from services.position_simulator.tracks import Track, TrackPoint
from services.positions.geo import Fix, distance_m
from services.positions.messages import check_teleport

START = datetime(2025, 10, 30, 15, 0, 0, 123456, tzinfo=UTC)
START_MS = datetime(2025, 10, 30, 15, 0, 0, 123000, tzinfo=UTC)  # start truncated to ms


def track(vehicle="City Truck", offsets=(0.0, 4.0, 10.0), lat0=53.37, step=0.0003):
    """A northbound track whose last point is ``len(offsets) - 1`` steps from its first."""
    points = tuple(TrackPoint(lat0 + i * step, -1.5, offset) for i, offset in enumerate(offsets))
    return Track(vehicle, points)


def take(replay, n, first=0):
    return list(islice(replay.emissions(first), n))


def test_first_loop_follows_track_offsets():
    replay = VehicleReplay(track(), start=START)
    emissions = take(replay, 3)
    assert [e.due for e in emissions] == [
        START_MS,
        START_MS + timedelta(seconds=4),
        START_MS + timedelta(seconds=10),
    ]
    assert [e.point_index for e in emissions] == [0, 1, 2]
    assert [e.index for e in emissions] == [0, 1, 2]
    assert all(e.loop == 0 for e in emissions)
    assert all(e.timestamp == e.due for e in emissions)


def test_speedup_compresses_wall_clock_time():
    replay = VehicleReplay(track(), start=START, speedup=4)
    assert [e.due - START_MS for e in take(replay, 3)] == [
        timedelta(0),
        timedelta(seconds=1),
        timedelta(seconds=2.5),
    ]


def test_loops_forever_with_a_drive_back_to_the_start():
    replay = VehicleReplay(track(), start=START, return_speed_kmh=36)  # 10 m/s
    emissions = take(replay, 9)
    assert [e.loop for e in emissions] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert [e.point_index for e in emissions] == [0, 1, 2] * 3
    back_m = distance_m(53.37 + 2 * 0.0003, -1.5, 53.37, -1.5)
    gap = (emissions[3].due - emissions[2].due).total_seconds()
    assert gap == pytest.approx(back_m / 10, abs=0.001)
    assert emissions[6].due - emissions[3].due == emissions[3].due - emissions[0].due


def test_wrap_around_is_not_a_teleport_for_a_one_way_track():
    one_way = Track(
        "Express",
        (TrackPoint(53.30, -1.10, 0.0), TrackPoint(53.31, -1.10, 60.0)),
    )  # 1.1 km in a minute, then it has to come back
    replay = VehicleReplay(one_way, start=START)
    last, first_again = take(replay, 3)[1:]
    previous = Fix(last.point.lat, last.point.lon, last.due)
    new = Fix(first_again.point.lat, first_again.point.lon, first_again.due)
    assert check_teleport(previous, new) is None


def test_a_closed_loop_waits_one_typical_interval_before_restarting():
    closed = Track(
        "Loop",
        (
            TrackPoint(53.0, -1.0, 0.0),
            TrackPoint(53.001, -1.0, 3.0),
            TrackPoint(53.0, -1.0, 6.0),
        ),
    )
    emissions = take(VehicleReplay(closed, start=START), 4)
    assert emissions[3].due - emissions[2].due == timedelta(seconds=3)


def test_timestamp_is_a_pure_function_of_start_vehicle_and_index():
    a = VehicleReplay(track(), start=START, speedup=3)
    b = VehicleReplay(track(), start=START, speedup=3)
    streamed = take(a, 50)
    assert [b.emission(i) for i in range(50)] == streamed
    # random access far ahead equals what streaming would reach
    assert b.emission(1000) == next(a.emissions(1000))
    # resuming after a "reconnect" re-sends identical emissions
    assert take(a, 5, first=20) == streamed[20:25]


def test_due_times_are_whole_milliseconds_and_strictly_increasing():
    odd = track(offsets=(0.0, 0.0, 0.0004, 1.0 / 3.0, 7.77777))  # duplicates, sub-ms
    replay = VehicleReplay(odd, start=START, speedup=3)
    emissions = take(replay, 20)
    assert all(e.due.microsecond % 1000 == 0 for e in emissions)
    assert all(b.due > a.due for a, b in pairwise(emissions))
    assert all(e.due.tzinfo is not None and e.due.utcoffset() == timedelta(0) for e in emissions)


def test_different_starts_shift_every_timestamp():
    later = START + timedelta(hours=1)
    a = VehicleReplay(track(), start=START).emission(7)
    b = VehicleReplay(track(), start=later).emission(7)
    assert a is not None and b is not None
    assert b.due - a.due == timedelta(hours=1)


def test_first_index_due_after():
    replay = VehicleReplay(track(), start=START, return_speed_kmh=36)
    assert replay.first_index_due_after(START - timedelta(days=1)) == 0
    assert replay.first_index_due_after(START_MS) == 1
    assert replay.first_index_due_after(START_MS + timedelta(seconds=5)) == 2
    moment = START_MS + timedelta(seconds=replay.loop_wallclock_s * 3 + 1)
    index = replay.first_index_due_after(moment)
    assert replay.emission(index).due > moment
    assert replay.emission(index - 1).due <= moment


def test_ticked_mode_publishes_at_the_rate_and_interpolates():
    replay = VehicleReplay(track(offsets=(0.0, 10.0, 20.0)), start=START, rate_hz=2, speedup=1)
    emissions = take(replay, 5)
    assert [e.due - START_MS for e in emissions] == [timedelta(seconds=i / 2) for i in range(5)]
    # half a second of track time per tick: 1/20 of the way to the next point each tick
    assert emissions[1].point.lat == pytest.approx(53.37 + 0.0003 / 20)
    assert emissions[4].point.offset_s == pytest.approx(2.0)
    assert all(e.point_index == 0 for e in emissions)


def test_ticked_mode_speedup_moves_further_per_tick_and_loops():
    replay = VehicleReplay(track(offsets=(0.0, 10.0, 20.0)), start=START, rate_hz=1, speedup=5)
    emissions = take(replay, 12)
    assert emissions[2].point_index == 1  # 10 s of track time after 2 ticks
    assert emissions[2].point.lat == pytest.approx(53.37 + 0.0003)
    loops = [e.loop for e in emissions]
    assert loops == sorted(loops) and loops[-1] >= 1
    assert replay.first_index_due_after(START_MS + timedelta(seconds=3.5)) == 4


def test_ticked_mode_wrap_drives_back_towards_the_start():
    replay = VehicleReplay(
        track(offsets=(0.0, 10.0)), start=START, rate_hz=1, speedup=1, return_speed_kmh=3.6
    )
    # return leg: 0.0003 deg (~33 m) at 1 m/s, so ~33 s between the last and the first point
    emission = replay.emission(20)
    assert emission is not None and emission.loop == 0 and emission.point_index == 1
    assert 53.37 < emission.point.lat < 53.37 + 0.0003


def test_point_skipping_is_off_by_default_and_deterministic_when_on():
    plain = VehicleReplay(track(), start=START)
    assert [e.index for e in take(plain, 10)] == list(range(10))
    skipping = VehicleReplay(track(), start=START, skip_probability=0.5, seed=1)
    kept = [e.index for e in take(skipping, 200)]
    assert 0.3 < len(kept) / (kept[-1] + 1) < 0.7
    again = VehicleReplay(track(), start=START, skip_probability=0.5, seed=1)
    assert [e.index for e in take(again, 200)] == kept
    # a skipped index is skipped when accessed directly too, and kept ones keep their times
    skipped = next(i for i in range(200) if i not in kept)
    assert again.emission(skipped) is None
    assert again.emission(kept[5]) == plain.emission(kept[5])


def test_fleet_emissions_merge_in_due_order_and_resume_per_vehicle():
    tracks = [
        track("Van B", offsets=(0.0, 3.0, 6.0)),
        track("Van A", offsets=(0.0, 2.0, 5.0), lat0=53.38),
    ]
    replays = fleet_replays(tracks, start=START)
    merged = list(islice(fleet_emissions(replays), 20))
    assert [(e.due, e.vehicle) for e in merged] == sorted((e.due, e.vehicle) for e in merged)
    assert {e.vehicle for e in merged} == {"Van A", "Van B"}
    resumed = list(islice(fleet_emissions(replays, {"Van A": 4}), 10))
    assert min(e.index for e in resumed if e.vehicle == "Van A") == 4
    assert min(e.index for e in resumed if e.vehicle == "Van B") == 0


def test_fleet_rejects_two_tracks_for_one_vehicle():
    with pytest.raises(ValueError, match="City Truck"):
        fleet_replays([track(), track()], start=START)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"start": datetime(2025, 1, 1)},
        {"speedup": 0},
        {"rate_hz": 0},
        {"rate_hz": 5000},
        {"skip_probability": 1.0},
        {"return_speed_kmh": -1},
    ],
)
def test_invalid_settings_are_refused(kwargs):
    settings = {"start": START, **kwargs}
    with pytest.raises(ValueError):
        VehicleReplay(track(), **settings)


def test_negative_index_is_refused():
    with pytest.raises(ValueError):
        VehicleReplay(track(), start=START).emission(-1)


def test_emission_is_a_plain_value():
    emission = VehicleReplay(track(), start=START).emission(0)
    assert isinstance(emission, Emission)
    assert emission.vehicle == "City Truck"
    assert emission.point == TrackPoint(53.37, -1.5, 0.0)
