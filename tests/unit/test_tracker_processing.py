"""The tracker's batch decisions: speed chains, out-of-order delivery, refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from services.position_tracker.buckets import millis
from services.position_tracker.positions import StoredPosition
from services.position_tracker.processing import Incoming, Limits, PreviousPositions, decide
from services.positions.geo import distance_m
from services.positions.messages import Rejection, RejectReason

T0 = datetime(2026, 11, 25, 10, 0, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)
LIMITS = Limits(timedelta(minutes=5), 300.0)


def message(vehicle: str, lat: float, lng: float, at: datetime) -> Incoming:
    body = json.dumps({"vehicle": vehicle, "lat": lat, "lng": lng, "timestamp": at.isoformat()})
    return Incoming(body, {"message-id": f"{vehicle}-{at.timestamp()}"}, 0)


def stored(vehicle: str, lat: float, lng: float, at: datetime) -> StoredPosition:
    return StoredPosition(vehicle, lat, lng, at, None, None, at)


class Lookups:
    """The store's lookups over a list of stored positions, recording what they were asked."""

    def __init__(self, positions: list[StoredPosition]) -> None:
        self.positions = positions
        self.asked: list[tuple[str, datetime]] = []
        self.asked_latest: list[set[str]] = []
        self.asked_stored: list[tuple[str, datetime, datetime]] = []

    def __call__(self, vehicle: str, before: datetime) -> StoredPosition | None:
        self.asked.append((vehicle, before))
        older = [p for p in self.positions if p.vehicle == vehicle and p.timestamp < before]
        return max(older, key=lambda p: p.timestamp, default=None)

    def stored_times(self, vehicle: str, oldest: datetime, newest: datetime) -> set[int]:
        self.asked_stored.append((vehicle, oldest, newest))
        return {
            millis(p.timestamp)
            for p in self.positions
            if p.vehicle == vehicle and oldest <= p.timestamp <= newest
        }

    def latest_of(self, vehicles) -> dict[str, StoredPosition]:
        self.asked_latest.append(set(vehicles))
        latest: dict[str, StoredPosition] = {}
        for p in (p for p in self.positions if p.vehicle in self.asked_latest[-1]):
            if p.vehicle not in latest or p.timestamp > latest[p.vehicle].timestamp:
                latest[p.vehicle] = p
        return latest


def previous(lookups: Lookups) -> PreviousPositions:
    return PreviousPositions(lookups, lookups.latest_of, lookups.stored_times)


def test_first_report_has_no_speed_and_the_next_is_chained_in_the_batch():
    lookups = Lookups([])
    batch = [message("A", 53.0, -1.5, T0), message("A", 53.001, -1.5, T0 + timedelta(seconds=10))]
    first, second = (d.outcome for d in decide(batch, previous(lookups), NOW, LIMITS))
    assert isinstance(first, StoredPosition) and first.speed_kmh is None
    expected = distance_m(53.0, -1.5, 53.001, -1.5) / 10 * 3.6
    assert isinstance(second, StoredPosition)
    assert abs(second.speed_kmh - expected) < 1e-6
    assert abs(second.heading - 0.0) < 0.01  # due north
    # One read, of the vehicles new to the tracker; the second is chained to the first.
    assert lookups.asked_latest == [{"A"}] and lookups.asked == []


def test_batch_order_does_not_matter_for_speed():
    batch = [message("A", 53.001, -1.5, T0 + timedelta(seconds=10)), message("A", 53.0, -1.5, T0)]
    later, earlier = (d.outcome for d in decide(batch, previous(Lookups([])), NOW, LIMITS))
    assert earlier.speed_kmh is None
    assert later.speed_kmh is not None and later.speed_kmh > 0


def test_out_of_order_message_is_measured_against_the_stored_position_before_it():
    history = [stored("A", 53.0, -1.5, T0), stored("A", 53.01, -1.5, T0 + timedelta(minutes=2))]
    cache = previous(Lookups(history))
    cache.commit(history)
    late = message("A", 53.005, -1.5, T0 + timedelta(minutes=1))
    (decision,) = decide([late], cache, NOW, LIMITS)
    expected = distance_m(53.0, -1.5, 53.005, -1.5) / 60 * 3.6
    assert abs(decision.outcome.speed_kmh - expected) < 1e-6


def test_teleport_is_refused_and_does_not_break_the_chain():
    batch = [
        message("A", 53.0, -1.5, T0),
        message("A", 54.0, -1.5, T0 + timedelta(seconds=10)),  # 111 km in 10 s
        message("A", 53.0005, -1.5, T0 + timedelta(seconds=20)),
    ]
    outcomes = [d.outcome for d in decide(batch, previous(Lookups([])), NOW, LIMITS)]
    assert isinstance(outcomes[1], Rejection) and outcomes[1].reason is RejectReason.TELEPORT
    assert outcomes[1].vehicle == "A"  # named in the dead letter's log record
    third = outcomes[2]
    assert isinstance(third, StoredPosition)
    expected = distance_m(53.0, -1.5, 53.0005, -1.5) / 20 * 3.6
    assert abs(third.speed_kmh - expected) < 1e-6


