"""``[tool.dashboard-gen]`` in pyproject.toml: which catalogs make the platform, and its URLs."""

from __future__ import annotations

import importlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

from observability.catalog.external import EXTERNAL_METRICS
from observability.catalog.service import Platform, ServiceCatalog
from observability.catalog.validate import ensure_valid

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """The configuration is missing or names something that cannot be loaded."""


@dataclass(frozen=True)
class Config:
    root: Path
    catalogs: tuple[str, ...]
    #: Where links in alerts and dashboards point (Grafana, Kibana, runbooks).
    grafana_url: str = "http://localhost:3000"
    kibana_url: str = "http://localhost:5601"
    runbook_url: str = (
        "https://github.com/fleetman-observable/fleetman-observable/blob/main/alerts/runbooks"
    )
    #: Where Grafana's data sources point: locally (``dashboards/provisioning``, the preview)...
    prometheus_url: str = "http://127.0.0.1:9090"
    elasticsearch_url: str = "http://127.0.0.1:9200"
    jaeger_url: str = "http://127.0.0.1:16686"
    #: ...and in the clusters (the data-source ConfigMap in ``k8s/monitoring``).
    k8s_prometheus_url: str = "http://kube-prometheus-stack-prometheus.monitoring:9090"
    k8s_elasticsearch_url: str = "http://elasticsearch-logging.logging:9200"
    k8s_jaeger_url: str = "http://jaeger.default:16686"
    #: Prometheus's scrape interval (Grafana's ``timeInterval``: the floor of ``$__interval``).
    scrape_interval: str = "15s"


def load_config(pyproject: Path | None = None) -> Config:
    path = pyproject or PROJECT_ROOT / "pyproject.toml"
    try:
        data = tomllib.loads(path.read_text())["tool"]["dashboard-gen"]
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: not found") from exc
    except KeyError as exc:
        raise ConfigError(f"{path}: no [tool.dashboard-gen] table") from exc
    known = set(Config.__dataclass_fields__) - {"root"}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"{path}: unknown keys in [tool.dashboard-gen]: {sorted(unknown)}")
    return Config(root=path.parent, **{**data, "catalogs": tuple(data.get("catalogs", ()))})


def import_catalog(reference: str) -> ServiceCatalog:
    """The catalog named ``module:attribute``."""
    module_name, _, attribute = reference.partition(":")
    try:
        catalog = getattr(importlib.import_module(module_name), attribute or "CATALOG")
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot load catalog {reference!r}: {exc}") from exc
    if not isinstance(catalog, ServiceCatalog):
        raise ConfigError(f"{reference} is a {type(catalog).__name__}, not a ServiceCatalog")
    return catalog


def load_platform(config: Config | None = None) -> Platform:
    """Every configured catalog, validated (a CatalogError names each broken definition)."""
    config = config or load_config()
    services = tuple(import_catalog(ref) for ref in config.catalogs)
    return ensure_valid(Platform(services, EXTERNAL_METRICS))
