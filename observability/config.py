"""``[tool.dashboard-gen]`` in pyproject.toml: which catalogs make the platform, and its URLs."""

from __future__ import annotations

import importlib
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from observability.catalog.component import ComponentCatalog
from observability.catalog.external import EXTERNAL_METRICS
from observability.catalog.service import Platform, ServiceCatalog
from observability.catalog.validate import ensure_valid

_Catalog = TypeVar("_Catalog", ServiceCatalog, ComponentCatalog)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """The configuration is missing or names something that cannot be loaded."""


@dataclass(frozen=True)
class Cluster:
    """A cluster environment (the overlay ``k8s/overlays/<name>``): where the people reading its
    alerts and dashboards open Grafana, Kibana and the runbooks."""

    name: str
    grafana_url: str
    kibana_url: str
    runbook_url: str


#: The link settings a cluster overrides.
LINK_KEYS = ("grafana_url", "kibana_url", "runbook_url")


@dataclass(frozen=True)
class Config:
    root: Path
    catalogs: tuple[str, ...]
    #: The third-party components watched (``module:attribute`` of ComponentCatalogs).
    components: tuple[str, ...] = ()
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
    #: The fire drills' rules (``alerts/drill-rules``) divide every window and ``for:`` by this.
    drill_time_scale: int = 10
    #: The clusters, each with its own links (``[tool.dashboard-gen.clusters.<overlay>]``); their
    #: rules and dashboards go to ``k8s/overlays/<overlay>/monitoring/generated``. None: one
    #: set in ``k8s/monitoring`` with the links above.
    clusters: tuple[Cluster, ...] = ()

    def in_cluster(self, cluster: Cluster) -> Config:
        """This configuration with the cluster's links."""
        return replace(self, **{key: getattr(cluster, key) for key in LINK_KEYS})


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
    lists = {key: tuple(data.get(key, ())) for key in ("catalogs", "components")}
    clusters = tuple(
        _cluster(path, name, table) for name, table in data.get("clusters", {}).items()
    )
    return Config(root=path.parent, **{**data, **lists, "clusters": clusters})


def _cluster(path: Path, name: str, table: dict[str, str]) -> Cluster:
    missing = [key for key in LINK_KEYS if key not in table]
    unknown = sorted(set(table) - set(LINK_KEYS))
    if missing or unknown:
        raise ConfigError(
            f"{path}: [tool.dashboard-gen.clusters.{name}] needs exactly {', '.join(LINK_KEYS)}"
            f" (missing: {missing or 'none'}, unknown: {unknown or 'none'})"
        )
    return Cluster(name, **table)


def _import(reference: str, kind: type[_Catalog]) -> _Catalog:
    """The ``kind`` object named ``module:attribute`` (the attribute defaults to CATALOG)."""
    module_name, _, attribute = reference.partition(":")
    try:
        catalog = getattr(importlib.import_module(module_name), attribute or "CATALOG")
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot load catalog {reference!r}: {exc}") from exc
    if not isinstance(catalog, kind):
        raise ConfigError(f"{reference} is a {type(catalog).__name__}, not a {kind.__name__}")
    return catalog


def import_catalog(reference: str) -> ServiceCatalog:
    """The service catalog named ``module:attribute``."""
    return _import(reference, ServiceCatalog)


def load_platform(config: Config | None = None) -> Platform:
    """Every configured catalog, validated (a CatalogError names each broken definition)."""
    config = config or load_config()
    services = tuple(import_catalog(ref) for ref in config.catalogs)
    components = tuple(_import(ref, ComponentCatalog) for ref in config.components)
    return ensure_valid(Platform(services, EXTERNAL_METRICS, components))
