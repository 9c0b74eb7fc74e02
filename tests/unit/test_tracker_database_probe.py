"""The database probe: the gauge follows each ping; losing the database and getting it back
are logged once each, inside one sampled "database outage" span."""

from __future__ import annotations

import logging

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased

from observability.runtime.tracing import IncidentSpan, IncidentsSampled
from services.position_tracker.database_probe import DatabaseProbe


class Gauge:
    def __init__(self) -> None:
        self.values: list[float] = []

    def set(self, value: float) -> None:
        self.values.append(value)


def test_an_outage_is_logged_at_its_start_and_end_inside_one_span(caplog):
    provider = TracerProvider(sampler=IncidentsSampled(TraceIdRatioBased(0.0)))
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    answers = iter([None, "connection refused", "timed out", None, None])
    gauge = Gauge()
    outage = IncidentSpan(provider.get_tracer("t"), "database outage")
    probe = DatabaseProbe(lambda: next(answers), gauge, outage)  # type: ignore[arg-type]
    with caplog.at_level(logging.INFO, logger="services.position_tracker.database_probe"):
        for _ in range(5):
            probe.probe_once()
    assert gauge.values == [1, 0, 0, 1, 1]
    assert [r.getMessage() for r in caplog.records] == [
        "the database is unreachable: connection refused",
        "the database is reachable again",
    ]
    (span,) = exporter.get_finished_spans()
    assert span.name == "database outage" and span.status.description == "connection refused"
