"""Pyrra-style table tests: the whole expected rule groups of the fixture shop's SLOs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from observability.config import Config
from observability.render.rule_file import render_rule_file
from observability.render.slo_rules import slo_rule_groups
from observability.render.symptom_rules import service_rule_file
from observability.slo.model import service_slo_models
from tests.dashboard_gen import shop

CONFIG = Config(root=Path("/nowhere"), catalogs=())
RUNBOOKS = "https://github.com/fleetman-observable/fleetman-observable/blob/main/alerts/runbooks"
IDS = {"sloth_id": "shop-orders", "sloth_service": "shop", "sloth_slo": "orders"}
SEL = '{sloth_id="shop-orders", sloth_service="shop", sloth_slo="orders"}'


def groups(name: str) -> list[dict]:
    (model,) = [m for m in service_slo_models(shop.shop()) if m.slo.name == name]
    return [g.as_dict() for g in slo_rule_groups(model, CONFIG)]


def test_group_names_are_sloths():
    assert [g["name"] for g in groups("orders")] == [
        "sloth-slo-sli-recordings-shop-orders",
        "sloth-slo-meta-recordings-shop-orders",
        "sloth-slo-alerts-shop-orders",
    ]


def test_sli_recordings_of_an_events_slo_with_exclusions():
    rules = groups("orders")[0]["rules"]
    assert [r["record"] for r in rules] == [
        f"slo:sli_error:ratio_rate{w}" for w in ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d")
    ]
    assert rules[0] == {
        "record": "slo:sli_error:ratio_rate5m",
        "expr": (
            "1 - clamp_max(\n"
            '  (sum(rate(shop_orders_placed_total{job="shop"}[5m])) or vector(0))\n'
            "  /\n"
            "  (\n"
            '    sum(rate(shop_orders_received_total{job="shop"}[5m]))\n'
            '    - (sum(rate(shop_orders_rejected_total{job="shop"}[5m])) or vector(0))\n'
            "    > 0\n"
            "  ),\n"
            "  1\n"
            ")"
        ),
        "labels": {**IDS, "sloth_window": "5m"},
    }
    assert rules[-1] == {
        "record": "slo:sli_error:ratio_rate30d",
        "expr": (
            f"sum_over_time(slo:sli_error:ratio_rate5m{SEL}[30d])\n"
            "/ ignoring (sloth_window)\n"
            f"count_over_time(slo:sli_error:ratio_rate5m{SEL}[30d])"
        ),
        "labels": {**IDS, "sloth_window": "30d"},
    }


@pytest.mark.parametrize(
    ("slo", "window", "expr"),
    [
        (
            "latency",
            "1h",
            "1 - clamp_max(\n"
            '  (sum(rate(http_server_request_duration_seconds_bucket{job="shop",le="0.25",route=~"/api/.*"}[1h])) or vector(0))\n'
            "  /\n"
            "  (\n"
            '    sum(rate(http_server_request_duration_seconds_count{job="shop",route=~"/api/.*"}[1h]))\n'
            "    > 0\n"
            "  ),\n"
            "  1\n"
            ")",
        ),
        (
            "freshness",
            "5m",
            "avg_over_time(\n"
            "  (\n"
            '    (time() - max(shop_last_order_timestamp_seconds{job="shop"}) > bool 60)\n'
            '    and max(shop_last_order_timestamp_seconds{job="shop"}) > 0\n'
            "  )[4m59s:1m]\n"
            ")",
        ),
        (
            "freshness",
            "3d",
            'avg_over_time(slo:sli_error:ratio_rate5m{sloth_id="shop-freshness", '
            'sloth_service="shop", sloth_slo="freshness"}[2d23h59m59s])',
        ),
    ],
)
def test_sli_expression_of_each_kind(slo, window, expr):
    (rule,) = [r for r in groups(slo)[0]["rules"] if r["labels"]["sloth_window"] == window]
    assert rule["expr"] == expr


def test_meta_recordings():
    burn = "\n/ on(sloth_id, sloth_slo, sloth_service) group_left\nslo:error_budget:ratio" + SEL
    assert groups("orders")[1]["rules"] == [
        {"record": "slo:objective:ratio", "expr": "vector(0.999)", "labels": IDS},
        {"record": "slo:error_budget:ratio", "expr": "vector(1-0.999)", "labels": IDS},
        {"record": "slo:time_period:days", "expr": "vector(30)", "labels": IDS},
        {
            "record": "slo:current_burn_rate:ratio",
            "expr": f"slo:sli_error:ratio_rate5m{SEL}{burn}",
            "labels": IDS,
        },
        {
            "record": "slo:period_burn_rate:ratio",
            "expr": f"slo:sli_error:ratio_rate30d{SEL}{burn}",
            "labels": IDS,
        },
        {
            "record": "slo:period_error_budget_remaining:ratio",
            "expr": f"1 - slo:period_burn_rate:ratio{SEL}",
            "labels": IDS,
        },
        {
            "record": "sloth_slo_info",
            "expr": "vector(1)",
            "labels": {
                **IDS,
                "sloth_mode": "cli-gen-prom",
                "sloth_objective": "99.9",
                "sloth_spec": "prometheus/v1",
                "sloth_version": "dashboard-gen",
            },
        },
    ]


def _pair(short: str, long: str, factor: str) -> str:
    def over(window: str) -> str:
        return f"max(slo:sli_error:ratio_rate{window}{SEL} > ({factor} * 0.001)) without (sloth_window)"

    return f"(\n    {over(short)}\n    and\n    {over(long)}\n)"


def test_alerts():
    links = {
        "dashboard_url": "http://localhost:3000/d/fleet-shop",
        "runbook_url": f"{RUNBOOKS}/OrdersBudgetBurn.md",
    }
    assert groups("orders")[2]["rules"] == [
        {
            "alert": "OrdersBudgetBurn",
            "expr": _pair("5m", "1h", "14.4") + "\nor\n" + _pair("30m", "6h", "6"),
            "labels": {"job": "shop", "severity": "critical", "sloth_severity": "page"},
            "annotations": {
                **links,
                "summary": "The shop orders SLO is burning its error budget fast.",
                "description": (
                    "{{ $labels.sloth_id }}: 99.9% of valid orders are placed. The error ratio is "
                    "above 14.4 times the 0.1% budget over both 1h and 5m, or 6 times the 0.1% "
                    "budget over both 6h and 30m: at that rate the 30d error budget is spent "
                    "within 5 days."
                ),
            },
        },
        {
            "alert": "OrdersBudgetBurn",
            "expr": _pair("2h", "1d", "3") + "\nor\n" + _pair("6h", "3d", "1"),
            "labels": {"job": "shop", "severity": "warning", "sloth_severity": "ticket"},
            "annotations": {
                **links,
                "summary": "The shop orders SLO is burning its error budget steadily.",
                "description": (
                    "{{ $labels.sloth_id }}: 99.9% of valid orders are placed. The error ratio is "
                    "above 3 times the 0.1% budget over both 1d and 2h, or 1 times the 0.1% "
                    "budget over both 3d and 6h: at that rate the 30d error budget is spent "
                    "within 30 days."
                ),
            },
        },
        {
            "alert": "OrdersBudgetBurnSLIAbsent",
            "expr": (
                'absent(shop_orders_placed_total{job="shop"})\nor\n'
                'absent(shop_orders_received_total{job="shop"})\nor\n'
                'absent(shop_orders_rejected_total{job="shop"})'
            ),
            "for": "1m",
            "labels": {"job": "shop", "severity": "warning", **IDS},
            "annotations": {
                "dashboard_url": "http://localhost:3000/d/fleet-shop",
                "runbook_url": f"{RUNBOOKS}/OrdersBudgetBurnSLIAbsent.md",
                "summary": "The shop orders SLO has no data.",
                "description": (
                    "No series of shop_orders_placed_total, shop_orders_received_total, "
                    "shop_orders_rejected_total from job {{ $labels.job }} for 1m: the orders SLO "
                    "and its burn-rate alerts cannot see failures."
                ),
            },
        },
    ]


def test_symptom_alert_gets_severity_owner_and_links():
    rule_file = service_rule_file(shop.shop(), CONFIG)
    (symptoms,) = [g for g in rule_file.groups if g.name == "shop-symptoms"]
    assert symptoms.as_dict()["rules"][1] == {
        "alert": "OrdersNotPlaced",
        "expr": 'sum(rate(shop_orders_placed_total{job="shop"}[5m])) == 0',
        "for": "5m",
        "labels": {"job": "shop", "severity": "warning"},
        "annotations": {
            "summary": "No order is placed.",
            "description": "{{ $value }} orders per second.",
            "runbook_url": f"{RUNBOOKS}/OrdersNotPlaced.md",
            "dashboard_url": "http://localhost:3000/d/fleet-shop",
        },
    }


def test_rule_file_text_has_a_header_and_provenance_above_each_rule():
    rule_file = service_rule_file(shop.shop(), CONFIG)
    text = render_rule_file(rule_file)
    assert text.startswith(
        "# Generated by dashboard-gen from tests.dashboard_gen.shop. Do not edit.\n"
        "# Regenerate with: dashboard-gen generate\ngroups:\n"
        "  - name: sloth-slo-sli-recordings-shop-orders\n    rules:\n"
        "      # generated-from: tests.dashboard_gen.shop SLO orders\n"
        "      - record: slo:sli_error:ratio_rate5m\n        expr: |-\n          1 - clamp_max(\n"
    )
    lines = text.splitlines()
    rule_lines = [
        i for i, line in enumerate(lines) if line.lstrip().startswith(("- record:", "- alert:"))
    ]
    assert all("generated-from:" in lines[i - 1] for i in rule_lines)
    assert len(rule_lines) == len(rule_file.rules) == 3 * 18 + 2
    assert yaml.safe_load(text) == {"groups": [g.as_dict() for g in rule_file.groups]}
