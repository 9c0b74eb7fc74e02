"""``dashboard-gen`` in any repository: `init` in an empty folder outside this one, then
`generate`, `check` and `lint` there; no fallback to this project; one-line errors (exit 2)
and findings (exit 1)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests.dashboard_gen.cli_run import dashboard_gen


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """dashboard-gen in ``cwd``, the other repository (the package importable from this one's
    checkout, as when it is pip-installed)."""
    return dashboard_gen(*args, cwd=cwd)


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    """stderr without the progress lines a slow machine may add."""
    return [
        line for line in result.stderr.splitlines() if not line.endswith("s)") or "error" in line
    ]


def test_init_generate_check_lint_in_an_empty_folder(outside: Path):
    init = run("init", cwd=outside)
    assert init.returncode == 0, init.stderr
    assert (outside / "dashboard-gen.toml").is_file()
    assert (outside / "telemetry.py").is_file()
    generate = run("generate", cwd=outside)
    assert generate.returncode == 0, generate.stderr
    assert "wrote alerts/rules/example.yml" in generate.stdout
    for artifact in (
        "alerts/rules/example.yml",
        "alerts/tests/generated/example-availability.yml",
        "alerts/runbooks/ExampleErrorBudgetBurn.md",
        "dashboards/grafana/fleet-example.json",
        "k8s/monitoring/kustomization.yaml",
    ):
        assert (outside / artifact).is_file(), artifact
    # from a subfolder too: the configuration is found upwards
    (outside / "sub").mkdir()
    check = run("check", cwd=outside / "sub")
    assert (check.returncode, check.stdout) == (0, "no problems found\n"), check.stderr
    lint = run("lint", cwd=outside)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert run("generate", cwd=outside).stdout.startswith("changed 0 file(s)")


def test_outputs_go_where_the_configuration_says(outside: Path):
    assert run("init", cwd=outside).returncode == 0
    config = outside / "dashboard-gen.toml"
    config.write_text(
        config.read_text()
        .replace('# rules = "alerts/rules"', 'rules = "monitoring/prom"')
        .replace('# grafana-dashboards = "dashboards/grafana"', 'grafana-dashboards = "grafana"')
    )
    generate = run("generate", cwd=outside)
    assert generate.returncode == 0, generate.stderr
    assert (outside / "monitoring/prom/example.yml").is_file()
    assert (outside / "grafana/fleet-example.json").is_file()
    assert not (outside / "alerts/rules").exists()
    # what refers to a moved output follows it: Prometheus's rule files, Grafana's provider
    prometheus = yaml.safe_load((outside / "alerts/prometheus.yml").read_text())
    assert prometheus["rule_files"] == ["../monitoring/prom/*.yml"]
    assert (outside / "alerts" / "../monitoring/prom/example.yml").is_file()
    provider = yaml.safe_load((outside / "dashboards/provisioning/dashboards.yaml").read_text())
    assert provider["providers"][0]["options"]["path"] == "grafana"
    stale = outside / "monitoring/prom/gone.yml"
    stale.write_text("groups: []\n")
    check = run("check", "--no-diff", cwd=outside)
    assert check.returncode == 1
    assert "monitoring/prom/gone.yml is no longer generated (stale)" in check.stdout
    assert "removed monitoring/prom/gone.yml" in run("generate", cwd=outside).stdout
    assert run("lint", cwd=outside).returncode == 0


def test_an_empty_folder_is_a_one_line_error(outside: Path):
    result = run("generate", cwd=outside)
    assert result.returncode == 2
    assert result.stdout == ""
    [line] = error_lines(result)
    assert "no configuration found" in line
    assert "dashboard-gen init" in line
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("catalogs = [\n", "not valid TOML"),
        ('catalogs = ["telemetry:CATALOG"]\nfrobnicate = 1\n', "unknown keys"),
        ('catalogs = "telemetry:CATALOG"\n', "catalogs must be a list of strings"),
        ('catalogs = ["nowhere:CATALOG"]\n', "cannot load catalog 'nowhere:CATALOG'"),
        ('catalogs = ["telemetry:CATALOG"]\n[outputs]\nrulez = "x"\n', "unknown outputs"),
        ('catalogs = ["broken:CATALOG"]\n', "cannot load catalog 'broken:CATALOG': NameError"),
    ],
)
def test_a_configuration_error_is_one_line_exit_2(outside: Path, text: str, message: str):
    (outside / "broken.py").write_text("CATALOG = undefined_name\n")
    (outside / "dashboard-gen.toml").write_text(text)
    result = run("check", cwd=outside)
    assert result.returncode == 2
    [line] = error_lines(result)
    assert message in line
    assert "Traceback" not in result.stderr


def test_an_invalid_catalog_is_one_line_naming_it(outside: Path):
    assert run("init", cwd=outside).returncode == 0
    module = outside / "telemetry.py"
    module.write_text(module.read_text().replace("example_requests_total", "example_requests"))
    result = run("generate", cwd=outside)
    assert result.returncode == 2
    [line] = error_lines(result)
    assert line.startswith("dashboard-gen: invalid catalog: telemetry.py:")
    assert "counter names end in _total" in line


def test_a_finding_exits_1(outside: Path):
    assert run("init", cwd=outside).returncode == 0
    assert run("generate", cwd=outside).returncode == 0
    rules = outside / "alerts/rules/example.yml"
    rules.write_text(rules.read_text() + "# edited by hand\n")
    result = run("check", "--no-diff", cwd=outside)
    assert result.returncode == 1
    assert "alerts/rules/example.yml differs from what the catalogs generate" in result.stdout
    assert "Traceback" not in result.stderr


def test_config_option_overrides_the_search(outside: Path):
    assert run("init", str(outside / "project"), cwd=outside).returncode == 0
    result = run("--config", str(outside / "project/dashboard-gen.toml"), "check", cwd=outside)
    assert result.returncode == 1  # nothing generated yet: every file is missing
    assert "alerts/rules/example.yml is not committed" in result.stdout


def test_an_slo_whose_tests_cannot_be_generated_is_one_line_naming_it(outside: Path):
    assert run("init", cwd=outside).returncode == 0
    module = outside / "telemetry.py"
    module.write_text(
        module.read_text().replace("objective=0.99", "objective=0.9").replace("99% of", "90% of")
    )
    result = run("generate", cwd=outside)
    assert result.returncode == 2
    [line] = error_lines(result)
    assert line.startswith("dashboard-gen: cannot generate the promtool tests: SLO availability")
    assert "(telemetry.py:" in line and "cannot be exceeded" in line
    assert "Traceback" not in result.stderr
