"""Incidents are traced whatever the sampling ratio: the alert's log records lead to them."""

from __future__ import annotations

import logging

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased
from opentelemetry.trace import StatusCode

from observability.runtime.tracing import IncidentSpan, IncidentsSampled


@pytest.fixture
def spans() -> tuple[trace.Tracer, InMemorySpanExporter]:
    # a ratio that never samples: only the incidents are recorded
    provider = TracerProvider(sampler=IncidentsSampled(TraceIdRatioBased(0.0)))
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("test"), exporter


def test_an_incident_is_one_sampled_error_span_from_loss_to_return(spans, caplog):
    tracer, exporter = spans
    with tracer.start_as_current_span("ordinary work"):
        pass
    outage = IncidentSpan(tracer, "broker outage", {"messaging.destination.name": "q"})
    outage.begin("the broker is unreachable")
    outage.begin("again")  # still the same incident
    with caplog.at_level(logging.INFO), outage.current():
        logging.getLogger("t").warning("paused")
        trace_id = trace.get_current_span().get_span_context().trace_id
    outage.end()
    outage.end()
    (span,) = exporter.get_finished_spans()
    assert span.name == "broker outage" and span.context.trace_id == trace_id
    assert span.context.trace_flags.sampled and span.status.status_code is StatusCode.ERROR
    assert span.status.description == "the broker is unreachable"


def test_outside_an_incident_nothing_is_current(spans):
    tracer, exporter = spans
    outage = IncidentSpan(tracer, "broker outage")
    with outage.current():
        assert not trace.get_current_span().get_span_context().is_valid
    assert exporter.get_finished_spans() == ()
