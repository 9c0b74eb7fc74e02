"""Go tools built with `go install` into the project cache (`<cache>/bin`), once per version."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from services.stack.errors import StackError
from services.stack.locks import locked
from services.stack.paths import REPO_ROOT, StackPaths, stack_paths

FERRETDB_PATCHES = Path(__file__).resolve().parent / "components" / "ferretdb" / "patches"
"""Our patches to FerretDB (see the entry of GO_TOOLS and each patch's own header)."""


@dataclass(frozen=True)
class GoTool:
    package: str
    version: str
    module: str | None = None
    """Set for a tool built from its own module's source (see `source_files`, `patches`)."""
    source_files: tuple[tuple[str, str], ...] = ()
    """Files written into that source before building (what its release tooling generates)."""
    patches: tuple[Path, ...] = ()
    """Unified diffs (paths `a/...`, `b/...` from the module root) applied in this order to that
    source before building, with `git apply`: fixes of ours that upstream has not (yet)."""
    alias: str = ""
    """The binary's name when it must differ from the package's (another version of a tool
    that is also installed from Debian)."""

    def __post_init__(self) -> None:
        if (self.source_files or self.patches) and self.module is None:
            raise ValueError(f"{self.package}: source_files and patches need `module`")

    @property
    def name(self) -> str:
        """The binary's name: its alias, else as `go install` names it: the package path's last
        element, or the one before it when that is a major version suffix (`.../vegeta/v12` ->
        `vegeta`)."""
        if self.alias:
            return self.alias
        *rest, last = self.package.split("/")
        return rest[-1] if rest and re.fullmatch(r"v[2-9]|v[1-9][0-9]+", last) else last

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"

    @property
    def build_id(self) -> str:
        """What the binary's stamp records: the spec, plus a digest of the files written into
        and the patches applied to its source, so changing one rebuilds the binary (and
        restarts what runs it: the stamp is a config input of its component)."""
        if not self.source_files and not self.patches:
            return self.spec
        digest = hashlib.sha256()
        for relative, text in self.source_files:
            digest.update(f"file {relative}\0{text}\0".encode())
        for patch in self.patches:
            try:
                content = patch.read_bytes()
            except OSError as exc:
                raise StackError(f"{self.name}: cannot read patch {_shown(patch)}: {exc}") from exc
            digest.update(f"patch {patch.name}\0".encode() + content + b"\0")
        return f"{self.spec} source-sha256:{digest.hexdigest()[:16]}"


GO_TOOLS: dict[str, GoTool] = {
    tool.name: tool
    for tool in (
        # FerretDB embeds build/version/version.txt, which its release tooling writes and the
        # module zip lacks (a plain `go install` of it panics at start): build from its source
        # with that file written, as `bin/task gen-version` would. It is patched (the version
        # says so), for two bugs of v1.24.2 worth sending upstream, measured here:
        # - 0001: on SQLite no lookup, update or delete by _id used the _id index (the index is
        #   on `->"_id"`, the queries compared `->'$._id'`): every one a scan of the whole
        #   table, find_one by _id 3,494 ms on 1,000,000 small documents (0.33 ms patched),
        #   1,386 ms on 1,000 documents of 50 KB (0.3 ms);
        # - 0002: an update statement wrote while its query was still open, and the query
        #   closed only when the command ended: the command's 100th statement waited forever
        #   for one of the 100 pooled connections (99 statements took 10 ms, 100 hung the
        #   database until the client went away), and on SQLite the open read transaction kept
        #   every commit's WAL checkpoint from finishing, so the WAL grew without end and each
        #   commit walked all of it (a 1,000-vehicle round of updates 1.0 to 1.6 s and
        #   growing, 0.41 to 0.65 s patched);
        # - 0003: an update read the document, changed it in memory and wrote it back with
        #   nothing in between to stop another connection: of two concurrent updates of one
        #   document one was lost (3 clients x 300 `$push` to one document kept 462; trackers
        #   without message groups lost 40 of 30,000 positions). Updates are serialized.
        GoTool(
            "github.com/FerretDB/FerretDB/cmd/ferretdb",
            "v1.24.2",
            module="github.com/FerretDB/FerretDB",
            source_files=(("build/version/version.txt", "v1.24.2-fleet.3\n"),),
            patches=(
                FERRETDB_PATCHES / "0001-sqlite-id-lookups-use-the-id-index.patch",
                FERRETDB_PATCHES / "0002-update-ends-each-statement-query-before-writing.patch",
                FERRETDB_PATCHES / "0003-updates-of-one-document-do-not-overwrite-each-other.patch",
            ),
        ),
        GoTool("github.com/cloudflare/pint/cmd/pint", "v0.87.0"),
        GoTool("github.com/yannh/kubeconform/cmd/kubeconform", "v0.7.0"),
        # The collector builder: its release must match the collector modules in
        # components/otelcol-builder.yaml (see the note there on why v0.156.0).
        GoTool("go.opentelemetry.io/collector/cmd/builder", "v0.156.0"),
        # The HTTP load generator of bench/load.py (the live map, step and burst scenarios).
        GoTool("github.com/tsenart/vegeta/v12", "v12.13.0"),
        # The promtool and amtool of the Prometheus 3 and Alertmanager the clusters run
        # (kube-prometheus-stack), beside the local 2.42 and 0.25 from Debian: the rules, their
        # unit tests and the Alertmanager config must pass both. Prometheus 3's ranges leave
        # out their start sample, which 2 counts (the SLO rules are written to read the same).
        GoTool(
            "github.com/prometheus/prometheus/cmd/promtool", "v0.316.0", alias="promtool-cluster"
        ),
        GoTool("github.com/prometheus/alertmanager/cmd/amtool", "v0.35.0", alias="amtool-cluster"),
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


def stamp_path(tool: GoTool, paths: StackPaths) -> Path:
    """The file next to the binary that says what it was built from (`GoTool.build_id`)."""
    return paths.bin / f".{tool.name}.version"


def is_built(tool: GoTool, paths: StackPaths) -> bool:
    """Whether `<cache>/bin/<tool>` exists and was built from exactly `tool` (its build_id)."""
    binary = paths.bin / tool.name
    stamp = stamp_path(tool, paths)
    return binary.exists() and stamp.exists() and stamp.read_text().strip() == tool.build_id


def ensure_go_tool(name: str, paths: StackPaths | None = None) -> Path:
    """The path of Go tool `name` (see GO_TOOLS), building it into `<cache>/bin` when missing
    or built from something else (another version, other patches)."""
    tool = GO_TOOLS[name]
    paths = paths or stack_paths()
    binary = paths.bin / tool.name
    if is_built(tool, paths):
        return binary
    with locked(paths.cache / ".go-install.lock"):
        if is_built(tool, paths):
            return binary
        paths.bin.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        patched = f" with {len(tool.patches)} patches" if tool.patches else ""
        print(f"  building {tool.spec}{patched}", flush=True)
        if tool.module:
            _build_from_source(tool, paths)
        else:
            _go_install(tool, paths)
        stamp_path(tool, paths).write_text(tool.build_id + "\n")
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


def prepare_source(tool: GoTool, workdir: Path, paths: StackPaths) -> None:
    """A writable copy of `tool`'s module at `workdir` (replaced), with its `source_files`
    written and its `patches` applied: what `go build` then builds."""
    assert tool.module is not None
    spec = f"{tool.module}@{tool.version}"
    proc = subprocess.run(
        [go_binary(), "mod", "download", "-json", spec],
        env=go_env(paths),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise StackError(f"{tool.name}: cannot download {spec}: {_last_line(proc.stderr)}")
    source = Path(json.loads(proc.stdout)["Dir"])
    shutil.rmtree(workdir, ignore_errors=True)
    shutil.copytree(source, workdir, copy_function=shutil.copyfile)
    for folder, _dirs, _files in os.walk(workdir):
        os.chmod(folder, 0o755)
    for relative, text in tool.source_files:
        (workdir / relative).write_text(text)
    for patch in tool.patches:
        apply_patch(tool, patch, workdir)


def apply_patch(tool: GoTool, patch: Path, workdir: Path) -> None:
    """`git apply` (all of the patch or nothing) in `workdir`, as a plain patch program: never
    in a repository around it (the cache may sit inside this checkout), whatever GIT_DIR says."""
    git = shutil.which("git")
    if git is None:
        raise StackError(f"{tool.name}: git is needed to apply {_shown(patch)}; install git")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR")
    }
    env["GIT_CEILING_DIRECTORIES"] = str(workdir.resolve().parent)
    proc = subprocess.run(
        [git, "apply", "--whitespace=nowarn", str(patch.resolve())],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise StackError(
            f"{tool.name}: patch {_shown(patch)} does not apply to "
            f"{tool.module}@{tool.version}: {_last_line(proc.stderr)}"
        )


def _build_from_source(tool: GoTool, paths: StackPaths) -> None:
    """Build `tool` inside a writable copy of its module (its own go.mod and go.sum)."""
    assert tool.module is not None
    workdir = paths.build / f"go-{tool.name}"
    prepare_source(tool, workdir, paths)
    output = paths.bin / f".{tool.name}.new"
    package = "./" + tool.package.removeprefix(tool.module).lstrip("/")
    step = subprocess.run(
        [go_binary(), "build", "-trimpath", "-o", str(output), package],
        cwd=workdir,
        env=go_env(paths),
        capture_output=True,
        text=True,
        check=False,
    )
    if step.returncode != 0:
        raise StackError(f"{tool.name}: cannot build {tool.spec}: {_last_line(step.stderr)}")
    os.replace(output, paths.bin / tool.name)
    shutil.rmtree(workdir, ignore_errors=True)


def _shown(path: Path) -> str:
    """`path` relative to the checkout when inside it (how a person finds the file)."""
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"
