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
#: through the standard variables: one trace in ten, decided where the trace starts (the
#: simulator for positions, the gateway for requests) and followed by every service downstream,
#: so a sampled trace is whole. Tracing each of thousands of positions a second costs the
#: tracker 40 to 50 % of its ingest rate, one in ten about 10 % (``bench/ingest.py --all-traced``,
#: ``--sampling``); logs carry the trace id of every message and request, sampled or not. Set
#: the variables to trace more or less.
DEPLOYED_SAMPLING: Mapping[str, str] = {
    "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
    "OTEL_TRACES_SAMPLER_ARG": "0.1",
}

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
