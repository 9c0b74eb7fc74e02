"""Go tools built with `go install` into the project cache (`<cache>/bin`), once per version."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from services.stack.errors import StackError
from services.stack.locks import locked
from services.stack.paths import StackPaths, stack_paths


@dataclass(frozen=True)
class GoTool:
    package: str
    version: str
    module: str | None = None
    """Set for a tool built from its own module's source (see `source_files`)."""
    source_files: tuple[tuple[str, str], ...] = ()
    """Files written into that source before building (what its release tooling generates)."""

    @property
    def name(self) -> str:
        return self.package.rsplit("/", 1)[-1]

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"


GO_TOOLS: dict[str, GoTool] = {
    tool.name: tool
    for tool in (
        # FerretDB embeds build/version/version.txt, which its release tooling writes and the
        # module zip lacks (a plain `go install` of it panics at start): build from its source
        # with that file written, as `bin/task gen-version` would.
        GoTool(
            "github.com/FerretDB/FerretDB/cmd/ferretdb",
            "v1.24.2",
            module="github.com/FerretDB/FerretDB",
            source_files=(("build/version/version.txt", "v1.24.2\n"),),
        ),
        GoTool("github.com/cloudflare/pint/cmd/pint", "v0.87.0"),
        GoTool("github.com/yannh/kubeconform/cmd/kubeconform", "v0.7.0"),
        # The collector builder: its release must match the collector modules in
        # components/otelcol-builder.yaml (see the note there on why v0.156.0).
        GoTool("go.opentelemetry.io/collector/cmd/builder", "v0.156.0"),
    )
}


def go_binary() -> str:
    """The `go` command (PATH, then the usual /usr/local/go), or a one-line reason to stop."""
    found = shutil.which("go") or (
        "/usr/local/go/bin/go" if os.access("/usr/local/go/bin/go", os.X_OK) else None
    )
    if found is None:
        raise StackError(
            "go: the Go toolchain (>= 1.25) is needed to build ferretdb, pint, kubeconform and "
            "the OpenTelemetry Collector; install Go and put `go` on PATH"
        )
    return found


def go_env(paths: StackPaths, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    go_dir = str(Path(go_binary()).parent)
    env["PATH"] = go_dir + os.pathsep + env.get("PATH", "")
    env.setdefault("GOFLAGS", "-buildvcs=false")
    env.update(extra)
    return env


def ensure_go_tool(name: str, paths: StackPaths | None = None) -> Path:
    """The path of Go tool `name` (see GO_TOOLS), building it into `<cache>/bin` when missing."""
    tool = GO_TOOLS[name]
    paths = paths or stack_paths()
    binary = paths.bin / tool.name
    stamp = paths.bin / f".{tool.name}.version"
    if binary.exists() and stamp.exists() and stamp.read_text().strip() == tool.spec:
        return binary
    with locked(paths.cache / ".go-install.lock"):
        if binary.exists() and stamp.exists() and stamp.read_text().strip() == tool.spec:
            return binary
        paths.bin.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        print(f"  building {tool.spec}", flush=True)
        if tool.module:
            _build_from_source(tool, paths)
        else:
            _go_install(tool, paths)
        stamp.write_text(tool.spec + "\n")
        print(f"  built {tool.name} in {time.monotonic() - started:.0f}s", flush=True)
    return binary


def _go_install(tool: GoTool, paths: StackPaths) -> None:
    """Build `tool` at its exact version through a throw-away main module.

    This is `go install module/cmd@version` with two differences that matter here:
    - it needs only that version from the proxy (go install also asks for the module's
      version list, to warn about deprecation, which the proxy refuses for some modules);
    - the tool is not the main module of the build, so FerretDB skips its release-only
      version.txt check (which panics in a `go install`-ed FerretDB).
    Dependency versions are the tool's own (minimal version selection over its go.mod).
    """
    env = go_env(paths)
    workdir = paths.build / f"go-{tool.name}"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    (workdir / "go.mod").write_text(f"module fleetstack.local/tools/{tool.name}\n\ngo 1.24\n")
    output = paths.bin / f".{tool.name}.new"
    steps = [
        [go_binary(), "get", tool.spec],
        [go_binary(), "build", "-trimpath", "-o", str(output), tool.package],
    ]
    for cmd in steps:
        step = subprocess.run(
            cmd, cwd=workdir, env=env, capture_output=True, text=True, check=False
        )
        if step.returncode != 0:
            raise StackError(f"{tool.name}: cannot build {tool.spec}: {_last_line(step.stderr)}")
    os.replace(output, paths.bin / tool.name)
    shutil.rmtree(workdir, ignore_errors=True)


def _build_from_source(tool: GoTool, paths: StackPaths) -> None:
    """Build `tool` inside a writable copy of its module (its own go.mod and go.sum)."""
    assert tool.module is not None
    env = go_env(paths)
    spec = f"{tool.module}@{tool.version}"
    proc = subprocess.run(
        [go_binary(), "mod", "download", "-json", spec],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise StackError(f"{tool.name}: cannot download {spec}: {_last_line(proc.stderr)}")
    source = Path(json.loads(proc.stdout)["Dir"])
    workdir = paths.build / f"go-{tool.name}"
    shutil.rmtree(workdir, ignore_errors=True)
    shutil.copytree(source, workdir, copy_function=shutil.copyfile)
    for folder, _dirs, _files in os.walk(workdir):
        os.chmod(folder, 0o755)
    for relative, text in tool.source_files:
        (workdir / relative).write_text(text)
    output = paths.bin / f".{tool.name}.new"
    package = "./" + tool.package.removeprefix(tool.module).lstrip("/")
    step = subprocess.run(
        [go_binary(), "build", "-trimpath", "-o", str(output), package],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if step.returncode != 0:
        raise StackError(f"{tool.name}: cannot build {tool.spec}: {_last_line(step.stderr)}")
    os.replace(output, paths.bin / tool.name)
    shutil.rmtree(workdir, ignore_errors=True)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"
