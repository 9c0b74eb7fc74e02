"""The pure parts of the load benchmark (bench/load.py): reading vegeta's reports and results,
which step rate was sustained, the recovery time after a burst, stalls, lost and duplicated
positions, the day's schedule. No vegeta, no stack."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from loadlib.stats import (
    Probe,
    Tally,
    highest_sustained,
    longest_gap,
    percentile,
    reconcile,
    recovery_time,
)
from loadlib.tracks import Fleet, Schedule
from loadlib.vegeta import parse_report, parse_result, rate_flag, targets_text

from services.positions.geo import distance_m
from services.stack.gotools import GO_TOOLS

#: ``vegeta report -type=json`` of a step (v12.13.0), latencies in nanoseconds.
REPORT = {
    "latencies": {
        "total": 94061307,
        "mean": 940613,
        "50th": 872899,
        "90th": 1172566,
        "95th": 1506215,
        "99th": 2377180,
        "max": 2604427,
        "min": 615297,
    },
    "bytes_in": {"total": 267908, "mean": 2679.08},
    "bytes_out": {"total": 0, "mean": 0},
    "earliest": "2026-12-02T08:53:29.393760734Z",
    "latest": "2026-12-02T08:53:31.373868314Z",
    "end": "2026-12-02T08:53:31.374667133Z",
    "duration": 1980107580,
    "wait": 798819,
    "requests": 100,
    "rate": 50.50230654639482,
    "throughput": 48.4819410197685,
    "success": 0.96,
    "status_codes": {"200": 96, "503": 3, "0": 1},
    "errors": ["503 Service Unavailable", "Get ...: connection refused"],
}


class Step:
    def __init__(self, rate: float, p99_ms: float, failed: int = 0) -> None:
        self.rate, self.p99_ms, self.failed = rate, p99_ms, failed


def test_a_report_is_read_in_milliseconds_with_its_status_codes() -> None:
    report = parse_report(json.dumps(REPORT))
    assert report.requests == 100
    assert report.p50_ms == pytest.approx(0.872899)
    assert report.p99_ms == pytest.approx(2.37718)
    assert report.max_ms == pytest.approx(2.604427)
    assert report.rate == pytest.approx(50.5023, abs=1e-3)
    assert report.throughput == pytest.approx(48.4819, abs=1e-3)
    assert report.status == {"200": 96, "503": 3, "0": 1}
    assert (report.ok, report.failed) == (96, 4)
    assert report.codes() == "4 (0: 1, 200: 96, 503: 3)"
    assert report.errors == ("503 Service Unavailable", "Get ...: connection refused")


def test_a_report_with_no_answer_at_all_has_no_status_codes() -> None:
    empty = {**REPORT, "status_codes": None, "errors": None, "requests": 0}
    report = parse_report(json.dumps(empty))
    assert (report.ok, report.failed, report.codes()) == (0, 0, "0")


def test_a_result_line_gives_its_sending_time_latency_and_retry_after() -> None:
    line = json.dumps(
        {
            "attack": "burst",
            "seq": 4,
            "code": 503,
            "timestamp": "2026-12-02T08:55:50.513076257Z",
            "latency": 2016733,
            "bytes_out": 0,
            "bytes_in": 94,
            "error": "503 Service Unavailable",
            "body": None,
            "method": "GET",
            "url": "http://127.0.0.1:8000/api/vehicles",
            "headers": {"Retry-After": ["1"], "Content-Type": ["application/problem+json"]},
        }
    )
    result = parse_result(line)
    assert result.code == 503 and result.retry_after == "1"
    assert result.latency_ms == pytest.approx(2.016733)
    assert result.sent == pytest.approx(1796201750.513076)
    no_answer = json.loads(line) | {"code": 0, "headers": None, "error": "connection reset"}
    result = parse_result(json.dumps(no_answer))
    assert (result.code, result.retry_after, result.error) == (0, None, "connection reset")


def test_rates_and_targets_are_written_as_vegeta_reads_them() -> None:
    assert rate_flag(250.0) == "250"
    assert rate_flag(10.5) == "10500/1000s"
    assert rate_flag("300/2s") == "300/2s"
    assert targets_text(["http://a/x", "http://a/y"]) == "GET http://a/x\n\nGET http://a/y\n\n"


def test_vegeta_is_a_go_tool_named_as_go_install_names_it() -> None:
    vegeta = GO_TOOLS["vegeta"]
    assert vegeta.spec == "github.com/tsenart/vegeta/v12@v12.13.0"
    assert vegeta.name == "vegeta"  # not "v12": the major version suffix is no binary name
    assert GO_TOOLS["kubeconform"].name == "kubeconform"


def test_the_highest_sustained_rate_is_the_last_before_the_first_miss() -> None:
    steps = [
        (500, Step(500, 20)),
        (250, Step(250, 10)),
        (1000, Step(1000, 90)),
        (1500, Step(1500, 140)),  # p99 over 100 ms
        (2000, Step(2000, 60)),  # passes by luck after a miss: not sustained
    ]
    assert highest_sustained(steps) == 1000
    assert highest_sustained(steps, p99_ms=50) == 500


def test_a_step_with_an_error_or_not_really_sent_is_not_sustained() -> None:
    assert highest_sustained([(250, Step(250, 5)), (500, Step(500, 5, failed=1))]) == 250
    # vegeta could only send 900 of the 1,000 asked a second: that rate was never offered.
    assert highest_sustained([(250, Step(250, 5)), (1000, Step(900, 5))]) == 250
    assert highest_sustained([(250, Step(250, 101))]) is None
    assert highest_sustained([]) is None


def test_recovery_is_the_first_of_twenty_normal_answers_in_a_row() -> None:
    bad = [Probe(0.1 * i, 503, 2.0) for i in range(10)]  # shed for a second
    slow = [Probe(1.0 + 0.1 * i, 200, 80.0) for i in range(5)]  # answered, but slowly
    good = [Probe(1.5 + 0.1 * i, 200, 9.0) for i in range(19)]
    blip = [Probe(3.4, 504, 2000.0)]
    after = [Probe(3.5 + 0.1 * i, 200, 9.0) for i in range(20)]
    probes = bad + slow + good + blip + after
    assert recovery_time(probes, normal_ms=10.0) == pytest.approx(3.5)
    # Only 19 good in a row before the blip: not yet recovered there.
    assert recovery_time(bad + slow + good, normal_ms=10.0) is None
    # Slow answers count as normal when the p99 before the burst was that slow.
    assert recovery_time(probes, normal_ms=100.0) == pytest.approx(1.0)


def test_recovery_is_zero_when_answers_were_normal_from_the_end_of_the_burst() -> None:
    probes = [Probe(-0.05 + 0.1 * i, 200, 1.0) for i in range(25)]  # the first sent just before
    assert recovery_time(probes, normal_ms=2.0) == 0.0
    assert recovery_time(reversed(probes), normal_ms=2.0) == 0.0  # order of the input: any
    assert recovery_time([], normal_ms=2.0) is None


def test_the_longest_gap_and_when_it_began() -> None:
    assert longest_gap([3.0, 0.0, 0.5, 1.0, 2.5]) == (1.5, 1.0)
    gap, began = longest_gap([1.0])
    assert gap == 0.0 and math.isnan(began)


def test_percentiles_are_nearest_rank() -> None:
    values = list(range(101))  # 0 to 100
    assert (percentile(values, 50), percentile(values, 99), percentile(values, 100)) == (
        50,
        99,
        100,
    )
    assert math.isnan(percentile([], 50))


def test_lost_duplicated_and_unexpected_positions_are_counted() -> None:
    published = [("a", 1), ("a", 2), ("b", 1), ("b", 2)]
    stored = [("a", 1), ("a", 1), ("a", 1), ("b", 1), ("b", 2), ("c", 9)]
    tally = reconcile(published, stored)
    assert tally == Tally(published=4, lost=1, duplicated=2, unexpected=1)
    assert str(tally) == "1 lost, 2 duplicated of 4, 1 unexpected"
    assert str(reconcile(published, published) + tally) == "1 lost, 2 duplicated of 8, 1 unexpected"


def test_the_day_is_every_vehicle_at_its_interval_and_the_slices_cover_it_once() -> None:
    day = Schedule(vehicles=3, start_ms=1_000_000, interval_ms=900, count=4)
    everything = day.between(day.start_ms, day.end_ms)
    assert len(everything) == day.total == 12
    assert everything == sorted(everything, key=lambda r: (r[1], r[0]))
    assert [at for v, at in everything if v == 1] == [1_000_300, 1_001_200, 1_002_100, 1_003_000]
    sliced = [r for part in day.slices(day.start_ms, day.end_ms, 1000) for r in part]
    assert sliced == everything
    # One slice an interval holds one report of each vehicle (the live-like pre-fill writes).
    per_interval = list(day.slices(day.start_ms, day.end_ms, day.interval_ms))
    assert all(sorted(v for v, _ in part) == [0, 1, 2] for part in per_interval)


def test_tracks_stay_around_sheffield_under_their_top_speed() -> None:
    fleet = Fleet.make(50, seed=7)
    assert Fleet.make(10, seed=7).tracks == fleet.tracks[:10]  # new vehicles extend the fleet
    assert fleet.names[0] == "Load Van 00"
    for vehicle in range(50):
        for second in range(0, 86_400, 997):
            lat, lng = fleet.point(vehicle, second * 1000)
            assert distance_m(53.3811, -1.4701, lat, lng) < 15_000
            moved = distance_m(lat, lng, *fleet.point(vehicle, (second + 1) * 1000))
            assert moved * 3.6 < 100  # km/h over one second
    # Vehicle 0's report before this one would be before the first: none, so no speed.
    positions = fleet.stored([(0, 86_400), (1, 86_700)], interval_ms=86_400, first_ms=200)
    assert positions[0].speed_kmh is None and positions[0].heading is None
    assert 0 < positions[1].speed_kmh < 100
