"""Every artifact ``dashboard-gen`` writes: which files each kind owns and how it renders them.

``render_all(platform, config)`` is the whole output, path → text, deterministic. A new artifact
kind (dashboards, Fluent Bit, Kibana) is one more ``ArtifactKind``: its renderer, the globs of
the files it owns (``generate`` deletes owned files it no longer renders; ``check`` reports
them), and the PromQL its files evaluate (for the closure checks and the inventory).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from observability.catalog.service import Platform
from observability.config import Config
from observability.logs.artifacts import LOG_ARTIFACTS
from observability.render.alertmanager import PATH as ALERTMANAGER_PATH
from observability.render.alertmanager import render_alertmanager
from observability.render.grafana import files as grafana
from observability.render.grafana.provisioning import DATASOURCES_CONFIGMAP, k8s_datasources
from observability.render.kustomization import render_kustomization
from observability.render.links import runbook_path
from observability.render.prometheus_config import PATH as PROMETHEUS_PATH
from observability.render.prometheus_config import render_prometheus_config
from observability.render.prometheus_rule import prometheus_rule_path, render_prometheus_rule
from observability.render.rule_file import render_rule_file
from observability.render.runbook import absent_runbook, slo_runbook, symptom_runbook
from observability.render.service_monitor import render_service_monitor, service_monitor_path
from observability.render.slo_rules import absent_alert_name
from observability.render.symptom_rules import rule_files
from observability.render.time_scale import time_scaled
from observability.render.usage import FieldUse, Query, rule_queries
from observability.slo.model import slo_models
from observability.testgen.cases import ScenarioError
from observability.testgen.slo_tests import generated_test_path, slo_test_file

Files = dict[str, str]


@dataclass(frozen=True)
class ArtifactKind:
    name: str
    description: str
    #: Globs (relative to the project root) of the files this kind generates and owns.
    owns: tuple[str, ...]
    render: Callable[[Platform, Config], Files]
    queries: Callable[[Platform, Config], list[Query]] = field(default=lambda p, c: [])
    #: The log fields its files read (none yet: Kibana and Fluent Bit come with part 2).
    field_uses: Callable[[Platform, Config], list[FieldUse]] = field(default=lambda p, c: [])


def _rules(platform: Platform, config: Config) -> Files:
    return {f.path: render_rule_file(f) for f in rule_files(platform, config)}


DRILL_RULES_DIR = "alerts/drill-rules"


def _drill_rules(platform: Platform, config: Config) -> Files:
    factor = config.drill_time_scale
    note = (
        f"Time-scaled for the fire drills (fleet-stack drill): the rules of alerts/rules with "
        f"every range, subquery step and `for:` divided by {factor} (drill_time_scale)."
    )
    return {
        f"{DRILL_RULES_DIR}/{f.service}.yml": render_rule_file(time_scaled(f, factor), note)
        for f in rule_files(platform, config)
    }


def _rule_queries(platform: Platform, config: Config) -> list[Query]:
    return [q for f in rule_files(platform, config) for q in rule_queries(f)]


def _rule_tests(platform: Platform, config: Config) -> Files:
    by_service = {f.service: f for f in rule_files(platform, config)}
    files = {}
    for m in slo_models(platform):
        try:
            files[generated_test_path(m)] = slo_test_file(by_service[m.service.name], m)
        except ScenarioError as exc:
            source = m.slo.source
            raise ScenarioError(
                f"SLO {m.slo.name} of {m.service.name} ({source.path or source.module}:"
                f"{source.line}): {exc}"
            ) from exc
    return files


def _runbooks(platform: Platform, config: Config) -> Files:
    files = {}
    for owner in platform.alert_owners:
        for alert in owner.alerts:
            files[runbook_path(alert.name)] = symptom_runbook(alert, owner, config)
    for model in slo_models(platform):
        files[runbook_path(model.slo.alert_name)] = slo_runbook(model, config)
        files[runbook_path(absent_alert_name(model))] = absent_runbook(model, config)
    return files


def _with_links(platform: Platform, config: Config) -> tuple[Files, set[str]]:
    """The objects that carry links (rules, dashboards), and the catalogs they come from."""
    in_cluster = {s.name for s in platform.services} | {
        c.name for c in platform.components if c.kubernetes
    }
    rules = [f for f in rule_files(platform, config) if f.service in in_cluster]
    files = {prometheus_rule_path(f): render_prometheus_rule(f) for f in rules}
    return files | grafana.dashboard_configmaps(platform, config), {f.service for f in rules}


def _kustomized(platform: Platform, owners: set[str], files: Files, folder: str) -> Files:
    sources = [o for o in platform.alert_owners if o.name in owners]
    return files | {f"{folder}/kustomization.yaml": render_kustomization(sources, sorted(files))}


def _kubernetes(platform: Platform, config: Config) -> Files:
    """``k8s/monitoring``: what every cluster shares (ServiceMonitors, data sources); rules and
    dashboards carry each cluster's links, so each cluster gets its own
    (``k8s/overlays/<cluster>/monitoring/generated``), or they join the shared folder when no
    cluster is configured."""
    monitored = [s for s in platform.services if s.scraped]
    shared = {service_monitor_path(s): render_service_monitor(s) for s in monitored}
    shared[DATASOURCES_CONFIGMAP] = k8s_datasources(config)
    owners = {s.name for s in monitored}
    if not config.clusters:
        linked, linking = _with_links(platform, config)
        return _kustomized(platform, owners | linking, shared | linked, MONITORING_DIR)
    files = _kustomized(platform, owners, shared, MONITORING_DIR)
    for cluster in config.clusters:
        linked, linking = _with_links(platform, config.in_cluster(cluster))
        folder = cluster_folder(cluster.name)
        moved = {f"{folder}/{PurePosixPath(p).name}": text for p, text in linked.items()}
        files |= _kustomized(platform, linking, moved, folder)
    return files


MONITORING_DIR = "k8s/monitoring"
KUSTOMIZATION = f"{MONITORING_DIR}/kustomization.yaml"


def cluster_folder(cluster: str) -> str:
    """Where a cluster's own rules and dashboards go (its overlay includes the folder)."""
    return f"k8s/overlays/{cluster}/monitoring/generated"


