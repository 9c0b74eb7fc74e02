"""The other renderers, whole outputs for the fixture shop: Alertmanager, Prometheus,
ServiceMonitor, PrometheusRule, kustomization, runbooks."""

from __future__ import annotations

from pathlib import Path

import yaml

from observability.config import Config
from observability.render.alertmanager import alertmanager_config, render_alertmanager
from observability.render.kustomization import render_kustomization
from observability.render.prometheus_config import prometheus_config
from observability.render.prometheus_rule import prometheus_rule, render_prometheus_rule
from observability.render.runbook import absent_runbook, slo_runbook, symptom_runbook
from observability.render.service_monitor import service_monitor
from observability.render.symptom_rules import service_rule_file
from observability.render.yamltext import Commented
from observability.slo.model import service_slo_models
from tests.dashboard_gen import shop

CONFIG = Config(root=Path("/nowhere"), catalogs=())


def plain(value: object) -> object:
    """Data without its comments."""
    if isinstance(value, Commented):
        return plain(value.value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def test_alertmanager_routes_by_severity_and_inhibits():
    assert plain(alertmanager_config(shop.platform())) == {
        "global": {"resolve_timeout": "5m"},
        "route": {
            "receiver": "null",
            "group_by": ["alertname", "job", "sloth_slo"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": [
                {"receiver": "pager", "matchers": ['severity="critical"']},
                {"receiver": "tickets", "matchers": ['severity="warning"']},
                {"receiver": "null", "matchers": ['severity="info"']},
            ],
        },
        "inhibit_rules": [
            {
                "source_matchers": ['sloth_severity="page"'],
                "target_matchers": ['sloth_severity="ticket"'],
                "equal": ["sloth_id"],
            },
            {
                "source_matchers": ['alertname=~"ShopDown"'],
                "target_matchers": ['alertname!~"ShopDown"'],
                "equal": ["job"],
            },
        ],
        "receivers": [{"name": "pager"}, {"name": "tickets"}, {"name": "null"}],
    }
    text = render_alertmanager(shop.platform())
    assert "  # Pages a person now (critical)." in text
    assert yaml.safe_load(text) == plain(alertmanager_config(shop.platform()))


def test_prometheus_config_scrapes_each_service_with_env_and_loads_the_rules():
    config = prometheus_config(shop.platform())
    assert config["rule_files"] == ["rules/*.yml"]
    assert config["alerting"] == {
        "alertmanagers": [{"static_configs": [{"targets": ["127.0.0.1:9093"]}]}]
    }
    assert config["scrape_configs"][0] == {
        "job_name": "shop",
        "metrics_path": "/metrics",
        "static_configs": [{"targets": ["127.0.0.1:9000"], "labels": {"env": "local"}}],
    }
    assert [j["job_name"] for j in config["scrape_configs"]] == [
        "shop",
        "prometheus",
        "alertmanager",
    ]


def test_service_monitor():
    monitor = service_monitor(shop.shop())
    assert monitor["metadata"] == {
        "name": "shop",
        "labels": {
            "app.kubernetes.io/managed-by": "dashboard-gen",
            "app.kubernetes.io/name": "shop",
            "app.kubernetes.io/part-of": "fleetman",
            "release": "kube-prometheus-stack",
        },
        "annotations": {
            "fleetman.dev/generated-from": "tests.dashboard_gen.shop ServiceCatalog shop"
        },
    }
    assert monitor["spec"] == {
        "jobLabel": "app.kubernetes.io/name",
        "selector": {"matchLabels": {"app.kubernetes.io/name": "shop"}},
        "endpoints": [
            {
                "port": "http",
                "path": "/metrics",
                "scheme": "http",
                "interval": "15s",
                "relabelings": [
                    {"action": "replace", "targetLabel": "env", "replacement": "kubernetes"},
                    {
                        "action": "replace",
                        "sourceLabels": ["__meta_kubernetes_service_label_fleetman_dev_env"],
                        "regex": "(.+)",
                        "targetLabel": "env",
                        "replacement": "$1",
                    },
                ],
            }
        ],
    }


def test_prometheus_rule_wraps_the_same_groups():
    rule_file = service_rule_file(shop.shop(), CONFIG)
    obj = plain(prometheus_rule(rule_file))
    assert obj["apiVersion"] == "monitoring.coreos.com/v1"
    assert obj["kind"] == "PrometheusRule"
    assert obj["metadata"]["name"] == "shop-rules"
    assert obj["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert obj["spec"] == {"groups": [g.as_dict() for g in rule_file.groups]}
    assert yaml.safe_load(render_prometheus_rule(rule_file)) == obj


def test_kustomization_lists_the_files():
    text = render_kustomization([shop.shop()], ["k8s/monitoring/b.yaml", "k8s/monitoring/a.yaml"])
    assert yaml.safe_load(text) == {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": ["a.yaml", "b.yaml"],
    }


def test_runbooks():
    orders = service_slo_models(shop.shop())[0]
    text = slo_runbook(orders, CONFIG)
    assert text.startswith(
        "<!-- Generated by dashboard-gen from tests.dashboard_gen.shop. Do not edit. -->\n"
        "<!-- Regenerate with: dashboard-gen generate -->\n"
        "<!-- generated-from: tests.dashboard_gen.shop SLO orders -->\n\n# OrdersBudgetBurn\n"
    )
    assert "| page (quick) | critical | 1h | 5m | 14.4 | 1.44% |" in text
    assert "| ticket (slow) | warning | 3d | 6h | 1 | 0.1% |" in text
    assert "## What to do\n\nLook at the order logs.\n" in text
    assert "After 1m without data." in absent_runbook(orders, CONFIG)
    symptom = symptom_runbook(shop.ORDERS_NOT_PLACED, shop.shop(), CONFIG)
    assert '```promql\nsum(rate(shop_orders_placed_total{job="shop"}[5m])) == 0\n```' in symptom
    assert "[fleet-shop](http://localhost:3000/d/fleet-shop)" in symptom