def test_bad_messages_are_refused_with_their_reason_and_good_ones_kept():
    batch = [
        Incoming("{not json", {}, 0),
        message("A", 91.0, -1.5, T0),
        message("B", 53.0, -1.5, NOW + timedelta(hours=1)),
        message("C", 53.0, -1.5, T0),
    ]
    decisions = decide(batch, previous(Lookups([])), NOW, LIMITS)
    reasons = [getattr(d.outcome, "reason", None) for d in decisions]
    assert reasons == [
        RejectReason.BAD_JSON,
        RejectReason.LATITUDE_OUT_OF_RANGE,
        RejectReason.FUTURE_TIMESTAMP,
        None,
    ]
    assert decisions[3].vehicle == "C"
    assert [d.body_format for d in decisions] == ["unknown", "unknown", "unknown", "json"]


def test_interleaved_vehicles_each_chain_to_their_own_positions():
    step = timedelta(seconds=10)
    batch = [
        message("A", 53.0, -1.5, T0),
        message("B", 52.0, -1.0, T0),
        message("B", 52.0, -1.002, T0 + step),
        message("A", 53.001, -1.5, T0 + step),
    ]
    outcomes = [d.outcome for d in decide(batch, previous(Lookups([])), NOW, LIMITS)]
    a_speed = distance_m(53.0, -1.5, 53.001, -1.5) / 10 * 3.6
    b_speed = distance_m(52.0, -1.0, 52.0, -1.002) / 10 * 3.6
    assert abs(outcomes[3].speed_kmh - a_speed) < 1e-6
    assert abs(outcomes[2].speed_kmh - b_speed) < 1e-6
    assert abs(outcomes[2].heading - 270.0) < 0.1  # due west


def test_a_redelivered_position_is_a_duplicate_with_the_speed_it_had():
    history = [stored("A", 53.0, -1.5, T0), stored("A", 53.01, -1.5, T0 + timedelta(minutes=2))]
    cache = previous(Lookups(history))
    again = message("A", 53.01, -1.5, T0 + timedelta(minutes=2))
    (decision,) = decide([again], cache, NOW, LIMITS)
    assert decision.duplicate
    expected = distance_m(53.0, -1.5, 53.01, -1.5) / 120 * 3.6
    assert abs(decision.outcome.speed_kmh - expected) < 1e-6


def test_the_same_position_twice_in_a_batch_is_stored_once():
    twice = [message("A", 53.0, -1.5, T0), message("A", 53.0, -1.5, T0)]
    first, second = decide(twice, previous(Lookups([])), NOW, LIMITS)
    assert not first.duplicate and second.duplicate
    assert first.outcome == second.outcome


def test_vehicles_new_to_the_tracker_are_read_in_one_query_not_one_each():
    lookups = Lookups([stored("V0001", 53.0, -1.5, T0)])
    batch = [message(f"V{i:04d}", 53.001, -1.5, T0 + timedelta(seconds=10)) for i in range(1000)]
    decisions = decide(batch, previous(lookups), NOW, LIMITS)
    assert lookups.asked_latest == [{f"V{i:04d}" for i in range(1000)}] and lookups.asked == []
    speeds = [d.outcome.speed_kmh for d in decisions]
    assert speeds[1] is not None and speeds.count(None) == 999  # only V0001 had a position


def test_timestamps_are_kept_to_the_millisecond_as_stored():
    at = T0.replace(microsecond=123456)
    (decision,) = decide([message("A", 53.0, -1.5, at)], previous(Lookups([])), NOW, LIMITS)
    assert decision.outcome.timestamp == T0.replace(microsecond=123000)


def test_another_tracker_may_have_stored_since_so_ungrouped_vehicles_are_read_again():
    """Two trackers without message groups: the one that stored A at T0 must not chain A's
    next position to it when the other stored A at T0+10 s meanwhile."""
    lookups = Lookups([])
    mine = previous(lookups)
    (first,) = decide([message("A", 53.0, -1.5, T0)], mine, NOW, LIMITS)
    mine.commit([first.outcome])
    lookups.positions = [
        stored("A", 53.0, -1.5, T0),
        stored("A", 53.01, -1.5, T0 + timedelta(seconds=10)),
    ]
    (decision,) = decide(
        [message("A", 53.011, -1.5, T0 + timedelta(seconds=20))], mine, NOW, LIMITS
    )
    expected = distance_m(53.01, -1.5, 53.011, -1.5) / 10 * 3.6
    assert abs(decision.outcome.speed_kmh - expected) < 1e-6
    assert lookups.asked_latest == [{"A"}, {"A"}]


def test_every_position_of_a_redelivered_batch_is_a_duplicate_not_only_each_vehicles_first():
    """A crash after the write and before the ack: the batch comes back to a fresh tracker. Its
    positions chain to each other, and each is recognised as stored, not only the first."""
    batch = [message("A", 53.0 + i * 0.001, -1.5, T0 + timedelta(seconds=10 * i)) for i in range(5)]
    lookups = Lookups([])
    first = decide(batch, previous(lookups), NOW, LIMITS)
    assert lookups.asked_stored == []  # in order: nothing can be stored, nothing is read
    # Stored up to the third position (the crash came mid-batch on another write)
    lookups.positions = [d.outcome for d in first[:3]]
    again = decide(batch, previous(lookups), NOW, LIMITS)
    assert [d.duplicate for d in again] == [True, True, True, False, False]
    assert [d.outcome.speed_kmh for d in again] == [d.outcome.speed_kmh for d in first]
    # one walk through the vehicle's buckets for the whole period, not one per position
    assert lookups.asked_stored == [("A", T0, T0 + timedelta(seconds=20))]