#: The dashboards' ConfigMaps and the data-source ConfigMap are rendered by ``_kubernetes``.
GRAFANA_DASHBOARDS = ArtifactKind(
    "grafana-dashboards",
    "correlated Grafana dashboards (JSON) and their provisioning (data sources, provider)",
    grafana.OWNS,
    grafana.render_files,
    grafana.dashboard_queries,
    grafana.dashboard_field_uses,
)

ARTIFACT_KINDS: tuple[ArtifactKind, ...] = (
    ArtifactKind(
        "prometheus-rules",
        "SLO recording rules, burn-rate, absent-data and symptom alerts, one file per service",
        ("alerts/rules/*.yml",),
        _rules,
        _rule_queries,
    ),
    ArtifactKind(
        "drill-rules",
        "the same rules with shorter windows and `for:`, which the local stack loads in a drill",
        (f"{DRILL_RULES_DIR}/*.yml",),
        _drill_rules,
    ),
    ArtifactKind(
        "rule-tests",
        "promtool unit tests of every SLO's alerts, one file per SLO",
        ("alerts/tests/generated/*.yml",),
        _rule_tests,
    ),
    ArtifactKind(
        "runbooks", "one Markdown runbook per alert", ("alerts/runbooks/*.md",), _runbooks
    ),
    ArtifactKind(
        "prometheus-config",
        "the local Prometheus: scrape jobs, rule files, Alertmanager",
        (PROMETHEUS_PATH,),
        lambda p, c: {PROMETHEUS_PATH: render_prometheus_config(p, c)},
    ),
    ArtifactKind(
        "alertmanager-config",
        "routing by severity, grouping, inhibitions",
        (ALERTMANAGER_PATH,),
        lambda p, c: {ALERTMANAGER_PATH: render_alertmanager(p)},
    ),
    ArtifactKind(
        "kubernetes-monitoring",
        "PrometheusRule and ServiceMonitor objects, and their kustomizations (one per cluster)",
        ("k8s/monitoring/*.yaml", "k8s/overlays/*/monitoring/generated/*.yaml"),
        _kubernetes,
    ),
    GRAFANA_DASHBOARDS,
    *(ArtifactKind(*spec) for spec in LOG_ARTIFACTS),
)


def render_all(platform: Platform, config: Config) -> Files:
    """Every generated file, path (relative to the project root) → text, sorted by path."""
    files: Files = {}
    for kind in ARTIFACT_KINDS:
        for path, text in kind.render(platform, config).items():
            if path in files:
                raise ValueError(f"{path} is rendered twice (second time by {kind.name})")
            files[path] = text
    return dict(sorted(files.items()))


def all_queries(platform: Platform, config: Config) -> list[Query]:
    return [q for kind in ARTIFACT_KINDS for q in kind.queries(platform, config)]


def all_field_uses(platform: Platform, config: Config) -> list[FieldUse]:
    return [u for kind in ARTIFACT_KINDS for u in kind.field_uses(platform, config)]


def owned_globs() -> tuple[str, ...]:
    return tuple(g for kind in ARTIFACT_KINDS for g in kind.owns)


def is_owned(path: str) -> bool:
    return any(fnmatch.fnmatchcase(path, g) for g in owned_globs())
