"""The artifacts pass the real tools, offline: promtool (check + unit tests), amtool, pint,
kubeconform against the operator CRD schemas and kubernetes-validate's core schemas."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.dashboard_gen.conftest import REPO

RULE_FILES = sorted(REPO.glob("alerts/rules/*.yml"))
#: The same rules time-scaled, which the local Prometheus loads during a fire drill.
DRILL_RULE_FILES = sorted(REPO.glob("alerts/drill-rules/*.yml"))
GENERATED_TESTS = sorted(REPO.glob("alerts/tests/generated/*.yml"))
HAND_TESTS = sorted(REPO.glob("alerts/tests/*.test.yml"))
#: The shared objects, and each cluster's own rules and dashboards (one set is enough here).
MONITORING = sorted(
    p
    for pattern in ("k8s/monitoring/*.yaml", "k8s/overlays/dev/monitoring/generated/*.yaml")
    for p in REPO.glob(pattern)
    if p.name != "kustomization.yaml"
)
SHARED_SCHEMAS = REPO.parent / "shared" / "schemas"


def run(*args: object, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_there_is_something_to_check():
    assert len(RULE_FILES) >= 3 and len(GENERATED_TESTS) >= 4 and len(HAND_TESTS) >= 3
    assert len(MONITORING) >= 6


def test_promtool_check_rules(promtool: Path, tmp_path: Path):
    """Plain rule files, and the PrometheusRule objects with their `spec` unwrapped."""
    unwrapped = []
    for manifest in (p for p in MONITORING if p.name.endswith("-rules.yaml")):
        plain = tmp_path / manifest.name
        plain.write_text(yaml.safe_dump(yaml.safe_load(manifest.read_text())["spec"]))
        unwrapped.append(plain)
    # every service's rules ship to the clusters; a component's only when it runs there
    in_cluster = {p.name.removesuffix("-rules.yaml") for p in unwrapped}
    assert in_cluster <= {p.stem for p in RULE_FILES} and len(in_cluster) >= 4
    assert [p.name for p in DRILL_RULE_FILES] == [p.name for p in RULE_FILES]
    checked = [*RULE_FILES, *DRILL_RULE_FILES, *unwrapped]
    result = run(promtool, "check", "rules", *checked)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(checked)


def test_promtool_check_config(promtool: Path):
    result = run(promtool, "check", "config", "alerts/prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def _run_all(commands: list[list[object]]) -> list[tuple[str, int, str]]:
    """promtool test files in parallel (the freshness SLO's take the longest, ~40 s)."""
    procs = [
        (
            str(c[-1]),
            subprocess.Popen(
                [str(a) for a in c],
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            ),
        )
        for c in commands
    ]
    return [(name, p.wait(timeout=600), p.stdout.read()) for name, p in procs]  # type: ignore[union-attr]


def test_promtool_test_rules_generated_and_hand_written(promtool: Path):
    results = _run_all([[promtool, "test", "rules", f] for f in (*GENERATED_TESTS, *HAND_TESTS)])
    failed = [f"{name}:\n{out}" for name, code, out in results if code != 0]
    assert failed == []
    assert all("SUCCESS" in out for _, _, out in results)


def test_generated_tests_catch_a_wrong_threshold(promtool: Path, tmp_path: Path):
    """Mutation: a rule file whose page threshold is 10 times too high fails its tests."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "tests" / "generated").mkdir(parents=True)
    rules = (REPO / "alerts/rules/api-gateway.yml").read_text()
    assert "(14.4 * 0.001)" in rules
    (tmp_path / "rules/api-gateway.yml").write_text(
        rules.replace("(14.4 * 0.001)", "(144 * 0.001)")
    )
    test = tmp_path / "tests/generated/api-gateway-api-availability.yml"
    test.write_text((REPO / "alerts/tests/generated/api-gateway-api-availability.yml").read_text())
    result = run(promtool, "test", "rules", test)
    assert result.returncode != 0
    assert (
        "page quick (1h/5m, burn rate 14.4), just above its threshold"
        in result.stdout + result.stderr
    )


def test_amtool_check_config(amtool: Path):
    result = run(amtool, "check-config", "alerts/alertmanager.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 inhibit rules" in result.stdout


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["severity=critical"], "pager"),
        (["severity=warning"], "tickets"),
        (["severity=info"], "null"),
        (["alertname=Unlabelled"], "null"),
        (
            [
                "alertname=ApiAvailabilityBudgetBurn",
                "severity=critical",
                "sloth_severity=page",
                "sloth_id=api-gateway-api-availability",
                "job=api-gateway",
            ],
            "pager",
        ),
        (
            [
                "alertname=ApiAvailabilityBudgetBurn",
                "severity=warning",
                "sloth_severity=ticket",
                "sloth_id=api-gateway-api-availability",
                "job=api-gateway",
            ],
            "tickets",
        ),
    ],
)
def test_amtool_routes(amtool: Path, labels: list[str], receiver: str):
    result = run(
        amtool,
        "config",
        "routes",
        "test",
        "--config.file=alerts/alertmanager.yml",
        f"--verify.receivers={receiver}",
        *labels,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == receiver


def test_pint_offline(pint: Path):
    result = run(
        pint, "--offline", "--no-color", "--config", "alerts/.pint.hcl", "lint", *RULE_FILES
    )
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    for level in ("Fatal:", "Bug:", "Warning:", "Information:"):
        assert level not in output, output
    assert "online=false" in output  # offline: no Prometheus was asked anything


@pytest.fixture(scope="module")
def core_schemas(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """kubeconform-ready core schemas (kubernetes-validate's, made standalone and offline by
    the Kubernetes tests' helper)."""
    from tests.k8s.manifests import kubernetes_validate_schemas, standalone_schemas

    kinds = {
        (d["kind"], d["apiVersion"]) for p in MONITORING for d in yaml.safe_load_all(p.read_text())
    }
    kinds |= {("Service", "v1")}  # one core kind, so the location is proven usable
    return standalone_schemas(
        kubernetes_validate_schemas(), kinds, tmp_path_factory.mktemp("schemas")
    )


def kubeconform_run(
    kubeconform: Path, core: Path, *files: Path
) -> subprocess.CompletedProcess[str]:
    return run(
        kubeconform,
        "-strict",
        "-summary",
        "-schema-location",
        f"{core}/{{{{.ResourceKind}}}}{{{{.KindSuffix}}}}.json",
        "-schema-location",
        f"{SHARED_SCHEMAS}/{{{{.Group}}}}/{{{{.ResourceKind}}}}_{{{{.ResourceAPIVersion}}}}.json",
        *files,
    )


def test_kubeconform_strict(kubeconform: Path, core_schemas: Path):
    result = kubeconform_run(kubeconform, core_schemas, *MONITORING)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Valid: {len(MONITORING)}, Invalid: 0, Errors: 0, Skipped: 0" in result.stdout


def test_kubeconform_uses_the_schemas(kubeconform: Path, core_schemas: Path, tmp_path: Path):
    monitor = yaml.safe_load((REPO / "k8s/monitoring/api-gateway-servicemonitor.yaml").read_text())
    monitor["spec"]["endpoints"][0]["portt"] = "http"
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump(monitor)
        + "---\napiVersion: v1\nkind: Service\nmetadata: {name: x, bogus: 1}\n"
    )
    result = kubeconform_run(kubeconform, core_schemas, bad)
    assert result.returncode == 1
    assert "Invalid: 2" in result.stdout, result.stdout
