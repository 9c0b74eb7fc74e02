"""The tracker's batch decisions: speed chains, out-of-order delivery, refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from services.position_tracker.geo import distance_m
from services.position_tracker.messages import Rejection, RejectReason
from services.position_tracker.processing import Incoming, Limits, PreviousPositions, decide
from services.position_tracker.store import StoredPosition

T0 = datetime(2026, 11, 25, 10, 0, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)
LIMITS = Limits(timedelta(minutes=5), 300.0)


def message(vehicle: str, lat: float, lng: float, at: datetime) -> Incoming:
    body = json.dumps({"vehicle": vehicle, "lat": lat, "lng": lng, "timestamp": at.isoformat()})
    return Incoming(body, {"message-id": f"{vehicle}-{at.timestamp()}"}, 0)


def stored(vehicle: str, lat: float, lng: float, at: datetime) -> StoredPosition:
    return StoredPosition(vehicle, lat, lng, at, None, None, at)


class Lookups:
    """A previous-position lookup over a list, recording what it was asked."""

    def __init__(self, positions: list[StoredPosition]) -> None:
        self.positions = positions
        self.asked: list[tuple[str, datetime]] = []

    def __call__(self, vehicle: str, before: datetime) -> StoredPosition | None:
        self.asked.append((vehicle, before))
        older = [p for p in self.positions if p.vehicle == vehicle and p.timestamp < before]
        return max(older, key=lambda p: p.timestamp, default=None)


def test_first_report_has_no_speed_and_the_next_is_chained_in_the_batch():
    lookups = Lookups([])
    batch = [message("A", 53.0, -1.5, T0), message("A", 53.001, -1.5, T0 + timedelta(seconds=10))]
    first, second = (d.outcome for d in decide(batch, PreviousPositions(lookups), NOW, LIMITS))
    assert isinstance(first, StoredPosition) and first.speed_kmh is None
    expected = distance_m(53.0, -1.5, 53.001, -1.5) / 10 * 3.6
    assert isinstance(second, StoredPosition)
    assert abs(second.speed_kmh - expected) < 1e-6
    assert abs(second.heading - 0.0) < 0.01  # due north
    assert lookups.asked == [("A", T0)]  # one lookup: the second is chained to the first


def test_batch_order_does_not_matter_for_speed():
    batch = [message("A", 53.001, -1.5, T0 + timedelta(seconds=10)), message("A", 53.0, -1.5, T0)]
    later, earlier = (d.outcome for d in decide(batch, PreviousPositions(Lookups([])), NOW, LIMITS))
    assert earlier.speed_kmh is None
    assert later.speed_kmh is not None and later.speed_kmh > 0


def test_out_of_order_message_is_measured_against_the_stored_position_before_it():
    history = [stored("A", 53.0, -1.5, T0), stored("A", 53.01, -1.5, T0 + timedelta(minutes=2))]
    cache = PreviousPositions(Lookups(history))
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
    outcomes = [d.outcome for d in decide(batch, PreviousPositions(Lookups([])), NOW, LIMITS)]
    assert isinstance(outcomes[1], Rejection) and outcomes[1].reason is RejectReason.TELEPORT
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
    decisions = decide(batch, PreviousPositions(Lookups([])), NOW, LIMITS)
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
    outcomes = [d.outcome for d in decide(batch, PreviousPositions(Lookups([])), NOW, LIMITS)]
    a_speed = distance_m(53.0, -1.5, 53.001, -1.5) / 10 * 3.6
    b_speed = distance_m(52.0, -1.0, 52.0, -1.002) / 10 * 3.6
    assert abs(outcomes[3].speed_kmh - a_speed) < 1e-6
    assert abs(outcomes[2].speed_kmh - b_speed) < 1e-6
    assert abs(outcomes[2].heading - 270.0) < 0.1  # due west
