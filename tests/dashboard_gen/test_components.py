"""Third-party components (ComponentCatalog): scraped, alerted on, charted, and checked like a
service's catalog, without a log schema or SLOs of their own."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from observability.artifacts import render_all
from observability.catalog import Alert, ComponentCatalog, Platform, Severity
from observability.catalog.component import ExternalMetric, Plot
from observability.catalog.external import EXTERNAL_METRICS
from observability.catalog.validate import platform_problems
from observability.checks.base import build_context
from observability.checks.registry import run_checks
from observability.config import Config
from observability.render.prometheus_config import prometheus_config
from tests.dashboard_gen import shop
from tests.dashboard_gen.cli_run import dashboard_gen

QUEUE_DEPTH = ExternalMetric("queue_depth", ("job", "instance", "env", "queue"), "a broker")


def queue(
    expr: str = 'max by (job, env) (queue_depth{job="queue"}) > 100', **kw
) -> ComponentCatalog:
    alert = Alert(
        "QueueBacklog",
        expr,
        Severity.WARNING,
        "The queue holds over 100 messages.",
        "{{ $value }} messages wait.",
        "Find the consumer.",
        dashboard="queue",
    )
    plot = Plot(
        "Depth",
        'max by (queue) (queue_depth{job="queue", env=~"$env"})',
        "short",
        "{{queue}}",
        "Messages waiting.",
    )
    fields = {"metrics_port": 9100, "panels": (plot,)} | kw
    return ComponentCatalog("queue", "A message queue.", (QUEUE_DEPTH,), (alert,), **fields)


def platform(component: ComponentCatalog) -> Platform:
    return Platform((shop.shop(),), EXTERNAL_METRICS, (component,))


def config(tmp_path: Path) -> Config:
    return Config(root=tmp_path, catalogs=("tests.dashboard_gen.shop:CATALOG",))


def test_a_component_is_scraped_alerted_on_and_charted(tmp_path: Path):
    files = render_all(platform(queue()), config(tmp_path))
    jobs = prometheus_config(platform(queue()))["scrape_configs"]
    assert [j["job_name"] for j in jobs] == ["queue", "shop", "prometheus", "alertmanager"]
    rules = yaml.safe_load(files["alerts/rules/queue.yml"])
    (rule,) = rules["groups"][0]["rules"]
    assert rule["labels"] == {"severity": "warning", "job": "queue"}
    assert rule["annotations"]["dashboard_url"].endswith("/d/fleet-queue")
    assert "- **Component:** queue" in files["alerts/runbooks/QueueBacklog.md"]
    assert "dashboards/grafana/fleet-queue.json" in files
    # not in the clusters unless it says so
    assert "k8s/monitoring/queue-rules.yaml" not in files
    in_cluster = render_all(platform(queue(kubernetes=True)), config(tmp_path))
    assert "k8s/monitoring/queue-rules.yaml" in in_cluster
    assert "queue-rules.yaml" in in_cluster["k8s/monitoring/kustomization.yaml"]


def test_the_checks_accept_a_components_series_and_flag_a_misspelt_one(tmp_path: Path):
    clean = run_checks(build_context(platform(queue()), config(tmp_path)))
    assert [p for p in clean if p.check.startswith("promql/")] == []
    typo = queue('max by (job, env) (queue_dept{job="queue"}) > 100')
    found = run_checks(build_context(platform(typo), config(tmp_path)))
    messages = [p.message for p in found if p.check == "promql/metric-closure"]
    assert any(
        "queue_dept is not emitted" in m and "did you mean queue_depth" in m for m in messages
    )


def test_a_component_named_like_a_service_or_an_alert_reused_is_invalid():
    twin = ComponentCatalog("shop", "Not the shop.", (QUEUE_DEPTH,))
    assert any("shop is declared twice" in p.message for p in platform_problems(platform(twin)))
    alert = shop.shop().alerts[0]
    clash = ComponentCatalog("queue", "q", (QUEUE_DEPTH,), (alert,))
    messages = [p.message for p in platform_problems(platform(clash))]
    assert f"alert name {alert.name} is used twice" in messages


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ('"tests.dashboard_gen.shop:CATALOG"', "is a ServiceCatalog, not a ComponentCatalog"),
        ('"nowhere:QUEUE"', "cannot load catalog 'nowhere:QUEUE'"),
    ],
)
def test_a_wrong_component_reference_exits_2(tmp_path: Path, reference: str, message: str):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.dashboard-gen]\ncatalogs = ["tests.dashboard_gen.shop:CATALOG"]\n'
        f"components = [{reference}]\n"
    )
    result = dashboard_gen("--config", str(tmp_path / "pyproject.toml"), "check")
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
