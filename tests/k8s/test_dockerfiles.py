"""The images' Dockerfiles, read with dockerfile-parse (no Docker engine here): non-root,
pinned bases, multi-stage with nothing to build in the last stage, exec-form commands; one
Dockerfile for the Python services, the service chosen by its SERVICE build argument."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from dockerfile_parse import DockerfileParser

from tests.k8s.manifests import REPO

#: SERVICE build argument (the package) -> the console script its image runs
PYTHON_SERVICES = {
    "position_simulator": "position-simulator",
    "position_tracker": "position-tracker",
    "api_gateway": "api-gateway",
}
#: The Python services' one Dockerfile (``--build-arg SERVICE=position_tracker``).
PYTHON_DOCKERFILE = REPO / "services" / "Dockerfile"
DOCKERFILES = {
    "python": PYTHON_DOCKERFILE,
    "webapp": REPO / "services" / "webapp" / "Dockerfile",
}
#: The name the Python image's ENTRYPOINT runs: a link to the SERVICE's console script.
SERVICE_LINK = "fleet-service"
#: Anything that compiles or fetches build dependencies has no place in a final stage.
BUILD_TOOLS = re.compile(
    r"\b(gcc|g\+\+|cc|clang|make|build-essential|python3?-dev|apt-get|apk add|pip install)\b"
)
PINNED_TAG = re.compile(r"^[\w./-]+(:\d[\w.-]*|@sha256:[0-9a-f]{64})$")


def stages(path: Path) -> list[list[dict]]:
    """The Dockerfile's instructions, one list per stage."""
    parser = DockerfileParser(path=str(path))
    found: list[list[dict]] = []
    for instruction in parser.structure:
        if instruction["instruction"] == "FROM":
            found.append([])
        if found:
            found[-1].append(instruction)
    return found


def _from(stage: list[dict]) -> tuple[str, str | None]:
    words = stage[0]["value"].split()
    image = next(w for w in words if not w.startswith("--"))
    alias = words[words.index("AS") + 1] if "AS" in words else None
    return image, alias


def _last(stage: list[dict], instruction: str) -> str | None:
    values = [i["value"] for i in stage if i["instruction"] == instruction]
    return values[-1] if values else None


def _exec_form(value: str | None) -> list[str] | None:
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, list) and all(isinstance(x, str) for x in parsed) else None


@pytest.fixture(params=sorted(DOCKERFILES))
def dockerfile(request: pytest.FixtureRequest) -> tuple[str, list[list[dict]]]:
    return request.param, stages(DOCKERFILES[request.param])


def test_multi_stage(dockerfile: tuple[str, list[list[dict]]]) -> None:
    _, found = dockerfile
    assert len(found) >= 2


def test_base_images_pinned(dockerfile: tuple[str, list[list[dict]]]) -> None:
    _, found = dockerfile
    aliases = {_from(stage)[1] for stage in found}
    for stage in found:
        image, _ = _from(stage)
        if image in aliases:
            continue
        assert PINNED_TAG.match(image), f"{image} is not pinned to a version"
        assert "latest" not in image


def test_final_stage_runs_as_numeric_non_root(dockerfile: tuple[str, list[list[dict]]]) -> None:
    _, found = dockerfile
    user = _last(found[-1], "USER")
    assert user is not None, "the final stage sets no USER"
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0, f"USER {user}: numeric and non-root, please"


def test_final_stage_builds_nothing(dockerfile: tuple[str, list[list[dict]]]) -> None:
    _, found = dockerfile
    for instruction in found[-1]:
        if instruction["instruction"] == "RUN":
            assert not BUILD_TOOLS.search(instruction["value"]), instruction["content"]
    image, _ = _from(found[-1])
    assert re.search(r"slim|alpine|distroless|unprivileged", image), image


def test_exec_form_commands_and_healthcheck(dockerfile: tuple[str, list[list[dict]]]) -> None:
    _, found = dockerfile
    final = found[-1]
    command = _last(final, "ENTRYPOINT") or _last(final, "CMD")
    assert _exec_form(command), f"not exec form: {command}"
    healthcheck = _last(final, "HEALTHCHECK")
    assert healthcheck, "no HEALTHCHECK"
    assert _exec_form(healthcheck.split("CMD", 1)[1].strip()), healthcheck


