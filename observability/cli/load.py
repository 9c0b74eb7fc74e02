"""Finding the configuration and loading the catalogs, with errors a person can act on."""

from __future__ import annotations

import sys
from pathlib import Path

from observability.catalog.service import Platform
from observability.config import PROJECT_ROOT, Config, load_config, load_platform

TABLE = "[tool.dashboard-gen]"


def find_pyproject(start: Path) -> Path:
    """The nearest pyproject.toml with a ``[tool.dashboard-gen]`` table, from ``start`` up;
    the project's own when there is none."""
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and TABLE in candidate.read_text():
            return candidate
    return PROJECT_ROOT / "pyproject.toml"


def load(pyproject: Path | None) -> tuple[Config, Platform]:
    """The configuration and the validated platform. Catalog modules are imported with the
    project root first on ``sys.path``, so a project's own catalogs win over installed ones."""
    config = load_config((pyproject or find_pyproject(Path.cwd())).resolve())
    root = str(config.root)
    if root not in sys.path:
        sys.path.insert(0, root)
    return config, load_platform(config)
