"""The state folder layout: `.stack/` at the repo root, or `$FLEET_STACK_DIR`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
"""The repository (or installed tree) root: the folder holding `services/`."""

STACK_DIR_ENV = "FLEET_STACK_DIR"
CACHE_DIR_ENV = "FLEET_STACK_CACHE_DIR"


@dataclass(frozen=True)
class StackPaths:
    """Every folder the stack writes to. Nothing outside `root` (and `cache`) is touched."""

    root: Path
    cache: Path

    @property
    def bin(self) -> Path:
        """Binaries built by `go install` / the collector builder."""
        return self.cache / "bin"

    @property
    def downloads(self) -> Path:
        return self.cache / "downloads"

    @property
    def build(self) -> Path:
        return self.cache / "build"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def conf(self) -> Path:
        return self.root / "conf"

    def log(self, component: str) -> Path:
        """The log file of one component (its stdout and stderr)."""
        return self.logs / f"{component}.log"

    def data_dir(self, component: str) -> Path:
        return self.data / component

    def conf_dir(self, component: str) -> Path:
        return self.conf / component

    def create(self) -> None:
        """Create the layout (idempotent)."""
        for folder in (self.bin, self.downloads, self.build, self.logs, self.data, self.run):
            folder.mkdir(parents=True, exist_ok=True)
        self.conf.mkdir(parents=True, exist_ok=True)


def stack_paths() -> StackPaths:
    """The paths in force: `$FLEET_STACK_DIR` (default `<repo>/.stack`), cache inside it unless
    `$FLEET_STACK_CACHE_DIR` puts it elsewhere (tests share one cache between state folders)."""
    root = Path(os.environ.get(STACK_DIR_ENV) or REPO_ROOT / ".stack").resolve()
    cache = Path(os.environ.get(CACHE_DIR_ENV) or root / "cache").resolve()
    return StackPaths(root=root, cache=cache)
