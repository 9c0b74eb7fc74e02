"""The dashboard checks: the generated dashboards pass them, and one broken fixture per rule
fails with its message (dashboard-linter's table style); reverse coverage."""

from __future__ import annotations

import copy
import json
from dataclasses import replace

import pytest

from observability.catalog import Alert, Severity
from observability.checks import dashboard_coverage, dashboard_lint
from observability.checks.base import build_context
from observability.checks.dashboard_lint import catalog_of, lint_dashboard
from observability.checks.dashboards import Dashboard
from observability.checks.registry import run_checks
from tests.dashboard_gen import shop

SHOP = "dashboards/grafana/fleet-shop.json"


@pytest.fixture
def ctx(shop_platform, shop_config):
    return build_context(shop_platform, shop_config)


@pytest.fixture
def board(ctx) -> dict:
    return json.loads(ctx.files[SHOP])


def _panel(board: dict, title: str) -> dict:
    return next(p for p in board["panels"] if p.get("title") == title)


def _lint(ctx, board: dict) -> list[str]:
    found = lint_dashboard(Dashboard(SHOP, board), catalog_of(ctx))
    return [f"{p.get('title', '')}: {m}" if p else m for p, m in found]


def test_generated_dashboards_pass_every_dashboard_check(repo_platform, repo_config):
    ctx = build_context(repo_platform, repo_config)
    checks = [
        "dashboards/lint",
        "dashboards/coverage",
        "promql/metric-closure",
        "promql/label-closure",
    ]
    assert [str(p) for p in run_checks(ctx, checks)] == []


def test_shop_dashboards_pass(ctx, board):
    assert _lint(ctx, board) == []
    assert list(dashboard_coverage.run(ctx)) == []


def _target(board: dict, title: str, index: int = 0) -> dict:
    return _panel(board, title)["targets"][index]


def test_missing_job_and_env_matchers(ctx, board):
    _target(board, "Shop orders placed")["expr"] = (
        "sum(rate(shop_orders_placed_total[$__rate_interval]))"
    )
    assert _lint(ctx, board) == [
        "Shop orders placed: target A: shop_orders_placed_total has no job matcher",
        "Shop orders placed: target A: shop_orders_placed_total has no env matcher",
    ]


def test_fixed_range_instead_of_rate_interval(ctx, board):
    target = _target(board, "Shop orders placed")
    target["expr"] = target["expr"].replace("$__rate_interval", "5m")
    assert _lint(ctx, board) == [
        "Shop orders placed: target A: shop_orders_placed_total[...] does not use $__rate_interval"
    ]


def test_counter_outside_rate(ctx, board):
    _target(board, "Shop orders placed")["expr"] = (
        'sum(shop_orders_placed_total{job="${service}",env=~"${env}"})'
    )
    assert _lint(ctx, board)[0] == (
        "Shop orders placed: target A: counter shop_orders_placed_total is read outside rate/irate/increase"
    )


def test_histogram_without_le(ctx, board):
    target = _target(board, "Latency percentiles", 2)
    target["expr"] = target["expr"].replace("sum by (le)", "sum")
    assert _lint(ctx, board) == [
        "Latency percentiles: target C: http_server_request_duration_seconds_bucket is aggregated without keeping le"
    ]


def test_buckets_neither_quantile_nor_heatmap(ctx, board):
    _target(board, "Latency heatmap")["format"] = "time_series"
    assert _lint(ctx, board)[0] == (
        "Latency heatmap: target A: http_server_request_duration_seconds_bucket is neither under "
        "histogram_quantile nor shown as a heatmap"
    )


def test_exemplar_on_a_counter(ctx, board):
    _target(board, "Shop orders placed")["exemplar"] = True
    assert _lint(ctx, board) == [
        "Shop orders placed: target A: exemplar is on, but the query reads no histogram"
    ]


def test_exemplar_on_a_histogram_without_exemplars(shop_config):
    quiet = replace(shop.REQUESTS, exemplars=False)
    platform = shop.platform()
    service = replace(platform.services[0], metrics=(quiet, *platform.services[0].metrics[1:]))
    ctx = build_context(replace(platform, services=(service,)), shop_config)
    board = json.loads(ctx.files[SHOP])
    _target(board, "Latency percentiles")["exemplar"] = True
    assert _lint(ctx, board) == [
        "Latency percentiles: target A: exemplar is on, but "
        "http_server_request_duration_seconds records no exemplars (exemplars=False)"
    ]


def test_missing_unit(ctx, board):
    _panel(board, "Shop orders placed")["fieldConfig"]["defaults"]["unit"] = ""
    assert _lint(ctx, board) == ["Shop orders placed: has no unit"]


