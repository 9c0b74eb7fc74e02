"""``dashboard-gen preview``: one PNG per dashboard from live data, every panel drawn; a clear
exit 2 when Prometheus or Elasticsearch cannot be reached."""

from __future__ import annotations

import json

import pytest
from matplotlib.image import imread

from observability.preview import preview_dashboard, window_for
from observability.preview.data import Elasticsearch, Prometheus
from observability.preview.fetch import legend
from observability.preview.units import format_value
from tests.dashboard_gen.cli_run import dashboard_gen


def test_values_are_written_in_the_panel_unit():
    assert format_value(0.0123, "s") == "12.3 ms"
    assert format_value(90, "s") == "90 s"
    assert format_value(5400, "s") == "90 min"
    assert format_value(0.995, "percentunit") == "99.5%"
    assert format_value(3 * 1024 * 1024, "bytes") == "3 MiB"
    assert format_value(1500, "reqps") == "1.5k/s"
    assert format_value(float("nan"), "short") == "n/a"


def test_legends_are_filled_from_labels():
    assert legend("{{job}} p99", {"job": "api-gateway"}) == "api-gateway p99"
    assert legend("", {"a": "1", "b": "2"}) == "a=1,b=2"


def test_unreachable_prometheus_exits_2_with_a_clear_message(tmp_path):
    done = dashboard_gen("preview", "--prometheus", "http://127.0.0.1:9", "--out", str(tmp_path))
    assert done.returncode == 2, done.stderr
    assert "cannot preview: Prometheus at http://127.0.0.1:9 does not answer" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_unknown_dashboard_exits_2(tmp_path):
    done = dashboard_gen("preview", "--dashboard", "fleet-nope", "--out", str(tmp_path))
    assert done.returncode == 2
    assert (
        "unknown dashboard fleet-nope (known: fleet-api-gateway, fleet-elasticsearch" in done.stderr
    )


@pytest.mark.stack
def test_preview_draws_every_panel_of_each_dashboard(stack, repo_files, tmp_path):
    prometheus, logs = Prometheus(stack.PROMETHEUS_URL), Elasticsearch(stack.ELASTICSEARCH_URL)
    window = window_for(1800)
    for uid in ("fleet-overview", "fleet-position-tracker"):
        board = json.loads(repo_files[f"dashboards/grafana/{uid}.json"])
        result = preview_dashboard(board, prometheus, logs, window, tmp_path, env="local")
        panels = [p for p in board["panels"] if p["type"] != "row"]
        assert result.panels == len(panels)
        assert result.path == tmp_path / f"{uid}.png"
        height, width, _ = imread(result.path).shape
        assert width == 2000 and height > 800


@pytest.mark.stack
def test_preview_command_writes_the_overview(stack, tmp_path):
    done = dashboard_gen(
        "preview", "--dashboard", "fleet-overview", "--out", str(tmp_path), "--from", "30m"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"wrote {tmp_path}/fleet-overview.png (12 panels")
    assert (tmp_path / "fleet-overview.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
