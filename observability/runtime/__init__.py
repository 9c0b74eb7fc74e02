"""What a service needs at run time to emit the telemetry its catalog declares."""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry import trace
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

from observability.catalog.service import ServiceCatalog
from observability.runtime.metrics import ServiceMetrics
from observability.runtime.tracing import setup_tracing


@dataclass
class Telemetry:
    """One service's metrics registry, tracer provider and tracer."""

    catalog: ServiceCatalog
    metrics: ServiceMetrics
    tracer_provider: TracerProvider | None
    tracer: trace.Tracer

    @classmethod
    def create(
        cls, catalog: ServiceCatalog, version: str, processors: tuple[SpanProcessor, ...] = ()
    ) -> Telemetry:
        provider = setup_tracing(catalog.name, version, processors)
        tracer = (
            provider.get_tracer(catalog.name, version)
            if provider is not None
            else trace.NoOpTracer()
        )
        return cls(catalog, ServiceMetrics(catalog), provider, tracer)

    def shutdown(self) -> None:
        if self.tracer_provider is not None:
            self.tracer_provider.shutdown()
