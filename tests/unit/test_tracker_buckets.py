"""The history's layout, as pure functions: bucket and partition names, records, merging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.position_tracker import buckets
from services.position_tracker.positions import StoredPosition

T0 = datetime(2026, 12, 2, 7, 58, 30, 250000, tzinfo=UTC)


def position(moment: datetime, speed: float | None = 12.5, stored: datetime | None = None):
    return StoredPosition(
        "Van",
        53.372802939265966,
        -1.4833488408476114,
        moment,
        speed,
        None if speed is None else 271.25,
        stored or moment,
    )


def test_a_bucket_is_five_minutes_and_an_hour_holds_twelve():
    assert buckets.bucket_start(T0) == datetime(2026, 12, 2, 7, 55, tzinfo=UTC)
    assert buckets.bucket_start(datetime(2026, 12, 2, 8, 0, tzinfo=UTC)) == datetime(
        2026, 12, 2, 8, 0, tzinfo=UTC
    )
    starts = list(buckets.buckets_between(T0 + timedelta(minutes=5), T0 - timedelta(hours=1)))
    assert starts[0] == datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    assert starts[-1] == datetime(2026, 12, 2, 6, 55, tzinfo=UTC)
    assert len(starts) == 14 and starts == sorted(starts, reverse=True)
    assert list(buckets.buckets_between(T0, T0)) == [buckets.bucket_start(T0)]
    assert list(buckets.buckets_between(T0 - timedelta(hours=1), T0)) == []


def test_partitions_are_hours_and_nothing_else_is_taken_for_one():
    start = buckets.bucket_start(T0)
    assert buckets.partition(start) == "positions.2026-12-02T07"
    assert buckets.partition_hour("positions.2026-12-02T07") == datetime(2026, 12, 2, 7, tzinfo=UTC)
    assert buckets.partition_end("positions.2026-12-02T07") == datetime(2026, 12, 2, 8, tzinfo=UTC)
    for other in (
        "positions",
        "vehicles",
        "positions.old",
        "migrations",
        "positions.2026-13-01T00",
    ):
        assert buckets.partition_end(other) is None


def test_bucket_ids_never_collide_whatever_the_vehicle_names():
    start = buckets.bucket_start(T0)
    later = start + timedelta(minutes=5)
    ids = {
        buckets.bucket_id("a", start),
        buckets.bucket_id("a", later),
        buckets.bucket_id("a|2026-12-02T07:55:00Z", start),
        buckets.bucket_id("a|2026-12-02T07:55:00Z|a", start),
    }
    assert len(ids) == 4


def test_records_keep_every_value_to_the_millisecond():
    moving, first = position(T0), position(T0 + timedelta(seconds=1), speed=None)
    found = buckets.unpack("Van", [buckets.pack([moving, first])])
    by_time = sorted(found.values(), key=lambda p: p.timestamp)
    assert by_time[0].timestamp == T0.replace(microsecond=250000)
    assert by_time[0].lat == moving.lat and by_time[0].lng == moving.lng  # bit for bit
    assert (by_time[0].speed_kmh, by_time[0].heading) == (12.5, 271.25)
    assert (by_time[1].speed_kmh, by_time[1].heading) == (None, None)
    assert len(buckets.pack([moving])) == buckets.RECORD.size == 48


def test_a_position_written_twice_is_read_once_as_first_stored():
    early = position(T0, stored=T0 + timedelta(seconds=1))
    again = position(T0, stored=T0 + timedelta(seconds=9))
    chunks = [buckets.pack([again]), buckets.pack([early]), buckets.pack([again])]
    (kept,) = buckets.unpack("Van", chunks).values()
    assert kept.stored_at == early.stored_at
