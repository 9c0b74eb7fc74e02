"""One fixture per diagnostic: each check names the definition at fault and the artifact."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from observability.artifacts import render_all
from observability.catalog import Alert, Severity
from observability.checks import (
    alert_style,
    drift,
    label_closure,
    metric_closure,
    promql_syntax,
    test_coverage,
)
from observability.checks.base import build_context
from observability.checks.registry import run_checks
from observability.config import Config
from observability.diagnostics import Level
from observability.render.provenance import of_alert
from observability.render.rules import Rule
from tests.dashboard_gen import shop

RULES = "alerts/rules/shop.yml"


def alert(expr: str, **changes: object) -> Alert:
    """An alert of the shop, declared here (so its source is this module)."""
    base = Alert(
        name="Probe",
        expr=expr,
        severity=Severity.WARNING,
        summary="Something is off.",
        description="{{ $value }} of it.",
        runbook="Look.",
        dashboard="shop",
    )
    return dataclasses.replace(base, **changes)


def problems(check, config: Config, *alerts: Alert) -> list[tuple[Level, str]]:
    platform = shop.platform(alerts=alerts, slos=())
    found = list(check.run(build_context(platform, config)))
    for p in found:
        assert p.source.module == __name__  # the Alert declared in this test
        assert p.artifact == RULES
    return [(p.level, p.message) for p in found]


def test_syntax(shop_config):
    assert problems(promql_syntax.CHECK, shop_config, alert("sum(rate(x[5m])")) == [
        (Level.FATAL, "alert Probe: not valid PromQL: unclosed left parenthesis")
    ]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (
            'shop_orders_placed_totl{job="shop"} > 0',
            (
                Level.BUG,
                "shop_orders_placed_totl is not emitted by any service, recorded by any "
                "rule, or allow-listed (did you mean shop_orders_placed_total?)",
            ),
        ),
        (
            'http_server_request_duration_seconds{job="shop"} > 1',
            (
                Level.BUG,
                "http_server_request_duration_seconds is not emitted by any service, "
                "recorded by any rule, or allow-listed (a histogram: select "
                "http_server_request_duration_seconds_bucket, http_server_request_duration_seconds_sum "
                "or http_server_request_duration_seconds_count)",
            ),
        ),
        (
            'shop_orders_placed_total{job="cart"} > 0',
            (Level.BUG, 'shop_orders_placed_total is not emitted by job="cart" (emitted by: shop)'),
        ),
        (
            "shop_orders_placed_total > 0",
            (
                Level.WARNING,
                "shop_orders_placed_total has no job matcher: it reads every service emitting it",
            ),
        ),
        (
            '{__name__=~"shop_.*"} > 0',
            (Level.WARNING, "a selector without a metric name cannot be checked"),
        ),
    ],
)
def test_metric_closure(shop_config, expr, expected):
    level, message = expected
    assert problems(metric_closure.CHECK, shop_config, alert(expr)) == [
        (level, f"alert Probe: {message}")
    ]


def test_metric_closure_accepts_catalog_external_and_recorded_series(shop_config):
    platform = shop.platform()  # its SLOs record slo:* series that other rules select
    extra = alert('up{job="shop"} == 0 and on() slo:sli_error:ratio_rate5m{sloth_slo="orders"} > 1')
    platform = shop.platform(alerts=(extra,))
    assert list(metric_closure.CHECK.run(build_context(platform, shop_config))) == []


@pytest.mark.parametrize(
    ("expr", "description", "message"),
    [
        (
            'shop_orders_placed_total{job="shop",channel="web"} > 0',
            "x",
            "shop_orders_placed_total has no label channel (labels: env, instance, job)",
        ),
        (
            'shop_orders_received_total{job="shop",channel="phone"} > 0',
            "x",
            'shop_orders_received_total{channel="phone"} matches no allowed value of channel (app, web)',
        ),
        (
            'shop_orders_received_total{job="shop",channel=~"ph.*"} > 0',
            "x",
            'shop_orders_received_total{channel=~"ph.*"} matches no allowed value of channel (app, web)',
        ),
        (
            'sum by (channel) (rate(shop_orders_placed_total{job="shop"}[5m])) > 0',
            "x",
            "sum by (channel): label channel is not on its input (labels: env, instance, job)",
        ),
        (
            'shop_orders_received_total{job="shop"} / on(channel) shop_orders_placed_total{job="shop"} > 0',
            "x",
            "/ on (channel), right side: label channel is not on its input (labels: env, instance, job)",
        ),
        (
            'histogram_quantile(0.9, sum(rate(http_server_request_duration_seconds_bucket{job="shop"}[5m]))) > 1',
            "x",
            "histogram_quantile: label le is not on its input (labels: none)",
        ),
        (
            'sum(rate(shop_orders_placed_total{job="shop"}[5m])) == 0',
            "On {{ $labels.instance }}.",
            "template uses $labels.instance, which not every result series carries (labels: none); "
            "guard it with {{ with $labels.instance }}",
        ),
        (
            'up{job="shop"} == 0 or absent(up{job="shop"})',
            "On {{ $labels.instance }}.",
            "template uses $labels.instance, which not every result series carries (labels: job); "
            "guard it with {{ with $labels.instance }}",
        ),
    ],
)
def test_label_closure(shop_config, expr, description, message):
    found = problems(label_closure.CHECK, shop_config, alert(expr, description=description))
    assert found == [(Level.BUG, f"alert Probe: {message}")]


@pytest.mark.parametrize(
    ("expr", "description"),
    [
        (
            'up{job="shop"} == 0 or absent(up{job="shop"})',
            "{{ with $labels.instance }}On {{ . }}.{{ end }}",
        ),
        (
            'sum by (channel) (rate(shop_orders_received_total{job="shop"}[5m])) > 0',
            "{{ $labels.channel }}",
        ),
        ('shop_orders_received_total{job="shop",channel=~"w.*"} > 0', "{{ $labels.instance }}"),
        ('label_replace(up{job="shop"}, "x", "$1", "job", "(.*)") > 0', "{{ $labels.x }}"),
    ],
)
def test_label_closure_accepts(shop_config, expr, description):
    assert problems(label_closure.CHECK, shop_config, alert(expr, description=description)) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"summary": "Something is off"}, (Level.WARNING, "summary does not end with a period")),
        (
            {"summary": "something is off."},
            (Level.WARNING, "summary does not start with a capital letter"),
        ),
        (
            {"summary": "Value {{ $value }} is off."},
            (
                Level.WARNING,
                "summary is templated: keep it a plain sentence, put values in description",
            ),
        ),
        ({"name": "P" + "robe" * 10}, (Level.WARNING, "name is longer than 40 characters")),
        ({"name": "probe_alert"}, (Level.WARNING, "name is not CamelCase")),
        (
            {"dashboard": "cart"},
            (
                Level.BUG,
                "dashboard_url 'http://localhost:3000/d/fleet-cart' is no dashboard of ours",
            ),
        ),
    ],
)
def test_alert_style(shop_config, changes, expected):
    probe = alert('up{job="shop"} == 0', **changes)
    level, message = expected
    assert problems(alert_style.CHECK, shop_config, probe) == [
        (level, f"alert {probe.name}: {message}")
    ]


def test_alert_style_on_rules_the_catalog_cannot_express(shop_config):
    ctx = build_context(shop.platform(alerts=(), slos=()), shop_config)
    rule = Rule.alerting(
        of_alert(alert("up == 0")),
        "Probe",
        "up == 0",
        labels={"severity": "page"},
        annotations={"summary": "Off."},
    )
    messages = [m for _, m in alert_style._rule_problems(ctx, rule)]
    assert "severity 'page' is not one of critical, warning, info" in messages
    assert "has no description annotation" in messages
    assert any(m.startswith("runbook_url is not https://") for m in messages)
    assert "dashboard_url '' is no dashboard of ours" in messages


def test_test_coverage(shop_config: Config):
    probe = alert('up{job="shop"} == 0')
    found = problems(test_coverage.CHECK, shop_config, probe)
    assert found == [
        (
            Level.WARNING,
            "alert Probe: no promtool test asserts that it fires (add one to alerts/tests/shop.test.yml)",
        )
    ]
    tests = shop_config.root / "alerts" / "tests"
    tests.mkdir(parents=True)
    (tests / "shop.test.yml").write_text(
        "rule_files: [../rules/shop.yml]\ntests:\n  - input_series: []\n    alert_rule_test:\n"
        "      - {eval_time: 1m, alertname: Probe, exp_alerts: [{exp_labels: {}}]}\n"
        "      - {eval_time: 1m, alertname: Gone, exp_alerts: []}\n"
    )
    ctx = build_context(shop.platform(alerts=(probe,), slos=()), shop_config)
    (stale,) = test_coverage.CHECK.run(ctx)
    assert (
        stale.message
        == "tests alert Gone, which its rule files (alerts/rules/shop.yml) do not define"
    )
    assert stale.source.module == "alerts/tests/shop.test.yml"


def test_generated_slo_tests_cover_the_slo_alerts(shop_config: Config):
    ctx = build_context(shop.platform(alerts=()), shop_config)
    assert list(test_coverage.CHECK.run(ctx)) == []


def _commit(config: Config, files: dict[str, str]) -> None:
    for path, text in files.items():
        (config.root / path).parent.mkdir(parents=True, exist_ok=True)
        (config.root / path).write_text(text)


def test_drift(shop_config: Config, shop_platform):
    files = render_all(shop_platform, shop_config)
    _commit(shop_config, files)
    ctx = build_context(shop_platform, shop_config)
    assert list(drift.CHECK.run(ctx)) == []

    edited = files[RULES].replace("(14.4 * 0.001)", "(14 * 0.001)")
    (shop_config.root / RULES).write_text(edited)
    (shop_config.root / "alerts/runbooks/ShopDown.md").unlink()
    (shop_config.root / "alerts/rules/old.yml").write_text("groups: []\n")
    found = sorted((p.artifact, p.message, p.source) for p in drift.CHECK.run(ctx))
    assert [(a, m) for a, m, _ in found] == [
        (
            "alerts/rules/old.yml",
            "alerts/rules/old.yml is no longer generated (stale); run `dashboard-gen generate`",
        ),
        (
            RULES,
            f"{RULES} differs from what the catalogs generate: the objects of SLO orders changed; run `dashboard-gen generate`",
        ),
        (
            "alerts/runbooks/ShopDown.md",
            "alerts/runbooks/ShopDown.md is not committed; run `dashboard-gen generate`",
        ),
    ]
    assert found[1][2] == shop.AVAILABILITY.source
    assert found[0][2].module == "pyproject.toml"
    diffs = {d.path: d for d in drift.file_drifts(ctx)}
    lines = diffs[RULES].diff.splitlines()
    assert lines[:2] == [f"--- {RULES} (committed)", f"+++ {RULES} (generated)"]
    assert any(line.startswith("-") and "(14 * 0.001)" in line for line in lines)
    assert any(line.startswith("+") and "(14.4 * 0.001)" in line for line in lines)
    assert diffs[RULES].changed == (("tests.dashboard_gen.shop", "SLO", "orders"),)


def test_registry_runs_every_check_and_sorts(shop_config: Config, shop_platform):
    found = run_checks(build_context(shop_platform, shop_config))
    assert found == sorted(found)
    # the shop configures no cluster, so its k8s objects carry the local links: a finding
    assert {p.check for p in found} == {
        "artifacts/drift",
        "alerts/test-coverage",
        "links/environment",
    }


def test_problem_line_format(shop_config: Config):
    probe = alert("sum(rate(x[5m])")
    (problem,) = promql_syntax.CHECK.run(
        build_context(shop.platform(alerts=(probe,), slos=()), shop_config)
    )
    assert str(problem) == (
        f"{Path(__file__).resolve()}:{probe.source.line}: fatal: promql/syntax: "
        f"alert Probe: not valid PromQL: unclosed left parenthesis [{RULES}]"
    )
