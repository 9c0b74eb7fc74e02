"""The distributions along the seams, installed as their users install them (no repository on the
path): each service image's closure, with the Dockerfile's own install command, holds what the
service needs and nothing of the others, the tools or the stack, and runs; dashboard-gen,
pip-installed from its wheels into a fresh virtualenv, works in an empty repository."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.k8s.test_dockerfiles import PYTHON_DOCKERFILE, PYTHON_SERVICES, stages

REPO = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).parent / "uv"

#: What no service image holds: the generator's and the stack's dependencies, and the tests'.
NO_SERVICE_NEEDS = {
    "dashboard-gen",
    "fleetman-stack",
    "grafanalib",
    "matplotlib",
    "numpy",
    "promql-parser",
    "supervisor",
    "elasticsearch",
    "pytest",
}
#: Per service, what the others need and it does not (the seams of the issue: the gateway
#: loads neither pymongo nor pyproj).
NOT_NEEDED = {
    "api_gateway": {"pymongo", "pyproj", "gpxpy", "fleetman-position-tracker"},
    "position_tracker": {"aiohttp", "gpxpy", "fleetman-api-gateway"},
    "position_simulator": {"pymongo", "aiohttp", "fleetman-position-tracker"},
}
#: and what it cannot run without
NEEDED = {
    "api_gateway": {"fleetman-api-gateway", "fleetman-positions", "aiohttp", "fastapi"},
    "position_tracker": {"fleetman-position-tracker", "pymongo", "pyproj", "stomp-py"},
    "position_simulator": {"fleetman-position-simulator", "pyproj", "gpxpy", "stomp-py"},
}


def run(command: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    result = subprocess.run(
        command,
        cwd=cwd,
        env={**environment, "NO_COLOR": "1", **env},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}\n{result.stderr}"
    return result


def installed(python: Path, cwd: Path) -> set[str]:
    """The normalised names of the distributions in ``python``'s environment."""
    names = run(
        [
            str(python),
            "-c",
            "import importlib.metadata as m, re\n"
            "for d in m.distributions(): print(re.sub(r'[-_.]+', '-', d.metadata['Name']).lower())",
        ],
        cwd,
    ).stdout.split()
    return set(names)


def image_install_command() -> str:
    (command,) = [
        i["value"]
        for i in stages(PYTHON_DOCKERFILE)[0]
        if i["instruction"] == "RUN" and "uv sync" in i["value"]
    ]
    return command


@pytest.mark.parametrize("service", sorted(PYTHON_SERVICES))
def test_a_service_image_installs_its_closure_only_and_runs(service: str, outside: Path):
    venv = outside / "opt" / "fleetman"
    # the Dockerfile's RUN, with uv.lock's versions, into a venv of its own (as /opt/fleetman)
    run(
        ["sh", "-c", image_install_command().replace("uv sync", f"{UV} sync --quiet")],
        REPO,
        SERVICE=service,
        UV_PROJECT_ENVIRONMENT=str(venv),
        UV_PYTHON=sys.executable,
    )
    python = venv / "bin" / "python"
    names = installed(python, outside)
    assert not names & (NO_SERVICE_NEEDS | NOT_NEEDED[service]), sorted(
        names & (NO_SERVICE_NEEDS | NOT_NEEDED[service])
    )
    assert NEEDED[service] <= names, sorted(NEEDED[service] - names)
    # the service's application imports from the installed distributions alone
    loaded = run(
        [
            str(python),
            "-c",
            f"import sys, services.{service}.app as a; print(a.__file__);"
            "print(' '.join(sorted(m for m in sys.modules if '.' not in m)))",
        ],
        outside,
    ).stdout.splitlines()
    assert Path(loaded[0]).is_relative_to(venv), loaded[0]
    if service == "api_gateway":
        assert not {"pymongo", "pyproj", "bson"} & set(loaded[1].split())
    # and its console script (the image's ENTRYPOINT) answers --help with its settings
    script = PYTHON_SERVICES[service]
    help_text = run([str(venv / "bin" / script), "--help"], outside).stdout
    assert "--" in help_text and "usage" in help_text.lower(), help_text


def test_dashboard_gen_pip_installed_works_in_an_empty_repository(outside: Path):
    wheels = outside / "wheels"
    for package in ("dashboard-gen", "fleetman-telemetry"):
        run(
            [str(UV), "build", "--quiet", "--wheel", "--package", package, "-o", str(wheels)],
            REPO,
        )
    # the versions uv.lock pins, as constraints for pip
    constraints = outside / "constraints.txt"
    exported = run(
        [
            str(UV),
            "export",
            "--quiet",
            "--frozen",
            "--no-dev",
            "--no-hashes",
            "--no-emit-workspace",
            "--package",
            "dashboard-gen",
        ],
        REPO,
    ).stdout
    constraints.write_text(exported)
    venv = outside / "venv"
    run([sys.executable, "-m", "venv", str(venv)], outside)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    run(
        [*pip, "install", "--quiet", "-c", str(constraints), *map(str, wheels.glob("*.whl"))],
        outside,
    )
    names = installed(venv / "bin" / "python", outside)
    assert {"dashboard-gen", "fleetman-telemetry", "grafanalib"} <= names
    assert not names & {"pymongo", "fleetman-stack", "fleetman-position-tracker"}

    repository = outside / "repo"
    repository.mkdir()
    dashboard_gen = str(venv / "bin" / "dashboard-gen")
    run([dashboard_gen, "init"], repository)
    generated = run([dashboard_gen, "generate"], repository).stdout
    assert "wrote alerts/rules/example.yml" in generated
    assert (repository / "dashboards" / "grafana" / "fleet-example.json").is_file()
    assert run([dashboard_gen, "check"], repository).stdout == "no problems found\n"
    run([dashboard_gen, "lint"], repository)
