"""dashboards/schema: every dashboard validates against Grafana's own dashboard schema.

The schema is the one Grafana publishes in the npm package ``@grafana/schema`` (Apache-2.0):
``dist/types/raw/dashboard/x/types.gen.d.ts``, the TypeScript types Grafana generates from its
dashboard kind (CUE). ``ts-json-schema-generator`` turns its ``Dashboard`` type into a JSON
Schema (draft 7, no extra properties where the type has none). Both packages are pinned and
installed with npm into a git-ignored cache the first time (``.stack/cache/grafana-schema``, or
``$FLEET_STACK_CACHE_DIR``); after that validation works offline.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from jsonschema import Draft7Validator, ValidationError

from observability.checks.base import Check, Context
from observability.checks.dashboards import panel_origin
from observability.diagnostics import Level, Problem
from observability.render.grafana.files import DASHBOARD_DIR

SCHEMA_PACKAGE = "@grafana/schema"
SCHEMA_VERSION = "13.2.3"
GENERATOR_PACKAGE = "ts-json-schema-generator"
GENERATOR_VERSION = "2.4.0"
TYPES = "dist/types/raw/dashboard/x/types.gen.d.ts"
CACHE_ENV = "FLEET_STACK_CACHE_DIR"


class SchemaUnavailable(RuntimeError):
    """The schema is not cached and cannot be installed (no npm, no registry)."""


def cache_dir(root: Path) -> Path:
    base = Path(os.environ.get(CACHE_ENV) or root / ".stack" / "cache")
    return base / "grafana-schema" / f"{SCHEMA_VERSION}-{GENERATOR_VERSION}"


def _run(command: list[str], cwd: Path) -> None:
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SchemaUnavailable(f"{' '.join(command[:2])}: {exc}") from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise SchemaUnavailable(f"{' '.join(command[:3])} failed: {' / '.join(tail)}")


def ensure_schema(root: Path) -> Path:
    """The path of the dashboard JSON Schema, generated (and npm-installed) when missing."""
    folder = cache_dir(root)
    schema = folder / "dashboard.schema.json"
    if schema.is_file():
        return schema
    npm = shutil.which("npm")
    if npm is None:
        raise SchemaUnavailable("npm is not installed (Debian package npm)")
    folder.mkdir(parents=True, exist_ok=True)
    packages = [f"{SCHEMA_PACKAGE}@{SCHEMA_VERSION}", f"{GENERATOR_PACKAGE}@{GENERATOR_VERSION}"]
    _run(
        [npm, "install", "--no-audit", "--no-fund", "--ignore-scripts", "--prefix", ".", *packages],
        folder,
    )
    types = folder / "node_modules" / SCHEMA_PACKAGE / TYPES
    generator = folder / "node_modules" / ".bin" / GENERATOR_PACKAGE
    partial = schema.with_suffix(".partial")
    _run(
        [
            str(generator),
            "--path",
            str(types),
            "--type",
            "Dashboard",
            "--no-type-check",
            "-o",
            str(partial),
        ],
        folder,
    )
    partial.replace(schema)
    return schema


def validator(root: Path) -> Draft7Validator:
    return Draft7Validator(json.loads(ensure_schema(root).read_text()))


def _causes(error: ValidationError) -> list[ValidationError]:
    """The errors that explain ``error``: for an ``anyOf`` (a panel or a row), those of the
    alternative that failed least, recursively."""
    if not error.context:
        return [error]
    branches: dict[object, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    closest = min(branches.values(), key=len)
    return [cause for sub in closest for cause in _causes(sub)]


def schema_errors(check: Draft7Validator, dashboard: dict) -> list[tuple[str, str]]:
    """(JSON path, message) of each violation, the most specific causes of each."""
    found = []
    for error in check.iter_errors(dashboard):
        for cause in _causes(error):
            path = "/".join(str(p) for p in cause.absolute_path) or "(root)"
            found.append((path, cause.message[:300]))
    return sorted(set(found))


def run(ctx: Context) -> Iterator[Problem]:
    dashboards = {p: t for p, t in ctx.files.items() if p.startswith(f"{DASHBOARD_DIR}/")}
    if not dashboards:
        return
    try:
        check = validator(ctx.root)
    except SchemaUnavailable as exc:
        origin = panel_origin(ctx, {}, ctx.config_source())
        yield CHECK.problem(origin, Level.INFO, f"dashboards not validated: {exc}")
        return
    for path, text in dashboards.items():
        data = json.loads(text)
        for where, message in schema_errors(check, data):
            panel = _panel_at(data, where)
            origin = panel_origin(ctx, panel, ctx.config_source())
            yield CHECK.problem(origin, Level.BUG, f"{where}: {message}", path)


def _panel_at(data: dict, where: str) -> dict:
    parts = where.split("/")
    if len(parts) > 1 and parts[0] == "panels" and parts[1].isdigit():
        return data["panels"][int(parts[1])]
    return {}


CHECK = Check(
    "dashboards/schema",
    f"every dashboard validates against Grafana's schema (npm {SCHEMA_PACKAGE}@{SCHEMA_VERSION})",
    run,
)
