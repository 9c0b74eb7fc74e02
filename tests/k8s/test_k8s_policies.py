"""The policies of tests/k8s/policies.py hold on every rendered target, and each one fails on
a tiny manifest that breaks it (so a policy that silently passes everything is caught)."""

from __future__ import annotations

import copy

import pytest
import yaml

from tests.k8s.manifests import TARGETS
from tests.k8s.policies import EXCEPTIONS, POLICIES, violations

GOOD = yaml.safe_load_all("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: demo}
spec:
  replicas: 1
  selector: {matchLabels: {app.kubernetes.io/name: demo}}
  template:
    metadata: {labels: {app.kubernetes.io/name: demo}}
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: demo
          image: example/demo:1.2.3
          envFrom: [{configMapRef: {name: demo-config}}]
          livenessProbe: {httpGet: {path: /healthz, port: 8080}}
          readinessProbe: {httpGet: {path: /readyz, port: 8080}}
          resources:
            requests: {cpu: 10m, memory: 16Mi}
            limits: {cpu: 100m, memory: 64Mi}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: demo-config}
data: {A: b}
---
apiVersion: v1
kind: Service
metadata: {name: demo}
spec:
  selector: {app.kubernetes.io/name: demo}
  ports: [{name: http, port: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: demo}
spec:
  podSelector: {matchLabels: {app.kubernetes.io/name: demo}}
  policyTypes: [Ingress]
""")
GOOD = [doc for doc in GOOD if doc]


#: KEDA scaling GOOD's Deployment from 2 to 4 replicas (GOOD itself has no ScaledObject).
SCALED_OBJECT = {
    "apiVersion": "keda.sh/v1alpha1",
    "kind": "ScaledObject",
    "metadata": {"name": "demo"},
    "spec": {
        "scaleTargetRef": {"name": "demo"},
        "minReplicaCount": 2,
        "maxReplicaCount": 4,
        "triggers": [{"type": "cpu", "metadata": {"value": "80"}}],
    },
}


def _container(docs: list[dict]) -> dict:
    return docs[0]["spec"]["template"]["spec"]["containers"][0]


def _break(mutate: object) -> list[dict]:
    docs = copy.deepcopy(GOOD)
    mutate(docs)  # type: ignore[operator]
    return docs


#: policy -> a mutation of GOOD that this policy (and only the intent of it) must reject.
BAD_CASES = {
    "probes": lambda d: _container(d).pop("readinessProbe"),
    "resources": lambda d: _container(d)["resources"].pop("limits"),
    "run_as_non_root": lambda d: _container(d)["securityContext"].update(runAsNonRoot=False),
    "read_only_root": lambda d: _container(d)["securityContext"].pop("readOnlyRootFilesystem"),
    "no_privilege_escalation": lambda d: _container(d)["securityContext"].update(
        allowPrivilegeEscalation=True
    ),
    "drop_all_capabilities": lambda d: _container(d)["securityContext"].update(
        capabilities={"drop": ["NET_RAW"]}
    ),
    "seccomp_runtime_default": lambda d: d[0]["spec"]["template"]["spec"]["securityContext"].pop(
        "seccompProfile"
    ),
    "images_pinned": lambda d: _container(d).update(image="example/demo:latest"),
    "services_select_pods": lambda d: d[2]["spec"].update(selector={"app": "nobody"}),
    "network_policies_select_pods": lambda d: d[3]["spec"].update(
        podSelector={"matchLabels": {"app.kubernetes.io/name": "gone"}}
    ),
    "referenced_config_exists": lambda d: d.pop(1),
    "replicated_workloads_have_pdb": lambda d: d[0]["spec"].update(replicas=3),
    "pods_are_named": lambda d: d[0]["spec"]["template"]["metadata"].update(labels={"x": "y"}),
    # the Deployment still fixes `replicas: 1`, which the ScaledObject's HPA should own
    "scaled_objects_own_their_target": lambda d: d.append(copy.deepcopy(SCALED_OBJECT)),
}


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_policy_holds(rendered: dict[str, list[dict]], target: str, policy: str) -> None:
    assert violations(policy, rendered[target]) == []


@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_good_manifest_passes(policy: str) -> None:
    assert violations(policy, GOOD) == []


@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_policy_rejects_its_bad_case(policy: str) -> None:
    assert policy in BAD_CASES, f"policy {policy} has no failing example"
    assert violations(policy, _break(BAD_CASES[policy])) != []


def test_image_pinning_cases() -> None:
    def pinned(image: str) -> bool:
        return (
            violations("images_pinned", _break(lambda d: _container(d).update(image=image))) == []
        )

    assert pinned("mongo:7.0.16")
    assert pinned("registry:5000/team/app:1.0")
    assert pinned("app@sha256:" + "a" * 64)
    assert not pinned("mongo")
    assert not pinned("registry:5000/team/app")
    assert not pinned("mongo:latest")
    assert not pinned("nginx:stable-alpine")


def test_exceptions_are_used_and_reasoned(rendered: dict[str, list[dict]]) -> None:
    """An exception that no longer matches anything is stale: remove it."""
    for (policy, ref), reason in EXCEPTIONS.items():
        assert len(reason) > 20
        raw = [v.split(":", 1)[0] for docs in rendered.values() for v in POLICIES[policy](docs)]
        assert ref in raw, f"stale exception {policy} {ref}"


def _autoscaled(scaled_object: dict) -> list[dict]:
    """GOOD with its Deployment handed to `scaled_object` (its `replicas` left out)."""

    def mutate(docs: list[dict]) -> None:
        docs[0]["spec"].pop("replicas")
        docs.append(copy.deepcopy(scaled_object))

    return _break(mutate)


def test_autoscaled_workload_needs_a_pdb_for_its_maximum() -> None:
    """A workload with no fixed `replicas` but a ScaledObject that may run several needs a PDB,
    as one with `replicas: 2` does; one KEDA keeps at a single replica does not."""
    docs = _autoscaled(SCALED_OBJECT)
    assert violations("scaled_objects_own_their_target", docs) == []
    assert violations("replicated_workloads_have_pdb", docs) == [
        "Deployment/default/demo: up to 4 replicas, no PDB"
    ]
    single = copy.deepcopy(SCALED_OBJECT)
    single["spec"].update(minReplicaCount=1, maxReplicaCount=1)
    assert violations("replicated_workloads_have_pdb", _autoscaled(single)) == []


def test_scaled_object_problems_are_named() -> None:
    elsewhere = copy.deepcopy(SCALED_OBJECT)
    elsewhere["spec"]["scaleTargetRef"]["name"] = "gone"
    inverted = copy.deepcopy(SCALED_OBJECT)
    inverted["spec"].update(minReplicaCount=5)

    def problems(docs: list[dict]) -> list[str]:
        return violations("scaled_objects_own_their_target", docs)

    assert problems(_autoscaled(elsewhere)) == [
        "ScaledObject/default/demo: scales Deployment/default/gone, which is not in the render"
    ]
    assert problems(_autoscaled(inverted)) == ["ScaledObject/default/demo: replicas 5..4"]
    twice = [*_autoscaled(SCALED_OBJECT), copy.deepcopy(SCALED_OBJECT)]
    assert len(problems(twice)) == 2
