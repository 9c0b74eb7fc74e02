"""Policies every rendered manifest must satisfy, one function each: docs -> violations.

Each violation is a string naming the object (`Kind/namespace/name[/container]`), so an
exception can be listed in EXCEPTIONS with its reason, and a failure says where to look.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from tests.k8s.manifests import (
    KEDA_DEFAULT_MAX_REPLICAS,
    KEDA_DEFAULT_MIN_REPLICAS,
    Container,
    containers,
    namespace_of,
    pod_labels,
    pod_spec,
    replica_bounds,
    scale_target,
    selects,
    workloads,
)

Policy = Callable[[list[dict]], list[str]]

#: (policy name, object reference) -> why that object is exempt. Keep it short and reasoned.
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("run_as_non_root", "DaemonSet/logging/fluent-bit/fluent-bit"): (
        "reads the kubelet's container log files, owned by root with mode 0640; every "
        "capability is still dropped and the root filesystem is read-only"
    ),
}


def _ref(doc: dict) -> str:
    return f"{doc['kind']}/{namespace_of(doc)}/{doc['metadata']['name']}"


def _container_policy(check: Callable[[Container], str | None], *, init: bool) -> Policy:
    def policy(docs: list[dict]) -> list[str]:
        found = []
        for container in containers(docs, include_init=init):
            if not init and container.init:
                continue
            problem = check(container)
            if problem:
                found.append(f"{container.ref}: {problem}")
        return found

    return policy


def _security(container: Container, key: str) -> object:
    """A container's effective securityContext value (container wins over pod)."""
    own = (container.spec.get("securityContext") or {}).get(key)
    if own is not None:
        return own
    return (container.pod.get("securityContext") or {}).get(key)


def _probes(container: Container) -> str | None:
    missing = [p for p in ("livenessProbe", "readinessProbe") if p not in container.spec]
    return f"no {' nor '.join(missing)}" if missing else None


def _resources(container: Container) -> str | None:
    resources = container.spec.get("resources") or {}
    missing = [
        f"{kind}.{resource}"
        for kind in ("requests", "limits")
        for resource in ("cpu", "memory")
        if resource not in (resources.get(kind) or {})
    ]
    return f"missing {', '.join(missing)}" if missing else None


def _non_root(container: Container) -> str | None:
    if _security(container, "runAsNonRoot") is not True:
        return "runAsNonRoot is not true"
    if _security(container, "runAsUser") == 0:
        return "runAsUser is 0"
    return None


def _read_only_root(container: Container) -> str | None:
    ok = (container.spec.get("securityContext") or {}).get("readOnlyRootFilesystem") is True
    return None if ok else "readOnlyRootFilesystem is not true"


def _no_escalation(container: Container) -> str | None:
    ok = (container.spec.get("securityContext") or {}).get("allowPrivilegeEscalation") is False
    privileged = (container.spec.get("securityContext") or {}).get("privileged") is True
    return (
        None if ok and not privileged else "allowPrivilegeEscalation is not false (or privileged)"
    )


def _drop_all(container: Container) -> str | None:
    capabilities = (container.spec.get("securityContext") or {}).get("capabilities") or {}
    if "ALL" not in (capabilities.get("drop") or []):
        return "capabilities.drop lacks ALL"
    if capabilities.get("add"):
        return f"adds capabilities {capabilities['add']}"
    return None


def _seccomp(container: Container) -> str | None:
    profile = _security(container, "seccompProfile") or {}
    return (
        None if profile.get("type") == "RuntimeDefault" else "seccompProfile is not RuntimeDefault"
    )


_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def _image_pinned(container: Container) -> str | None:
    image = container.spec.get("image", "")
    if _DIGEST.search(image):
        return None
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag:
        return f"image {image!r} has no tag"
    if tag == "latest" or not re.search(r"\d", tag):
        return f"image {image!r} is not pinned to a version"
    return None


def services_select_pods(docs: list[dict]) -> list[str]:
    """Every Service selects the pods of some workload in its namespace."""
    found = []
    for service in (d for d in docs if d["kind"] == "Service"):
        selector = service["spec"].get("selector")
        if not selector:
            found.append(f"{_ref(service)}: no selector")
            continue
        if not any(
            namespace_of(w) == namespace_of(service) and selects(selector, pod_labels(w))
            for w in workloads(docs)
        ):
            found.append(f"{_ref(service)}: selects no pod template ({selector})")
    return found


def network_policies_select_pods(docs: list[dict]) -> list[str]:
    """Every NetworkPolicy applies to pods that exist in its namespace."""
    found = []
    for policy in (d for d in docs if d["kind"] == "NetworkPolicy"):
        selector = policy["spec"].get("podSelector")
        if selector is None:
            found.append(f"{_ref(policy)}: no podSelector")
            continue
        if not any(
            namespace_of(w) == namespace_of(policy) and selects(selector, pod_labels(w))
            for w in workloads(docs)
        ):
            found.append(f"{_ref(policy)}: selects no pod template ({selector})")
    return found


