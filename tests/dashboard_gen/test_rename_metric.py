"""The promise: rename a metric in the code and both `check` and `lint` fail, naming the alert
that still uses the old name and where that alert is defined."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from services.position_tracker import telemetry
from tests.dashboard_gen.cli_run import REPO, dashboard_gen

OLD, NEW = "fleet_tracker_positions_stored_total", "fleet_tracker_positions_saved_total"


@pytest.fixture(scope="module")
def renamed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project (catalogs and committed artifacts) with the metric renamed in the
    tracker's catalog only: its hand-written alerts still say the old name."""
    root = tmp_path_factory.mktemp("renamed")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copy(REPO / "pyproject.toml", root)
    for folder in ("services", "alerts", "k8s/monitoring"):
        shutil.copytree(REPO / folder, root / folder, ignore=ignore)
    catalog = root / "services/position_tracker/telemetry.py"
    text = catalog.read_text()
    assert text.count(f'name="{OLD}"') == 1
    catalog.write_text(text.replace(f'name="{OLD}"', f'name="{NEW}"'))
    return root


def _where() -> str:
    (alert,) = [a for a in telemetry.ALERTS if a.name == "PositionsNotStored"]
    return f"services/position_tracker/telemetry.py:{alert.source.line}:"


@pytest.mark.parametrize("command", ["check", "lint"])
def test_rename_fails_naming_the_alert_and_its_source(renamed: Path, command: str):
    result = dashboard_gen(command, cwd=renamed, pythonpath=renamed)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if "PositionsNotStored" in line]
    assert lines, result.stdout
    assert any(
        line.startswith(_where())  # repository-relative
        and "bug: promql/metric-closure: alert PositionsNotStored: "
        f"{OLD} is not emitted by any service, recorded by any rule, or allow-listed "
        f"(did you mean {NEW}?) [alerts/rules/position-tracker.yml]"
        in line
        for line in lines
    ), lines
    # The SLO built from the metric itself follows the rename: its committed rules drifted.
    assert "the objects of SLO ingest-availability changed" in result.stdout
    if command == "check":
        assert f"+            (sum(rate({NEW}" in result.stdout  # the unified diff
