"""Components we run but did not write (the log pipeline, a datastore), watched from outside.

A service's catalog declares what its code emits; a component's catalog declares only what we
read of it: the series its own metrics endpoint (or an exporter acting for it) serves, where
Prometheus scrapes them, and the alerts on them. It has no log schema (its logs are not ours to
parse) and no SLOs (its users' objectives are the services').
"""

from __future__ import annotations

from dataclasses import dataclass, field

from observability.catalog.alerts import Alert
from observability.catalog.source import SourceRef, caller_source


@dataclass(frozen=True)
class ExternalMetric:
    """A metric we query but do not emit (Prometheus's own ``up``, an exporter's series)."""

    name: str
    labels: tuple[str, ...]
    emitted_by: str


@dataclass(frozen=True)
class Plot:
    """A panel of a component's dashboard. Its PromQL is written out: a component's series
    carry no catalog metadata (kind, unit) to derive a query from."""

    title: str
    expr: str
    #: Grafana's unit id (``short``, ``percentunit``, ``ops``...).
    unit: str
    legend: str
    description: str


@dataclass(frozen=True)
class ComponentCatalog:
    """A third-party component: its ``name`` is its ``job`` label and its rule file's name."""

    name: str
    description: str
    metrics: tuple[ExternalMetric, ...]
    alerts: tuple[Alert, ...] = ()
    #: Its dashboard's panels (keyed by its name; its alerts link there).
    panels: tuple[Plot, ...] = ()
    #: Where the local stack serves its metrics (None: it does not run locally).
    metrics_port: int | None = None
    #: Whether it runs in the clusters, so its alerts ship in the PrometheusRules (it is scraped
    #: there by its own ServiceMonitor, next to its manifests).
    kubernetes: bool = False
    source: SourceRef = field(default_factory=caller_source, compare=False, repr=False)
