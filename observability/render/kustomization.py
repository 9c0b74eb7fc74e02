"""``k8s/monitoring/kustomization.yaml``: the generated objects, for the overlays to include."""

from __future__ import annotations

from pathlib import PurePosixPath

from observability.catalog.service import AlertOwner
from observability.render.provenance import header
from observability.render.yamltext import dump


def render_kustomization(owners: list[AlertOwner], paths: list[str]) -> str:
    """``owners``: the catalogs whose objects ``paths`` hold (for the provenance header)."""
    data = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": sorted(PurePosixPath(p).name for p in paths),
    }
    return dump(data, header=header({s.source.module for s in owners}))
