"""OpenTelemetry tracing set-up, following the standard ``OTEL_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from observability.runtime.metrics import telemetry_enabled

#: The trace sampling every deployment of the platform sets (local stack, Kubernetes, compose),
#: through the standard variables, decided where a trace starts and followed by every service
#: downstream, so a sampled trace is whole: one trace in ten where requests start (the gateway),
#: and in any service that starts a trace of its own...
DEPLOYED_SAMPLING: Mapping[str, str] = {
    "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
    "OTEL_TRACES_SAMPLER_ARG": "0.1",
}
#: ...but one in a hundred where positions start (the simulator). Positions are machine-made and
#: thousands a second at fleet scale, and their traces all show the same path; their metrics
#: (with exemplars) and logs (every line with its trace id) cover every one. A sampled position
#: costs the tracker about 80 µs of CPU in the OpenTelemetry SDK, so one in ten cost it about
#: 10 % of its ingest rate and one in a hundred 2 to 6 % (``bench/ingest.py --sampling``). Set
#: the variables to trace more or less.
POSITION_SAMPLING: Mapping[str, str] = {**DEPLOYED_SAMPLING, "OTEL_TRACES_SAMPLER_ARG": "0.01"}


def deployed_sampling(service: str) -> Mapping[str, str]:
    """The sampling every deployment gives ``service`` (by its ``OTEL_SERVICE_NAME``)."""
    return POSITION_SAMPLING if service == "position-simulator" else DEPLOYED_SAMPLING


_OTLP_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def _exporting() -> bool:
    if os.environ.get("OTEL_TRACES_EXPORTER", "otlp").lower() == "none":
        return False
    return any(os.environ.get(name) for name in _OTLP_VARIABLES)


def setup_tracing(
    service_name: str, version: str, processors: tuple[SpanProcessor, ...] = ()
) -> TracerProvider | None:
    """A tracer provider for one service; the first one made also becomes the global provider.

    Spans are exported over OTLP/HTTP when an OTLP endpoint is configured; otherwise they are
    still recorded (so logs and exemplars carry trace ids) and dropped, silently. ``processors``
    are added too (tests pass an in-memory exporter). Returns None when telemetry is off
    (``FLEET_TELEMETRY=off`` or ``OTEL_SDK_DISABLED=true``): the code then traces nothing.
    """
    if not telemetry_enabled() or os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return None
    resource = Resource.create({"service.name": service_name, "service.version": version})
    provider = TracerProvider(resource=resource)
    if _exporting():
        # Imported here: the exporter pulls in requests and protobuf, needless when not exporting.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    for processor in processors:
        provider.add_span_processor(processor)
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(provider)
    return provider
