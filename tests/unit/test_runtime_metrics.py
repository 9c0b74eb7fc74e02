"""The runtime creates exactly the catalog's metrics and refuses anything else."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client.parser import text_string_to_metric_families

from observability.catalog import Label, Metric, MetricKind, ServiceCatalog, Unit
from observability.catalog.common import BASE_LOG_SCHEMA, PROCESS_METRICS
from observability.diagnostics import CatalogError
from observability.runtime.metrics import ServiceMetrics, UndeclaredTelemetry

JOBS = Metric(
    name="demo_jobs_total",
    kind=MetricKind.COUNTER,
    help="Jobs done.",
    labels=(Label("result", "How it ended.", ("ok", "failed")),),
    exemplars=True,
)
LATENCY = Metric(
    name="demo_latency_seconds",
    kind=MetricKind.HISTOGRAM,
    unit=Unit.SECONDS,
    help="Latency.",
    buckets=(0.1, 1.0),
    exemplars=True,
)
CATALOG = ServiceCatalog(
    name="demo", description="d", metrics=(JOBS, LATENCY, *PROCESS_METRICS), logs=BASE_LOG_SCHEMA
)


def test_exposes_exactly_the_catalog_metrics():
    metrics = ServiceMetrics(CATALOG, enabled=True)
    body, _ = metrics.exposition(None)
    names = {f.name for f in text_string_to_metric_families(body.decode())}
    declared = {m.base_name for m in CATALOG.metrics}
    assert names == declared


def test_undeclared_metric_label_or_value_fails_loudly():
    metrics = ServiceMetrics(CATALOG, enabled=True)
    other = Metric(name="demo_other_total", kind=MetricKind.COUNTER, help="x")
    with pytest.raises(UndeclaredTelemetry, match="not in the catalog"):
        metrics.counter(other)
    with pytest.raises(UndeclaredTelemetry, match="takes labels"):
        metrics.counter(JOBS).labels(outcome="ok")
    with pytest.raises(UndeclaredTelemetry, match="not an allowed value"):
        metrics.counter(JOBS).labels(result="maybe")
    with pytest.raises(UndeclaredTelemetry, match="is a counter"):
        metrics.histogram(JOBS)


def test_exemplar_carries_the_active_trace_id():
    metrics = ServiceMetrics(CATALOG, enabled=True)
    tracer = TracerProvider().get_tracer("t")
    with tracer.start_as_current_span("work") as span:
        metrics.histogram(LATENCY).observe(0.05)
        metrics.counter(JOBS).labels(result="ok").inc()
    trace_id = format(span.get_span_context().trace_id, "032x")
    body, content_type = metrics.exposition("application/openmetrics-text; version=1.0.0")
    assert content_type.startswith("application/openmetrics-text")
    text = body.decode()
    assert f'demo_latency_seconds_bucket{{le="0.1"}} 1.0 # {{trace_id="{trace_id}"}} 0.05' in text
    assert f'demo_jobs_total{{result="ok"}} 1.0 # {{trace_id="{trace_id}"}} 1.0' in text


def test_bounded_counters_start_at_zero():
    metrics = ServiceMetrics(CATALOG, enabled=True)
    text = metrics.exposition(None)[0].decode()
    assert 'demo_jobs_total{result="failed"} 0.0' in text


def test_invalid_catalog_is_refused_naming_the_definition():
    bad = Metric(name="demo_requests", kind=MetricKind.COUNTER, help="x")
    catalog = ServiceCatalog(name="bad", description="d", metrics=(bad,), logs=BASE_LOG_SCHEMA)
    with pytest.raises(
        CatalogError, match=r"test_runtime_metrics.py:\d+: .*counter names end in _total"
    ):
        ServiceMetrics(catalog)
