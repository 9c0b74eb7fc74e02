"""Several trackers on Kubernetes (issue 21): never fewer than two, a PodDisruptionBudget,
spread over nodes, and, on the clusters that install KEDA, scaled on the queue backlog by a
ScaledObject whose query reads the metric the tracker really exports."""

from __future__ import annotations

import re

import pytest
import yaml

from services.position_tracker.telemetry import QUEUE_MESSAGES, QUEUE_ROLES, SERVICE
from tests.k8s.manifests import (
    K8S,
    TARGETS,
    namespace_of,
    pod_labels,
    pod_spec,
    replica_bounds,
    scale_target,
    scaled_objects,
    selects,
)

TRACKER = "position-tracker"
#: The overlays whose clusters install KEDA (k8s/README.md) and render the ScaledObject.
KEDA_TARGETS = ("overlays/dev", "overlays/aws")
#: The KEDA Helm chart every cluster installs, as the README's commands pin it.
KEDA_CHART_VERSION = "2.19.0"
DATASOURCES = K8S / "monitoring" / "grafana-datasources.yaml"


def _tracker(docs: list[dict]) -> dict:
    (deployment,) = (
        d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == TRACKER
    )
    return deployment


def _budgets(docs: list[dict], workload: dict) -> list[dict]:
    return [
        d
        for d in docs
        if d["kind"] == "PodDisruptionBudget"
        and namespace_of(d) == namespace_of(workload)
        and selects(d["spec"].get("selector"), pod_labels(workload))
    ]


def _allowed_disruptions(budget: dict, healthy: int) -> int:
    """How many of `healthy` selected pods the budget lets an eviction take (integer forms)."""
    spec = budget["spec"]
    if "maxUnavailable" in spec:
        return int(spec["maxUnavailable"])
    return healthy - int(spec["minAvailable"])


@pytest.mark.parametrize("target", TARGETS)
def test_tracker_never_runs_fewer_than_two(rendered: dict[str, list[dict]], target: str) -> None:
    docs = rendered[target]
    fewest, most = replica_bounds(docs, _tracker(docs))
    assert 2 <= fewest <= most


def test_a_scaled_object_exactly_where_keda_is_installed(rendered: dict[str, list[dict]]) -> None:
    """base has none (a cluster without KEDA runs base's fixed two); each KEDA overlay scales
    the tracker, and only the tracker."""
    scaling = {
        target: sorted(scale_target(d)[2:] for d in docs if d["kind"] == "ScaledObject")
        for target, docs in rendered.items()
    }
    assert scaling == {
        target: [("Deployment", TRACKER)] if target in KEDA_TARGETS else [] for target in TARGETS
    }


@pytest.mark.parametrize("target", KEDA_TARGETS)
def test_keda_owns_the_tracker_count(rendered: dict[str, list[dict]], target: str) -> None:
    """The HPA sets the count: a `replicas` in the manifest would be re-applied over it."""
    docs = rendered[target]
    tracker = _tracker(docs)
    (scaler,) = scaled_objects(docs, tracker)
    assert "replicas" not in tracker["spec"]
    assert scaler["spec"]["minReplicaCount"] >= 2
    assert scaler["spec"]["maxReplicaCount"] > scaler["spec"]["minReplicaCount"]
    # Prometheus gone: keep what runs rather than fall to a fixed count in mid-backlog
    fallback = scaler["spec"]["fallback"]
    assert fallback["behavior"] == "currentReplicasIfHigher"
    assert fallback["replicas"] >= scaler["spec"]["minReplicaCount"]


@pytest.mark.parametrize("target", KEDA_TARGETS)
def test_scaled_on_the_backlog_the_tracker_reports(
    rendered: dict[str, list[dict]], target: str
) -> None:
    """The query names the catalog's metric, label and role (a rename fails here, not as a
    scaler that quietly stops), takes the max over the replicas (each reports the same queue:
    a sum would grow with the replica count and scale the trackers up on their own number),
    and asks the Prometheus that Grafana's generated data source reads."""
    docs = rendered[target]
    (scaler,) = scaled_objects(docs, _tracker(docs))
    (trigger,) = scaler["spec"]["triggers"]
    assert trigger["type"] == "prometheus"
    assert trigger.get("metricType", "AverageValue") == "AverageValue"
    metadata = trigger["metadata"]
    query = metadata["query"]
    match = re.fullmatch(r"max\((\w+)\{([^}]*)\}\)", query)
    assert match, query
    assert match.group(1) == QUEUE_MESSAGES.name
    matchers = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2)))
    assert matchers == {"job": SERVICE, "namespace": namespace_of(scaler), "queue": "positions"}
    assert "positions" in QUEUE_ROLES
    assert [label.name for label in QUEUE_MESSAGES.labels] == ["queue"]
    assert float(metadata["threshold"]) > 0
    assert metadata["ignoreNullValues"] == "false"  # no series is an error, not "no backlog"
    configmap = yaml.safe_load(DATASOURCES.read_text())
    (provisioning,) = configmap["data"].values()
    sources = {s["uid"]: s for s in yaml.safe_load(provisioning)["datasources"]}
    assert metadata["serverAddress"] == sources["prometheus"]["url"]


@pytest.mark.parametrize("target", TARGETS)
def test_tracker_has_a_disruption_budget(rendered: dict[str, list[dict]], target: str) -> None:
    """One budget selects the trackers; from the fewest to the most replicas, a drain may take
    one (or more) but always leaves one consuming; not-ready trackers stay evictable (during a
    broker or database outage all of them are not ready)."""
    docs = rendered[target]
    tracker = _tracker(docs)
    (budget,) = _budgets(docs, tracker)
    fewest, most = replica_bounds(docs, tracker)
    for healthy in (fewest, most):
        allowed = _allowed_disruptions(budget, healthy)
        assert 1 <= allowed <= healthy - 1, (healthy, budget["spec"])
    assert budget["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


@pytest.mark.parametrize("target", TARGETS)
def test_trackers_spread_over_nodes(rendered: dict[str, list[dict]], target: str) -> None:
    """Over nodes, softly: minikube's single node still schedules every replica."""
    tracker = _tracker(rendered[target])
    constraints = pod_spec(tracker).get("topologySpreadConstraints", [])
    by_node = [c for c in constraints if c["topologyKey"] == "kubernetes.io/hostname"]
    assert len(by_node) == 1
    (constraint,) = by_node
    assert constraint["whenUnsatisfiable"] == "ScheduleAnyway"
    assert constraint["maxSkew"] == 1
    assert selects(constraint["labelSelector"], pod_labels(tracker))


def test_keda_install_is_pinned() -> None:
    """Both clusters' install commands (k8s/README.md) pin the chart the ScaledObject is
    written for."""
    readme = (K8S / "README.md").read_text()
    pins = re.findall(r"helm install keda kedacore/keda (?:.* )?--version (\S+)", readme)
    assert len(pins) >= 2
    assert set(pins) == {KEDA_CHART_VERSION}
