"""Swapping one of our images for the original Fleetman one (issue: drop-in compatibility):
each component changes only its own workload (and, for the tracker, MongoDB's auth), never a
Service, and the result is still valid Kubernetes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.k8s.manifests import K8S, load_all, namespace_of, render
from tests.k8s.test_k8s_schemas import run_kubeconform

COMPONENTS = K8S / "components" / "original-fleetman"
#: component -> (workload it swaps, other workloads it may touch, the original image)
SWAPS = {
    "position-simulator": (
        "Deployment/position-simulator",
        set(),
        "richardchesterwood/k8s-fleetman-position-simulator:release2",
    ),
    "position-tracker": (
        "Deployment/position-tracker",
        {"StatefulSet/mongodb"},
        "richardchesterwood/k8s-fleetman-position-tracker:release3",
    ),
    "api-gateway": (
        "Deployment/api-gateway",
        set(),
        "richardchesterwood/k8s-fleetman-api-gateway:release2-multi",
    ),
    "webapp": (
        "Deployment/webapp",
        set(),
        "richardchesterwood/k8s-fleetman-webapp-angular:release2-multi",
    ),
    "queue": ("Deployment/queue", set(), "richardchesterwood/k8s-fleetman-queue:release2"),
}


def test_every_component_is_tested() -> None:
    folders = {p.name for p in COMPONENTS.iterdir() if (p / "kustomization.yaml").exists()}
    assert folders == set(SWAPS)


def _swapped(tree: Path, overlay: str, component: str) -> str:
    folder = tree / f"swap-{overlay}-{component}"
    folder.mkdir(exist_ok=True)
    (folder / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"resources: [../overlays/{overlay}]\n"
        f"components: [../components/original-fleetman/{component}]\n"
    )
    return render(tree, folder.name)


def _index(docs: list[dict]) -> dict[str, dict]:
    return {
        f"{d['kind']}/{d['metadata']['name']}": d
        for d in docs
        if namespace_of(d) == "default" or d["kind"] in {"Namespace", "StorageClass"}
    }


@pytest.mark.parametrize("overlay", ["dev", "aws"])
@pytest.mark.parametrize("component", sorted(SWAPS))
def test_swap_changes_only_its_workload(
    k8s_tree: Path,
    rendered: dict[str, list[dict]],
    kubeconform: Path,
    core_schemas: Path,
    tmp_path: Path,
    overlay: str,
    component: str,
) -> None:
    text = _swapped(k8s_tree, overlay, component)
    before, after = _index(rendered[f"overlays/{overlay}"]), _index(load_all(text))
    workload, others, image = SWAPS[component]
    assert before.keys() == after.keys()
    changed = {key for key in before if before[key] != after[key]}
    assert changed <= {workload} | others and workload in changed
    container = after[workload]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == image
    manifest = tmp_path / "swapped.yaml"
    manifest.write_text(text)
    report = run_kubeconform(kubeconform, core_schemas, manifest)
    assert report["summary"]["invalid"] == report["summary"]["errors"] == 0
