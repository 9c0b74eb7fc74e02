"""kustomize builds every target, and what it builds is the platform the README describes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.k8s.manifests import K8S, KUBERNETES_VERSION, MONITORING, TARGETS, namespace_of


@pytest.mark.parametrize("target", TARGETS)
def test_kustomize_builds(rendered: dict[str, list[dict]], target: str) -> None:
    kinds = {doc["kind"] for doc in rendered[target]}
    assert {"Deployment", "StatefulSet", "Service", "NetworkPolicy", "Secret"} <= kinds


@pytest.mark.parametrize("target", TARGETS)
def test_the_app_lives_in_default(rendered: dict[str, list[dict]], target: str) -> None:
    """The original Java images call `*.default.svc.cluster.local`: swapping needs `default`."""
    app = [
        d
        for d in rendered[target]
        if d["metadata"].get("labels", {}).get("app.kubernetes.io/part-of") == "fleetman"
        and d["kind"] != "Namespace"
    ]
    assert app
    assert {namespace_of(d) for d in app} == {"default"}


def test_logging_stack_only_on_aws(rendered: dict[str, list[dict]]) -> None:
    def logging(target: str) -> set[str]:
        return {
            f"{d['kind']}/{d['metadata']['name']}"
            for d in rendered[target]
            if namespace_of(d) == "logging" and d["kind"] != "ClusterRoleBinding"
        }

    assert logging("overlays/dev") == set()
    assert {
        "StatefulSet/elasticsearch",
        "Deployment/kibana",
        "DaemonSet/fluent-bit",
        "ServiceMonitor/fluent-bit",
    } <= logging("overlays/aws")


def test_aws_uses_gp3_and_dev_uses_standard(rendered: dict[str, list[dict]]) -> None:
    def classes(target: str) -> set[str]:
        found = set()
        for doc in rendered[target]:
            if doc["kind"] == "PersistentVolumeClaim":
                found.add(doc["spec"].get("storageClassName"))
            if doc["kind"] == "StatefulSet":
                for claim in doc["spec"].get("volumeClaimTemplates", []):
                    found.add(claim["spec"].get("storageClassName"))
        return found

    assert classes("overlays/aws") == {"gp3"}
    assert classes("overlays/dev") == {"standard"}
    storage_classes = [d for d in rendered["overlays/aws"] if d["kind"] == "StorageClass"]
    assert [
        (s["metadata"]["name"], s["provisioner"], s["parameters"]["type"]) for s in storage_classes
    ] == [("gp3", "ebs.csi.aws.com", "gp3")]


def test_webapp_exposure(rendered: dict[str, list[dict]]) -> None:
    def webapp(target: str) -> dict:
        return next(
            d
            for d in rendered[target]
            if d["kind"] == "Service" and d["metadata"]["name"] == "fleetman-webapp"
        )

    assert webapp("base")["spec"]["type"] == "ClusterIP"
    dev = webapp("overlays/dev")["spec"]
    assert (dev["type"], dev["ports"][0]["nodePort"]) == ("NodePort", 30080)
    assert webapp("overlays/aws")["spec"]["type"] == "LoadBalancer"


@pytest.mark.parametrize(("target", "env"), [("overlays/dev", "dev"), ("overlays/aws", "aws")])
def test_overlays_name_their_environment(
    rendered: dict[str, list[dict]], target: str, env: str
) -> None:
    """The generated ServiceMonitors read `fleetman.dev/env`; the spans carry the same name."""
    services = [
        d
        for d in rendered[target]
        if d["kind"] == "Service"
        and d["metadata"]["labels"].get("app.kubernetes.io/part-of") == "fleetman"
    ]
    assert services and all(s["metadata"]["labels"]["fleetman.dev/env"] == env for s in services)
    common = next(
        d
        for d in rendered[target]
        if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("fleetman-common")
    )
    assert common["data"]["OTEL_RESOURCE_ATTRIBUTES"] == f"deployment.environment={env}"


def test_jaeger_storage_per_overlay(rendered: dict[str, list[dict]]) -> None:
    def backend(target: str) -> dict:
        config = next(
            d
            for d in rendered[target]
            if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("jaeger-config")
        )
        parsed = yaml.safe_load(config["data"]["config.yaml"])
        return parsed["extensions"]["jaeger_storage"]["backends"]["traces"]

    assert set(backend("overlays/dev")) == {"memory"}
    elasticsearch = backend("overlays/aws")["elasticsearch"]
    assert elasticsearch["server_urls"] == [
        "http://elasticsearch-logging.logging.svc.cluster.local:9200"
    ]


def test_fluent_bit_config_has_its_place() -> None:
    """`dashboard-gen generate` writes these two files; the kustomization reads exactly them."""
    folder = K8S / "overlays" / "aws" / "logging" / "fluent-bit"
    for name in ("fluent-bit.conf", "parsers.conf"):
        assert (folder / name).is_file()
    kustomization = yaml.safe_load((folder.parent / "kustomization.yaml").read_text())
    generators = {g["name"]: g for g in kustomization["configMapGenerator"]}
    assert generators["fluent-bit-config"]["files"] == [
        "fluent-bit/fluent-bit.conf",
        "fluent-bit/parsers.conf",
    ]


def test_one_fluent_bit_service_monitor(rendered: dict[str, list[dict]]) -> None:
    """Ours or the generator's, never both (the generated one would then replace this one)."""
    monitors = [
        d
        for d in rendered["overlays/aws"]
        if d["kind"] == "ServiceMonitor"
        and d["spec"]["selector"].get("matchLabels", {}).get("app.kubernetes.io/name")
        == "fluent-bit"
    ]
    assert len(monitors) == 1
    assert monitors[0]["spec"]["endpoints"][0]["path"] == "/api/v2/metrics/prometheus"
    assert monitors[0]["metadata"]["labels"]["release"] == "kube-prometheus-stack"


