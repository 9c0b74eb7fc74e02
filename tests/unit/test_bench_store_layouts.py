"""The store-layout benchmark's pure parts: its day of positions, its bulk load (the documents
live writes leave), its percentiles, how it reads FerretDB's query plans, its table."""

from __future__ import annotations

import math
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.position_tracker import buckets
from services.position_tracker.buckets import BUCKET_SECONDS, bucket_id, bucket_start

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import store_layouts
import store_layouts_data as data

START = datetime(2026, 11, 30, tzinfo=UTC)


def test_a_sparse_day_is_a_report_every_86_4_seconds_per_vehicle_at_a_million() -> None:
    day = data.Dataset.sparse(1_000_000, START)
    assert day.interval == timedelta(seconds=86.4)
    assert day.end == START + timedelta(days=1)
    assert len(day.hours()) == 24
    first, second = day.position(0), day.position(1000)
    assert first.vehicle == second.vehicle == "veh-0000"
    assert second.timestamp - first.timestamp == timedelta(seconds=86.4)


def test_batches_hold_1000_positions_in_time_order() -> None:
    day = data.Dataset.sparse(5_500, START)
    batches = list(day.batches())
    assert [len(b) for b in batches] == [1000] * 5 + [500]
    moments = [p.timestamp for batch in batches for p in batch]
    assert moments == sorted(moments)
    assert len({(p.vehicle, p.timestamp) for batch in batches for p in batch}) == 5_500
    assert [len(b) for b in day.batches(2000, 3500)] == [1000, 500]


def test_a_dense_day_is_12_vehicles_at_1_hz() -> None:
    day = data.Dataset.dense(1_200, START)
    assert day.vehicles == 12
    assert {day.position(i).vehicle for i in range(12)} == {f"veh-{i:04d}" for i in range(12)}
    assert day.position(12).timestamp - day.position(0).timestamp == timedelta(seconds=1)


def test_timestamps_are_what_a_history_read_must_answer() -> None:
    day = data.Dataset.sparse(10_500, START)  # 10 full rounds, then half a round
    since = day.end - timedelta(hours=5)
    expected = sorted(
        (p.timestamp for batch in day.batches() for p in batch if p.vehicle == "veh-0600"),
        reverse=True,
    )
    assert day.timestamps(600, START, 100) == expected  # 10 reports: it missed the last round
    assert len(day.timestamps(400, START, 100)) == 11
    assert day.timestamps(400, START, 3) == day.timestamps(400, START, 100)[:3]
    assert all(at >= since for at in day.timestamps(400, since, 100))


def test_samples_are_random_vehicles_and_moments_inside_the_day_the_same_every_run() -> None:
    day = data.Dataset.sparse(100_000, START)
    picks = data.sample(day, 50)
    assert picks == data.sample(day, 50)
    assert len({vehicle for vehicle, _ in picks}) > 40
    assert all(day.start < moment < day.end for _, moment in picks)


def test_a_bulk_loaded_bucket_holds_a_chunk_per_batch_as_live_writes_leave_it() -> None:
    day = data.Dataset.dense(120, START)  # 12 vehicles, 10 s: one bucket each
    layout = data.Layout.__new__(data.Layout)  # no database: _add builds documents only
    docs: dict[str, dict[str, object]] = {}
    for batch in (day.position(i) for i in range(0, 60)), (day.position(i) for i in range(60, 120)):
        for (vehicle, start), items in data.by_bucket(batch).items():
            layout._add(docs, vehicle, start, items)
    key = bucket_id("veh-0003", bucket_start(START))
    assert len(docs) == 12
    chunks = docs[key]["chunks"]
    assert len(chunks) == 2  # type: ignore[arg-type]
    stored = buckets.unpack("veh-0003", (bytes(c) for c in chunks))  # type: ignore[attr-defined]
    assert sorted(stored) == [buckets.millis(day.position(i).timestamp) for i in range(3, 120, 12)]


def test_by_bucket_groups_a_batch_per_vehicle_and_five_minutes() -> None:
    day = data.Dataset.dense(12 * 2 * BUCKET_SECONDS, START)  # two buckets per vehicle
    grouped = data.by_bucket(day.position(i) for i in range(day.positions))
    assert len(grouped) == 24
    assert {len(items) for items in grouped.values()} == {BUCKET_SECONDS}


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert data.percentile(values, 0.5) == 50
    assert data.percentile(values, 0.99) == 99
    assert data.percentile([3.0], 0.99) == 3
    assert math.isnan(data.percentile([], 0.5))


@pytest.mark.parametrize(
    ("planner", "kind"),
    [
        ({"Plan": ["id=2 parent=0 notused=0 detail=SCAN positions_1a2b"]}, "SCAN"),
        (
            {"Plan": ["id=3 parent=0 notused=0 detail=SEARCH t USING INDEX t__id_ (<expr>=?)"]},
            "SEARCH",
        ),
        ({"Node Type": "x", "Plan": {"Node Type": "Seq Scan", "Filter": "..."}}, "Seq Scan"),
        (
            {
                "Plan": {
                    "Node Type": "Bitmap Heap Scan",
                    "Plans": [{"Node Type": "Bitmap Index Scan", "Index Name": "t_id_gin"}],
                }
            },
            "Index Scan",
        ),
        ({}, "?"),
    ],
)
def test_plan_kind_reads_sqlite_and_postgresql_plans(planner: dict[str, object], kind: str) -> None:
    assert data.plan_kind(planner) == kind


def test_durations_and_the_table() -> None:
    assert [data.ms(s) for s in (0.00042, 0.012, 3.4941)] == ["0.42", "12", "3,494"]
    assert data.ms(math.nan) == "-"
    table = data.markdown_table(["a", "b"], [["1", "x|y"]])
    assert table.splitlines() == ["| a | b |", "|---|---|", "| 1 | x\\|y |"]


def test_a_measure_cut_short_says_how_many_samples_it_got() -> None:
    cut = store_layouts.Timings([0.001, 0.003], planned=200)
    assert cut.cell() == "1.00 / 3.00 (n=2)"
    assert cut.cell(spread=False) == "1.00 (n=2)"
    assert store_layouts.Timings([], 5, "> 120 s (timed out)").cell() == "> 120 s (timed out)"
