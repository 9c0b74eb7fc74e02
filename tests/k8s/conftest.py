"""Session fixtures of the k8s tests: each kustomize target rendered once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.k8s.manifests import (
    TARGETS,
    kubernetes_validate_schemas,
    load_all,
    prepare_tree,
    render,
    standalone_schemas,
)


@pytest.fixture(scope="session")
def k8s_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare_tree(tmp_path_factory.mktemp("k8s-render"))


@pytest.fixture(scope="session")
def rendered_text(k8s_tree: Path) -> dict[str, str]:
    return {target: render(k8s_tree, target) for target in TARGETS}


@pytest.fixture(scope="session")
def rendered(rendered_text: dict[str, str]) -> dict[str, list[dict]]:
    return {target: load_all(text) for target, text in rendered_text.items()}


@pytest.fixture(scope="session")
def kubeconform() -> Path:
    from services.stack.gotools import ensure_go_tool

    return ensure_go_tool("kubeconform")


@pytest.fixture(scope="session")
def core_schemas(rendered: dict[str, list[dict]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    kinds = {(d["kind"], d["apiVersion"]) for docs in rendered.values() for d in docs}
    return standalone_schemas(
        kubernetes_validate_schemas(), kinds, tmp_path_factory.mktemp("kubeconform-schemas")
    )
