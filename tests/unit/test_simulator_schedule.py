"""The simulator's schedule: vehicle selection, start phases, due order, cursors, backlog."""

from datetime import UTC, datetime, timedelta

import pytest

from services.position_simulator.publisher import JMS_MAP_JSON_HEADERS, encode
from services.position_simulator.replay import Emission
from services.position_simulator.schedule import (
    Schedule,
    build_replays,
    select_tracks,
    top_speed_kmh,
)
from services.position_simulator.tracks import Track, TrackPoint
from services.positions.formats import BodyFormat
from services.positions.messages import Position, parse_position

NOW = datetime(2025, 10, 30, 15, 0, 0, 123456, tzinfo=UTC)
NOW_MS = NOW.replace(microsecond=123000)


def track(vehicle: str, points: int = 20) -> Track:
    return Track(vehicle, tuple(TrackPoint(53.37 + i * 1e-4, -1.5, i * 5.0) for i in range(points)))


FLEET = [track("Van C"), track("Van A"), track("Van B")]


def schedule(rate_hz: float = 2.0, seed: int | None = None, **options) -> Schedule:
    replays, first = build_replays(
        FLEET, now=NOW, rate_hz=rate_hz, speedup=1.0, seed=seed, **options
    )
    return Schedule(replays, first)


def publish(sched: Schedule, count: int) -> list[Emission]:
    sent = []
    for _ in range(count):
        emission = sched.peek()
        sched.acknowledged(emission)
        sent.append(emission)
    return sent


def test_the_first_vehicles_by_name_are_selected():
    assert [t.vehicle for t in select_tracks(FLEET, 2)] == ["Van A", "Van B"]
    assert [t.vehicle for t in select_tracks(FLEET, None)] == ["Van A", "Van B", "Van C"]
    with pytest.raises(ValueError, match="4 vehicles asked for, but the tracks hold 3"):
        select_tracks(FLEET, 4)


def test_one_position_per_vehicle_per_tick_in_due_then_name_order():
    sent = publish(schedule(rate_hz=2.0), 6)
    assert [(e.vehicle, e.index) for e in sent] == [
        ("Van A", 0), ("Van B", 0), ("Van C", 0), ("Van A", 1), ("Van B", 1), ("Van C", 1),
    ]  # fmt: skip
    assert [e.due for e in sent[::3]] == [NOW_MS, NOW_MS + timedelta(milliseconds=500)]


def test_an_unacknowledged_position_stays_next_with_the_same_timestamp():
    sched = schedule()
    first = sched.peek()
    assert sched.peek() == first  # a failed publish leaves the cursor: the resend is identical
    sched.acknowledged(first)
    assert sched.peek() != first
    assert sched.cursor(first.vehicle) == 1
    with pytest.raises(ValueError):
        sched.acknowledged(first)  # only the emission at the head can be acknowledged


def test_without_a_seed_every_vehicle_starts_at_its_first_point():
    sent = publish(schedule(), 3)
    assert {(e.index, e.point_index, e.loop) for e in sent} == {(0, 0, 0)}


def test_a_seed_staggers_the_start_reproducibly():
    a, b, other = schedule(seed=7), schedule(seed=7), schedule(seed=8)
    first_a, first_b = publish(a, 3), publish(b, 3)
    assert first_a == first_b
    assert first_a != publish(other, 3)
    assert len({e.point.lat for e in first_a}) == 3  # each vehicle somewhere else on its track
    for emission in first_a:  # due from now on, within one tick
        assert NOW_MS <= emission.due < NOW_MS + timedelta(milliseconds=500)


def test_a_seeded_replay_depends_on_the_clock_only_so_a_restart_resumes_it():
    later = NOW + timedelta(minutes=7)
    before_restart = build_replays(FLEET, now=NOW, rate_hz=2.0, speedup=1.0, seed=7)[0]
    after_restart, first = build_replays(FLEET, now=later, rate_hz=2.0, speedup=1.0, seed=7)
    for vehicle, replay in after_restart.items():
        resumed = replay.emission(first[vehicle])
        same = before_restart[vehicle].emission(first[vehicle])
        assert (resumed.due, resumed.point) == (same.due, same.point)
        assert later <= resumed.due < later + timedelta(milliseconds=500)


def test_a_long_backlog_is_skipped_to_the_given_moment():
    sched = schedule(rate_hz=10.0)
    later = NOW_MS + timedelta(seconds=3)
    assert sched.skip_due_before(later) == 3 * 30  # 30 ticks for each of the 3 vehicles
    assert sched.peek().due == later
    assert sched.skip_due_before(later) == 0


def test_skipped_emissions_are_left_out():
    sent = publish(schedule(rate_hz=10.0, seed=1, skip_probability=0.5), 60)
    per_vehicle = {e.vehicle: [x.index for x in sent if x.vehicle == e.vehicle] for e in sent}
    for indexes in per_vehicle.values():
        assert indexes == sorted(indexes)
        assert len(indexes) < indexes[-1] - indexes[0] + 1  # some indexes never went out


def test_schedule_needs_vehicles():
    with pytest.raises(ValueError, match="no vehicles"):
        Schedule({})


def test_json_body_and_fleetman_map_message():
    emission = schedule().peek()
    body, headers = encode(emission, BodyFormat.JSON)
    assert headers == {"JMSXGroupID": "Van A"}  # the vehicle's message group, in both formats
    assert body == (
        '{"vehicle": "Van A", "lat": 53.37, "lng": -1.5, "timestamp": "2025-10-30T15:00:00.123Z"}'
    )
    body, headers = encode(emission, BodyFormat.FLEETMAN)
    assert headers == {**JMS_MAP_JSON_HEADERS, "JMSXGroupID": "Van A"}
    assert JMS_MAP_JSON_HEADERS == {"transformation": "jms-map-json"}
    position = parse_position(body, now=NOW)
    assert isinstance(position, Position)
    assert position.body_format is BodyFormat.JMS_MAP_JSON
    assert (position.vehicle, position.latitude, position.timestamp) == ("Van A", 53.37, NOW_MS)
    assert '"time", "2025-10-30T15:00:00.123+0000"' in body


def test_top_speed_of_the_tracks():
    # 1e-4 degrees of latitude (about 11.1 m) every 5 s: 8 km/h.
    assert top_speed_kmh(FLEET) == pytest.approx(11.13 / 5 * 3.6, rel=1e-3)