def test_every_service_package_has_its_console_script() -> None:
    """The SERVICE values: each package under services/ with a __main__, run by its script."""
    packages = {p.parent.name for p in (REPO / "services").glob("*/__main__.py")}
    assert packages == set(PYTHON_SERVICES)
    for package, script in PYTHON_SERVICES.items():
        assert script == package.replace("_", "-")
        assert console_scripts(package)[script] == f"services.{package}.__main__:main"


def console_scripts(package: str) -> dict[str, str]:
    """The console scripts of the workspace member that holds services/<package>."""
    member = REPO / "services" / package / "pyproject.toml"
    return tomllib.loads(member.read_text())["project"].get("scripts", {})


def test_python_image_takes_the_service_as_build_argument() -> None:
    builder, final = stages(PYTHON_DOCKERFILE)[0], stages(PYTHON_DOCKERFILE)[-1]
    for stage in (builder, final):
        assert "SERVICE" in [i["value"] for i in stage if i["instruction"] == "ARG"], (
            "ARG SERVICE without a default: the build names its service"
        )
    assert _exec_form(_last(final, "ENTRYPOINT")) == [SERVICE_LINK]
    assert _last(final, "EXPOSE") == "8080"
    # the service's own closure, at the versions and hashes of uv.lock (tests/packaging runs it)
    (install,) = [
        i["value"] for i in builder if i["instruction"] == "RUN" and "uv sync" in i["value"]
    ]
    for option in ("--frozen", "--no-dev", "--no-editable", "--package"):
        assert option in install.split(), f"the install runs without {option}"
    copied = " ".join(i["value"] for i in builder if i["instruction"] == "COPY")
    assert "uv.lock" in copied


def _link_the_service(service: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess, Path]:
    """The builder's RUNs that use SERVICE but install nothing, run by sh against this checkout
    (as in the image's /src) and a stand-in virtualenv holding every console script."""
    command = " && ".join(
        i["value"]
        for i in stages(PYTHON_DOCKERFILE)[0]
        if i["instruction"] == "RUN" and "SERVICE" in i["value"] and "uv sync" not in i["value"]
    )
    venv = tmp_path / "opt" / "fleetman"
    (venv / "bin").mkdir(parents=True)
    scripts = {
        s
        for p in (REPO / "services").glob("*/pyproject.toml")
        for s in console_scripts(p.parent.name)
    }
    for script in scripts:
        (venv / "bin" / script).write_text("#!/bin/sh\n")
        (venv / "bin" / script).chmod(0o755)
    result = subprocess.run(
        ["sh", "-c", command.replace("/opt/fleetman", str(venv))],
        cwd=REPO,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "SERVICE": service},
        capture_output=True,
        text=True,
        check=False,
    )
    return result, venv / "bin" / SERVICE_LINK


@pytest.mark.parametrize(("package", "script"), sorted(PYTHON_SERVICES.items()))
def test_python_image_runs_the_services_console_script(
    package: str, script: str, tmp_path: Path
) -> None:
    result, link = _link_the_service(package, tmp_path)
    assert result.returncode == 0, result.stderr
    assert os.readlink(link) == script


@pytest.mark.parametrize("service", ["", "webapp", "common", "stack", "position-tracker"])
def test_python_image_refuses_a_service_that_is_not_one(service: str, tmp_path: Path) -> None:
    result, link = _link_the_service(service, tmp_path)
    assert result.returncode != 0
    assert "--build-arg SERVICE=" in result.stderr
    assert not link.is_symlink()


