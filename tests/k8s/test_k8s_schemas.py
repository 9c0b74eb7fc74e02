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


#: Kinds that must come back valid by name, not merely not invalid: the scale-out objects of
#: issue 21, KEDA's CRD (from the shared schemas) and the PodDisruptionBudget (kubernetes-validate).
SCALING_KINDS = ("ScaledObject", "PodDisruptionBudget")


def run_kubeconform(binary: Path, schemas: Path, manifest: Path, *, verbose: bool = False) -> dict:
    """kubeconform's JSON report; `verbose` lists the valid objects too, not only the others."""
    result = subprocess.run(
        [
            str(binary),
            "-strict",
            "-summary",
            *(["-verbose"] if verbose else []),
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


@pytest.mark.parametrize("target", TARGETS)
def test_scaling_objects_are_validated_against_their_schemas(
    kubeconform: Path,
    core_schemas: Path,
    rendered: dict[str, list[dict]],
    rendered_text: dict[str, str],
    tmp_path: Path,
    target: str,
) -> None:
    """Each ScaledObject and PodDisruptionBudget is reported valid, by name: it was checked
    against a schema (none skipped, none passed for want of one)."""
    expected = sorted(
        (d["kind"], d["metadata"]["name"]) for d in rendered[target] if d["kind"] in SCALING_KINDS
    )
    assert expected
    manifest = tmp_path / "rendered.yaml"
    manifest.write_text(rendered_text[target])
    report = run_kubeconform(kubeconform, core_schemas, manifest, verbose=True)
    statuses = {
        (r["kind"], r["name"]): r["status"]
        for r in report["resources"]
        if r["kind"] in SCALING_KINDS
    }
    assert statuses == dict.fromkeys(expected, "statusValid")


#: A mistake per scale-out kind that only its schema catches (kustomize renders them all).
BAD_SCALING_OBJECTS = {
    # the HPA's field name where KEDA's is minReplicaCount
    "ScaledObject field": """
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: bad, namespace: default}
spec:
  scaleTargetRef: {name: position-tracker}
  minReplicas: 2
  triggers: [{type: prometheus, metadata: {serverAddress: "http://p:9090", query: "1", threshold: "1"}}]
""",
    "ScaledObject fallback behavior": """
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: bad, namespace: default}
spec:
  scaleTargetRef: {name: position-tracker}
  fallback: {failureThreshold: 3, replicas: 2, behavior: keepCurrent}
  triggers: [{type: prometheus, metadata: {serverAddress: "http://p:9090", query: "1", threshold: "1"}}]
""",
    # a misspelt field, which only a strict validation catches
    "PodDisruptionBudget field": """
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: bad, namespace: default}
spec:
  minAvaliable: 1
  selector: {matchLabels: {app.kubernetes.io/name: position-tracker}}
""",
}


@pytest.mark.parametrize("case", sorted(BAD_SCALING_OBJECTS))
def test_kubeconform_rejects_a_bad_scaling_object(
    kubeconform: Path, core_schemas: Path, tmp_path: Path, case: str
) -> None:
    manifest = tmp_path / "bad.yaml"
    manifest.write_text(BAD_SCALING_OBJECTS[case])
    report = run_kubeconform(kubeconform, core_schemas, manifest)
    assert report["summary"]["invalid"] == 1, report
