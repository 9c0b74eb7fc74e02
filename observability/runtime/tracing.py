"""OpenTelemetry tracing set-up, following the standard ``OTEL_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind, Status, StatusCode
from opentelemetry.util.types import Attributes

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


#: A span started with this attribute true is always sampled, whatever the ratio: incidents
#: (a dependency lost until it is back) are rare, and the alert's log records lead to them.
ALWAYS_SAMPLED = "fleet.trace.always_sampled"


class IncidentsSampled(Sampler):
    """The configured sampler, except that spans marked ``ALWAYS_SAMPLED`` are sampled."""

    def __init__(self, inner: Sampler) -> None:
        self._inner = inner

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: trace.TraceState | None = None,
    ) -> SamplingResult:
        if attributes and attributes.get(ALWAYS_SAMPLED):
            return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes, trace_state)
        return self._inner.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"IncidentsSampled{{{self._inner.get_description()}}}"


class IncidentSpan:
    """One span from the moment a dependency is lost until it is back, always sampled, with
    error status; the records logged about the incident carry its trace id."""

    def __init__(self, tracer: trace.Tracer, name: str, attributes: Attributes = None) -> None:
        self._tracer, self._name, self._attributes = tracer, name, dict(attributes or {})
        self._span: trace.Span | None = None

    def begin(self, description: str) -> None:
        """The incident starts (nothing when one is already open)."""
        if self._span is None:
            attributes = {**self._attributes, ALWAYS_SAMPLED: True}
            self._span = self._tracer.start_span(
                self._name, kind=SpanKind.INTERNAL, attributes=attributes
            )
            self._span.set_status(Status(StatusCode.ERROR, description))

    def end(self) -> None:
        if self._span is not None:
            self._span.end()
            self._span = None

    @contextmanager
    def current(self) -> Iterator[None]:
        """Records logged in the block carry the open incident's trace id (if one is open)."""
        if self._span is None:
            yield
            return
        with trace.use_span(self._span, end_on_exit=False):
            yield


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
    # tracers made from now on read this (the ratio configured by the environment, and incidents)
    provider.sampler = IncidentsSampled(provider.sampler)
    if _exporting():
        # Imported here: the exporter pulls in requests and protobuf, needless when not exporting.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    for processor in processors:
        provider.add_span_processor(processor)
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(provider)
    return provider
