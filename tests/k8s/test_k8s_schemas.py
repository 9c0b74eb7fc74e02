"""kubeconform -strict validates every rendered object, offline: core kinds against PyPI
kubernetes-validate's schemas, operator kinds against the shared CRD schemas."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.k8s.manifests import (
    KUBERNETES_VERSION,
    SHARED_SCHEMAS,
    TARGETS,
)

#: Kinds kubeconform may skip, each with the reason. Empty: every kind we render has a schema.
SKIPPED_KINDS: dict[str, str] = {}


def run_kubeconform(binary: Path, schemas: Path, manifest: Path) -> dict:
    result = subprocess.run(
        [
            str(binary),
            "-strict",
            "-summary",
            "-output",
            "json",
            "-kubernetes-version",
            f"{KUBERNETES_VERSION}.0",
            "-schema-location",
            f"{schemas}/{{{{.ResourceKind}}}}{{{{.KindSuffix}}}}.json",
            "-schema-location",
            f"{SHARED_SCHEMAS}/{{{{.Group}}}}/{{{{.ResourceKind}}}}_{{{{.ResourceAPIVersion}}}}.json",
            *(["-skip", ",".join(SKIPPED_KINDS)] if SKIPPED_KINDS else []),
            str(manifest),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"kubeconform said:\n{result.stdout}\n{result.stderr}") from exc


@pytest.mark.parametrize("target", TARGETS)
def test_kubeconform_strict(
    kubeconform: Path,
    core_schemas: Path,
    rendered_text: dict[str, str],
    tmp_path: Path,
    target: str,
) -> None:
    assert SHARED_SCHEMAS.is_dir(), f"the operator CRD schemas are missing: {SHARED_SCHEMAS}"
    manifest = tmp_path / "rendered.yaml"
    manifest.write_text(rendered_text[target])
    report = run_kubeconform(kubeconform, core_schemas, manifest)
    problems = [
        f"{r['kind']}/{r['name']}: {r['status']} {r.get('msg', '')}"
        for r in report["resources"]
        if r["status"] not in {"statusValid", "statusSkipped"}
        or (r["status"] == "statusSkipped" and r["kind"] not in SKIPPED_KINDS)
    ]
    assert problems == []
    summary = report["summary"]
    assert summary["invalid"] == summary["errors"] == 0
    assert summary["valid"] > 0


def test_kubeconform_rejects_a_bad_object(
    kubeconform: Path, core_schemas: Path, tmp_path: Path
) -> None:
    """The same invocation fails on a typo: the schemas really are in use (and strict)."""
    manifest = tmp_path / "bad.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: x}\n"
        "spec: {selector: {a: b}, ports: [{port: 80, targetPortt: 80}]}\n"
    )
    report = run_kubeconform(kubeconform, core_schemas, manifest)
    assert report["summary"]["invalid"] == 1


def test_every_skipped_kind_has_a_reason() -> None:
    assert all(reason.strip() for reason in SKIPPED_KINDS.values())
