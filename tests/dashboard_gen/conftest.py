"""Fixtures of the dashboard-gen tests: the fixture shop, the real repository, the tools."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from observability.artifacts import render_all
from observability.catalog.service import Platform
from observability.catalog.validate import ensure_valid
from observability.config import Config, load_config, load_platform
from tests.dashboard_gen import shop

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def shop_config(tmp_path: Path) -> Config:
    (tmp_path / "pyproject.toml").write_text("[tool.dashboard-gen]\ncatalogs = []\n")
    return Config(root=tmp_path, catalogs=())


@pytest.fixture
def shop_platform() -> Platform:
    return ensure_valid(shop.platform())


@pytest.fixture(scope="session")
def repo_config() -> Config:
    return load_config(REPO / "pyproject.toml")


@pytest.fixture(scope="session")
def repo_platform(repo_config: Config) -> Platform:
    return load_platform(repo_config)


@pytest.fixture(scope="session")
def repo_files(repo_platform: Platform, repo_config: Config) -> dict[str, str]:
    """Every artifact of the real catalogs, rendered in memory."""
    return render_all(repo_platform, repo_config)


def _tool(name: str) -> Path:
    """A tool from PATH, else installed by the stack (Debian package or `go install`)."""
    from services.stack.api import ensure_tool

    found = shutil.which(name)
    return Path(found) if found else ensure_tool(name)


#: The local stack's versions (Debian: Prometheus 2.42, Alertmanager 0.25) and the clusters'
#: (Prometheus 3, built with `go install`): every artifact must pass both.
@pytest.fixture(scope="session", params=["promtool", "promtool-cluster"])
def promtool(request: pytest.FixtureRequest) -> Path:
    return _tool(request.param)


@pytest.fixture(scope="session", params=["amtool", "amtool-cluster"])
def amtool(request: pytest.FixtureRequest) -> Path:
    return _tool(request.param)


@pytest.fixture(scope="session")
def pint() -> Path:
    return _tool("pint")


@pytest.fixture(scope="session")
def kubeconform() -> Path:
    return _tool("kubeconform")