def test_monitoring_is_included(rendered: dict[str, list[dict]]) -> None:
    """Every object `dashboard-gen generate` wrote under k8s/monitoring reaches both overlays."""
    if not (MONITORING / "kustomization.yaml").exists():
        pytest.skip("k8s/monitoring/ is not generated yet (dashboard-gen generate)")
    from tests.k8s.manifests import load_all, render

    def names(docs: list[dict]) -> set[tuple[str, str]]:
        # generated ConfigMaps carry a content hash, which the overlays' labels may change
        return {
            (d["kind"], re.sub(r"-[a-z0-9]{10}$", "", d["metadata"]["name"]))
            if d["kind"] in {"ConfigMap", "Secret"}
            else (d["kind"], d["metadata"]["name"])
            for d in docs
        }

    generated = names(load_all(render(K8S, "monitoring")))
    assert generated
    for target in ("overlays/dev", "overlays/aws"):
        missing = generated - names(rendered[target])
        assert not missing, f"{target} misses {sorted(missing)}"


def test_cluster_config_matches_validated_version() -> None:
    """eksctl's cluster runs the Kubernetes release whose schemas kubeconform uses."""
    cluster = yaml.safe_load((K8S / "infra" / "cluster.yaml").read_text())
    assert cluster["kind"] == "ClusterConfig"
    assert cluster["metadata"]["version"] == KUBERNETES_VERSION
    addons = {a["name"]: a for a in cluster["addons"]}
    assert "aws-ebs-csi-driver" in addons
    # NetworkPolicies are only enforced when the VPC CNI's network policy agent is on
    assert '"enableNetworkPolicy": "true"' in addons["vpc-cni"]["configurationValues"]


def test_secret_env_files_are_ignored() -> None:
    ignore = (K8S / "base" / "secrets" / ".gitignore").read_text().split()
    assert "*.env" in ignore
    committed = [p for p in (K8S / "base" / "secrets").glob("*.env") if _tracked(p)]
    assert committed == []


def _tracked(path: Path) -> bool:
    import subprocess

    result = subprocess.run(
        ["git", "ls-files", "--error-unmatch", str(path)],
        cwd=K8S.parent,
        capture_output=True,
        check=False,
    )
    return result.returncode == 0
