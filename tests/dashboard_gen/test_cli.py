"""The CLI people and CI run: help everywhere, exit codes 0/1/2, text and JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.dashboard_gen.cli_run import REPO, dashboard_gen, shop_project

COMMANDS = ("generate", "check", "lint", "list", "artifacts")


@pytest.mark.parametrize("args", [(), *((c,) for c in COMMANDS)])
def test_help_everywhere(args):
    result = dashboard_gen(*args, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: dashboard-gen")


def test_the_repository_is_current_and_clean():
    """CI's gate: `dashboard-gen check && dashboard-gen lint` on the committed files."""
    check = dashboard_gen("check")
    assert (check.returncode, check.stdout) == (0, "no problems found\n"), (
        check.stdout + check.stderr
    )
    lint = dashboard_gen("lint", "--format", "json")
    assert lint.returncode == 0, lint.stdout
    report = json.loads(lint.stdout)
    assert report["problems"] == []
    assert "alerts/test-coverage" in report["checks"]
    assert dashboard_gen("generate", "--dry-run").stdout.startswith("would change 0 file(s), ")


def test_list_is_the_inventory():
    text = dashboard_gen("list").stdout
    assert "fleet_tracker_positions_stored_total  (counter; emitted by position-tracker)" in text
    assert "    used by alert PositionsNotStored  [alerts/rules/position-tracker.yml]" in text
    data = json.loads(dashboard_gen("list", "--format", "json").stdout)
    metrics = {m["name"]: m for m in data["metrics"]}
    stored = metrics["fleet_tracker_positions_stored_total"]
    assert stored["emitted_by"] == ["position-tracker"]
    assert {u["user"] for u in stored["used_by"]} >= {
        "alert PositionsNotStored",
        "record slo:sli_error:ratio_rate5m (position-tracker-ingest-availability)",
    }
    assert "alerts/tests/position-tracker.test.yml" in stored["tested_by"]
    assert metrics["http_server_request_duration_seconds"]["emitted_by"] == [
        "api-gateway",
        "position-simulator",
        "position-tracker",
    ]
    assert metrics["up"]["kind"] == "external"
    assert metrics["slo:sli_error:ratio_rate5m"]["kind"] == "recording rule"
    fields = {f["name"]: f for f in data["log_fields"]}
    assert {"api-gateway", "position-simulator", "position-tracker"} <= set(
        fields["trace.id"]["emitted_by"]
    )


def test_generate_writes_then_changes_nothing_and_removes_stale_files(tmp_path: Path):
    config = shop_project(tmp_path)
    first = dashboard_gen("--config", str(config), "generate")
    assert first.returncode == 0, first.stderr
    assert "wrote alerts/rules/shop.yml" in first.stdout
    assert (tmp_path / "k8s/monitoring/shop-rules.yaml").is_file()
    stale = tmp_path / "alerts/rules/renamed-away.yml"
    stale.write_text("groups: []\n")
    check = dashboard_gen("--config", str(config), "check", "--no-diff")
    assert check.returncode == 1
    assert "alerts/rules/renamed-away.yml is no longer generated (stale)" in check.stdout
    again = dashboard_gen("--config", str(config), "generate")
    # Every other generated file is unchanged (how many grows with the artifact kinds).
    written = len(first.stdout.splitlines()) - 1
    assert again.stdout == (
        f"removed alerts/rules/renamed-away.yml\nchanged 1 file(s), {written} unchanged\n"
    )
    assert not stale.exists()
    assert dashboard_gen("--config", str(config), "check").returncode == 0


def test_findings_exit_1_with_pint_style_lines(tmp_path: Path):
    config = shop_project(tmp_path)
    result = dashboard_gen("--config", str(config), "lint", "--check", "alerts/test-coverage")
    assert result.returncode == 1
    shop_py = REPO / "tests/dashboard_gen/shop.py"
    assert f"{shop_py}:" in result.stdout
    assert (
        ": warning: alerts/test-coverage: alert ShopDown: no promtool test asserts that it fires"
        in result.stdout
    )
    assert "see observability/checks/docs/alerts_test-coverage.md" in result.stderr


@pytest.mark.parametrize(
    ("pyproject", "message"),
    [
        ("[tool.other]\n", "configuration error: "),
        (
            '[tool.dashboard-gen]\ncatalogs = ["nowhere.at_all:CATALOG"]\n',
            "cannot load catalog 'nowhere.at_all:CATALOG'",
        ),
        (
            "[tool.dashboard-gen]\ncatalog = []\n",
            "unknown keys in [tool.dashboard-gen]: ['catalog']",
        ),
    ],
)
def test_configuration_errors_exit_2_without_a_traceback(tmp_path: Path, pyproject, message):
    (tmp_path / "pyproject.toml").write_text(pyproject)
    result = dashboard_gen("--config", str(tmp_path / "pyproject.toml"), "check")
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_an_invalid_catalog_exits_2_naming_the_definition(tmp_path: Path):
    (tmp_path / "badshop.py").write_text(
        "from observability.catalog import Metric, MetricKind, ServiceCatalog\n"
        "from observability.catalog.common import BASE_LOG_SCHEMA\n"
        "CATALOG = ServiceCatalog('badshop', 'x', (\n"
        "    Metric('orders', MetricKind.COUNTER, 'Orders.'),\n"
        "), BASE_LOG_SCHEMA)\n"
    )
    config = shop_project(tmp_path, '"badshop:CATALOG"')
    result = dashboard_gen("--config", str(config), "lint", cwd=tmp_path)
    assert result.returncode == 2
    # one line, the definition's file relative to the configuration's folder
    assert result.stderr == (
        "dashboard-gen: invalid catalog: badshop.py:4: bug: catalog/validate: metric orders: "
        "counter names end in _total\n"
    )
    assert "Traceback" not in result.stderr


def test_usage_errors_exit_2():
    assert dashboard_gen("frobnicate").returncode == 2
    assert dashboard_gen("lint", "--check", "no/such-check").returncode == 2
    assert dashboard_gen("list", "--format", "xml").returncode == 2
