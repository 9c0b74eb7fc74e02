"""The tracker's span per message: what the sampler decides, whether or not a span is started."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    ParentBased,
    Sampler,
    TraceIdRatioBased,
)
from opentelemetry.trace import NoOpTracer

from observability.runtime import Telemetry
from observability.runtime.messaging import follows_unsampled_publishers
from observability.runtime.metrics import ServiceMetrics
from services.position_tracker.ingest_telemetry import IngestTelemetry
from services.position_tracker.positions import StoredPosition
from services.position_tracker.processing import Decision, Incoming
from services.position_tracker.settings import TrackerSettings
from services.position_tracker.telemetry import CATALOG

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PUBLISHER_SPAN_ID = "00f067aa0ba902b7"
AT = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def recorder(sampler: Sampler) -> tuple[IngestTelemetry, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=sampler)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry = Telemetry(
        CATALOG, ServiceMetrics(CATALOG, enabled=True), provider, provider.get_tracer("test")
    )
    return IngestTelemetry(telemetry, TrackerSettings()), exporter


def decision(flags: str | None) -> Decision:
    headers = {"message-id": "ID:1"}
    if flags is not None:
        headers["traceparent"] = f"00-{TRACE_ID}-{PUBLISHER_SPAN_ID}-{flags}"
    body = json.dumps({"vehicle": "V", "lat": 1.0, "lng": 2.0, "timestamp": AT.isoformat()})
    stored = StoredPosition("V", 1.0, 2.0, AT, None, None, AT)
    return Decision(Incoming(body, headers, 0), stored, "json")


@pytest.mark.parametrize(
    ("sampler", "follows"),
    [
        (ParentBased(TraceIdRatioBased(0.1)), True),  # the deployed sampling
        (ParentBased(ALWAYS_ON), True),  # the SDK's default
        (ALWAYS_ON, False),
        (TraceIdRatioBased(0.5), False),
        (ParentBased(ALWAYS_ON, remote_parent_not_sampled=ALWAYS_ON), False),
    ],
)
def test_which_samplers_follow_an_unsampled_publisher(sampler: Sampler, follows: bool):
    assert follows_unsampled_publishers(TracerProvider(sampler=sampler)) is follows


def test_telemetry_off_follows_nothing():
    assert follows_unsampled_publishers(None) is False


@pytest.mark.parametrize("sampler", [ParentBased(TraceIdRatioBased(0.1)), ALWAYS_OFF])
def test_a_message_its_publisher_did_not_sample_stays_in_its_trace_unrecorded(sampler: Sampler):
    record, exporter = recorder(sampler)
    span = record.start_span(decision("00"))
    span.end()
    context = span.get_span_context()
    assert format(context.trace_id, "032x") == TRACE_ID  # logs of the message carry its trace
    assert not span.is_recording() and not context.trace_flags.sampled
    assert exporter.get_finished_spans() == ()


def test_a_sampler_that_overrides_the_publisher_still_records_the_message():
    record, exporter = recorder(ALWAYS_ON)  # the benchmark's "every position traced"
    record.start_span(decision("00")).end()
    (span,) = exporter.get_finished_spans()
    assert format(span.context.trace_id, "032x") == TRACE_ID
    assert format(span.parent.span_id, "016x") == PUBLISHER_SPAN_ID


@pytest.mark.parametrize("sampler", [ParentBased(TraceIdRatioBased(0.1)), ALWAYS_ON])
def test_a_sampled_message_gets_its_own_span_under_the_publishers(sampler: Sampler):
    record, exporter = recorder(sampler)
    record.start_span(decision("01")).end()
    (span,) = exporter.get_finished_spans()
    assert format(span.parent.span_id, "016x") == PUBLISHER_SPAN_ID
    assert span.attributes["messaging.message.id"] == "ID:1"
    assert span.attributes["fleet.vehicle.name"] == "V"


def test_a_message_without_trace_context_is_a_root_the_sampler_decides():
    record, exporter = recorder(ParentBased(ALWAYS_ON))
    record.start_span(decision(None)).end()
    (span,) = exporter.get_finished_spans()
    assert span.parent is None


class CountingParentBased(ParentBased):
    def __init__(self) -> None:
        super().__init__(TraceIdRatioBased(0.1))
        self.decisions = 0

    def should_sample(self, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        self.decisions += 1
        return super().should_sample(*args, **kwargs)  # type: ignore[arg-type]


def test_under_the_deployed_sampling_an_unsampled_message_costs_no_sampling_decision():
    sampler = CountingParentBased()
    record, _ = recorder(sampler)
    span = record.start_span(decision("00"))
    assert sampler.decisions == 0
    assert format(span.get_span_context().span_id, "016x") == PUBLISHER_SPAN_ID
    record.start_span(decision("01"))
    assert sampler.decisions == 1


def test_with_tracing_off_a_message_is_in_no_trace():
    metrics = ServiceMetrics(CATALOG, enabled=False)
    telemetry = Telemetry(CATALOG, metrics, None, NoOpTracer())
    span = IngestTelemetry(telemetry, TrackerSettings()).start_span(decision("01"))
    assert not span.get_span_context().is_valid
