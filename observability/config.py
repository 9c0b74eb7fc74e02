"""The configuration: ``[tool.dashboard-gen]`` in pyproject.toml, or a ``dashboard-gen.toml``
(the same keys at its top level): which catalogs make the platform, its URLs, and where each
artifact is written (``[tool.dashboard-gen.outputs]``)."""

from __future__ import annotations

import importlib
import sys
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
#: The file with only the configuration (its keys at the top level).
CONFIG_FILE = "dashboard-gen.toml"
TABLE = "[tool.dashboard-gen]"

#: Where each artifact goes, relative to the configuration's folder: the name (a key of
#: ``[tool.dashboard-gen.outputs]``) and its default, a folder or a file. The renderers write
#: these default paths; ``Config.output_path`` moves them where the configuration says.
OUTPUTS: dict[str, str] = {
    "rules": "alerts/rules",
    "drill-rules": "alerts/drill-rules",
    "rule-tests": "alerts/tests/generated",
    "runbooks": "alerts/runbooks",
    "prometheus-config": "alerts/prometheus.yml",
    "alertmanager-config": "alerts/alertmanager.yml",
    "k8s-monitoring": "k8s/monitoring",
    "k8s-overlays": "k8s/overlays",
    "grafana-dashboards": "dashboards/grafana",
    "grafana-provisioning": "dashboards/provisioning",
    "otelcol-config": "dashboards/shipping/otelcol.yaml",
    "elasticsearch-templates": "dashboards/shipping/elasticsearch",
    "kibana": "dashboards/kibana/fleet.ndjson",
}


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
    #: Outputs moved from their default (``OUTPUTS``): (name, path) pairs.
    outputs: tuple[tuple[str, str], ...] = ()

    def _moves(self) -> list[tuple[str, str]]:
        """(default, configured) of each moved output, the longest default first."""
        moves = [(OUTPUTS[name], path) for name, path in self.outputs if OUTPUTS[name] != path]
        return sorted(moves, key=lambda m: -len(m[0]))

    def output_path(self, path: str) -> str:
        """Where a generated file (or glob) named by its default path is written."""
        return _move(path, self._moves())

    def default_path(self, path: str) -> str:
        """The default path of a file found on disk at ``path`` (the inverse)."""
        return _move(path, [(new, old) for old, new in self._moves()])

    def in_cluster(self, cluster: Cluster) -> Config:
        """This configuration with the cluster's links."""
        return replace(self, **{key: getattr(cluster, key) for key in LINK_KEYS})


def _move(path: str, moves: list[tuple[str, str]]) -> str:
    for old, new in moves:
        if path == old:
            return new
        if path.startswith(f"{old}/"):
            return f"{new}{path[len(old) :]}"
    return path


def find_config(start: Path) -> Path | None:
    """The nearest ``dashboard-gen.toml``, or pyproject.toml with a ``[tool.dashboard-gen]``
    table, from ``start`` up (a folder's dashboard-gen.toml wins over its pyproject.toml)."""
    for folder in (start, *start.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder / CONFIG_FILE
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and TABLE in candidate.read_text(errors="replace"):
            return candidate
    return None


def load_config(pyproject: Path | None = None) -> Config:
    """The configuration in ``pyproject`` (a pyproject.toml or a dashboard-gen.toml; default:
    this project's own pyproject.toml)."""
    path = pyproject or PROJECT_ROOT / "pyproject.toml"
    table = "the file" if path.name == CONFIG_FILE else TABLE
    try:
        document = tomllib.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    if path.name == CONFIG_FILE:
        data = document
    else:
        data = document.get("tool", {}).get("dashboard-gen")
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: no [tool.dashboard-gen] table")
    known = set(Config.__dataclass_fields__) - {"root"}
    unknown = set(data) - known
    if unknown:
        raise ConfigError(f"{path}: unknown keys in {table}: {sorted(unknown)}")
    for key, value in data.items():
        _check_type(path, key, value)
    lists = {key: tuple(data.get(key, ())) for key in ("catalogs", "components")}
    clusters = tuple(
        _cluster(path, name, table) for name, table in data.get("clusters", {}).items()
    )
    outputs = _outputs(path, data.get("outputs", {}))
    return Config(
        root=path.parent,
        **{**data, **lists, "clusters": clusters, "outputs": outputs},
    )


def _check_type(path: Path, key: str, value: object) -> None:
    default = Config.__dataclass_fields__[key].default
    if key in ("catalogs", "components"):
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        expected = "a list of strings"
    elif key in ("clusters", "outputs"):
        ok, expected = isinstance(value, dict), "a table"
    else:
        ok, expected = type(value) is type(default), f"a {type(default).__name__}"
    if not ok:
        raise ConfigError(f"{path}: {key} must be {expected}, not {value!r}")


def _outputs(path: Path, table: dict[str, object]) -> tuple[tuple[str, str], ...]:
    unknown = sorted(set(table) - set(OUTPUTS))
    if unknown:
        raise ConfigError(f"{path}: unknown outputs {unknown} (known: {', '.join(OUTPUTS)})")
    for name, value in table.items():
        if not isinstance(value, str) or not value.strip("/") or value.startswith(("/", "..")):
            raise ConfigError(f"{path}: outputs.{name} must be a relative path, not {value!r}")
    paths = {**OUTPUTS, **{name: str(value).strip("/") for name, value in table.items()}}
    for name, where in paths.items():
        for other, there in paths.items():
            if name != other and (where == there or where.startswith(f"{there}/")):
                raise ConfigError(f"{path}: outputs {name} ({where}) and {other} ({there}) overlap")
    return tuple((name, paths[name]) for name in sorted(table))


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
    except Exception as exc:
        raise ConfigError(
            f"cannot load catalog {reference!r}: {type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(catalog, kind):
        raise ConfigError(f"{reference} is a {type(catalog).__name__}, not a {kind.__name__}")
    return catalog


def import_catalog(reference: str) -> ServiceCatalog:
    """The service catalog named ``module:attribute``."""
    return _import(reference, ServiceCatalog)


def load_platform(config: Config | None = None) -> Platform:
    """Every configured catalog, validated (a CatalogError names each broken definition).
    The catalog modules are imported with the configuration's folder first on ``sys.path``."""
    config = config or load_config()
    root = str(config.root)
    if root not in sys.path:
        sys.path.insert(0, root)
    services = tuple(import_catalog(ref) for ref in config.catalogs)
    components = tuple(_import(ref, ComponentCatalog) for ref in config.components)
    return ensure_valid(Platform(services, EXTERNAL_METRICS, components))
