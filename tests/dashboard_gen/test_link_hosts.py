"""links/environment (issue 20, item 5): each environment's files link to its own hosts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from observability.checks import link_hosts
from observability.checks.base import build_context
from observability.config import Cluster, Config
from tests.dashboard_gen import shop

RUNBOOKS = "https://runbooks.example.org/fleet"


def config(tmp_path: Path, *clusters: Cluster) -> Config:
    return Config(root=tmp_path, catalogs=("tests.dashboard_gen.shop:CATALOG",), clusters=clusters)


def problems(cfg: Config, files: dict[str, str] | None = None) -> list[str]:
    ctx = build_context(shop.platform(), cfg)
    if files is not None:
        ctx = replace(ctx, files={**ctx.files, **files})
    return [f"{p.artifact}: {p.message}" for p in link_hosts.run(ctx)]


def test_each_cluster_gets_its_own_links_and_none_is_local(tmp_path: Path):
    prod = Cluster("prod", "https://grafana.prod.example", "https://kibana.prod.example", RUNBOOKS)
    cfg = config(tmp_path, prod)
    assert problems(cfg) == []
    ctx = build_context(shop.platform(), cfg)
    rules = ctx.files["k8s/overlays/prod/monitoring/generated/shop-rules.yaml"]
    assert "https://grafana.prod.example/d/fleet-shop" in rules
    assert "localhost" not in "".join(t for p, t in ctx.files.items() if p.startswith("k8s/"))


def test_a_cluster_configured_with_localhost_is_refused(tmp_path: Path):
    laptop = Cluster("dev", "http://localhost:3000", "http://192.168.49.2:30601", RUNBOOKS)
    found = problems(config(tmp_path, laptop))
    assert found and all("a loopback address in a cluster's file" in f for f in found)
    assert any(f.startswith("k8s/overlays/dev/monitoring/generated/shop-rules.yaml") for f in found)


def test_a_file_with_another_environments_link_is_refused(tmp_path: Path):
    prod = Cluster("prod", "https://grafana.prod.example", "https://kibana.prod.example", RUNBOOKS)
    leaked = "annotations:\n  dashboard_url: https://grafana.staging.example/d/fleet-shop\n"
    path = "k8s/overlays/prod/monitoring/generated/extra-rules.yaml"
    found = problems(config(tmp_path, prod), {path: leaked})
    assert found == [
        f"{path}: https://grafana.staging.example/d/fleet-shop: grafana.staging.example is not "
        "a host of prod (its hosts: elasticsearch-logging.logging:9200, grafana.prod.example, "
        "jaeger.default:16686, kibana.prod.example, kube-prometheus-stack-prometheus.monitoring:9090, "
        "runbooks.example.org)"
    ]


def test_the_repository_links_are_each_environments_own(repo_config):
    assert {c.name for c in repo_config.clusters} == {"dev", "aws"}
    from observability.config import load_platform

    ctx = build_context(load_platform(repo_config), repo_config)
    assert list(link_hosts.run(ctx)) == []
    dev = ctx.files["k8s/overlays/dev/monitoring/generated/position-tracker-rules.yaml"]
    assert "http://192.168.49.2:30300/d/fleet-position-tracker" in dev
