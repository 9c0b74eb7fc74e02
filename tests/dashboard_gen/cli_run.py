"""Running the real ``dashboard-gen`` console script, as people and CI do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).with_name("dashboard-gen")


def dashboard_gen(
    *args: str, cwd: Path = REPO, pythonpath: Path = REPO
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath), "NO_COLOR": "1"}
    return subprocess.run(
        [str(SCRIPT), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def shop_project(root: Path, catalogs: str = '"tests.dashboard_gen.shop:CATALOG"') -> Path:
    """A project folder whose only catalog is the fixture shop."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(f"[tool.dashboard-gen]\ncatalogs = [{catalogs}]\n")
    return root / "pyproject.toml"
