"""``k8s/monitoring/kustomization.yaml``: the generated objects, for the overlays to include."""

from __future__ import annotations

from pathlib import PurePosixPath

from observability.catalog.service import ServiceCatalog
from observability.render.provenance import header
from observability.render.yamltext import dump


def render_kustomization(services: list[ServiceCatalog], paths: list[str]) -> str:
    """``services``: those whose objects ``paths`` hold (for the provenance header)."""
    data = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": sorted(PurePosixPath(p).name for p in paths),
    }
    return dump(data, header=header({s.source.module for s in services}))
