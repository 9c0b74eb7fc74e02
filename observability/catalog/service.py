"""A service's whole telemetry catalog, and the platform made of all of them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from observability.catalog.alerts import Alert
from observability.catalog.component import ComponentCatalog, ExternalMetric
from observability.catalog.logs import LogSchema
from observability.catalog.metrics import Metric
from observability.catalog.slo import SLO
from observability.catalog.source import SourceRef, caller_source


@dataclass(frozen=True)
class ServiceCatalog:
    """Everything one service emits (metrics, logs) and promises (SLOs, alerts).

    ``name`` is the service's identity on every hop: the Prometheus ``job`` label, the
    ``service.name`` of its logs and spans, and its dashboard's key.
    """

    name: str
    description: str
    metrics: tuple[Metric, ...]
    logs: LogSchema
    slos: tuple[SLO, ...] = ()
    alerts: tuple[Alert, ...] = ()
    #: The port its ``/metrics`` is served on locally (None: not scraped, e.g. nginx).
    metrics_port: int | None = None
    #: Whether it serves HTTP (and so has RED panels and a service-down alert).
    http: bool = True
    source: SourceRef = field(default_factory=caller_source, compare=False, repr=False)

    def metric(self, name: str) -> Metric:
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise KeyError(f"service {self.name} declares no metric {name!r} ({self.source})")

    @property
    def scraped(self) -> bool:
        return self.metrics_port is not None


@dataclass(frozen=True)
class Platform:
    """All service catalogs, the components they rely on, and the external metrics rules may
    reference."""

    services: tuple[ServiceCatalog, ...]
    external: tuple[ExternalMetric, ...] = ()
    components: tuple[ComponentCatalog, ...] = ()

    @property
    def alert_owners(self) -> tuple[AlertOwner, ...]:
        """Everything that owns alerts (and so a rule file): services, then components."""
        return (*self.services, *self.components)

    def external_metrics(self) -> Iterator[ExternalMetric]:
        """The allow-list and every series a component serves."""
        yield from self.external
        for component in self.components:
            yield from component.metrics

    def service(self, name: str) -> ServiceCatalog:
        for service in self.services:
            if service.name == name:
                return service
        raise KeyError(f"no service named {name!r}")

    def all_metrics(self) -> Iterator[tuple[ServiceCatalog, Metric]]:
        for service in self.services:
            for metric in service.metrics:
                yield service, metric


#: What can own alerts and a rule file.
AlertOwner = ServiceCatalog | ComponentCatalog