def test_unit_inconsistent_with_the_metric(ctx, board):
    _panel(board, "Latency percentiles")["fieldConfig"]["defaults"]["unit"] = "bytes"
    messages = _lint(ctx, board)
    assert len(messages) == 3
    assert messages[0].startswith("Latency percentiles: unit 'bytes' does not fit")
    assert messages[0].endswith("(expected s)")
    _panel(board, "Latency percentiles")["fieldConfig"]["defaults"]["unit"] = "s"
    _panel(board, "Error ratio (5xx)")["fieldConfig"]["defaults"]["unit"] = "reqps"
    assert _lint(ctx, board)[0].endswith("(expected percent or percentunit)")


def test_hard_coded_data_source(ctx, board):
    _panel(board, "Shop orders placed")["datasource"] = {"type": "prometheus", "uid": "prometheus"}
    _target(board, "Up")["datasource"] = {"type": "prometheus", "uid": "${other}"}
    assert _lint(ctx, board) == [
        "Up: data source '${other}' is not one of the variables $logs, $prometheus, $traces",
        "Shop orders placed: data source 'prometheus' is not one of the variables $logs, $prometheus, $traces",
    ]


def test_rate_panel_without_correlation_links(ctx, board):
    panel = _panel(board, "Shop orders placed")
    panel["links"] = panel["links"][:1]
    panel["links"][0]["url"] = "http://kibana/app/discover"
    assert _lint(ctx, board) == [
        "Shop orders placed: link 'Logs of this moment (Kibana)' carries no time range or service filter",
        "Shop orders placed: has no 'Logs of this moment (Explore)' link",
        "Shop orders placed: has no 'Traces of this moment' link",
    ]


def test_duplicate_panel_id(ctx, board):
    _panel(board, "Shop orders placed")["id"] = _panel(board, "Up")["id"]
    assert _lint(ctx, board) == ["Shop orders placed: id 2 is also panel 'Up''s"]


def test_panel_off_the_grid(ctx, board):
    _panel(board, "Shop orders placed")["gridPos"]["x"] = 20
    assert _lint(ctx, board)[0] == (
        "Shop orders placed: gridPos {'h': 8, 'w': 8, 'x': 20, 'y': 19} is off the 24-column grid"
    )


def test_overlapping_panels(ctx, board):
    _panel(board, "Shop orders placed")["gridPos"]["x"] = 4
    assert _lint(ctx, board) == ["Shop orders placed: overlaps panel 'Shop orders received'"]


def test_lint_check_names_the_catalog_definition(ctx):
    broken = dict(ctx.files)
    board = json.loads(broken[SHOP])
    _panel(board, "Shop orders placed")["fieldConfig"]["defaults"]["unit"] = ""
    broken[SHOP] = json.dumps(board)
    (problem,) = dashboard_lint.run(replace(ctx, files=broken))
    assert problem.source.module == "tests.dashboard_gen.shop"
    assert problem.artifact == SHOP
    assert problem.message == "panel 'Shop orders placed': has no unit"


def test_coverage_alert_on_an_unplotted_metric_and_a_dashboard_of_nobody(shop_config):
    alerts = (
        Alert(
            name="ShopScrapesSlow",
            expr='scrape_duration_seconds{job="shop"} > 1',
            severity=Severity.WARNING,
            summary="Scrapes are slow.",
            description="Slow.",
            runbook="Look.",
            dashboard="nowhere",
        ),
    )
    ctx = build_context(shop.platform(alerts=alerts), shop_config)
    assert [p.message for p in dashboard_coverage.run(ctx)] == [
        "alert ShopScrapesSlow: dashboard_url 'http://localhost:3000/d/fleet-nowhere' opens no "
        "generated dashboard",
        "alert ShopScrapesSlow: scrape_duration_seconds is plotted on no dashboard",
    ]


def test_coverage_slo_on_no_dashboard(ctx):
    files = dict(ctx.files)
    board = json.loads(files["dashboards/grafana/fleet-overview.json"])
    board["panels"] = [p for p in board["panels"] if "shop orders" not in p.get("title", "")]
    files["dashboards/grafana/fleet-overview.json"] = json.dumps(board)
    messages = [p.message for p in dashboard_coverage.run(replace(ctx, files=files))]
    assert messages[0] == "SLO shop-orders is on no dashboard"
    assert (
        "alert OrdersBudgetBurn: slo:sli_error:ratio_rate5m is plotted on no dashboard" in messages
    )


def test_lint_does_not_mutate_its_input(ctx, board):
    before = copy.deepcopy(board)
    _lint(ctx, board)
    assert board == before