def _references(workload: dict) -> Iterator[tuple[str, str, bool]]:
    """(kind, name, optional) of every ConfigMap/Secret a pod template mounts or reads."""
    pod = pod_spec(workload)
    for volume in pod.get("volumes", []):
        if "configMap" in volume:
            yield (
                "ConfigMap",
                volume["configMap"]["name"],
                volume["configMap"].get("optional", False),
            )
        if "secret" in volume:
            yield "Secret", volume["secret"]["secretName"], volume["secret"].get("optional", False)
        for source in (volume.get("projected") or {}).get("sources", []):
            if "configMap" in source:
                yield (
                    "ConfigMap",
                    source["configMap"]["name"],
                    source["configMap"].get("optional", False),
                )
            if "secret" in source:
                yield "Secret", source["secret"]["name"], source["secret"].get("optional", False)
    for spec in pod.get("containers", []) + pod.get("initContainers", []):
        for source in spec.get("envFrom", []):
            if "configMapRef" in source:
                ref = source["configMapRef"]
                yield "ConfigMap", ref["name"], ref.get("optional", False)
            if "secretRef" in source:
                ref = source["secretRef"]
                yield "Secret", ref["name"], ref.get("optional", False)
        for entry in spec.get("env", []):
            value_from = entry.get("valueFrom") or {}
            if "configMapKeyRef" in value_from:
                ref = value_from["configMapKeyRef"]
                yield "ConfigMap", ref["name"], ref.get("optional", False)
            if "secretKeyRef" in value_from:
                ref = value_from["secretKeyRef"]
                yield "Secret", ref["name"], ref.get("optional", False)
    for secret in pod.get("imagePullSecrets", []):
        yield "Secret", secret["name"], False


def referenced_config_exists(docs: list[dict]) -> list[str]:
    """Every ConfigMap and Secret a pod mounts or reads is rendered beside it (generated ones
    count: kustomize has rewritten the references to their hashed names)."""
    present = {(d["kind"], namespace_of(d), d["metadata"]["name"]) for d in docs}
    found = []
    for workload in workloads(docs):
        for kind, name, optional in _references(workload):
            if not optional and (kind, namespace_of(workload), name) not in present:
                found.append(f"{_ref(workload)}: {kind} {name} is not in the render")
        account = pod_spec(workload).get("serviceAccountName")
        if account and ("ServiceAccount", namespace_of(workload), account) not in present:
            found.append(f"{_ref(workload)}: ServiceAccount {account} is not in the render")
    return found


def replicated_workloads_have_pdb(docs: list[dict]) -> list[str]:
    """A workload that runs more than one replica (fixed, or at most, when a KEDA ScaledObject
    scales it) has a PodDisruptionBudget that selects it."""
    budgets = [d for d in docs if d["kind"] == "PodDisruptionBudget"]
    found = []
    for workload in workloads(docs):
        _, most = replica_bounds(docs, workload)
        if workload["kind"] == "DaemonSet" or most <= 1:
            continue
        if not any(
            namespace_of(b) == namespace_of(workload)
            and selects(b["spec"].get("selector"), pod_labels(workload))
            for b in budgets
        ):
            found.append(f"{_ref(workload)}: up to {most} replicas, no PDB")
    return found


def scaled_objects_own_their_target(docs: list[dict]) -> list[str]:
    """Every KEDA ScaledObject scales a workload of the render, alone, within sane bounds, and
    that workload leaves `replicas` out: the ScaledObject's HPA owns the count, which every
    `kubectl apply` would otherwise reset to the manifest's."""
    found = []
    present = {
        (namespace_of(w), w["apiVersion"], w["kind"], w["metadata"]["name"]): w
        for w in workloads(docs)
    }
    scalers = [d for d in docs if d["kind"] == "ScaledObject"]
    for scaler in scalers:
        target = scale_target(scaler)
        name = f"{target[2]}/{target[0]}/{target[3]}"
        low = scaler["spec"].get("minReplicaCount", KEDA_DEFAULT_MIN_REPLICAS)
        high = scaler["spec"].get("maxReplicaCount", KEDA_DEFAULT_MAX_REPLICAS)
        if target not in present:
            found.append(f"{_ref(scaler)}: scales {name}, which is not in the render")
        elif "replicas" in present[target]["spec"]:
            found.append(f"{_ref(scaler)}: {name} sets replicas, which the HPA owns")
        elif sum(scale_target(s) == target for s in scalers) > 1:
            found.append(f"{_ref(scaler)}: {name} has several ScaledObjects")
        elif not 0 <= low <= high or high < 1:
            found.append(f"{_ref(scaler)}: replicas {low}..{high}")
    return found


def pods_are_named(docs: list[dict]) -> list[str]:
    """Every pod carries `app.kubernetes.io/name` (the Prometheus job and the NetworkPolicies)."""
    return [
        f"{_ref(w)}: pod template lacks app.kubernetes.io/name"
        for w in workloads(docs)
        if "app.kubernetes.io/name" not in pod_labels(w)
    ]


POLICIES: dict[str, Policy] = {
    "probes": _container_policy(_probes, init=False),
    "resources": _container_policy(_resources, init=True),
    "run_as_non_root": _container_policy(_non_root, init=True),
    "read_only_root": _container_policy(_read_only_root, init=True),
    "no_privilege_escalation": _container_policy(_no_escalation, init=True),
    "drop_all_capabilities": _container_policy(_drop_all, init=True),
    "seccomp_runtime_default": _container_policy(_seccomp, init=True),
    "images_pinned": _container_policy(_image_pinned, init=True),
    "services_select_pods": services_select_pods,
    "network_policies_select_pods": network_policies_select_pods,
    "referenced_config_exists": referenced_config_exists,
    "replicated_workloads_have_pdb": replicated_workloads_have_pdb,
    "scaled_objects_own_their_target": scaled_objects_own_their_target,
    "pods_are_named": pods_are_named,
}


def violations(name: str, docs: list[dict]) -> list[str]:
    """The policy's violations, less the listed exceptions."""
    return [v for v in POLICIES[name](docs) if (name, v.split(":", 1)[0]) not in EXCEPTIONS]
