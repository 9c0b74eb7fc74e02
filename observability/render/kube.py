"""What every generated Kubernetes object carries: labels for kube-prometheus-stack, provenance."""

from __future__ import annotations

from observability.render.provenance import ANNOTATION, Origin

PART_OF = "fleetman"
#: kube-prometheus-stack's Prometheus selects rules and monitors by this label (its release name).
RELEASE_LABELS = {"release": "kube-prometheus-stack"}


def metadata(name: str, service: str, origin: Origin) -> dict[str, object]:
    return {
        "name": name,
        "labels": {
            "app.kubernetes.io/managed-by": "dashboard-gen",
            "app.kubernetes.io/name": service,
            "app.kubernetes.io/part-of": PART_OF,
            **RELEASE_LABELS,
        },
        "annotations": {ANNOTATION: str(origin)},
    }


def manifest_path(name: str) -> str:
    return f"k8s/monitoring/{name}.yaml"
