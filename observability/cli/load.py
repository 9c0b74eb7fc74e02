"""Finding the configuration and loading the catalogs, with errors a person can act on."""

from __future__ import annotations

from pathlib import Path

from observability.catalog.service import Platform
from observability.config import CONFIG_FILE, TABLE, Config, ConfigError, find_config, load_platform
from observability.config import load_config as _load_config


def config_path(given: Path | None, start: Path | None = None) -> Path:
    """``--config``, else the nearest configuration from ``start`` (the current folder) up.
    There is no fallback: without a configuration, say how to make one."""
    if given is not None:
        return given.resolve()
    start = (start or Path.cwd()).resolve()
    found = find_config(start)
    if found is None:
        raise ConfigError(
            f"no configuration found in {start} or any folder above it: add {TABLE} to a "
            f"pyproject.toml or create {CONFIG_FILE} (`dashboard-gen init` scaffolds one), or "
            "pass --config PATH"
        )
    return found


def load_config(given: Path | None) -> Config:
    return _load_config(config_path(given))


def load(given: Path | None) -> tuple[Config, Platform]:
    """The configuration and the validated platform. Catalog modules are imported with the
    configuration's folder first on ``sys.path``, so a project's own catalogs win over
    installed ones."""
    config = load_config(given)
    return config, load_platform(config)