def test_no_per_service_python_dockerfile() -> None:
    """One Dockerfile for the Python services; only the web app (nginx) has its own."""
    assert sorted(
        p.relative_to(REPO).as_posix() for p in (REPO / "services").glob("*/Dockerfile")
    ) == ["services/webapp/Dockerfile"]
    old = re.compile(rf"services/(?:{'|'.join(PYTHON_SERVICES)})/Dockerfile")
    places = [REPO / "README.md", REPO / "Makefile", REPO / ".dockerignore", REPO / ".ci" / "run"]
    for folder in ("k8s", "docs", "services", "tests"):
        places += [
            path
            for path in (REPO / folder).rglob("*")
            if path.suffix in {".md", ".py", ".yml", ".yaml", ".sh", ".env", ".toml"}
            and "node_modules" not in path.parts
        ]
    for path in places:
        text = path.read_text(errors="ignore")
        assert not old.search(text), f"{path.relative_to(REPO)} names a removed Dockerfile"


def test_copied_sources_exist_and_are_not_ignored(
    dockerfile: tuple[str, list[list[dict]]],
) -> None:
    _, found = dockerfile
    ignore = (REPO / ".dockerignore").read_text().splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    for stage in found:
        for instruction in stage:
            if instruction["instruction"] != "COPY" or "--from" in instruction["value"]:
                continue
            sources = instruction["value"].split()[:-1]
            for source in sources:
                assert (REPO / source).exists(), f"COPY {source}: no such path"
                top = source.split("/")[0]
                assert top in allowed, f"COPY {source}: excluded by .dockerignore"


# --- the web app's nginx config, rendered as the image renders it ----------------------------

_SED = re.compile(r"s\|\{\{ \*(\w+) \*\}\}\|([^|]*)\|g")


def render_webapp_config(upstream: str | None = None) -> str:
    """The template with the Dockerfile's own sed substitutions applied."""
    dockerfile = DOCKERFILES["webapp"].read_text()
    default_upstream = re.search(r"ARG API_UPSTREAM=(\S+)", dockerfile).group(1)
    values = {
        name: value.replace("${API_UPSTREAM}", upstream or default_upstream)
        for name, value in _SED.findall(dockerfile)
    }
    template = (REPO / "services" / "webapp" / "nginx" / "nginx.conf.template").read_text()
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: values.get(m.group(1), m.group(0)), template)


def test_webapp_config_fills_every_placeholder() -> None:
    rendered = render_webapp_config()
    assert "{{" not in rendered, "the template has a placeholder the Dockerfile does not fill"
    assert re.search(r"listen\s+80;", rendered), "the original web app listens on 80"
    assert "fleetman-api-gateway:8080" in rendered


def test_webapp_config_has_the_probe_path() -> None:
    """The pod's probes and the image's HEALTHCHECK call /healthz."""
    assert re.search(r"location\s*=\s*/healthz", render_webapp_config())


def test_webapp_config_passes_nginx_t(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists() or not Path("/etc/nginx/mime.types").exists():
        pytest.skip("nginx is not installed (make up installs it)")
    # A resolvable upstream: `nginx -t` resolves proxy_pass host names.
    text = render_webapp_config(upstream="127.0.0.1:8080").replace("/tmp", str(tmp_path))
    text = text.replace("listen 80;", "listen 127.0.0.1:18080;")
    config = tmp_path / "nginx.conf"
    config.write_text(text)
    result = subprocess.run(
        [nginx, "-t", "-p", f"{tmp_path}/", "-c", str(config), "-e", "stderr"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_webapp_writes_only_to_the_pods_temp_dir() -> None:
    """The pod's root filesystem is read-only: every folder the image's nginx writes (its pid
    file, temp folders and the fleet list's micro-cache) is under /tmp, an emptyDir that the
    deployment mounts (and that holds the cache's max_size)."""
    rendered = render_webapp_config()
    written = re.findall(r"^\s*(?:pid|\w+_temp_path|proxy_cache_path)\s+(\S+?);?\s", rendered, re.M)
    assert "/tmp/api_cache" in written
    assert all(path.startswith("/tmp/") for path in written), written
    (cache_size,) = re.findall(r"^\s*proxy_cache_path\s[^;]*\bmax_size=(\d+)m\b", rendered, re.M)

    deployment = yaml.safe_load((REPO / "k8s" / "base" / "webapp" / "deployment.yaml").read_text())
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    tmp = volumes[mounts["/tmp"]]["emptyDir"]
    assert int(cache_size) * 2 <= int(tmp["sizeLimit"].removesuffix("Mi"))
