"""The telemetry breakdown benchmark records what the tracker records, and notices drops."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import SpanKind

from observability.runtime import Telemetry
from observability.runtime.metrics import ServiceMetrics
from services.position_tracker.settings import TrackerSettings
from services.position_tracker.telemetry import CATALOG, PUBLISH_TO_STORE_DELAY

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import ingest_telemetry as bench

POSITIONS = 2000
BATCH = 500


def deployed_telemetry(exporter: InMemorySpanExporter) -> Telemetry:
    """The tracker's telemetry with the deployed sampler, its spans kept in memory."""
    provider = TracerProvider(sampler=ParentBased(TraceIdRatioBased(0.1)))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    metrics = ServiceMetrics(CATALOG, enabled=True)
    return Telemetry(CATALOG, metrics, provider, provider.get_tracer("bench"))


def test_it_records_the_spans_and_metrics_the_tracker_records() -> None:
    exporter = InMemorySpanExporter()
    telemetry = deployed_telemetry(exporter)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    messages = bench.delivered(bench.ingest.positions(POSITIONS, 12, start), sampling=0.1)
    settings = TrackerSettings(batch_max=BATCH, retention_hours=0)
    batches = bench.decided_batches(messages, settings)
    assert [len(b) for b in batches] == [BATCH] * (POSITIONS // BATCH)
    assert all(d.vehicle is not None for b in batches for d in b)  # all stored, none refused

    spent = bench.record_batches(telemetry, settings, batches)

    assert set(spent) == set(bench.PHASES)
    assert all(value >= 0 for value in spent.values())
    kinds = [span.kind for span in exporter.get_finished_spans()]
    # One message in ten sampled by its publisher, warm-up batch included; a write span a batch.
    assert kinds.count(SpanKind.CONSUMER) == POSITIONS // 10
    assert kinds.count(SpanKind.CLIENT) == len(batches)
    delays = telemetry.metrics.registry.get_sample_value(f"{PUBLISH_TO_STORE_DELAY.name}_count")
    assert delays == POSITIONS


@pytest.fixture
def drops() -> Iterator[bench.DropWatch]:
    watch = bench.DropWatch()
    logging.getLogger().addHandler(watch)
    yield watch
    logging.getLogger().removeHandler(watch)


@pytest.mark.parametrize(("queue", "dropped"), [(2, True), (2048, False)])
def test_it_notices_when_the_sdk_drops_spans(
    drops: bench.DropWatch, queue: int, dropped: bool
) -> None:
    provider = TracerProvider()
    processor = BatchSpanProcessor(
        InMemorySpanExporter(), max_queue_size=queue, max_export_batch_size=2
    )
    provider.add_span_processor(processor)
    for _ in range(1000 if dropped else 10):
        provider.get_tracer("bench").start_span("message").end()
    provider.shutdown()
    assert drops.dropped is dropped
