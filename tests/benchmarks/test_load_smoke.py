"""The load benchmark runs (``bench/load.py``): its day-of-data scenario, at a tiny size, end to
end against the real broker and database. Not a measurement: it guards the script against the
code it drives (its previous-position part broke when the store's API changed, unseen because
nothing ran it), and a failed scenario must exit non-zero."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.stack

REPO = Path(__file__).resolve().parents[2]
TINY_DAY = [
    "--vehicles", "20", "--hours", "1", "--live-hours", "1",
    "--history-requests", "5", "--limit-requests", "2", "--lookups", "5",
    "--ingest-rounds", "1", "--ingest-positions", "3000",
    "--new-vehicles", "20", "--live-seconds", "6", "--new-at", "2",
]  # fmt: skip


def load(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "bench" / "load.py"), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_the_day_of_data_scenario_runs_end_to_end():
    result = load("day-of-data", *TINY_DAY)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "failed" not in result.stdout
    for part in ("history, last hour", "previous-position lookup", "ingest rate", "new vehicles"):
        assert part in result.stdout, part
    assert "new vehicles: 0 lost, 0 duplicated" in result.stdout


def test_a_failed_scenario_exits_non_zero():
    # one batch holds all 200 positions: no rate can be measured, the scenario fails
    args = [*TINY_DAY]
    args[args.index("--ingest-positions") + 1] = "200"
    result = load("day-of-data", *args)
    assert result.returncode != 0
    assert "no rate to measure" in result.stdout + result.stderr
